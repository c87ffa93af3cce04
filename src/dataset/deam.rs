//! Layout `deam`: DEAM as distributed (Aljanaki, Yang and Soleymani 2017): `MEMD_audio/{id}.mp3`,
//! static per-song ratings in `annotations/annotations averaged per song/song_level/
//! static_annotations_averaged_songs_{1_2000,2000_2058}.csv` (means and standard deviations
//! over raters, 1 to 9), dynamic 2 Hz ratings in `.../dynamic (per second annotations)/
//! {valence,arousal}.csv` (-1 to 1, from 15 s on) and the three years' metadata files.
//!
//! Each song gets metadata `valence` and `arousal` (the static means, 1 to 9: regression
//! targets with `task.scales = { valence = [1, 9], arousal = [1, 9] }`), `valence_std`,
//! `arousal_std`, per-song summaries of its dynamic ratings (`valence_dynamic_mean`,
//! `_std`, `_frames`, and arousal's: targets on [-1, 1] as they are), and `set` (`2013`,
//! `2014` or `2015`, from the metadata file listing it: the MediaEval campaigns used 2013 for
//! development and 2014 for test, and 2015 holds the 58 full songs). Its class is its quadrant
//! from the static means (a mean of exactly 5 counts as high). Columns are read by trimmed
//! name with inner spaces removed, so the second static file's `arousal_mean` (its 8th column,
//! the first file's 4th) is found and its `valence_ max_mean` never taken for `valence_mean`.
//! Each part may sit one folder deeper, as community copies nest them (`DEAM_audio/MEMD_audio/`,
//! `DEAM_Annotations/annotations/`, `metadata/metadata/`).

use std::path::{Path, PathBuf};

use super::ratings::{DynamicSummary, RatedColumn, add_rated_songs, rating, song_number};
use super::table::{MetadataTable, Template, attach_files};
use super::{DatasetError, DatasetProblem, Listing};
use crate::modality::Modality;

/// The counts of the dataset's paper and its audit.
pub(super) const PUBLISHED: &str = "1802 songs: 744 (2013) + 1000 (2014) 45-s excerpts, 58 full songs (2015); static valence and arousal 1 to 9, dynamic 2 Hz from 15 s";

const LAYOUT: &str = "deam";
const AVERAGED: &str = "annotations averaged per song";
/// The static files, in the order their songs are listed.
const STATIC_FILES: [&str; 2] = [
    "static_annotations_averaged_songs_1_2000.csv",
    "static_annotations_averaged_songs_2000_2058.csv",
];
const ID_COLUMN: &str = "song_id";
/// The static file's columns each song keeps, as (column, metadata name).
const STATIC_COLUMNS: [(&str, &str); 4] = [
    ("valence_mean", "valence"),
    ("arousal_mean", "arousal"),
    ("valence_std", "valence_std"),
    ("arousal_std", "arousal_std"),
];
/// The static ratings' scale and the quadrants' midpoint.
const STATIC_SCALE: (f64, f64) = (1.0, 9.0);
const MIDPOINT: f64 = 5.0;
/// The dynamic ratings' scale.
const DYNAMIC_SCALE: (f64, f64) = (-1.0, 1.0);
/// The rating columns the songs get, with their scales.
pub(super) const RATINGS: [(&str, (f64, f64)); 4] = [
    ("valence", STATIC_SCALE),
    ("arousal", STATIC_SCALE),
    ("valence_dynamic_mean", DYNAMIC_SCALE),
    ("arousal_dynamic_mean", DYNAMIC_SCALE),
];
const METADATA_FILES: [(&str, &str); 3] = [
    ("metadata_2013.csv", "2013"),
    ("metadata_2014.csv", "2014"),
    ("metadata_2015.csv", "2015"),
];

/// `name` in `root`, or in a folder inside it (archives and re-uploads nest the parts one
/// level deeper); `root/name` when neither exists, so a message names where it was expected.
fn part(root: &Path, name: &str) -> PathBuf {
    let direct = root.join(name);
    if direct.exists() {
        return direct;
    }
    let nested = (std::fs::read_dir(root).into_iter().flatten())
        .filter_map(Result::ok)
        .map(|entry| entry.path().join(name))
        .filter(|path| path.exists())
        .min();
    nested.unwrap_or(direct)
}

/// `part`, then `part` again inside it when the copy doubles it (`metadata/metadata/`).
fn doubled_part(root: &Path, name: &str) -> PathBuf {
    let found = part(root, name);
    let doubled = found.join(name);
    if doubled.is_dir() { doubled } else { found }
}

/// Reads the static ratings, the dynamic summaries, the years and the audio.
pub(super) fn read(root: &Path) -> Result<Listing, DatasetError> {
    let annotations = doubled_part(root, "annotations").join(AVERAGED);
    let song_level = annotations.join("song_level");
    let mut listing = Listing::default();
    let [first, second] = STATIC_FILES.map(|file| song_level.join(file));
    // The first file holds 1,744 of the 1,802 songs: without it there is no dataset.
    let table = MetadataTable::read_labels(&first, b',', || {
        format!(
            "layout \"{LAYOUT}\" needs annotations/{AVERAGED}/song_level/{} (from DEAM_Annotations.zip) in dataset.root or in a folder inside it",
            STATIC_FILES[0]
        )
    })?;
    read_static(&first, table, &mut listing)?;
    match MetadataTable::read(&second, b',') {
        Ok(table) => read_static(&second, table, &mut listing)?,
        Err(reason) => listing.problems.push(DatasetProblem::MetadataUnavailable {
            path: second,
            reason,
            consequence: "its songs (the 2015 full songs) are not listed".into(),
        }),
    }
    let dynamic = annotations.join("dynamic (per second annotations)");
    for target in ["valence", "arousal"] {
        add_dynamic(&dynamic.join(format!("{target}.csv")), target, &mut listing);
    }
    add_years(&doubled_part(root, "metadata"), &mut listing);
    let audio = doubled_part(root, "MEMD_audio");
    let relative = audio.strip_prefix(root).unwrap_or(&audio).to_string_lossy();
    let template = Template::new(Modality::Audio, &format!("{relative}/{{id}}.mp3"));
    let all_ids = listing.songs.iter().map(|s| s.id.clone()).collect();
    attach_files(root, &template, &all_ids, &mut listing);
    Ok(listing)
}

/// The songs of one static file (`table`, read from `path`).
fn read_static(
    path: &Path,
    table: MetadataTable,
    listing: &mut Listing,
) -> Result<(), DatasetError> {
    let find = |column: &str| table.layout_column(path, column, LAYOUT);
    let id_at = find(ID_COLUMN)?;
    let columns: Vec<RatedColumn> = (STATIC_COLUMNS.iter())
        .map(|&(column, name)| {
            Ok(RatedColumn {
                at: find(column)?,
                column,
                name,
                scale: column.ends_with("_mean").then_some(STATIC_SCALE),
            })
        })
        .collect::<Result<_, DatasetError>>()?;
    add_rated_songs(path, &table, (id_at, &columns), MIDPOINT, listing);
    Ok(())
}

/// Summarizes each song's row of a dynamic file (empty trailing cells are frames not rated).
fn add_dynamic(path: &Path, target: &str, listing: &mut Listing) {
    let table = match MetadataTable::read(path, b',') {
        Ok(table) => table,
        Err(reason) => {
            return listing.problems.push(DatasetProblem::MetadataUnavailable {
                path: path.to_path_buf(),
                reason,
                consequence: format!("the songs have no `{target}_dynamic_*` summaries"),
            });
        }
    };
    let index = listing.song_index();
    let id_at = table.layout_column(path, ID_COLUMN, LAYOUT).ok();
    let samples: Vec<usize> = (table.header.iter().enumerate())
        .filter(|(_, h)| h.starts_with("sample_") && h.ends_with("ms"))
        .map(|(i, _)| i)
        .collect();
    for (line, record) in &table.rows {
        let malformed = |reason: String| DatasetProblem::MalformedLine {
            path: path.to_path_buf(),
            line: *line,
            reason,
        };
        let id = song_number(id_at.and_then(|i| record.get(i)).unwrap_or_default());
        let Some((id, &song)) = id.and_then(|id| Some((id.clone(), index.get(&id)?))) else {
            continue;
        };
        match frames(record, &samples) {
            Ok(values) => {
                if let Some(summary) = DynamicSummary::of(&values) {
                    summary.insert(target, &mut listing.songs[song].metadata);
                }
            }
            Err(reason) => (listing.problems).push(malformed(format!("song {id}: {reason}"))),
        }
    }
}

/// A row's rated frames (empty cells are frames not rated); an error names a value that is
/// not a number or lies outside -1 to 1.
fn frames(record: &csv::StringRecord, samples: &[usize]) -> Result<Vec<f64>, String> {
    (samples.iter())
        .filter_map(|&i| record.get(i).filter(|text| !text.is_empty()))
        .map(|text| rating(text, "a dynamic rating", Some(DYNAMIC_SCALE)))
        .collect()
}

/// Sets `set` from the metadata file whose first column lists the song.
fn add_years(folder: &Path, listing: &mut Listing) {
    let index = listing.song_index();
    for (file, year) in METADATA_FILES {
        let path = folder.join(file);
        // Header spelling differs per year: the id is the first column in all three.
        let table = match MetadataTable::read(&path, b',') {
            Ok(table) => table,
            Err(reason) => {
                listing.problems.push(DatasetProblem::MetadataUnavailable {
                    path,
                    reason,
                    consequence: format!("the songs of {year} have no `set` value"),
                });
                continue;
            }
        };
        for (_, record) in &table.rows {
            let id = song_number(record.get(0).unwrap_or_default());
            if let Some(&song) = id.and_then(|id| index.get(&id)) {
                (listing.songs[song].metadata).insert("set".into(), year.into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_rows_skip_empty_frames_and_refuse_values_off_the_scale() {
        let record = csv::StringRecord::from(vec!["2", "0.5", "-0.5", "", ""]);
        assert_eq!(frames(&record, &[1, 2, 3, 4]).unwrap(), [0.5, -0.5]);
        let record = csv::StringRecord::from(vec!["2", "1.5"]);
        assert!(
            frames(&record, &[1])
                .unwrap_err()
                .contains("outside the rating scale -1 to 1")
        );
    }
}

#[cfg(test)]
mod static_files {
    use super::*;

    /// Both static files as DEAM writes them: in the second, song 2001's 4th column is
    /// `valence_ max_mean` (7.5), which a reader by position would take for `arousal_mean`.
    fn listing() -> Listing {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join(STATIC_FILES[0]);
        std::fs::write(
            &first,
            "\u{feff}song_id, valence_mean, valence_std, arousal_mean, arousal_std\r\n2,3.1,0.94,3,0.63\r\n",
        )
        .unwrap();
        let second = "song_id, valence_mean, valence_std, valence_ max_mean, valence_max_std, valence_min_mean, valence_min_std, arousal_mean, arousal_std, arousal_max_mean, arousal_max_std, arousal_min_mean, arousal_min_std\n2001,6,1,7.5,1,4,1,2.5,1,3,1,2,1\n";
        let mut listing = Listing::default();
        let table = MetadataTable::read(&first, b',').unwrap();
        read_static(&first, table, &mut listing).unwrap();
        let path = dir.path().join(STATIC_FILES[1]);
        read_static(
            &path,
            MetadataTable::parse(second, b',').unwrap(),
            &mut listing,
        )
        .unwrap();
        listing
    }

    #[test]
    fn columns_are_found_by_name_in_both_files() {
        let listing = listing();
        assert!(listing.problems.is_empty(), "{:?}", listing.problems);
        let [first, second] = &listing.songs[..] else {
            panic!("{:?}", listing.songs)
        };
        assert_eq!((first.id.as_str(), first.label.as_str()), ("2", "Q3"));
        assert_eq!(first.metadata["valence"], "3.1");
        assert_eq!(first.metadata["arousal_std"], "0.63");
        assert_eq!((second.id.as_str(), second.label.as_str()), ("2001", "Q4"));
        assert_eq!(second.metadata["valence"], "6");
        assert_eq!(second.metadata["arousal"], "2.5");
    }
}
