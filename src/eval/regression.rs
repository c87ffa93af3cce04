//! Regression metrics per target (valence, arousal...), from true and predicted values.
//!
//! Conventions (scikit-learn's and scipy's where they have one, so a Python session reproduces
//! every number; `scripts/parity/task_metrics.py` does):
//! - R^2 is `r2_score`: 1 - SS_res / SS_tot; with constant truth it is 1 for a perfect
//!   prediction and 0 otherwise (`force_finite=True`; truth is constant when its values are
//!   equal, where scikit-learn's float sums can see a variance of 1e-33 and return -8.7e30);
//! - RMSE and MAE are the root mean squared and mean absolute errors;
//! - Pearson's r is `scipy.stats.pearsonr`'s, NaN when either side is constant;
//! - the concordance correlation coefficient (CCC, Lin 1989, the MER and AVEC literature's
//!   headline) is 2 cov / (var_t + var_p + (mean_t - mean_p)^2) with population (1/n)
//!   moments, NaN when both sides are constant and equal.

use crate::rng::RandomStream;

use super::bootstrap::{Interval, percentile_bootstrap};
use super::column;

/// Every metric of one target's predictions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetScores {
    /// Coefficient of determination.
    pub r2: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Pearson correlation between truth and prediction.
    pub pearson: f64,
    /// Concordance correlation coefficient: correlation penalised for bias and scale.
    pub ccc: f64,
}

/// Scores one target's `predicted` values against `truth`.
///
/// # Panics
/// When the lengths differ or there are no songs: callers build both from the same split.
pub fn score_target(truth: &[f64], predicted: &[f64]) -> TargetScores {
    assert_eq!(truth.len(), predicted.len(), "one prediction per song");
    assert!(!truth.is_empty(), "songs to score");
    let n = truth.len() as f64;
    let errors = || truth.iter().zip(predicted).map(|(t, p)| t - p);
    let squared: f64 = errors().map(|e| e * e).sum();
    let absolute: f64 = errors().map(f64::abs).sum();
    let moments = Moments::of(truth, predicted);
    let constant = |values: &[f64]| values.iter().all(|v| *v == values[0]);
    let (flat_truth, flat_prediction) = (constant(truth), constant(predicted));
    let r2 = match (flat_truth, squared == 0.0) {
        (false, _) => 1.0 - squared / (moments.var_t * n),
        (true, true) => 1.0,
        (true, false) => 0.0,
    };
    let pearson = if !flat_truth && !flat_prediction {
        (moments.cov / (moments.var_t * moments.var_p).sqrt()).clamp(-1.0, 1.0)
    } else {
        f64::NAN
    };
    let bias = moments.mean_t - moments.mean_p;
    let ccc_denominator = moments.var_t + moments.var_p + bias * bias;
    let ccc = if ccc_denominator > 0.0 {
        2.0 * moments.cov / ccc_denominator
    } else {
        f64::NAN
    };
    TargetScores {
        r2,
        rmse: (squared / n).sqrt(),
        mae: absolute / n,
        pearson,
        ccc,
    }
}

/// Scores every target of row-major `truth` and `predicted` (songs x `targets`).
pub fn score_targets(truth: &[f64], predicted: &[f64], targets: usize) -> Vec<TargetScores> {
    assert_eq!(
        truth.len(),
        predicted.len(),
        "songs x targets on both sides"
    );
    (0..targets)
        .map(|k| score_target(&column(truth, targets, k), &column(predicted, targets, k)))
        .collect()
}

/// Bootstrap 95 % intervals of the target means of CCC, R^2, Pearson's r, RMSE and MAE (in
/// that order) of row-major `truth` and `predicted` (songs x `targets`), over `resamples`
/// resamples of the songs from `stream` ([`percentile_bootstrap`]).
pub fn bootstrap_intervals(
    truth: &[f64],
    predicted: &[f64],
    targets: usize,
    resamples: usize,
    stream: &mut RandomStream,
) -> [Interval; 5] {
    let means = |scores: &[TargetScores]| {
        let mean = |pick: fn(&TargetScores) -> f64| {
            scores.iter().map(pick).sum::<f64>() / scores.len() as f64
        };
        [
            mean(|s| s.ccc),
            mean(|s| s.r2),
            mean(|s| s.pearson),
            mean(|s| s.rmse),
            mean(|s| s.mae),
        ]
    };
    let songs = truth.len() / targets;
    let rows = |values: &[f64], resample: &[usize]| -> Vec<f64> {
        (resample.iter())
            .flat_map(|&s| &values[s * targets..][..targets])
            .copied()
            .collect()
    };
    percentile_bootstrap(
        songs,
        resamples,
        stream,
        means(&score_targets(truth, predicted, targets)),
        |resample| {
            let scores = score_targets(&rows(truth, resample), &rows(predicted, resample), targets);
            means(&scores)
        },
    )
}

/// Means, population variances and covariance of a pair of series, centred in two passes
/// (CCC's ingredients, shared with the CCC loss of `model`).
pub(crate) struct Moments {
    pub(crate) mean_t: f64,
    pub(crate) mean_p: f64,
    pub(crate) var_t: f64,
    pub(crate) var_p: f64,
    pub(crate) cov: f64,
}

impl Moments {
    pub(crate) fn of(truth: &[f64], predicted: &[f64]) -> Moments {
        let n = truth.len() as f64;
        let mean_t = truth.iter().sum::<f64>() / n;
        let mean_p = predicted.iter().sum::<f64>() / n;
        let (mut var_t, mut var_p, mut cov) = (0.0, 0.0, 0.0);
        for (t, p) in truth.iter().zip(predicted) {
            let (dt, dp) = (t - mean_t, p - mean_p);
            var_t += dt * dt;
            var_p += dp * dp;
            cov += dt * dp;
        }
        Moments {
            mean_t,
            mean_p,
            var_t: var_t / n,
            var_p: var_p / n,
            cov: cov / n,
        }
    }
}

/// One of Russell's four quadrants of the valence-arousal plane, as EMOPIA, 4Q and MERGE
/// number them: Q1 positive valence and high arousal, Q2 negative and high, Q3 negative and
/// low, Q4 positive and low. A value of exactly 0 (the scale's midpoint) counts as positive.
pub fn quadrant(valence: f64, arousal: f64) -> usize {
    match (valence >= 0.0, arousal >= 0.0) {
        (true, true) => 0,
        (false, true) => 1,
        (false, false) => 2,
        (true, false) => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_predictions_score_perfectly_and_bias_costs_only_ccc_and_r2() {
        let truth = [-0.5, 0.1, 0.4, 0.9];
        let exact = score_target(&truth, &truth);
        assert_eq!((exact.r2, exact.rmse, exact.mae), (1.0, 0.0, 0.0));
        assert!((exact.pearson - 1.0).abs() < 1e-12 && (exact.ccc - 1.0).abs() < 1e-12);
        let shifted: Vec<f64> = truth.iter().map(|t| t + 0.5).collect();
        let biased = score_target(&truth, &shifted);
        assert!(
            (biased.pearson - 1.0).abs() < 1e-12,
            "correlation ignores bias"
        );
        assert!(biased.ccc < 0.9 && biased.r2 < 0.9);
        assert!((biased.mae - 0.5).abs() < 1e-12);
    }

    #[test]
    fn constant_sides_follow_scipy_and_scikit_learn() {
        let flat = score_target(&[0.2, 0.2, 0.2], &[0.1, 0.2, 0.3]);
        assert_eq!(flat.r2, 0.0);
        assert!(flat.pearson.is_nan());
        assert_eq!(score_target(&[0.2, 0.2], &[0.2, 0.2]).r2, 1.0);
    }

    #[test]
    fn quadrants_split_at_the_midpoint() {
        assert_eq!(
            [
                (0.5, 0.5),
                (-0.5, 0.5),
                (-0.5, -0.5),
                (0.5, -0.5),
                (0.0, 0.0)
            ]
            .map(|(v, a)| quadrant(v, a)),
            [0, 1, 2, 3, 0]
        );
    }
}
