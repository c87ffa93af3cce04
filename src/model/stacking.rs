//! Stacking for late fusion: one weight per modality, fit on the branches' out-of-fold
//! outputs by the task kind's loss.
//!
//! With raw branch outputs `z_m` (logits, or values) and presence masks `m_m`, a song's
//! combined output is
//!
//! - classes and tags: `softmax` or `sigmoid` of `sum_m a_m m_m z_m`: a logistic regression on
//!   the branches' logits, one weight per modality (log-linear pooling). A weight below one
//!   tempers a branch that is sure of itself too often, which a weighted mean of
//!   probabilities cannot: fit by log loss, such a mean drops the overconfident branch
//!   entirely, and with it what it knows;
//! - values: `sum_m a_m m_m z_m / sum_m a_m m_m`, a weighted mean over the present modalities.
//!
//! A missing modality's term is left out. The weights `a_m = exp(theta_m)` are positive and
//! start at `1 / modalities`; gradient descent with backtracking fits them (a convex problem
//! in `a` for every kind but values): few parameters, no randomness, the same weights for the
//! same predictions.

use crate::spec::TaskKind;

/// Descent stops after this many accepted or rejected steps.
const MAX_ITERATIONS: usize = 500;
/// ... or once a step changes the loss by less than this.
const TOLERANCE: f64 = 1e-12;

/// The branches' raw outputs for a set of songs, with what they should have been.
#[derive(Debug, Clone, Copy)]
pub struct BranchPredictions<'a> {
    /// Per modality, `songs x width`: class logits, tag logits or values.
    pub outputs: &'a [Vec<f32>],
    /// Per modality, one value per song: 1 where the song has it, 0 where not.
    pub present: &'a [Vec<f32>],
    /// `songs x width`: one-hot classes, target values, or 0/1 tags.
    pub targets: &'a [f32],
    /// Outputs per song.
    pub width: usize,
    /// What the outputs are, which chooses the pooling and the loss.
    pub task: TaskKind,
}

impl BranchPredictions<'_> {
    fn songs(&self) -> usize {
        self.present.first().map_or(0, Vec::len)
    }

    /// Song `song`'s pooled raw output under `weights`, and the sum `sum_m a_m m_m`. A song
    /// with no modality (sum 0) gets zero logits (uniform classes, tags at 1/2), or for
    /// values the weights' mean over every branch.
    fn pooled(&self, weights: &[f64], song: usize) -> (Vec<f64>, f64) {
        let width = self.width;
        let (mut coefficients, total) = song_coefficients(self.present, weights, song);
        if self.task == TaskKind::Regression {
            coefficients = shares_of(coefficients, total, weights);
        }
        let mut pooled = vec![0.0; width];
        for (c, outputs) in coefficients.iter().zip(self.outputs) {
            let z = &outputs[song * width..(song + 1) * width];
            for (p, &v) in pooled.iter_mut().zip(z) {
                *p += c * f64::from(v);
            }
        }
        (pooled, total)
    }

    /// What a late network carrying `weights` outputs (`songs x width`) before its softmax or
    /// sigmoid: the pooled logits, or the values.
    pub fn pool(&self, weights: &[f64]) -> Vec<f32> {
        (0..self.songs())
            .flat_map(|song| self.pooled(weights, song).0)
            .map(|z| z as f32)
            .collect()
    }

    /// The combined outputs (`songs x width`: class or tag probabilities, values) under
    /// `weights`.
    pub fn combine(&self, weights: &[f64]) -> Vec<f32> {
        let mut combined = Vec::with_capacity(self.songs() * self.width);
        for song in 0..self.songs() {
            let (pooled, _) = self.pooled(weights, song);
            combined.extend(outputs_of(self.task, &pooled).iter().map(|&q| q as f32));
        }
        combined
    }

    /// The kind's mean loss under `weights`, and its gradient with respect to them.
    fn loss(&self, weights: &[f64]) -> (f64, Vec<f64>) {
        let width = self.width;
        let mut gradient = vec![0.0; weights.len()];
        let (mut total, mut songs) = (0.0, 0usize);
        for song in 0..self.songs() {
            let (pooled, sum) = self.pooled(weights, song);
            // A song with no modality says nothing about the weights.
            if sum <= 0.0 {
                continue;
            }
            songs += 1;
            let q = outputs_of(self.task, &pooled);
            let t = &self.targets[song * width..(song + 1) * width];
            let t: Vec<f64> = t.iter().map(|&v| f64::from(v)).collect();
            total += song_loss(self.task, &pooled, &q, &t);
            // d loss / d pooled: q - t for softmax and sigmoid with their log losses, 2 (q - t)
            // for squared error.
            let slope: Vec<f64> = (q.iter().zip(&t))
                .map(|(q, t)| match self.task {
                    TaskKind::Regression => 2.0 * (q - t),
                    _ => q - t,
                })
                .collect();
            for (m, outputs) in self.outputs.iter().enumerate() {
                let present = f64::from(self.present[m][song]);
                let z = &outputs[song * width..(song + 1) * width];
                let inner: f64 = (0..width)
                    .map(|k| {
                        // d pooled_k / d a_m: m_m z_mk, or m_m (z_mk - pooled_k) / sum for values.
                        let dz = match self.task {
                            TaskKind::Regression => present * (f64::from(z[k]) - pooled[k]) / sum,
                            _ => present * f64::from(z[k]),
                        };
                        slope[k] * dz
                    })
                    .sum();
                gradient[m] += inner;
            }
        }
        let scale = match self.task {
            TaskKind::Classification => 1.0 / songs.max(1) as f64,
            _ => 1.0 / (songs * width).max(1) as f64,
        };
        gradient.iter_mut().for_each(|g| *g *= scale);
        (total * scale, gradient)
    }
}

/// Song `song`'s coefficient `a_m m_m` per modality, and their sum.
fn song_coefficients(present: &[Vec<f32>], weights: &[f64], song: usize) -> (Vec<f64>, f64) {
    let coefficients: Vec<f64> = (weights.iter().zip(present))
        .map(|(&a, present)| a * f64::from(present[song]))
        .collect();
    let total = coefficients.iter().sum();
    (coefficients, total)
}

/// The coefficients as shares of their `total`; the weights' own shares when it is 0 (a song
/// with no modality).
fn shares_of(coefficients: Vec<f64>, total: f64, weights: &[f64]) -> Vec<f64> {
    match total > 0.0 {
        true => coefficients.iter().map(|c| c / total).collect(),
        false => {
            let all: f64 = weights.iter().sum();
            weights.iter().map(|a| a / all).collect()
        }
    }
}

/// Per song, each modality's share `a_m m_m / sum_k a_k m_k` of the stacking weights over the
/// presence masks (`songs x modalities`, row-major): what a stacked late fusion leans on; for
/// a song with no modality, `a_m / sum_k a_k`.
pub(crate) fn modality_shares(present: &[Vec<f32>], weights: &[f64]) -> Vec<f32> {
    let songs = present.first().map_or(0, Vec::len);
    (0..songs)
        .flat_map(|song| {
            let (coefficients, total) = song_coefficients(present, weights, song);
            shares_of(coefficients, total, weights)
        })
        .map(|share| share as f32)
        .collect()
}

/// The kind's outputs of a pooled raw output: softmax, sigmoids, or the values.
fn outputs_of(task: TaskKind, pooled: &[f64]) -> Vec<f64> {
    match task {
        TaskKind::Classification => {
            let top = pooled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = pooled.iter().map(|z| (z - top).exp()).collect();
            let sum: f64 = e.iter().sum();
            e.into_iter().map(|v| v / sum).collect()
        }
        TaskKind::Multilabel => pooled.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect(),
        TaskKind::Regression => pooled.to_vec(),
    }
}

/// One song's loss, summed over its outputs: cross-entropy of the softmax, binary
/// cross-entropy of each sigmoid (both from the pooled logits, so never infinite), squared
/// error of the values.
fn song_loss(task: TaskKind, pooled: &[f64], q: &[f64], t: &[f64]) -> f64 {
    match task {
        TaskKind::Classification => {
            let top = pooled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let log_sum = top + pooled.iter().map(|z| (z - top).exp()).sum::<f64>().ln();
            (pooled.iter().zip(t)).map(|(z, t)| t * (log_sum - z)).sum()
        }
        // -[t ln s(z) + (1 - t) ln(1 - s(z))] = softplus(z) - t z
        TaskKind::Multilabel => (pooled.iter().zip(t))
            .map(|(&z, t)| z.max(0.0) + (-z.abs()).exp().ln_1p() - t * z)
            .sum(),
        TaskKind::Regression => (q.iter().zip(t)).map(|(q, t)| (q - t).powi(2)).sum(),
    }
}

/// The loss at the weights `exp(theta)`, and its gradient with respect to `theta`.
fn loss_of_parameters(predictions: &BranchPredictions<'_>, theta: &[f64]) -> (f64, Vec<f64>) {
    let weights: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
    let (loss, by_weight) = predictions.loss(&weights);
    let gradient = (weights.iter().zip(&by_weight))
        .map(|(a, g)| a * g)
        .collect();
    (loss, gradient)
}

/// The modality weights (positive) that minimize the kind's loss of the pooled outputs over
/// `predictions`' songs, from `1 / modalities` each.
pub fn fit_weights(predictions: &BranchPredictions<'_>) -> Vec<f64> {
    let modalities = predictions.outputs.len();
    let mut theta = vec![-(modalities.max(1) as f64).ln(); modalities];
    let (mut loss, mut gradient) = loss_of_parameters(predictions, &theta);
    let mut step = 1.0;
    for _ in 0..MAX_ITERATIONS {
        let trial: Vec<f64> = (theta.iter().zip(&gradient))
            .map(|(a, g)| a - step * g)
            .collect();
        let (trial_loss, trial_gradient) = loss_of_parameters(predictions, &trial);
        if trial_loss < loss {
            let gain = loss - trial_loss;
            (theta, loss, gradient) = (trial, trial_loss, trial_gradient);
            step *= 2.0;
            if gain < TOLERANCE {
                break;
            }
        } else {
            step /= 2.0;
            if step < 1e-12 {
                break;
            }
        }
    }
    theta.iter().map(|t| t.exp()).collect()
}

/// Stacking's own out-of-fold outputs (`songs x width`): each song combined under weights fit
/// on the songs of the other folds (`fold[song]`), so no song's weights have seen it. With a
/// single fold there are no other songs, and the weights stay at their start.
pub fn cross_fit(predictions: &BranchPredictions<'_>, fold: &[usize]) -> Vec<f32> {
    let width = predictions.width;
    let modalities = predictions.outputs.len();
    let mut combined = vec![0.0f32; predictions.songs() * width];
    let mut folds = fold.to_vec();
    folds.sort_unstable();
    folds.dedup();
    for &held_out in &folds {
        let (inside, outside): (Vec<usize>, Vec<usize>) =
            (0..fold.len()).partition(|&song| fold[song] == held_out);
        let weights = match outside.is_empty() {
            true => vec![1.0 / modalities as f64; modalities],
            false => fit_weights(&predictions.subset(&outside).view(predictions)),
        };
        let held = predictions.subset(&inside);
        let outputs = held.view(predictions).combine(&weights);
        for (song, chunk) in inside.iter().zip(outputs.chunks(width)) {
            combined[song * width..(song + 1) * width].copy_from_slice(chunk);
        }
    }
    combined
}

/// Some songs' rows of [`BranchPredictions`], owned.
struct Subset {
    outputs: Vec<Vec<f32>>,
    present: Vec<Vec<f32>>,
    targets: Vec<f32>,
}

impl Subset {
    /// Borrowed as predictions of the same width and kind as `of`.
    fn view<'a>(&'a self, of: &BranchPredictions<'_>) -> BranchPredictions<'a> {
        BranchPredictions {
            outputs: &self.outputs,
            present: &self.present,
            targets: &self.targets,
            width: of.width,
            task: of.task,
        }
    }
}

impl BranchPredictions<'_> {
    /// The rows of `songs`, in that order.
    fn subset(&self, songs: &[usize]) -> Subset {
        let width = self.width;
        let rows = |values: &[f32]| -> Vec<f32> {
            (songs.iter())
                .flat_map(|&s| values[s * width..(s + 1) * width].iter().copied())
                .collect()
        };
        Subset {
            outputs: self.outputs.iter().map(|o| rows(o)).collect(),
            present: (self.present.iter())
                .map(|p| songs.iter().map(|&s| p[s]).collect())
                .collect(),
            targets: rows(self.targets),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four songs, two classes, two modalities, as logits: modality 0 right and sure on songs
    /// 0 and 1, mildly wrong on song 3; modality 1 wrong on songs 0 to 2 and mildly right on
    /// song 3; song 2 has only modality 1.
    fn two_branches() -> (Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<f32>) {
        let outputs = vec![
            vec![2.0, -2.0, -2.0, 2.0, 0.0, 0.0, 1.0, -1.0],
            vec![-1.0, 1.0, 1.0, -1.0, -0.5, 0.5, 0.5, -0.5],
        ];
        let present = vec![vec![1.0, 1.0, 0.0, 1.0], vec![1.0; 4]];
        let targets = vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0];
        (outputs, present, targets)
    }

    fn predictions<'a>(
        (outputs, present, targets): &'a (Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<f32>),
        task: TaskKind,
    ) -> BranchPredictions<'a> {
        BranchPredictions {
            outputs,
            present,
            targets,
            width: 2,
            task,
        }
    }

    #[test]
    fn the_gradient_matches_finite_differences_for_every_kind() {
        let data = two_branches();
        for task in [
            TaskKind::Classification,
            TaskKind::Regression,
            TaskKind::Multilabel,
        ] {
            let p = predictions(&data, task);
            let parameters = [0.3, -0.2];
            let (_, gradient) = loss_of_parameters(&p, &parameters);
            for i in 0..2 {
                let h = 1e-6;
                let mut up = parameters;
                up[i] += h;
                let mut down = parameters;
                down[i] -= h;
                let numeric =
                    (loss_of_parameters(&p, &up).0 - loss_of_parameters(&p, &down).0) / (2.0 * h);
                assert!(
                    (numeric - gradient[i]).abs() < 1e-6,
                    "{task:?} parameter {i}: {numeric} vs {}",
                    gradient[i]
                );
            }
        }
    }

    #[test]
    fn the_fit_leans_on_the_branch_that_is_right_and_beats_equal_weights() {
        let data = two_branches();
        for task in [TaskKind::Classification, TaskKind::Multilabel] {
            let p = predictions(&data, task);
            let weights = fit_weights(&p);
            assert!(weights.iter().all(|&w| w > 0.0), "{weights:?}");
            assert!(weights[0] > 2.0 * weights[1], "{task:?}: {weights:?}");
            assert!(p.loss(&weights).0 < p.loss(&[0.5, 0.5]).0, "{task:?}");
        }
    }

    /// One branch, right on three songs of four but always sure of itself (logits +-10): a
    /// weight below one tempers it, and the log loss falls, which no weighted mean of
    /// probabilities can do.
    #[test]
    fn a_weight_below_one_tempers_an_overconfident_branch() {
        let outputs = vec![vec![10.0, -10.0, -10.0, 10.0, 10.0, -10.0, 10.0, -10.0]];
        let present = vec![vec![1.0; 4]];
        let targets = vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0];
        let p = BranchPredictions {
            outputs: &outputs,
            present: &present,
            targets: &targets,
            width: 2,
            task: TaskKind::Classification,
        };
        let weights = fit_weights(&p);
        assert!(weights[0] < 0.2, "{weights:?}");
        assert!(p.loss(&weights).0 < p.loss(&[1.0]).0 / 5.0);
        // Three right of four at the optimum: the tempered branch says 3/4.
        let combined = p.combine(&weights);
        assert!((combined[0] - 0.75).abs() < 1e-3, "{combined:?}");
    }

    #[test]
    fn cross_fitting_combines_each_fold_by_weights_fit_without_it() {
        let data = two_branches();
        let p = predictions(&data, TaskKind::Classification);
        let fold = [0, 1, 1, 1];
        let crossed = cross_fit(&p, &fold);
        // Song 0's weights come from songs 1 to 3 alone.
        let others = p.subset(&[1, 2, 3]);
        let weights = fit_weights(&others.view(&p));
        let expected = p.subset(&[0]).view(&p).combine(&weights);
        assert_eq!(&crossed[0..2], expected.as_slice());
        assert_ne!(weights, fit_weights(&p));
        // One fold: nothing to fit on, the starting weights.
        assert_eq!(cross_fit(&p, &[0; 4]), p.combine(&[0.5, 0.5]));
    }

    #[test]
    fn a_missing_modality_is_left_out() {
        let data = two_branches();
        let p = predictions(&data, TaskKind::Classification);
        let combined = p.combine(&[0.8, 0.2]);
        let softmax = |z: [f64; 2]| {
            let e = [z[0].exp(), z[1].exp()];
            [e[0] / (e[0] + e[1]), e[1] / (e[0] + e[1])]
        };
        // Song 2 has modality 1 only: its logits, weighted.
        let expected = softmax([0.2 * -0.5, 0.2 * 0.5]);
        assert!((f64::from(combined[4]) - expected[0]).abs() < 1e-6);
        // Song 0 has both: 0.8 z_0 + 0.2 z_1.
        let expected = softmax([0.8 * 2.0 - 0.2, -0.8 * 2.0 + 0.2]);
        assert!((f64::from(combined[0]) - expected[0]).abs() < 1e-6);
        // Values: the weighted mean over the present modalities.
        let values = predictions(&data, TaskKind::Regression).combine(&[0.8, 0.2]);
        assert!((values[0] - (0.8 * 2.0 - 0.2)).abs() < 1e-6);
        assert!((values[4] + 0.5).abs() < 1e-6);
    }

    /// A song with no modality gets what the network gives it, never NaN: uniform classes,
    /// tags at 1/2, the weights' mean of every branch's value; and it leaves the fit alone.
    #[test]
    fn a_song_with_no_modality_gets_the_networks_output() {
        let (outputs, mut present, targets) = two_branches();
        present.iter_mut().for_each(|p| p[3] = 0.0);
        let p = |task| BranchPredictions {
            outputs: &outputs,
            present: &present,
            targets: &targets,
            width: 2,
            task,
        };
        assert_eq!(
            &p(TaskKind::Classification).combine(&[0.8, 0.2])[6..],
            &[0.5, 0.5]
        );
        assert_eq!(
            &p(TaskKind::Multilabel).combine(&[0.8, 0.2])[6..],
            &[0.5, 0.5]
        );
        let values = p(TaskKind::Regression).combine(&[0.8, 0.2]);
        assert!(
            (values[6] - (0.8 * 1.0 + 0.2 * 0.5)).abs() < 1e-6,
            "{values:?}"
        );
        let without: Vec<f32> = targets[..6].to_vec();
        let outputs3: Vec<Vec<f32>> = outputs.iter().map(|o| o[..6].to_vec()).collect();
        let present3: Vec<Vec<f32>> = present.iter().map(|m| m[..3].to_vec()).collect();
        let three = BranchPredictions {
            outputs: &outputs3,
            present: &present3,
            targets: &without,
            width: 2,
            task: TaskKind::Classification,
        };
        assert_eq!(
            fit_weights(&three),
            fit_weights(&p(TaskKind::Classification))
        );
    }
}
