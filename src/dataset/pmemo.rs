//! Layout `pmemo`: PMEmo 2019 as distributed (Zhang et al., ICMR 2018): chorus clips
//! `chorus/{musicId}.mp3`, lyrics `lyrics/{musicId}.lrc` (read as their sung text), static
//! ratings in `annotations/static_annotations.csv` (`musicId`, `Arousal(mean)`,
//! `Valence(mean)`, 0 to 1; their standard deviations in `static_annotations_std.csv`),
//! dynamic ratings in `annotations/dynamic_annotations.csv` (one row per song and 0.5-s
//! frame) and `metadata.csv` (title, artist, album, chorus times).
//!
//! Each song with static ratings is listed, with metadata `valence` and `arousal` (0 to 1:
//! `task.scales = { valence = [0, 1], arousal = [0, 1] }`), their `_std`, per-song summaries
//! of its dynamic ratings (`valence_dynamic_mean`, ...; on 0 to 1 as well) and
//! `metadata.csv`'s columns; its class is the quadrant of its static means (threshold 0.5,
//! which counts as high). Lyrics exist for about 629 of the 767 songs: their absence is one
//! summary line, not one problem per song. The root may be `PMEmo2019/` or the folder
//! holding it.

use std::collections::HashMap;
use std::path::Path;

use super::ratings::{DynamicSummary, RatedColumn, add_rated_songs, rating, song_number};
use super::table::{MetadataTable, Template, attach_files, keyed_rows};
use super::{DatasetError, DatasetProblem, Listing};
use crate::modality::Modality;

/// The counts of the dataset's own overview (computed from the data).
pub(super) const PUBLISHED: &str = "794 chorus clips; 767 songs with static and dynamic valence and arousal (0 to 1; quadrants at 0.5: Q1 505, Q2 73, Q3 132, Q4 57); lyrics for 629";

const LAYOUT: &str = "pmemo";
const STATIC: &str = "annotations/static_annotations.csv";
const STATIC_STD: &str = "annotations/static_annotations_std.csv";
const DYNAMIC: &str = "annotations/dynamic_annotations.csv";
const METADATA: &str = "metadata.csv";
const ID_COLUMN: &str = "musicId";
const FRAME_COLUMN: &str = "frameTime";
/// The ratings' scale and the quadrants' threshold.
const SCALE: (f64, f64) = (0.0, 1.0);
const MIDPOINT: f64 = 0.5;
/// The targets, as (metadata name, column prefix): the files write `Arousal(mean)`, ...
const TARGETS: [(&str, &str); 2] = [("valence", "Valence"), ("arousal", "Arousal")];
/// The rating columns the songs get, with their scales.
pub(super) const RATINGS: [(&str, (f64, f64)); 4] = [
    ("valence", SCALE),
    ("arousal", SCALE),
    ("valence_dynamic_mean", SCALE),
    ("arousal_dynamic_mean", SCALE),
];

/// Reads the ratings, the metadata, the chorus clips and the lyrics.
pub(super) fn read(root: &Path) -> Result<Listing, DatasetError> {
    let root = super::dataset_folder(root, STATIC);
    let path = root.join(STATIC);
    let table = MetadataTable::read_labels(&path, b',', || {
        format!(
            "layout \"{LAYOUT}\" needs {STATIC} ({ID_COLUMN},Arousal(mean),Valence(mean)) in dataset.root or in the one folder inside it (PMEmo2019/)"
        )
    })?;
    let mut listing = read_static(&path, &table)?;
    add_std(&root.join(STATIC_STD), &path, &mut listing);
    add_dynamic(&root.join(DYNAMIC), &mut listing);
    let unrated = add_metadata(&root.join(METADATA), &path, &mut listing);
    // The unrated choruses are the dataset's own (27 in the real one): reported once, as
    // metadata rows without ratings, not again as unlisted files.
    let all_ids = (listing.songs.iter().map(|s| s.id.clone()))
        .chain(unrated)
        .collect();
    let audio = Template::new(Modality::Audio, "chorus/{id}.mp3");
    attach_files(&root, &audio, &all_ids, &mut listing);
    let lyrics = Template::new(Modality::Lyrics, "lyrics/{id}.lrc");
    attach_files(&root, &lyrics, &all_ids, &mut listing);
    summarize_missing_lyrics(&mut listing);
    Ok(listing)
}

/// The file's `{prefix}({stat})` column, e.g. `Valence(mean)`.
fn column(prefix: &str, stat: &str) -> String {
    format!("{prefix}({stat})")
}

/// One song per row of the static file.
fn read_static(path: &Path, table: &MetadataTable) -> Result<Listing, DatasetError> {
    let id_at = table.layout_column(path, ID_COLUMN, LAYOUT)?;
    let names = TARGETS.map(|(_, prefix)| column(prefix, "mean"));
    let columns: Vec<RatedColumn> = (TARGETS.iter().zip(&names))
        .map(|((name, _), column)| {
            Ok(RatedColumn {
                at: table.layout_column(path, column, LAYOUT)?,
                column,
                name,
                scale: Some(SCALE),
            })
        })
        .collect::<Result<_, DatasetError>>()?;
    let mut listing = Listing::default();
    add_rated_songs(path, table, (id_at, &columns), MIDPOINT, &mut listing);
    Ok(listing)
}

/// Adds `valence_std` and `arousal_std`.
fn add_std(path: &Path, labels: &Path, listing: &mut Listing) {
    let columns = TARGETS.map(|(_, prefix)| column(prefix, "std"));
    let needed: Vec<&str> = columns.iter().map(String::as_str).collect();
    let consequence = "the songs have no `valence_std` or `arousal_std`";
    let Some(keyed) = keyed_rows(path, (ID_COLUMN, &needed), (labels, consequence), listing) else {
        return;
    };
    for row in &keyed.rows {
        for ((name, _), column) in TARGETS.iter().zip(&columns) {
            if let Some(value) = keyed.value(row, column) {
                let metadata = &mut listing.songs[row.song].metadata;
                metadata.insert(format!("{name}_std"), value.to_string());
            }
        }
    }
}

/// Summarizes each song's dynamic ratings (rows in any order; frames are counted, never
/// assumed).
fn add_dynamic(path: &Path, listing: &mut Listing) {
    let read = MetadataTable::read(path, b',').and_then(|table| {
        let id_at = table.column(ID_COLUMN)?;
        table.column(FRAME_COLUMN)?;
        let at: Vec<usize> = (TARGETS.iter())
            .map(|(_, prefix)| table.column(&column(prefix, "mean")))
            .collect::<Result<_, _>>()?;
        Ok((table, id_at, at))
    });
    let (table, id_at, at) = match read {
        Ok(read) => read,
        Err(reason) => {
            return listing.problems.push(DatasetProblem::MetadataUnavailable {
                path: path.to_path_buf(),
                reason,
                consequence: "the songs have no `*_dynamic_*` summaries".into(),
            });
        }
    };
    let index = listing.song_index();
    let mut frames: HashMap<usize, [Vec<f64>; 2]> = HashMap::new();
    let mut damaged = std::collections::HashSet::new();
    for (line, record) in &table.rows {
        let id = song_number(record.get(id_at).unwrap_or_default());
        let Some(&song) = id.as_ref().and_then(|id| index.get(id)) else {
            continue;
        };
        for (k, &i) in at.iter().enumerate() {
            let what = column(TARGETS[k].1, "mean");
            match rating(record.get(i).unwrap_or_default(), &what, Some(SCALE)) {
                Ok(value) => frames.entry(song).or_default()[k].push(value),
                Err(reason) => {
                    let id = &listing.songs[song].id;
                    damaged.insert(song);
                    listing.problems.push(DatasetProblem::MalformedLine {
                        path: path.to_path_buf(),
                        line: *line,
                        reason: format!(
                            "song {id}: {reason}; the song's dynamic summaries are left out"
                        ),
                    });
                }
            }
        }
    }
    for (song, values) in frames {
        if damaged.contains(&song) {
            continue;
        }
        for ((name, _), values) in TARGETS.iter().zip(&values) {
            if let Some(summary) = DynamicSummary::of(values) {
                summary.insert(name, &mut listing.songs[song].metadata);
            }
        }
    }
}

/// Adds `metadata.csv`'s columns (title, artist, ...) to the songs it describes, and gives
/// the ids of its rows without ratings (reported as unknown ids).
fn add_metadata(path: &Path, labels: &Path, listing: &mut Listing) -> Vec<String> {
    let consequence = "the songs have no title, artist or album metadata";
    let before = listing.problems.len();
    let Some(keyed) = keyed_rows(path, (ID_COLUMN, &[]), (labels, consequence), listing) else {
        return Vec::new();
    };
    for row in &keyed.rows {
        for (name, value) in keyed.header.iter().zip(row.record.iter()) {
            if name != ID_COLUMN && !value.is_empty() {
                let metadata = &mut listing.songs[row.song].metadata;
                metadata.insert(name.clone(), value.to_string());
            }
        }
    }
    (listing.problems[before..].iter())
        .filter_map(|problem| match problem {
            DatasetProblem::UnknownId { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// One line for the songs without lyrics instead of one per song: PMEmo has lyrics for only
/// part of its songs.
fn summarize_missing_lyrics(listing: &mut Listing) {
    let is_missing_lyrics = |p: &DatasetProblem| {
        matches!(
            p,
            DatasetProblem::ListedFileMissing {
                modality: Modality::Lyrics,
                ..
            }
        )
    };
    let missing = listing
        .problems
        .iter()
        .filter(|p| is_missing_lyrics(p))
        .count();
    if missing == 0 {
        return;
    }
    listing.problems.retain(|p| !is_missing_lyrics(p));
    listing.problems.push(DatasetProblem::ModalityPartial {
        modality: Modality::Lyrics,
        missing,
        listed: listing.songs.len(),
        note: "PMEmo 2019 has lyrics for 629 of its 767 rated songs".into(),
    });
}
