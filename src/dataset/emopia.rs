//! Layout `emopia`: EMOPIA 1.0 or 2.2 as distributed (Hung et al., ISMIR 2021): piano MIDI
//! clips `midis/Q{n}_{YouTube id}_{segment}.mid`, each clip's quadrant in `label.csv`
//! (`ID,4Q,annotator`, `4Q` an integer 1 to 4), and the song-level split in
//! `split/{train,val,test}_SL.csv` (first column `songID`).
//!
//! Each clip is one item of the manifest, labelled `Q1` ... `Q4` (Q1 = +valence +arousal,
//! Q2 = -valence +arousal, Q3 = -valence -arousal, Q4 = +valence -arousal), with metadata
//! `song` (its YouTube id: `split.group_by = "song"` keeps a song's clips on one side),
//! `segment`, `annotator` and `split` (`train`, `validation` or `test`, from the song's split
//! file: `split.method = "fixed"` uses it). A clip whose file name says another quadrant than
//! `label.csv` is a label conflict. The root may be the dataset folder or the folder holding
//! it (`EMOPIA_1.0/`, `EMOPIA_2.2/`).

use std::collections::HashMap;
use std::path::Path;

use super::table::{
    Columns, MetadataTable, Template, attach_files, display_name, parse_layout_labels,
};
use super::{Conflict, DatasetError, DatasetProblem, LabelledSong, Listing};
use crate::modality::Modality;

/// EMOPIA's counts as published (project page and split files; the paper's abstract says
/// 1,087 clips).
pub(super) const PUBLISHED: &str = "1078 clips (Q1 250, Q2 265, Q3 253, Q4 310) from 387 songs; split 291 / 64 / 32 songs (train / validation / test)";

const LABELS: &str = "label.csv";
const ID_COLUMN: &str = "ID";
const QUADRANT_COLUMN: &str = "4Q";
const MIDI_TEMPLATE: &str = "midis/{id}.mid";
/// The song-level split files and the part each gives.
const SPLIT_FILES: [(&str, &str); 3] = [
    ("split/train_SL.csv", "train"),
    ("split/val_SL.csv", "validation"),
    ("split/test_SL.csv", "test"),
];
const SONG_COLUMN: &str = "songID";

/// Metadata columns the layout writes.
pub(super) const SONG: &str = "song";
const SEGMENT: &str = "segment";
const SPLIT: &str = "split";

/// Reads `label.csv`, the clips' MIDI files and the split files.
pub(super) fn read(root: &Path) -> Result<Listing, DatasetError> {
    let root = super::dataset_folder(root, LABELS);
    let labels_path = root.join(LABELS);
    let text = read_text(&labels_path)?;
    let columns = Columns {
        id: ID_COLUMN,
        label: QUADRANT_COLUMN,
    };
    let table = parse_layout_labels(&text, &labels_path, &columns, "emopia")?;
    let mut listing = Listing {
        problems: table.problems,
        conflicts: table.conflicts,
        songs: Vec::new(),
    };
    for row in table.rows {
        let (line, id) = (row.line, row.id.clone());
        let malformed = |reason: String| DatasetProblem::MalformedLine {
            path: labels_path.clone(),
            line: usize::try_from(line).unwrap_or(usize::MAX),
            reason,
        };
        let Some(quadrant) = quadrant(&row.label) else {
            let found = &row.label;
            listing.problems.push(malformed(format!(
                "song {id}: {QUADRANT_COLUMN} is `{found}`, expected an integer 1 to 4"
            )));
            continue;
        };
        let Some(clip) = ClipName::parse(&id) else {
            listing.problems.push(malformed(format!(
                "{ID_COLUMN} `{id}` is not Q{{1-4}}_{{11-character YouTube id}}_{{segment}}"
            )));
            continue;
        };
        let mut song: LabelledSong = row.into_song(&labels_path);
        song.label = quadrant;
        if clip.quadrant != song.label {
            let source = format!("file name {id}.mid");
            let conflict = Conflict::against(&song, source, clip.quadrant.clone());
            listing.conflicts.push(conflict);
        }
        song.metadata.insert(SONG.into(), clip.song.to_string());
        song.metadata
            .insert(SEGMENT.into(), clip.segment.to_string());
        listing.songs.push(song);
    }
    add_split(&root, &mut listing);
    let template = Template::new(Modality::Midi, MIDI_TEMPLATE);
    attach_files(&root, &template, &table.all_ids, &mut listing);
    Ok(listing)
}

/// `Q1` ... `Q4` from `label.csv`'s integer.
fn quadrant(value: &str) -> Option<String> {
    match value.trim().parse::<u8>() {
        Ok(n @ 1..=4) => Some(format!("Q{n}")),
        _ => None,
    }
}

/// A clip's name, `Q{n}_{YouTube id}_{segment}`, read by fixed offsets: the YouTube id is 11
/// characters that may themselves hold `_` or `-`.
#[derive(Debug, PartialEq)]
struct ClipName<'a> {
    quadrant: String,
    song: &'a str,
    segment: &'a str,
}

impl<'a> ClipName<'a> {
    fn parse(id: &'a str) -> Option<ClipName<'a>> {
        let n = id.strip_prefix('Q')?.get(..1)?;
        let quadrant = quadrant(n)?;
        let song = id.get(3..14)?;
        let segment = id.get(15..)?;
        let well_formed = id.get(2..3) == Some("_")
            && id.get(14..15) == Some("_")
            && !segment.is_empty()
            && segment.bytes().all(|b| b.is_ascii_digit());
        well_formed.then_some(ClipName {
            quadrant,
            song,
            segment,
        })
    }
}

/// Sets each clip's `split` from its song's split file; a missing split file is reported
/// once, and the clips of songs it would list have no `split`.
fn add_split(root: &Path, listing: &mut Listing) {
    let mut part_of: HashMap<String, &str> = HashMap::new();
    for (file, part) in SPLIT_FILES {
        let path = root.join(file);
        match read_songs(&path) {
            Ok(songs) => {
                for song in songs {
                    part_of.insert(song, part);
                }
            }
            Err(reason) => listing.problems.push(DatasetProblem::MetadataUnavailable {
                path,
                reason,
                consequence: format!(
                    "its songs' clips have no `split` value, so split.method = \"fixed\" leaves them out of {part}"
                ),
            }),
        }
    }
    for song in &mut listing.songs {
        if let Some(part) = part_of.get(&song.metadata[SONG]) {
            song.metadata.insert(SPLIT.into(), part.to_string());
        }
    }
}

/// The `songID` column of a split file.
fn read_songs(path: &Path) -> Result<Vec<String>, String> {
    let table = MetadataTable::read(path, b',')?;
    Ok(table
        .values(SONG_COLUMN)?
        .into_iter()
        .map(|(_, song)| song)
        .collect())
}

fn read_text(path: &Path) -> Result<String, DatasetError> {
    super::read_labels(path, || {
        format!(
            "layout \"emopia\" needs {} ({ID_COLUMN},{QUADRANT_COLUMN},annotator) in dataset.root or in the one folder inside it (EMOPIA_1.0/, EMOPIA_2.2/)",
            display_name(path)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_names_are_read_by_fixed_offsets() {
        let clip = ClipName::parse("Q3_RL_cmmNVLfs_0").unwrap();
        assert_eq!(
            clip,
            ClipName {
                quadrant: "Q3".into(),
                song: "RL_cmmNVLfs",
                segment: "0"
            }
        );
        assert_eq!(
            ClipName::parse("Q1__8v0MFBZoco_12").unwrap().song,
            "_8v0MFBZoco"
        );
        assert_eq!(
            ClipName::parse("Q1_aYe-2Glruu4_3").unwrap().song,
            "aYe-2Glruu4"
        );
        for bad in [
            "Q5_aYe-2Glruu4_3",
            "Q1_short_3",
            "Q1_aYe-2Glruu4_",
            "Q1_aYe-2Glruu4-3",
        ] {
            assert_eq!(ClipName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn quadrants_are_the_integers_one_to_four() {
        assert_eq!(quadrant("4").as_deref(), Some("Q4"));
        assert_eq!(quadrant(" 1 ").as_deref(), Some("Q1"));
        assert_eq!(quadrant("0"), None);
        assert_eq!(quadrant("Q1"), None);
    }
}
