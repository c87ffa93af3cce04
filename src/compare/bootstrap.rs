//! The paired bootstrap over test songs: both runs' predictions for the same songs, song
//! indices resampled with replacement (the same indices for both runs), the metric recomputed
//! on each resample. It measures how much the difference depends on which songs happen to be
//! in the test set, so it means something even with a single seed, where a test over seeds
//! cannot be done.
//!
//! With several seeds each replicate resamples every seed's test songs independently and
//! averages the per-seed differences, so the statistic is the mean difference over seeds.
//! - interval: percentile 95 % interval of the replicates (numpy's linear quantiles);
//! - p-value: two-sided, from the replicates shifted to the null (Efron & Tibshirani 1993,
//!   ch. 16): p = (1 + #{|d* - d| >= |d|}) / (1 + B) for the observed difference d, the
//!   replicates d* and B resamples; the +1 keeps a finite number of resamples from claiming
//!   p = 0.
//!
//! Each run's outputs are scored in its kind's metric ([`SongScorer`]): class probabilities,
//! regression outputs, tag probabilities (a multi-label F1 at each run's own threshold, chosen
//! on its out-of-fold predictions). A resample on which the metric is undefined (a tag with no
//! positive song, a constant prediction's correlation) is left out of the replicates.
//!
//! Outputs must be finite: a NaN would score as a wrong prediction on every resample and make
//! any difference look significant ([`BootstrapError::NonFinite`]).
//!
//! Random draws come from [`RandomStream`]s under the fixed [`BOOTSTRAP_SEED`], one per run
//! seed, so `mer compare` prints the same numbers for the same folders and every run compared
//! with one baseline sees the same resamples.

use crate::eval::multilabel::score_multilabel;
use crate::eval::regression::score_targets;
use crate::eval::{Interval, quantile, score};
use crate::results::{Metric, TaskKind};
use crate::rng::RandomStream;

/// Seed of the bootstrap's streams (`compare/paired-bootstrap/seed-<run seed>`): compare has
/// no spec of its own to take a seed from.
pub const BOOTSTRAP_SEED: u64 = 0;
/// Resamples unless `--resamples` says otherwise: enough for the 2.5 % and 97.5 % quantiles
/// to move by less than the third decimal between seeds of the stream on 40-song test sets.
pub const DEFAULT_RESAMPLES: usize = 2000;

/// One seed's test songs, in the same order for both runs; rows of [`SongScorer::width`].
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSongs {
    /// The run seed.
    pub seed: u64,
    /// The truth per song: one-hot classes, target values, or 1 and 0 per tag.
    pub truth: Vec<f32>,
    /// The baseline's outputs (songs x outputs).
    pub baseline: Vec<f32>,
    /// The other run's outputs (songs x outputs).
    pub other: Vec<f32>,
    /// The baseline's and the other run's multi-label F1 threshold for this seed (unused by
    /// the other kinds).
    pub thresholds: (f64, f64),
}

/// How a set of songs is scored: `metric` of a `kind` run with `width` outputs per song.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SongScorer {
    /// The runs' task kind.
    pub kind: TaskKind,
    /// Outputs per song: classes, targets or tags.
    pub width: usize,
    /// The metric, one `kind` reports.
    pub metric: Metric,
}

impl SongScorer {
    /// The metric of `outputs` against `truth` (songs x [`Self::width`] each), a multi-label F1
    /// binarized at `threshold`; NaN where the songs leave it undefined.
    pub fn score(&self, truth: &[f32], outputs: &[f32], threshold: f64) -> f64 {
        let width = self.width;
        match self.kind {
            TaskKind::Classification => {
                let classes: Vec<usize> = (truth.chunks(width))
                    .map(|row| row.iter().position(|&v| v > 0.5).unwrap_or(0))
                    .collect();
                self.metric.value(&score(&classes, outputs, width))
            }
            TaskKind::Regression => {
                let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
                let scores = score_targets(&wide(truth), &wide(outputs), width);
                self.metric.regression_value(&scores, truth.len() / width)
            }
            TaskKind::Multilabel => {
                let carried: Vec<bool> = truth.iter().map(|&v| v > 0.5).collect();
                let metrics = score_multilabel(&carried, outputs, width, threshold);
                self.metric.multilabel_value(&metrics)
            }
        }
    }
}

/// Why the bootstrap cannot be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BootstrapError {
    /// No seeds, or a seed without test songs.
    #[error("no test songs to resample")]
    NoSongs,
    /// `--resamples 0`.
    #[error("turned off (--resamples 0)")]
    NoResamples,
    /// An output that is NaN or infinite.
    #[error(
        "the {run}'s outputs of seed {seed} include {value} for song {song}: fix or re-run that run before comparing"
    )]
    NonFinite {
        /// "baseline" or "other run".
        run: &'static str,
        /// The run seed.
        seed: u64,
        /// Position of the song in the seed's test songs.
        song: usize,
        /// The value found.
        value: f32,
    },
    /// The metric is undefined on a seed's test songs, or on every resample.
    #[error("{metric} is undefined on these test songs (e.g. a tag no test song carries)")]
    Undefined {
        /// The metric.
        metric: Metric,
    },
}

/// The bootstrap's result for one run against the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapComparison {
    /// Seeds averaged.
    pub seeds: usize,
    /// Test songs over all seeds.
    pub songs: usize,
    /// Resamples drawn on which the metric is defined.
    pub resamples: usize,
    /// Observed mean over seeds of `other - baseline`, with the percentile 95 % interval.
    pub difference: Interval,
    /// Two-sided p-value (module doc).
    pub p_value: f64,
}

/// The paired bootstrap of `scorer`'s metric over `seeds`.
pub fn paired_bootstrap(
    seeds: &[SeedSongs],
    scorer: SongScorer,
    resamples: usize,
) -> Result<BootstrapComparison, BootstrapError> {
    if seeds.is_empty() || seeds.iter().any(|s| s.truth.is_empty()) {
        return Err(BootstrapError::NoSongs);
    }
    if resamples == 0 {
        return Err(BootstrapError::NoResamples);
    }
    let width = scorer.width;
    check_finite(seeds, width)?;
    let difference = |s: &SeedSongs, truth: &[f32], base: &[f32], other: &[f32]| {
        scorer.score(truth, other, s.thresholds.1) - scorer.score(truth, base, s.thresholds.0)
    };
    let count = seeds.len() as f64;
    let observed = seeds
        .iter()
        .map(|s| difference(s, &s.truth, &s.baseline, &s.other))
        .sum::<f64>()
        / count;
    let undefined = BootstrapError::Undefined {
        metric: scorer.metric,
    };
    if !observed.is_finite() {
        return Err(undefined);
    }
    let mut streams: Vec<RandomStream> = seeds
        .iter()
        .map(|s| {
            let purpose = format!("compare/paired-bootstrap/seed-{}", s.seed);
            RandomStream::new(BOOTSTRAP_SEED, &purpose)
        })
        .collect();
    let mut replicates = Vec::with_capacity(resamples);
    let (mut truth, mut base, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..resamples {
        let mut sum = 0.0;
        for (s, stream) in seeds.iter().zip(&mut streams) {
            let n = s.truth.len() / width;
            truth.clear();
            base.clear();
            other.clear();
            for _ in 0..n {
                let rows = stream.below(n) * width..;
                truth.extend_from_slice(&s.truth[rows.clone()][..width]);
                base.extend_from_slice(&s.baseline[rows.clone()][..width]);
                other.extend_from_slice(&s.other[rows][..width]);
            }
            sum += difference(s, &truth, &base, &other);
        }
        if sum.is_finite() {
            replicates.push(sum / count);
        }
    }
    if replicates.is_empty() {
        return Err(undefined);
    }
    let extreme = replicates
        .iter()
        .filter(|d| (*d - observed).abs() >= observed.abs())
        .count();
    let kept = replicates.len();
    replicates.sort_by(f64::total_cmp);
    Ok(BootstrapComparison {
        seeds: seeds.len(),
        songs: seeds.iter().map(|s| s.truth.len() / width).sum(),
        resamples: kept,
        difference: Interval {
            estimate: observed,
            low: quantile(&replicates, 0.025),
            high: quantile(&replicates, 0.975),
        },
        p_value: (1 + extreme) as f64 / (1 + kept) as f64,
    })
}

/// The first non-finite output of any seed, as an error.
fn check_finite(seeds: &[SeedSongs], width: usize) -> Result<(), BootstrapError> {
    for s in seeds {
        for (run, outputs) in [("baseline", &s.baseline), ("other run", &s.other)] {
            if let Some(i) = outputs.iter().position(|p| !p.is_finite()) {
                return Err(BootstrapError::NonFinite {
                    run,
                    seed: s.seed,
                    song: i / width.max(1),
                    value: outputs[i],
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes; `right[i]` says whether song i's prediction is correct (0.9 on the truth).
    fn probabilities(truth: &[usize], right: &[bool]) -> Vec<f32> {
        truth
            .iter()
            .zip(right)
            .flat_map(|(&t, &r)| {
                let p = if r { 0.9 } else { 0.1 };
                if t == 0 { [p, 1.0 - p] } else { [1.0 - p, p] }
            })
            .collect()
    }

    fn seed(seed: u64, base_right: &[bool], other_right: &[bool]) -> SeedSongs {
        let truth: Vec<usize> = (0..base_right.len()).map(|i| i % 2).collect();
        SeedSongs {
            seed,
            baseline: probabilities(&truth, base_right),
            other: probabilities(&truth, other_right),
            truth: truth
                .iter()
                .flat_map(|&t| if t == 0 { [1.0, 0.0] } else { [0.0, 1.0] })
                .collect(),
            thresholds: (0.5, 0.5),
        }
    }

    fn accuracy() -> SongScorer {
        SongScorer {
            kind: TaskKind::Classification,
            width: 2,
            metric: Metric::Accuracy,
        }
    }

    #[test]
    fn identical_predictions_differ_by_nothing() {
        let right: Vec<bool> = (0..30).map(|i| i % 3 != 0).collect();
        let r = paired_bootstrap(&[seed(1, &right, &right)], accuracy(), 500).unwrap();
        assert_eq!(r.difference.estimate, 0.0);
        assert_eq!((r.difference.low, r.difference.high), (0.0, 0.0));
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn the_observed_difference_is_the_mean_over_seeds_and_a_clear_gain_is_significant() {
        // Seed 1: baseline right on 20 of 40, other on 36 (+0.4); seed 2: +0.2.
        let base: Vec<bool> = (0..40).map(|i| i % 2 == 0).collect();
        let better: Vec<bool> = (0..40).map(|i| i % 10 != 1).collect();
        let some: Vec<bool> = (0..40)
            .map(|i| i % 2 == 0 || i % 10 == 1 || i % 10 == 3)
            .collect();
        let r = paired_bootstrap(
            &[seed(1, &base, &better), seed(2, &base, &some)],
            accuracy(),
            1000,
        )
        .unwrap();
        assert!((r.difference.estimate - 0.3).abs() < 1e-12, "{r:?}");
        assert!(r.difference.low > 0.1 && r.difference.high < 0.5, "{r:?}");
        assert!(r.p_value < 0.01, "{r:?}");
        assert_eq!((r.seeds, r.songs, r.resamples), (2, 80, 1000));
        // The same call draws the same resamples.
        let again = paired_bootstrap(
            &[seed(1, &base, &better), seed(2, &base, &some)],
            accuracy(),
            1000,
        )
        .unwrap();
        assert_eq!(r, again);
    }

    /// Two targets over `n` songs: truth on a line, the baseline off by `noise` per song in
    /// a fixed pattern, the other run closer by `gain`.
    fn regression_seed(n: usize, noise: f32, gain: f32) -> SeedSongs {
        let truth: Vec<f32> = (0..n)
            .flat_map(|i| {
                let x = i as f32 / n as f32 * 2.0 - 1.0;
                [x, -x * 0.5]
            })
            .collect();
        let wobble = |k: usize, scale: f32| {
            if k.is_multiple_of(3) {
                scale
            } else {
                -scale * 0.5
            }
        };
        let shift = |scale: f32| -> Vec<f32> {
            (truth.iter().enumerate())
                .map(|(k, &t)| t + wobble(k, scale))
                .collect()
        };
        SeedSongs {
            seed: 1,
            baseline: shift(noise),
            other: shift(noise - gain),
            truth: truth.clone(),
            thresholds: (0.5, 0.5),
        }
    }

    #[test]
    fn regression_runs_are_compared_in_their_own_metric() {
        let ccc = SongScorer {
            kind: TaskKind::Regression,
            width: 2,
            metric: Metric::Ccc,
        };
        let same = paired_bootstrap(&[regression_seed(40, 0.3, 0.0)], ccc, 500).unwrap();
        assert_eq!(same.difference.estimate, 0.0);
        assert_eq!(same.p_value, 1.0);
        let closer = paired_bootstrap(&[regression_seed(40, 0.3, 0.2)], ccc, 500).unwrap();
        assert!(closer.difference.estimate > 0.0, "{closer:?}");
        assert!(
            closer.difference.low > 0.0 && closer.p_value < 0.01,
            "{closer:?}"
        );
        // Lower is better for RMSE: the closer run's difference is negative.
        let rmse = SongScorer {
            metric: Metric::Rmse,
            ..ccc
        };
        let error = paired_bootstrap(&[regression_seed(40, 0.3, 0.2)], rmse, 500).unwrap();
        assert!(error.difference.estimate < 0.0 && error.difference.high < 0.0);
    }

    #[test]
    fn multi_label_f1_uses_each_runs_own_threshold() {
        // One tag, four songs: two carry it. Both runs score 0.4 on carriers, 0.2 on the rest.
        let truth = vec![1.0, 0.0, 1.0, 0.0];
        let outputs = vec![0.4, 0.2, 0.4, 0.2];
        let f1 = SongScorer {
            kind: TaskKind::Multilabel,
            width: 1,
            metric: Metric::MacroF1,
        };
        assert_eq!(f1.score(&truth, &outputs, 0.3), 1.0);
        assert_eq!(f1.score(&truth, &outputs, 0.5), 0.0);
        let songs = SeedSongs {
            seed: 3,
            truth,
            baseline: outputs.clone(),
            other: outputs,
            thresholds: (0.5, 0.3),
        };
        let r = paired_bootstrap(&[songs], f1, 200).unwrap();
        assert_eq!(r.difference.estimate, 1.0);
    }

    #[test]
    fn resamples_that_leave_the_metric_undefined_are_left_out() {
        // One tag carried by one song of ten: a resample without that song (about a third
        // of them) has no ROC-AUC.
        let truth: Vec<f32> = (0..10).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect();
        let roc = SongScorer {
            kind: TaskKind::Multilabel,
            width: 1,
            metric: Metric::RocAucMacro,
        };
        let songs = SeedSongs {
            seed: 1,
            baseline: (0..10).map(|i| i as f32 / 10.0).collect(),
            other: (0..10).map(|i| 1.0 - i as f32 / 10.0).collect(),
            truth,
            thresholds: (0.5, 0.5),
        };
        let r = paired_bootstrap(&[songs], roc, 300).unwrap();
        assert!(r.resamples < 260 && r.resamples > 140, "{r:?}");
        assert_eq!(r.difference.estimate, 1.0);
        // A metric undefined on the songs themselves is an error, not a number.
        let one_class = SeedSongs {
            seed: 1,
            truth: vec![1.0; 4],
            baseline: vec![0.6; 4],
            other: vec![0.7; 4],
            thresholds: (0.5, 0.5),
        };
        assert_eq!(
            paired_bootstrap(&[one_class], roc, 100),
            Err(BootstrapError::Undefined {
                metric: Metric::RocAucMacro
            })
        );
    }
}
