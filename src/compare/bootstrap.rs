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
//! Probabilities must be finite: a NaN would score as a wrong prediction on every resample
//! and make any difference look significant ([`BootstrapError::NonFinite`]).
//!
//! Random draws come from [`RandomStream`]s under the fixed [`BOOTSTRAP_SEED`], one per run
//! seed, so `mer compare` prints the same numbers for the same folders and every run compared
//! with one baseline sees the same resamples.

use crate::eval::{Interval, quantile, score};
use crate::results::Metric;
use crate::rng::RandomStream;

/// Seed of the bootstrap's streams (`compare/paired-bootstrap/seed-<run seed>`): compare has
/// no spec of its own to take a seed from.
pub const BOOTSTRAP_SEED: u64 = 0;
/// Resamples unless `--resamples` says otherwise: enough for the 2.5 % and 97.5 % quantiles
/// to move by less than the third decimal between seeds of the stream on 40-song test sets.
pub const DEFAULT_RESAMPLES: usize = 2000;

/// One seed's test songs, in the same order for both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSongs {
    /// The run seed.
    pub seed: u64,
    /// True class per song.
    pub truth: Vec<usize>,
    /// The baseline's class probabilities (songs x classes).
    pub baseline: Vec<f32>,
    /// The other run's class probabilities (songs x classes).
    pub other: Vec<f32>,
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
    /// A probability that is NaN or infinite.
    #[error(
        "the {run}'s probabilities of seed {seed} include {value} for song {song}: fix or re-run that run before comparing"
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
}

/// The bootstrap's result for one run against the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapComparison {
    /// Seeds averaged.
    pub seeds: usize,
    /// Test songs over all seeds.
    pub songs: usize,
    /// Resamples drawn.
    pub resamples: usize,
    /// Observed mean over seeds of `other - baseline`, with the percentile 95 % interval.
    pub difference: Interval,
    /// Two-sided p-value (module doc).
    pub p_value: f64,
}

/// The paired bootstrap of `metric` over `seeds`.
pub fn paired_bootstrap(
    seeds: &[SeedSongs],
    classes: usize,
    metric: Metric,
    resamples: usize,
) -> Result<BootstrapComparison, BootstrapError> {
    if seeds.is_empty() || seeds.iter().any(|s| s.truth.is_empty()) {
        return Err(BootstrapError::NoSongs);
    }
    if resamples == 0 {
        return Err(BootstrapError::NoResamples);
    }
    check_finite(seeds, classes)?;
    let value = |truth: &[usize], probabilities: &[f32]| {
        metric.value(&score(truth, probabilities, classes))
    };
    let difference =
        |truth: &[usize], base: &[f32], other: &[f32]| value(truth, other) - value(truth, base);
    let count = seeds.len() as f64;
    let observed = seeds
        .iter()
        .map(|s| difference(&s.truth, &s.baseline, &s.other))
        .sum::<f64>()
        / count;
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
            let n = s.truth.len();
            truth.clear();
            base.clear();
            other.clear();
            for _ in 0..n {
                let j = stream.below(n);
                truth.push(s.truth[j]);
                base.extend_from_slice(&s.baseline[j * classes..(j + 1) * classes]);
                other.extend_from_slice(&s.other[j * classes..(j + 1) * classes]);
            }
            sum += difference(&truth, &base, &other);
        }
        replicates.push(sum / count);
    }
    let extreme = replicates
        .iter()
        .filter(|d| (*d - observed).abs() >= observed.abs())
        .count();
    replicates.sort_by(f64::total_cmp);
    Ok(BootstrapComparison {
        seeds: seeds.len(),
        songs: seeds.iter().map(|s| s.truth.len()).sum(),
        resamples,
        difference: Interval {
            estimate: observed,
            low: quantile(&replicates, 0.025),
            high: quantile(&replicates, 0.975),
        },
        p_value: (1 + extreme) as f64 / (1 + resamples) as f64,
    })
}

/// The first non-finite probability of any seed, as an error.
fn check_finite(seeds: &[SeedSongs], classes: usize) -> Result<(), BootstrapError> {
    for s in seeds {
        for (run, probabilities) in [("baseline", &s.baseline), ("other run", &s.other)] {
            if let Some(i) = probabilities.iter().position(|p| !p.is_finite()) {
                return Err(BootstrapError::NonFinite {
                    run,
                    seed: s.seed,
                    song: i / classes.max(1),
                    value: probabilities[i],
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
            truth,
        }
    }

    #[test]
    fn identical_predictions_differ_by_nothing() {
        let right: Vec<bool> = (0..30).map(|i| i % 3 != 0).collect();
        let r = paired_bootstrap(&[seed(1, &right, &right)], 2, Metric::Accuracy, 500).unwrap();
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
            2,
            Metric::Accuracy,
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
            2,
            Metric::Accuracy,
            1000,
        )
        .unwrap();
        assert_eq!(r, again);
    }
}
