//! Classification metrics from true labels and predicted class probabilities.
//!
//! Conventions (scikit-learn's, so a Python session reproduces every number):
//! - the predicted class is the most probable one, the lowest index on ties;
//! - per-class precision of a class never predicted, and recall of a class absent from the
//!   truth, are 0 (`zero_division=0`);
//! - macro and weighted averages run over the classes that occur in the truth or the
//!   predictions (`labels=None`): a class absent from both says nothing about the model;
//! - balanced accuracy is the mean recall over the classes present in the truth;
//! - log loss clips probabilities to [1e-15, 1] (`log_loss`);
//! - Brier score is the multi-class original, the mean over songs of sum_k (p_k - y_k)^2,
//!   in [0, 2];
//! - expected calibration error (ECE) bins the top-class confidence into 15 equal-width bins
//!   and sums |accuracy - confidence| weighted by the bin's share of songs.

use crate::rng::RandomStream;

use super::bootstrap::{Interval, percentile_bootstrap};

/// Bins of the expected calibration error.
pub const ECE_BINS: usize = 15;
const LOG_LOSS_FLOOR: f64 = 1e-15;

/// Counts of (true class, predicted class) pairs; rows are the truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion {
    classes: usize,
    counts: Vec<u64>,
}

impl Confusion {
    /// The confusion matrix of `predicted` against `truth`.
    pub fn new(truth: &[usize], predicted: &[usize], classes: usize) -> Self {
        let mut counts = vec![0; classes * classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            counts[t * classes + p] += 1;
        }
        Confusion { classes, counts }
    }

    /// Songs of class `truth` predicted as `predicted`.
    pub fn count(&self, truth: usize, predicted: usize) -> u64 {
        self.counts[truth * self.classes + predicted]
    }

    /// Number of classes (the matrix is classes x classes).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Songs whose true class is `class`.
    pub fn support(&self, class: usize) -> u64 {
        (0..self.classes).map(|p| self.count(class, p)).sum()
    }

    /// Songs predicted as `class`.
    pub fn predicted(&self, class: usize) -> u64 {
        (0..self.classes).map(|t| self.count(t, class)).sum()
    }

    /// All songs counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    /// Correct among those predicted as the class (0 when never predicted).
    pub precision: f64,
    /// Found among those truly of the class (0 when absent from the truth).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Songs truly of the class.
    pub support: u64,
}

/// Every metric of one set of predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Songs scored.
    pub songs: usize,
    /// Share of songs whose top class is the true one.
    pub accuracy: f64,
    /// Mean recall over the classes present in the truth.
    pub balanced_accuracy: f64,
    /// Unweighted mean F1 over the classes present in the truth or the predictions.
    pub macro_f1: f64,
    /// Support-weighted mean F1.
    pub weighted_f1: f64,
    /// Mean negative log probability of the true class.
    pub log_loss: f64,
    /// Mean squared distance between the probabilities and the one-hot truth.
    pub brier: f64,
    /// Expected calibration error of the top-class confidence.
    pub ece: f64,
    /// Per class, in class order.
    pub per_class: Vec<ClassScores>,
    /// Truth x prediction counts.
    pub confusion: Confusion,
}

/// The most probable class of each row of `probabilities` (rows x `classes`).
pub fn argmax_rows(probabilities: &[f32], classes: usize) -> Vec<usize> {
    probabilities
        .chunks(classes)
        .map(|row| {
            let mut best = 0;
            for (k, &p) in row.iter().enumerate() {
                if p > row[best] {
                    best = k;
                }
            }
            best
        })
        .collect()
}

/// Scores `probabilities` (rows x `classes`, each row a distribution) against `truth`.
///
/// # Panics
/// When the lengths disagree or a label is not below `classes`: callers build both from the
/// same split, so a mismatch is a bug, not bad input.
pub fn score(truth: &[usize], probabilities: &[f32], classes: usize) -> Metrics {
    assert_eq!(truth.len() * classes, probabilities.len(), "rows x classes");
    assert!(truth.iter().all(|&t| t < classes), "label out of range");
    let predicted = argmax_rows(probabilities, classes);
    let confusion = Confusion::new(truth, &predicted, classes);
    let per_class: Vec<ClassScores> = (0..classes).map(|k| class_scores(&confusion, k)).collect();
    let songs = truth.len();
    let correct: u64 = (0..classes).map(|k| confusion.count(k, k)).sum();
    let seen: Vec<usize> = (0..classes)
        .filter(|&k| confusion.support(k) > 0 || confusion.predicted(k) > 0)
        .collect();
    let in_truth: Vec<usize> = (0..classes).filter(|&k| confusion.support(k) > 0).collect();
    Metrics {
        songs,
        accuracy: ratio(correct, songs as u64),
        balanced_accuracy: mean(in_truth.iter().map(|&k| per_class[k].recall)),
        macro_f1: mean(seen.iter().map(|&k| per_class[k].f1)),
        weighted_f1: if songs == 0 {
            0.0
        } else {
            per_class
                .iter()
                .map(|c| c.f1 * c.support as f64)
                .sum::<f64>()
                / songs as f64
        },
        log_loss: log_loss(truth, probabilities, classes),
        brier: brier(truth, probabilities, classes),
        ece: expected_calibration_error(truth, probabilities, classes),
        per_class,
        confusion,
    }
}

fn class_scores(confusion: &Confusion, class: usize) -> ClassScores {
    let hits = confusion.count(class, class);
    let support = confusion.support(class);
    let precision = ratio(hits, confusion.predicted(class));
    let recall = ratio(hits, support);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    ClassScores {
        precision,
        recall,
        f1,
        support,
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

fn log_loss(truth: &[usize], probabilities: &[f32], classes: usize) -> f64 {
    mean(
        truth
            .iter()
            .zip(probabilities.chunks(classes))
            .map(|(&t, row)| -f64::from(row[t]).clamp(LOG_LOSS_FLOOR, 1.0).ln()),
    )
}

fn brier(truth: &[usize], probabilities: &[f32], classes: usize) -> f64 {
    mean(
        truth
            .iter()
            .zip(probabilities.chunks(classes))
            .map(|(&t, row)| {
                row.iter()
                    .enumerate()
                    .map(|(k, &p)| (f64::from(p) - if k == t { 1.0 } else { 0.0 }).powi(2))
                    .sum()
            }),
    )
}

/// Songs whose top-class confidence falls in one bin of the reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityBin {
    /// Lower edge (exclusive, except for the first bin).
    pub low: f64,
    /// Upper edge (inclusive).
    pub high: f64,
    /// Songs in the bin.
    pub songs: usize,
    /// Their mean top-class probability (0 when empty).
    pub confidence: f64,
    /// The share of them predicted right (0 when empty).
    pub accuracy: f64,
}

/// The reliability diagram: [`ECE_BINS`] equal-width bins (i/B, (i+1)/B] of the top-class
/// confidence; a confidence of exactly 0 joins the first.
pub fn reliability(truth: &[usize], probabilities: &[f32], classes: usize) -> Vec<ReliabilityBin> {
    let mut count = [0usize; ECE_BINS];
    let mut confidence = [0.0f64; ECE_BINS];
    let mut correct = [0.0f64; ECE_BINS];
    let predicted = argmax_rows(probabilities, classes);
    for ((&t, &p), row) in truth
        .iter()
        .zip(&predicted)
        .zip(probabilities.chunks(classes))
    {
        let top = f64::from(row[p]).clamp(0.0, 1.0);
        let bin = ((top * ECE_BINS as f64).ceil() as usize).clamp(1, ECE_BINS) - 1;
        count[bin] += 1;
        confidence[bin] += top;
        correct[bin] += if t == p { 1.0 } else { 0.0 };
    }
    (0..ECE_BINS)
        .map(|b| {
            let n = count[b].max(1) as f64;
            ReliabilityBin {
                low: b as f64 / ECE_BINS as f64,
                high: (b + 1) as f64 / ECE_BINS as f64,
                songs: count[b],
                confidence: confidence[b] / n,
                accuracy: correct[b] / n,
            }
        })
        .collect()
}

fn expected_calibration_error(truth: &[usize], probabilities: &[f32], classes: usize) -> f64 {
    let songs = truth.len();
    if songs == 0 {
        return 0.0;
    }
    reliability(truth, probabilities, classes)
        .iter()
        .map(|bin| (bin.accuracy - bin.confidence).abs() * bin.songs as f64 / songs as f64)
        .sum()
}

/// Percentile bootstrap 95 % intervals of accuracy and macro-F1: `resamples` draws of as many
/// songs as there are, with replacement, from `stream`. Returns (accuracy, macro-F1); with
/// `resamples == 0` both bounds equal the estimate.
pub fn bootstrap_intervals(
    truth: &[usize],
    probabilities: &[f32],
    classes: usize,
    resamples: usize,
    stream: &mut RandomStream,
) -> (Interval, Interval) {
    let full = score(truth, probabilities, classes);
    let predicted = argmax_rows(probabilities, classes);
    let n = truth.len();
    let (mut t, mut p) = (vec![0; n], vec![0; n]);
    let [accuracy, macro_f1] = percentile_bootstrap(
        n,
        resamples,
        stream,
        [full.accuracy, full.macro_f1],
        |songs| {
            for (i, &j) in songs.iter().enumerate() {
                t[i] = truth[j];
                p[i] = predicted[j];
            }
            let confusion = Confusion::new(&t, &p, classes);
            let correct: u64 = (0..classes).map(|k| confusion.count(k, k)).sum();
            let f1 = mean(
                (0..classes)
                    .filter(|&k| confusion.support(k) > 0 || confusion.predicted(k) > 0)
                    .map(|k| class_scores(&confusion, k).f1),
            );
            [ratio(correct, n as u64), f1]
        },
    );
    (accuracy, macro_f1)
}

/// The `q` quantile of ascending `sorted` (non-empty) by linear interpolation between order
/// statistics (numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let weight = position - below as f64;
    sorted[below] * (1.0 - weight) + sorted[above] * weight
}
