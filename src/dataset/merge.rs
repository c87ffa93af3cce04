//! Layout `merge`: one set of MERGE as distributed (Louro et al. 2024, Zenodo v1.1.0): audio,
//! lyrics or bimodal, complete or balanced, each a folder `MERGE_{Audio,Lyrics,Bimodal}_
//! {Complete,Balanced}/` holding `merge_{set}_metadata.csv` (`Song` or, bimodal,
//! `Audio_Song`/`Lyric_Song`, and `Quadrant`: the label), `merge_{set}_av_values.csv`
//! (`Arousal`, `Valence` on 0 to 1), quadrant folders `Q1/` ... `Q4/` of MP3 clips or lyrics
//! `.txt` (bimodal: `audio/Q{n}/` and `lyrics/Q{n}/`), and the fixed splits
//! `tvt_dataframes/tvt_{70_15_15,40_30_30}/tvt_{scheme}_{train,validate,test}_{set}.csv`.
//!
//! Each row of the metadata file is a song labelled `Q1` ... `Q4` with every other column as
//! metadata, plus `arousal` and `valence` (0 to 1: `task.scales = { valence = [0, 1], ... }`),
//! `split` (the 70-15-15 scheme, as `train`, `validation`, `test`, for `split.method = "fixed"`)
//! and `split_40_30_30` (`split.column = "split_40_30_30"`). A bimodal split file's `Song` is
//! matched against both ids. The root may be the set's folder or a folder holding exactly one
//! set; the sets' splits differ, so they are never merged.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::quadrant_folders::{QuadrantFolders, quadrant_listing};
use super::table::{Columns, MetadataTable, display_name, keyed_rows, parse_layout_labels};
use super::{DatasetError, DatasetProblem, Listing};
use crate::modality::Modality;

/// The set sizes on the dataset's Zenodo page (v1.1.0).
pub(super) const PUBLISHED: &str = "audio 3554 complete / 3232 balanced, lyrics 2568 / 2400, bimodal 2216 / 2000 songs; fixed 70-15-15 and 40-30-30 splits";

const LAYOUT: &str = "merge";
const QUADRANT_COLUMN: &str = "Quadrant";
const SONG_COLUMN: &str = "Song";
const AUDIO_SONG_COLUMN: &str = "Audio_Song";
const LYRIC_SONG_COLUMN: &str = "Lyric_Song";
/// The split schemes and the metadata column each gives.
const SCHEMES: [(&str, &str); 2] = [("70_15_15", "split"), ("40_30_30", "split_40_30_30")];
/// The split files' part names and the `split` values they give.
const PARTS: [(&str, &str); 3] = [
    ("train", "train"),
    ("validate", "validation"),
    ("test", "test"),
];
/// The rating columns the songs get, with their scale.
pub(super) const RATINGS: [(&str, (f64, f64)); 2] =
    [("valence", (0.0, 1.0)), ("arousal", (0.0, 1.0))];
/// The targets `merge_{set}_av_values.csv` gives, as (column, metadata name).
const AV_COLUMNS: [(&str, &str); 2] = [("Arousal", "arousal"), ("Valence", "valence")];

/// Which of the six sets a folder holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MergeSet {
    folder: PathBuf,
    /// `audio`, `lyrics` or `bimodal`.
    kind: String,
    /// `complete` or `balanced`.
    balance: String,
}

impl MergeSet {
    /// The set in `folder`, if it holds a `merge_{kind}_{balance}_metadata.csv`.
    fn in_folder(folder: &Path) -> Option<MergeSet> {
        let entries = std::fs::read_dir(folder).ok()?;
        entries.filter_map(Result::ok).find_map(|entry| {
            let name = entry.file_name().to_string_lossy().to_lowercase();
            let set = name.strip_prefix("merge_")?.strip_suffix("_metadata.csv")?;
            let (kind, balance) = set.split_once('_')?;
            let known = ["audio", "lyrics", "bimodal"].contains(&kind)
                && ["complete", "balanced"].contains(&balance);
            known.then(|| MergeSet {
                folder: folder.to_path_buf(),
                kind: kind.to_string(),
                balance: balance.to_string(),
            })
        })
    }

    /// `{kind}_{balance}`, as the file names spell it.
    fn name(&self) -> String {
        format!("{}_{}", self.kind, self.balance)
    }

    fn file(&self, what: &str) -> PathBuf {
        self.folder
            .join(format!("merge_{}_{what}.csv", self.name()))
    }

    fn bimodal(&self) -> bool {
        self.kind == "bimodal"
    }

    fn id_column(&self) -> &'static str {
        if self.bimodal() {
            AUDIO_SONG_COLUMN
        } else {
            SONG_COLUMN
        }
    }

    /// Where each modality's quadrant folders are, and the metadata column naming its files
    /// when not the song's id.
    fn media(&self) -> Vec<(Modality, PathBuf, &'static str, Option<&'static str>)> {
        match self.kind.as_str() {
            "audio" => vec![(Modality::Audio, self.folder.clone(), "mp3", None)],
            "lyrics" => vec![(Modality::Lyrics, self.folder.clone(), "txt", None)],
            _ => vec![
                (Modality::Audio, self.folder.join("audio"), "mp3", None),
                (
                    Modality::Lyrics,
                    self.folder.join("lyrics"),
                    "txt",
                    Some(LYRIC_SONG_COLUMN),
                ),
            ],
        }
    }
}

/// The set at `root`, or in the one folder inside it holding a set.
fn find_set(root: &Path) -> Result<MergeSet, DatasetError> {
    if let Some(set) = MergeSet::in_folder(root) {
        return Ok(set);
    }
    let mut inside: Vec<MergeSet> = (std::fs::read_dir(root).into_iter().flatten())
        .filter_map(Result::ok)
        .filter_map(|entry| MergeSet::in_folder(&entry.path()))
        .collect();
    inside.sort_by(|a, b| a.folder.cmp(&b.folder));
    match inside.len() {
        1 => Ok(inside.remove(0)),
        0 => Err(DatasetError::LabelsUnreadable {
            path: root.join("merge_{set}_metadata.csv"),
            source: std::io::ErrorKind::NotFound.into(),
            hint: "layout \"merge\" needs one MERGE set: a folder such as MERGE_Bimodal_Complete/ holding merge_bimodal_complete_metadata.csv; set dataset.root to it".into(),
        }),
        _ => Err(DatasetError::SeveralSets {
            root: root.to_path_buf(),
            layout: LAYOUT,
            sets: inside.iter().map(|s| display_name(&s.folder)).collect(),
        }),
    }
}

/// Reads the set's metadata, values, splits and media.
pub(super) fn read(root: &Path) -> Result<Listing, DatasetError> {
    let set = find_set(root)?;
    let path = set.file("metadata");
    let text = super::read_labels(&path, || {
        format!(
            "layout \"{LAYOUT}\" reads the set's metadata file ({},{QUADRANT_COLUMN},...)",
            set.id_column()
        )
    })?;
    let columns = Columns {
        id: set.id_column(),
        label: QUADRANT_COLUMN,
    };
    let table = parse_layout_labels(&text, &path, &columns, LAYOUT)?;
    let all_ids = table.all_ids.clone();
    let mut listing = quadrant_listing(table, &path);
    add_values(&set, &path, &mut listing);
    add_splits(&set, &path, &mut listing);
    for (modality, base, extension, file_id_column) in set.media() {
        QuadrantFolders {
            base: &base,
            modality,
            extension,
            file_id_column,
        }
        .attach(&mut listing, &all_ids);
    }
    Ok(listing)
}

/// Adds `arousal` and `valence` from the set's values file.
fn add_values(set: &MergeSet, labels: &Path, listing: &mut Listing) {
    let consequence = "the songs have no arousal or valence, so a regression on them cannot run";
    let needed = AV_COLUMNS.map(|(column, _)| column);
    let Some(keyed) = keyed_rows(
        &set.file("av_values"),
        (set.id_column(), &needed),
        (labels, consequence),
        listing,
    ) else {
        return;
    };
    for row in &keyed.rows {
        for (column, name) in AV_COLUMNS {
            if let Some(value) = keyed.value(row, column) {
                let metadata = &mut listing.songs[row.song].metadata;
                metadata.insert(name.to_string(), value.to_string());
            }
        }
    }
}

/// Sets `split` and `split_40_30_30` from the split files.
fn add_splits(set: &MergeSet, labels: &Path, listing: &mut Listing) {
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, song) in listing.songs.iter().enumerate() {
        by_id.insert(song.id.clone(), i);
        if let Some(lyric) = song.metadata.get(LYRIC_SONG_COLUMN) {
            by_id.entry(lyric.clone()).or_insert(i);
        }
    }
    for (scheme, column) in SCHEMES {
        for (part, value) in PARTS {
            let path = set.folder.join(format!(
                "tvt_dataframes/tvt_{scheme}/tvt_{scheme}_{part}_{}.csv",
                set.name()
            ));
            let songs = match MetadataTable::read(&path, b',').and_then(|t| t.values(SONG_COLUMN)) {
                Ok(songs) => songs,
                Err(reason) => {
                    listing.problems.push(DatasetProblem::MetadataUnavailable {
                        path,
                        reason,
                        consequence: format!(
                            "its songs have no `{column}` value, so split.method = \"fixed\" with that column leaves them out of {value}"
                        ),
                    });
                    continue;
                }
            };
            let mut seen = HashSet::new();
            for (line, id) in songs {
                match by_id.get(&id) {
                    Some(&at) if seen.insert(at) => {
                        (listing.songs[at].metadata).insert(column.to_string(), value.to_string());
                    }
                    Some(_) => {}
                    None => listing.problems.push(DatasetProblem::UnknownId {
                        path: path.clone(),
                        line,
                        id,
                        labels: labels.to_path_buf(),
                    }),
                }
            }
        }
    }
}
