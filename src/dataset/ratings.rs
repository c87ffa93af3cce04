//! Valence-arousal ratings as the rated layouts (DEAM, PMEmo) give them: numbers checked
//! against their scale, the quadrant of a song's static means, and per-song summaries of its
//! dynamic ratings, kept as metadata `{target}_dynamic_mean`, `_std` and `_frames`.

use std::collections::BTreeMap;
use std::path::Path;

use super::table::{MetadataTable, display_name};
use super::{DatasetProblem, LabelledSong, Listing};
use crate::modality::PerModality;

/// A song number as the rated datasets write it (`0002` and `2` are song 2), as a string.
pub(super) fn song_number(text: &str) -> Option<String> {
    text.trim().parse::<u32>().ok().map(|n| n.to_string())
}

/// `text` as a finite number on `scale`; the error names `what` and the value.
pub(super) fn rating(text: &str, what: &str, scale: Option<(f64, f64)>) -> Result<f64, String> {
    let value: f64 = (text.trim().parse().ok())
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("{what} is `{text}`, not a number"))?;
    match scale {
        Some((low, high)) if !(low..=high).contains(&value) => Err(format!(
            "{what} is {value}, outside the rating scale {low} to {high}"
        )),
        _ => Ok(value),
    }
}

/// The quadrant of a song's static means (Q1 = +valence +arousal, Q2 = -valence +arousal,
/// Q3 = -valence -arousal, Q4 = +valence -arousal); a mean at the scale's `midpoint` counts
/// as high.
pub(super) fn quadrant(valence: f64, arousal: f64, midpoint: f64) -> &'static str {
    match (valence >= midpoint, arousal >= midpoint) {
        (true, true) => "Q1",
        (false, true) => "Q2",
        (false, false) => "Q3",
        (true, false) => "Q4",
    }
}

/// A column of a static ratings file that each song keeps.
pub(super) struct RatedColumn<'a> {
    /// Its position in the file.
    pub(super) at: usize,
    /// Its name in the file, for messages.
    pub(super) column: &'a str,
    /// The metadata column it becomes.
    pub(super) name: &'a str,
    /// The scale its values must lie on, if checked.
    pub(super) scale: Option<(f64, f64)>,
}

/// Adds a static ratings file's songs (`table`, read from `path`) to `listing`: each row whose
/// `id_at` cell is a song number and whose `columns` read as ratings becomes a song, labelled by
/// the quadrant of its first two columns (valence, arousal) at `midpoint`, keeping every
/// column's text. A bad row, or a song listed again, is reported with its line and skipped.
pub(super) fn add_rated_songs(
    path: &Path,
    table: &MetadataTable,
    (id_at, columns): (usize, &[RatedColumn]),
    midpoint: f64,
    listing: &mut Listing,
) {
    let mut known = listing.song_index();
    for (line, record) in &table.rows {
        let malformed = |reason: String| DatasetProblem::MalformedLine {
            path: path.to_path_buf(),
            line: *line,
            reason,
        };
        let cell = |i: usize| record.get(i).unwrap_or_default();
        let Some(id) = song_number(cell(id_at)) else {
            let reason = format!("the song id is `{}`, expected a song number", cell(id_at));
            listing.problems.push(malformed(reason));
            continue;
        };
        if let Some(&first) = known.get(&id) {
            let first = &listing.songs[first].label_source;
            let reason =
                format!("song {id} is listed again (first at {first}); the first listing is kept");
            listing.problems.push(malformed(reason));
            continue;
        }
        let values: Result<Vec<f64>, String> = (columns.iter())
            .map(|c| rating(cell(c.at), c.column, c.scale))
            .collect();
        let values = match values {
            Ok(values) => values,
            Err(reason) => {
                listing
                    .problems
                    .push(malformed(format!("song {id}: {reason}")));
                continue;
            }
        };
        let metadata = (columns.iter())
            .map(|c| (c.name.to_string(), cell(c.at).to_string()))
            .collect();
        known.insert(id.clone(), listing.songs.len());
        listing.songs.push(LabelledSong {
            label: quadrant(values[0], values[1], midpoint).to_string(),
            id,
            subcategory: None,
            label_source: format!("{} line {line}", display_name(path)),
            files: PerModality::default(),
            metadata,
        });
    }
}

/// The metadata column of a target's dynamic mean, e.g. `valence_dynamic_mean`.
pub(super) fn dynamic_mean(target: &str) -> String {
    format!("{target}_dynamic_mean")
}

/// One song's dynamic ratings of one target, summarized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct DynamicSummary {
    pub(super) mean: f64,
    pub(super) std: f64,
    pub(super) frames: usize,
}

impl DynamicSummary {
    /// The summary of `values`; `None` when there are none.
    pub(super) fn of(values: &[f64]) -> Option<DynamicSummary> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        Some(DynamicSummary {
            mean,
            std: variance.sqrt(),
            frames: values.len(),
        })
    }

    /// Writes the summary into a song's metadata under `target`'s columns.
    pub(super) fn insert(&self, target: &str, metadata: &mut BTreeMap<String, String>) {
        metadata.insert(dynamic_mean(target), format!("{:.4}", self.mean));
        metadata.insert(format!("{target}_dynamic_std"), format!("{:.4}", self.std));
        metadata.insert(format!("{target}_dynamic_frames"), self.frames.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrants_put_the_midpoint_in_the_high_half() {
        assert_eq!(quadrant(5.0, 5.0, 5.0), "Q1");
        assert_eq!(quadrant(4.9, 5.0, 5.0), "Q2");
        assert_eq!(quadrant(0.3, 0.2, 0.5), "Q3");
        assert_eq!(quadrant(0.7, 0.49, 0.5), "Q4");
    }

    #[test]
    fn ratings_are_numbers_on_their_scale() {
        assert_eq!(rating(" 3.5", "valence_mean", Some((1.0, 9.0))), Ok(3.5));
        assert_eq!(
            rating("n/a", "valence_mean", None).unwrap_err(),
            "valence_mean is `n/a`, not a number"
        );
        assert!(
            rating("9.5", "x", Some((1.0, 9.0)))
                .unwrap_err()
                .contains("outside")
        );
        assert_eq!(song_number("0002").as_deref(), Some("2"));
        assert_eq!(song_number("two"), None);
    }

    #[test]
    fn summaries_are_mean_population_std_and_count() {
        let summary = DynamicSummary::of(&[0.5, -0.5]).unwrap();
        assert_eq!((summary.mean, summary.std, summary.frames), (0.0, 0.5, 2));
        assert_eq!(DynamicSummary::of(&[]), None);
    }
}
