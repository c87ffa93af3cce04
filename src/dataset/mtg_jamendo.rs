//! Layout `mtg-jamendo`: the mood/theme subset of MTG-Jamendo as distributed (Bogdanov et al.
//! 2019): the metadata repository's `data/autotagging_moodtheme.tsv` (tab-separated,
//! `TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION TAGS`, then one more field per further tag) and
//! `data/splits/split-{0..4}/autotagging_moodtheme-{train,validation,test}.tsv`, with the
//! unpacked audio tars in `audios/` (or `audio/`) beside `data/`: `NN/{n}.mp3`, or the
//! low-quality `NN/{n}.low.mp3`.
//!
//! Each track is a song with metadata `tags` (its mood/theme tags without the
//! `mood/theme---` prefix, `;`-separated: a multi-label task reads them as they are),
//! `artist`, `album`, `duration`, `split` (split-0's part) and `split_1` ... `split_4` (the
//! other splits', where their files are present). The tag vocabulary is the split files'
//! (56 tags): the three tags the splits drop are removed, and a track left with none is
//! reported and left out, as the splits leave it out. Its class is its first tag. Tracks are
//! full length: the audio extractor's `offset` and `duration` choose the excerpt.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::table::{MetadataTable, display_name};
use super::{DatasetError, DatasetProblem, LabelledSong, Listing};
use crate::modality::{Modality, PerModality};

/// The counts of the dataset's repository files.
pub(super) const PUBLISHED: &str = "18486 tracks, 59 mood/theme tags; the splits keep 56 tags and 17982 tracks (split-0: 9949 / 3802 / 4231)";

const LAYOUT: &str = "mtg-jamendo";
const TSV: &str = "data/autotagging_moodtheme.tsv";
const ID_COLUMN: &str = "TRACK_ID";
const TAGS_COLUMN: &str = "TAGS";
const TAG_PREFIX: &str = "mood/theme---";
/// The splits, and the metadata column each gives.
const SPLITS: usize = 5;
const PARTS: [&str; 3] = ["train", "validation", "test"];

/// One row of a tracks file: the track, its line and its tags (prefix removed).
struct TrackRow {
    id: String,
    line: usize,
    tags: Vec<String>,
    fields: Vec<(String, String)>,
}

/// Reads the tracks, the splits and the audio.
pub(super) fn read(root: &Path) -> Result<Listing, DatasetError> {
    let root = super::dataset_folder(root, TSV);
    let path = root.join(TSV);
    let table = MetadataTable::read_labels(&path, b'\t', || {
        format!(
            "layout \"{LAYOUT}\" needs {TSV} (the dataset's metadata repository) in dataset.root or in the one folder inside it (mtg-jamendo-dataset/)"
        )
    })?;
    let mut listing = Listing::default();
    let rows = track_rows(&path, &table, &mut listing.problems)?;
    let (parts, vocabulary) = read_splits(&root, &mut listing.problems);
    for row in rows {
        let (tags, dropped): (Vec<String>, Vec<String>) = (row.tags.into_iter())
            .partition(|tag| vocabulary.as_ref().is_none_or(|v| v.contains(tag)));
        let Some(first) = tags.first().cloned() else {
            listing.problems.push(DatasetProblem::MalformedLine {
                path: path.clone(),
                line: row.line,
                reason: format!(
                    "track {} carries only tags the splits drop ({}), so it is left out, as the splits leave it out",
                    row.id,
                    dropped.join(", ")
                ),
            });
            continue;
        };
        let mut song = LabelledSong {
            label: first,
            subcategory: None,
            label_source: format!("{} line {}", display_name(&path), row.line),
            files: PerModality::default(),
            metadata: row.fields.into_iter().collect(),
            id: row.id,
        };
        song.metadata.insert("tags".into(), tags.join(";"));
        for (column, part_of) in &parts {
            if let Some(part) = part_of.get(&song.id) {
                song.metadata.insert(column.clone(), part.to_string());
            }
        }
        listing.songs.push(song);
    }
    attach_audio(&root, &mut listing);
    Ok(listing)
}

/// The rows of a tracks file (the full TSV or a split's), bad rows reported with their line.
fn track_rows(
    path: &Path,
    table: &MetadataTable,
    problems: &mut Vec<DatasetProblem>,
) -> Result<Vec<TrackRow>, DatasetError> {
    let find = |column: &str| table.layout_column(path, column, LAYOUT);
    let id_at = find(ID_COLUMN)?;
    let tags_at = find(TAGS_COLUMN)?;
    let named: Vec<(usize, &str)> = [
        ("ARTIST_ID", "artist"),
        ("ALBUM_ID", "album"),
        ("DURATION", "duration"),
        ("PATH", "path"),
    ]
    .into_iter()
    .filter_map(|(column, name)| Some((table.header.iter().position(|h| h == column)?, name)))
    .collect();
    let mut rows = Vec::with_capacity(table.rows.len());
    for (line, record) in &table.rows {
        let id = record.get(id_at).unwrap_or_default();
        if track_number(id).is_none() {
            problems.push(DatasetProblem::MalformedLine {
                path: path.to_path_buf(),
                line: *line,
                reason: format!("{ID_COLUMN} is `{id}`, expected track_ and a number"),
            });
            continue;
        }
        // Every field from TAGS on is a tag: the header names one column for all of them.
        let tags = (record.iter().skip(tags_at))
            .filter(|tag| !tag.is_empty())
            .map(|tag| tag.strip_prefix(TAG_PREFIX).unwrap_or(tag).to_string())
            .collect();
        let fields = (named.iter())
            .filter_map(|&(at, name)| {
                let value = record.get(at).filter(|v| !v.is_empty())?;
                Some((name.to_string(), value.to_string()))
            })
            .collect();
        rows.push(TrackRow {
            id: id.to_string(),
            line: *line,
            tags,
            fields,
        });
    }
    Ok(rows)
}

/// `948` of `track_0000948`.
fn track_number(id: &str) -> Option<u64> {
    id.strip_prefix("track_")?.parse().ok()
}

/// Each split's part per track: (metadata column, track id -> part).
type SplitParts = Vec<(String, HashMap<String, &'static str>)>;

/// Each split's parts, and the tag vocabulary of split-0's files (`None` when they cannot be
/// read: every tag is kept then).
fn read_splits(
    root: &Path,
    problems: &mut Vec<DatasetProblem>,
) -> (SplitParts, Option<HashSet<String>>) {
    let mut parts = Vec::new();
    let mut vocabulary: Option<HashSet<String>> = None;
    for split in 0..SPLITS {
        let folder = root.join(format!("data/splits/split-{split}"));
        // Copies may carry split-0 only; a split whose folder is absent is not a problem.
        if split > 0 && !folder.is_dir() {
            continue;
        }
        let column = match split {
            0 => "split".to_string(),
            k => format!("split_{k}"),
        };
        let mut part_of = HashMap::new();
        for part in PARTS {
            let path = folder.join(format!("autotagging_moodtheme-{part}.tsv"));
            let read = MetadataTable::read(&path, b'\t')
                .map_err(|e| e.to_string())
                .and_then(|table| {
                    let mut ignored = Vec::new();
                    track_rows(&path, &table, &mut ignored).map_err(|e| e.to_string())
                });
            match read {
                Ok(rows) => {
                    for row in rows {
                        if split == 0 {
                            vocabulary.get_or_insert_default().extend(row.tags);
                        }
                        part_of.insert(row.id, part);
                    }
                }
                Err(reason) => problems.push(DatasetProblem::MetadataUnavailable {
                    path,
                    reason,
                    consequence: format!(
                        "its tracks have no `{column}` value, so split.method = \"fixed\" with that column leaves them out of {part}{}",
                        if split == 0 { "; the tag vocabulary is taken from the tracks file" } else { "" }
                    ),
                }),
            }
        }
        parts.push((column, part_of));
    }
    (parts, vocabulary)
}

/// The folder holding the audio tars' `NN/` folders: `audios/` (as mirdata names it) or
/// `audio/` beside `data/`.
fn audio_folder(root: &Path) -> PathBuf {
    let audios = root.join("audios");
    if audios.is_dir() {
        audios
    } else {
        root.join("audio")
    }
}

/// Finds each track's MP3 by its number (`PATH` is `.mp3` even for the other sets, so the
/// name is derived), high quality first.
fn attach_audio(root: &Path, listing: &mut Listing) {
    let folder = audio_folder(root);
    if !folder.is_dir() {
        listing.problems.push(DatasetProblem::FolderMissing {
            modality: Modality::Audio,
            path: folder,
        });
        return;
    }
    // One listing of the `NN/` folders instead of a `stat` per track.
    let mut present: BTreeSet<PathBuf> = BTreeSet::new();
    for sub in (std::fs::read_dir(&folder).into_iter().flatten()).filter_map(Result::ok) {
        for file in (std::fs::read_dir(sub.path()).into_iter().flatten()).filter_map(Result::ok) {
            present.insert(file.path());
        }
    }
    for song in &mut listing.songs {
        let Some(number) = track_number(&song.id) else {
            continue;
        };
        let sub = folder.join(format!("{:02}", number % 100));
        let candidates = [format!("{number}.mp3"), format!("{number}.low.mp3")];
        let found = (candidates.iter().map(|name| sub.join(name))).find(|p| present.remove(p));
        match found {
            Some(path) => song.files[Modality::Audio] = Some(path),
            None => listing.problems.push(DatasetProblem::ListedFileMissing {
                modality: Modality::Audio,
                id: song.id.clone(),
                path: sub.join(&candidates[0]),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_from_tags_on_is_a_tag() {
        let text = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\r\n\
                    track_0000948\tartist_000087\talbum_000149\t48/948.mp3\t212.7\tmood/theme---background\tmood/theme---calm\r\n\
                    track_x\tartist_000087\talbum_000149\t48/948.mp3\t212.7\tmood/theme---calm\r\n";
        // As read from a file: CRLF becomes LF.
        let text = crate::text::decode_text(text.as_bytes()).unwrap();
        let table = MetadataTable::parse(&text, b'\t').unwrap();
        let mut problems = Vec::new();
        let rows = track_rows(Path::new("t.tsv"), &table, &mut problems).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].tags, ["background", "calm"]);
        assert!(
            rows[0]
                .fields
                .contains(&("duration".into(), "212.7".into()))
        );
        assert!(
            matches!(
                &problems[..],
                [DatasetProblem::MalformedLine { line: 3, .. }]
            ),
            "{problems:?}"
        );
        assert_eq!(track_number("track_0000948"), Some(948));
    }
}
