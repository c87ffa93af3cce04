//! What each song of a fold is trained towards, per task kind, and the target rows of a batch.

use crate::spec::TaskKind;

/// The training targets of every row (song) of a fold.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// One class per song.
    Classes {
        /// Number of classes; labels lie in `0..count`.
        count: usize,
        /// One label per row.
        labels: Vec<usize>,
    },
    /// Continuous targets (valence, arousal), already on [-1, 1].
    Values {
        /// Targets per song.
        count: usize,
        /// rows x count, row-major.
        values: Vec<f32>,
    },
    /// Several tags per song.
    Tags {
        /// Size of the tag vocabulary.
        count: usize,
        /// rows x count, row-major: whether the song carries the tag.
        carried: Vec<bool>,
    },
}

impl Targets {
    /// The task kind these targets belong to.
    pub fn kind(&self) -> TaskKind {
        match self {
            Targets::Classes { .. } => TaskKind::Classification,
            Targets::Values { .. } => TaskKind::Regression,
            Targets::Tags { .. } => TaskKind::Multilabel,
        }
    }

    /// Network outputs per song: classes, targets or tags.
    pub fn width(&self) -> usize {
        match self {
            Targets::Classes { count, .. }
            | Targets::Values { count, .. }
            | Targets::Tags { count, .. } => *count,
        }
    }

    /// Number of songs.
    pub fn rows(&self) -> usize {
        match self {
            Targets::Classes { labels, .. } => labels.len(),
            Targets::Values { count, values } => values.len() / (*count).max(1),
            Targets::Tags { count, carried } => carried.len() / (*count).max(1),
        }
    }

    /// What is wrong with the targets, if anything: a zero width, a ragged matrix, a label out
    /// of range, a value that is not finite.
    pub(crate) fn problem(&self) -> Option<String> {
        let width = self.width();
        if width == 0 {
            return Some(format!("zero outputs for {:?}", self.kind()));
        }
        match self {
            Targets::Classes { count, labels } => (labels.iter().find(|&&l| l >= *count))
                .map(|label| format!("label {label} with {count} classes")),
            Targets::Values { values, .. } if values.len() % width != 0 => Some(format!(
                "{} target values do not make rows of {width}",
                values.len()
            )),
            Targets::Values { values, .. } => (values.iter().position(|v| !v.is_finite()))
                .map(|i| format!("row {}: target {} is NaN or infinite", i / width, i % width)),
            Targets::Tags { carried, .. } => (carried.len() % width != 0)
                .then(|| format!("{} tag flags do not make rows of {width}", carried.len())),
        }
    }

    /// The target rows of the songs `rows` (`rows.len() x width`, row-major): classes one-hot
    /// with `smoothing` spread evenly over the classes, tags pulled towards 1/2 by `smoothing`,
    /// values as they are (smoothing means nothing for them; the settings' rules refuse it).
    pub(crate) fn rows_of(&self, rows: &[usize], smoothing: f64) -> Vec<f32> {
        match self {
            Targets::Classes { count, labels } => {
                let labels: Vec<usize> = rows.iter().map(|&r| labels[r]).collect();
                smoothed_one_hot(&labels, *count, smoothing)
            }
            Targets::Values { count, values } => rows
                .iter()
                .flat_map(|&r| &values[r * count..][..*count])
                .copied()
                .collect(),
            Targets::Tags { count, carried } => {
                let (on, off) = ((1.0 - smoothing / 2.0) as f32, (smoothing / 2.0) as f32);
                rows.iter()
                    .flat_map(|&r| &carried[r * count..][..*count])
                    .map(|&c| if c { on } else { off })
                    .collect()
            }
        }
    }

    /// Class or tag weights from the training songs `rows`, for `schedule.class_weights`.
    ///
    /// Classes: inverse frequency `n / (K n_c)` (scikit-learn's "balanced"), 1 for a class
    /// without training songs (it only appears through smoothing and mixing). Tags: PyTorch's
    /// suggested `pos_weight`, negatives over positives per tag, 1 for a tag no training song
    /// carries (or every one does). Regression: none.
    pub(crate) fn weights(&self, rows: &[usize]) -> Option<Vec<f32>> {
        match self {
            Targets::Classes { count, labels } => {
                let mut counts = vec![0usize; *count];
                for &row in rows {
                    counts[labels[row]] += 1;
                }
                let n = rows.len() as f64;
                Some(
                    (counts.iter())
                        .map(|&c| {
                            if c == 0 {
                                1.0
                            } else {
                                (n / (*count as f64 * c as f64)) as f32
                            }
                        })
                        .collect(),
                )
            }
            Targets::Tags { count, carried } => Some(
                (0..*count)
                    .map(|k| {
                        let positives = rows.iter().filter(|&&r| carried[r * count + k]).count();
                        let negatives = rows.len() - positives;
                        if positives == 0 || negatives == 0 {
                            1.0
                        } else {
                            (negatives as f64 / positives as f64) as f32
                        }
                    })
                    .collect(),
            ),
            Targets::Values { .. } => None,
        }
    }
}

/// One-hot targets with `smoothing` mass spread evenly over all classes.
pub(crate) fn smoothed_one_hot(labels: &[usize], classes: usize, smoothing: f64) -> Vec<f32> {
    let off = (smoothing / classes as f64) as f32;
    let on = (1.0 - smoothing + smoothing / classes as f64) as f32;
    let mut targets = vec![off; labels.len() * classes];
    for (i, &label) in labels.iter().enumerate() {
        targets[i * classes + label] = on;
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_rows_per_kind() {
        let classes = Targets::Classes {
            count: 3,
            labels: vec![2, 0],
        };
        assert_eq!(
            classes.rows_of(&[1, 0], 0.0),
            [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
        );
        let values = Targets::Values {
            count: 2,
            values: vec![0.1, 0.2, -0.3, 0.4],
        };
        assert_eq!(values.rows_of(&[1], 0.1), [-0.3, 0.4]);
        let tags = Targets::Tags {
            count: 2,
            carried: vec![true, false, false, false],
        };
        assert_eq!(tags.rows_of(&[0], 0.2), [0.9, 0.1]);
        assert_eq!(tags.rows(), 2);
    }

    #[test]
    fn tag_weights_are_negatives_over_positives() {
        let tags = Targets::Tags {
            count: 2,
            // tag 0 on 1 of 4 songs, tag 1 on none
            carried: vec![true, false, false, false, false, false, false, false],
        };
        assert_eq!(tags.weights(&[0, 1, 2, 3]), Some(vec![3.0, 1.0]));
        let classes = Targets::Classes {
            count: 2,
            labels: vec![0, 0, 0, 1],
        };
        let weights = classes.weights(&[0, 1, 2, 3]).unwrap();
        assert_eq!(weights, [4.0 / 6.0, 2.0]);
    }

    #[test]
    fn problems_name_the_bad_entry() {
        let bad = Targets::Values {
            count: 2,
            values: vec![0.0, f32::NAN],
        };
        assert_eq!(bad.problem().unwrap(), "row 0: target 1 is NaN or infinite");
        let label = Targets::Classes {
            count: 2,
            labels: vec![2],
        };
        assert_eq!(label.problem().unwrap(), "label 2 with 2 classes");
    }
}
