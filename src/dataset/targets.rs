//! Task targets from the songs' metadata columns (the `table` layout keeps every column of its
//! labels CSV beyond id and label): regression values mapped from their native scale onto
//! [-1, 1], and tag sets split from one column. Every error names the song's metadata line and
//! the column.

use std::collections::{BTreeMap, BTreeSet};

use super::{Manifest, Song};
use crate::spec::{TaskKind, TaskSection};

/// The scale regression targets are trained and scored on.
pub const UNIT_SCALE: (f64, f64) = (-1.0, 1.0);

/// A value on a native rating scale `[low, high]` (DEAM's 1-9, PMEmo's 0-1) mapped linearly
/// onto [-1, 1].
pub fn to_unit_scale(value: f64, (low, high): (f64, f64)) -> f64 {
    2.0 * (value - low) / (high - low) - 1.0
}

/// A value on [-1, 1] mapped back onto the native rating scale `[low, high]`: the inverse of
/// [`to_unit_scale`].
pub fn from_unit_scale(value: f64, (low, high): (f64, f64)) -> f64 {
    low + (value + 1.0) / 2.0 * (high - low)
}

/// A column no song has a value in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("no song has a value in column `{column}`; {}", known_columns(known))]
pub struct MissingColumn {
    /// The column asked for.
    pub column: String,
    /// The metadata columns the songs have, sorted.
    pub known: Vec<String>,
}

fn known_columns(known: &[String]) -> String {
    if known.is_empty() {
        "the songs have no metadata columns".to_string()
    } else {
        format!("the columns are {}", known.join(", "))
    }
}

/// Why a song's targets cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetError {
    /// A target or tag column that no song has (`key` is the spec key naming it).
    #[error("{key}: {missing}")]
    NoColumn {
        /// The spec key, e.g. `task.targets`.
        key: &'static str,
        /// The column and the ones there are.
        missing: MissingColumn,
    },
    /// A song without a value for a regression target.
    #[error(
        "{line}: column `{column}` is empty; every song needs a value for each regression target"
    )]
    Empty {
        /// Where the song is listed, e.g. `labels.csv line 7`.
        line: String,
        /// The column.
        column: String,
    },
    /// A value that does not read as a number.
    #[error("{line}: column `{column}` holds \"{value}\", not a number")]
    NotANumber {
        /// Where the song is listed.
        line: String,
        /// The column.
        column: String,
        /// The text found.
        value: String,
    },
    /// A value outside the target's scale.
    #[error(
        "{line}: column `{column}` holds {value}, outside its scale {} to {}; {}",
        scale.0, scale.1, scale_advice(column, *scale)
    )]
    OutOfScale {
        /// Where the song is listed.
        line: String,
        /// The column.
        column: String,
        /// The value found.
        value: f64,
        /// The scale it was read against.
        scale: (f64, f64),
    },
}

fn scale_advice(column: &str, scale: (f64, f64)) -> String {
    if scale == UNIT_SCALE {
        format!("set task.scales.{column} to the range the dataset rates on, e.g. [1, 9]")
    } else {
        format!("check task.scales.{column}")
    }
}

impl Song {
    /// The song's value in a metadata column (name matched without regard to case, value
    /// trimmed), if it has a non-empty one.
    pub fn metadata_value(&self, column: &str) -> Option<String> {
        (self.metadata.iter())
            .find(|(name, _)| name.trim().eq_ignore_ascii_case(column.trim()))
            .map(|(_, value)| value.trim().to_string())
            .filter(|value| !value.is_empty())
    }
}

impl Manifest {
    /// Every song's value in `column` ([`Song::metadata_value`]); an error when no song has
    /// one.
    pub fn column_values(&self, column: &str) -> Result<Vec<Option<String>>, MissingColumn> {
        let values: Vec<Option<String>> = (self.songs.iter())
            .map(|song| song.metadata_value(column))
            .collect();
        if values.iter().any(Option::is_some) {
            return Ok(values);
        }
        let known: BTreeSet<String> = (self.songs.iter())
            .flat_map(|song| song.metadata.keys().map(|k| k.trim().to_string()))
            .collect();
        Err(MissingColumn {
            column: column.to_string(),
            known: known.into_iter().collect(),
        })
    }
}

/// What an experiment's songs are trained towards besides their class, aligned with the
/// manifest's songs.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SongTargets {
    /// Classification: the manifest's labels are the targets.
    #[default]
    Classes,
    /// Regression targets on [-1, 1].
    Values {
        /// The targets' names (their columns), in order.
        names: Vec<String>,
        /// songs x names, row-major.
        values: Vec<f32>,
    },
    /// Multi-label tags.
    Tags(TagSets),
}

impl SongTargets {
    /// The names of a regression's or multi-label model's outputs: its targets or its tag
    /// vocabulary; none for a classification, whose outputs are the manifest's classes.
    pub fn outputs(&self) -> &[String] {
        match self {
            SongTargets::Classes => &[],
            SongTargets::Values { names, .. } => names,
            SongTargets::Tags(tags) => &tags.vocabulary,
        }
    }
}

/// The targets `task` asks for, read from `manifest`'s songs.
pub fn task_targets(manifest: &Manifest, task: &TaskSection) -> Result<SongTargets, TargetError> {
    match task.kind {
        TaskKind::Classification => Ok(SongTargets::Classes),
        TaskKind::Regression => {
            let columns: Vec<TargetColumn> = (task.targets.iter())
                .map(|name| TargetColumn {
                    column: name.clone(),
                    scale: task.target_scale(name),
                })
                .collect();
            Ok(SongTargets::Values {
                names: task.targets.clone(),
                values: target_values(manifest, &columns)?,
            })
        }
        TaskKind::Multilabel => {
            let tags = tag_sets(
                manifest,
                task.tags_column(),
                task.tag_separator(),
                task.tags.as_deref(),
            )?;
            Ok(SongTargets::Tags(tags))
        }
    }
}

/// One regression target: its column and the native scale its values are rated on.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetColumn {
    /// The metadata column, e.g. `valence`.
    pub column: String,
    /// `[low, high]`; [`UNIT_SCALE`] for values already on [-1, 1].
    pub scale: (f64, f64),
}

/// Every song's regression targets on [-1, 1], songs x `targets.len()`, row-major.
pub fn target_values(
    manifest: &Manifest,
    targets: &[TargetColumn],
) -> Result<Vec<f32>, TargetError> {
    let mut columns = Vec::with_capacity(targets.len());
    for target in targets {
        let values =
            (manifest.column_values(&target.column)).map_err(|missing| TargetError::NoColumn {
                key: "task.targets",
                missing,
            })?;
        columns.push(values);
    }
    let mut out = Vec::with_capacity(manifest.songs.len() * targets.len());
    for (row, song) in manifest.songs.iter().enumerate() {
        for (target, values) in targets.iter().zip(&columns) {
            out.push(read_value(song, target, values[row].as_deref())? as f32);
        }
    }
    Ok(out)
}

fn read_value(song: &Song, target: &TargetColumn, text: Option<&str>) -> Result<f64, TargetError> {
    let line = || song.label_source.clone();
    let column = || target.column.clone();
    let text = text.ok_or_else(|| TargetError::Empty {
        line: line(),
        column: column(),
    })?;
    let value: f64 = (text.parse().ok())
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| TargetError::NotANumber {
            line: line(),
            column: column(),
            value: text.to_string(),
        })?;
    let (low, high) = target.scale;
    if !(low..=high).contains(&value) {
        return Err(TargetError::OutOfScale {
            line: line(),
            column: column(),
            value,
            scale: target.scale,
        });
    }
    Ok(to_unit_scale(value, target.scale))
}

/// Every song's tags from one column.
#[derive(Debug, Clone, PartialEq)]
pub struct TagSets {
    /// The tags, in the vocabulary's order (given, or every tag found, sorted).
    pub vocabulary: Vec<String>,
    /// songs x vocabulary, row-major: whether the song carries the tag.
    pub carried: Vec<bool>,
    /// Tags found outside a given vocabulary, with the number of songs carrying each: left
    /// out, for the caller to report.
    pub unlisted: BTreeMap<String, usize>,
}

/// Every song's tags from `column`, split at `separator` and trimmed (empty pieces skipped;
/// a song without a value carries none). With `vocabulary`, only its tags are kept.
pub fn tag_sets(
    manifest: &Manifest,
    column: &str,
    separator: &str,
    vocabulary: Option<&[String]>,
) -> Result<TagSets, TargetError> {
    let values = manifest
        .column_values(column)
        .map_err(|missing| TargetError::NoColumn {
            key: "task.tags_column",
            missing,
        })?;
    let songs: Vec<Vec<String>> = (values.iter())
        .map(|value| {
            let pieces = value.as_deref().unwrap_or("").split(separator);
            pieces
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        })
        .collect();
    let vocabulary: Vec<String> = match vocabulary {
        Some(given) => given.to_vec(),
        None => {
            let found: BTreeSet<&String> = songs.iter().flatten().collect();
            found.into_iter().cloned().collect()
        }
    };
    let index: BTreeMap<&str, usize> = (vocabulary.iter().enumerate())
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut carried = vec![false; songs.len() * vocabulary.len()];
    let mut unlisted = BTreeMap::new();
    for (row, tags) in songs.iter().enumerate() {
        for tag in tags {
            match index.get(tag.as_str()) {
                Some(&k) => carried[row * vocabulary.len() + k] = true,
                None => *unlisted.entry(tag.clone()).or_insert(0) += 1,
            }
        }
    }
    Ok(TagSets {
        vocabulary,
        carried,
        unlisted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modality::{ModalityMask, PerModality};

    fn song(id: &str, columns: &[(&str, &str)]) -> Song {
        Song {
            id: id.into(),
            label: 0,
            subcategory: None,
            label_source: format!("labels.csv line {}", id.parse::<usize>().unwrap() + 1),
            files: PerModality::from([None, None, None]),
            rows: ModalityMask::NONE,
            metadata: columns
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn manifest(songs: Vec<Song>) -> Manifest {
        Manifest {
            classes: vec!["x".into()],
            songs,
        }
    }

    fn target(column: &str, scale: (f64, f64)) -> TargetColumn {
        TargetColumn {
            column: column.into(),
            scale,
        }
    }

    #[test]
    fn ratings_map_from_their_scale_onto_minus_one_to_one() {
        assert_eq!(to_unit_scale(1.0, (1.0, 9.0)), -1.0);
        assert_eq!(to_unit_scale(5.0, (1.0, 9.0)), 0.0);
        assert_eq!(to_unit_scale(1.0, (0.0, 1.0)), 1.0);
        for value in [1.0, 2.5, 9.0] {
            assert_eq!(
                from_unit_scale(to_unit_scale(value, (1.0, 9.0)), (1.0, 9.0)),
                value
            );
        }
        let songs = manifest(vec![
            song("1", &[("Valence", " 7 "), ("arousal", "0.25")]),
            song("2", &[("Valence", "1"), ("arousal", "1")]),
        ]);
        let values = target_values(
            &songs,
            &[target("valence", (1.0, 9.0)), target("arousal", (0.0, 1.0))],
        )
        .unwrap();
        assert_eq!(values, [0.5, -0.5, -1.0, 1.0]);
    }

    #[test]
    fn a_bad_value_names_the_line_and_the_column() {
        let bad = |value: &str, scale| {
            let songs = manifest(vec![song("1", &[("v", "0")]), song("4", &[("v", value)])]);
            target_values(&songs, &[target("v", scale)])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad("high", UNIT_SCALE),
            "labels.csv line 5: column `v` holds \"high\", not a number"
        );
        assert_eq!(
            bad("7", UNIT_SCALE),
            "labels.csv line 5: column `v` holds 7, outside its scale -1 to 1; set task.scales.v \
             to the range the dataset rates on, e.g. [1, 9]"
        );
        assert_eq!(
            bad("", UNIT_SCALE),
            "labels.csv line 5: column `v` is empty; every song needs a value for each \
             regression target"
        );
        let songs = manifest(vec![song("1", &[("v", "0")])]);
        let missing = target_values(&songs, &[target("valence", UNIT_SCALE)]).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "task.targets: no song has a value in column `valence`; the columns are v"
        );
    }

    #[test]
    fn tags_split_at_the_separator_and_keep_to_a_given_vocabulary() {
        let songs = manifest(vec![
            song("1", &[("tags", "calm; sad")]),
            song("2", &[("tags", "")]),
            song("3", &[("tags", "happy;;calm;dance")]),
        ]);
        let found = tag_sets(&songs, "tags", ";", None).unwrap();
        assert_eq!(found.vocabulary, ["calm", "dance", "happy", "sad"]);
        assert_eq!(
            found.carried,
            [
                true, false, false, true, //
                false, false, false, false, //
                true, true, true, false,
            ]
        );
        let vocabulary = vec!["happy".to_string(), "calm".to_string()];
        let kept = tag_sets(&songs, "tags", ";", Some(&vocabulary)).unwrap();
        assert_eq!(kept.carried, [false, true, false, false, true, true]);
        let unlisted: Vec<(&str, usize)> = kept
            .unlisted
            .iter()
            .map(|(t, n)| (t.as_str(), *n))
            .collect();
        assert_eq!(unlisted, [("dance", 1), ("sad", 1)]);
    }
}
