//! Paired statistics of one run against a baseline, and Holm's correction across runs.
//!
//! Scores are paired by position (the same seed and fold in both runs); the difference is
//! `other - baseline`, so a positive mean difference means the other run scored higher.
//! Conventions (SciPy 1.17's and statsmodels', so a Python session reproduces every number):
//! - paired t-test as `scipy.stats.ttest_rel(other, baseline)`: two-sided, df = n - 1, and the
//!   95 % confidence interval of the mean difference is mean ± t_{0.975, n-1} · sd / sqrt(n)
//!   (sample standard deviation, ddof = 1). When the differences have zero variance SciPy
//!   gives t = ±inf, p = 0 if they are all equal and non-zero (kept here), and NaN if they are
//!   all zero; here that case is t = 0, p = 1 instead, since "no difference at all" must not
//!   poison a table or Holm's correction. The interval is then the single point [mean, mean].
//! - Wilcoxon signed-rank test as `scipy.stats.wilcoxon(other, baseline)` with its defaults
//!   (`zero_method="wilcox"`, `correction=False`, `method="auto"`, two-sided): zero
//!   differences are dropped, the others ranked by absolute value (average ranks on ties),
//!   and the statistic is min(R+, R-). With n the number of pairs *including* zeros, "auto"
//!   picks
//!   - n > 50: the normal approximation;
//!   - no ties and no zeros: the exact null distribution of R+ (p = 2 min(P(T <= R+),
//!     P(T >= R+)), capped at 1);
//!   - ties or zeros and n <= 13: SciPy's exact permutation test, i.e. all 2^n sign flips of
//!     the differences, p = 2 min(P(T <= R+), P(T >= R+)) over that enumeration, with SciPy's
//!     relative tolerance of 100 machine epsilons when comparing R+ values, capped at 1;
//!   - otherwise (ties or zeros, 13 < n <= 50): the normal approximation.
//!
//!   The normal approximation has no continuity correction, z = (R+ - m(m+1)/4) / se with m
//!   the non-zero differences and se^2 = (m(m+1)(2m+1) - sum(t^3 - t)/2) / 24 over the tie
//!   groups t of the non-zero |differences|; p = 2 P(Z >= |z|). When every difference is
//!   zero SciPy gives NaN for n > 13 and 1 otherwise; here it is always p = 1, statistic 0.
//! - Holm's step-down correction as `statsmodels.stats.multitest.multipletests(method="holm")`.
//!
//! Scores must be finite ([`CompareError::NonFinite`] otherwise), and so must every difference
//! and its mean (scores near the largest float overflow); Holm's p-values must be in [0, 1]
//! ([`CompareError::NotAPValue`]). No statistic here turns a NaN into a number.
//!
//! The Student t distribution is `statrs`'s (without default features: no linear algebra).
//! On the SciPy fixture its t p-values are within 1.2e-14 and the interval ends within 2e-15
//! (the quantile is AS 64's inverse incomplete beta, off a bisection to the last bit by at
//! most 7e-13 over df 1..300).

use std::f64::consts::SQRT_2;

use statrs::distribution::{ContinuousCDF, StudentsT};
use thiserror::Error;

use crate::eval::Interval;

/// Largest sample (pairs, zeros included) SciPy's "auto" treats with an exact method.
const EXACT_MAX_PAIRS: usize = 50;
/// Largest sample with ties or zeros SciPy enumerates sign flips for (2^13 < 9999 resamples).
const PERMUTATION_MAX_PAIRS: usize = 13;

/// Why two score vectors cannot be compared.
#[derive(Debug, Error, PartialEq)]
pub enum CompareError {
    /// The runs do not have one score per shared (seed, fold).
    #[error(
        "the baseline has {baseline} scores and the other run {other}: compare runs over the same seeds and folds"
    )]
    LengthMismatch {
        /// Scores of the baseline.
        baseline: usize,
        /// Scores of the other run.
        other: usize,
    },
    /// A paired test needs a spread of differences.
    #[error(
        "{pairs} paired score(s) cannot give a confidence interval or a test: run at least 2 seeds x folds per run"
    )]
    TooFewPairs {
        /// Pairs given.
        pairs: usize,
    },
    /// A NaN or infinite score (a failed or diverged fold) would otherwise turn into a
    /// confident-looking p-value.
    #[error(
        "score {index} of the {run} is not a finite number: fix or re-run that seed and fold before comparing"
    )]
    NonFinite {
        /// "baseline" or "other run".
        run: &'static str,
        /// Position of the score.
        index: usize,
    },
    /// Finite scores whose differences overflow (scores near the largest float are no metric).
    #[error(
        "the differences between the scores are not finite numbers (the scores are {magnitude:e} in size): check that the scores are metrics"
    )]
    Overflow {
        /// The largest absolute score.
        magnitude: f64,
    },
    /// A value given to Holm's correction that is no probability.
    #[error(
        "p-value {index} is {value}, not a probability in [0, 1]: Holm's correction needs every p-value"
    )]
    NotAPValue {
        /// Position of the p-value.
        index: usize,
        /// The value.
        value: f64,
    },
}

/// Paired statistics of `other - baseline` over n (seed, fold) pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedComparison {
    /// Pairs compared.
    pub n: usize,
    /// Mean of `other - baseline`.
    pub mean_difference: f64,
    /// Lower end of the 95 % t confidence interval of the mean difference.
    pub ci_low: f64,
    /// Upper end of the 95 % t confidence interval of the mean difference.
    pub ci_high: f64,
    /// Paired t statistic (mean / (sd / sqrt(n))), positive when the other run is higher.
    pub t_statistic: f64,
    /// Two-sided p-value of the paired t-test.
    pub t_p_value: f64,
    /// Wilcoxon statistic min(R+, R-) over the non-zero differences.
    pub wilcoxon_statistic: f64,
    /// Two-sided p-value of the Wilcoxon signed-rank test.
    pub wilcoxon_p_value: f64,
}

/// Paired t-test, 95 % confidence interval and Wilcoxon signed-rank test of `other` against
/// `baseline`, pairs matched by position (conventions in the module doc).
pub fn paired(baseline: &[f64], other: &[f64]) -> Result<PairedComparison, CompareError> {
    if baseline.len() != other.len() {
        return Err(CompareError::LengthMismatch {
            baseline: baseline.len(),
            other: other.len(),
        });
    }
    let n = baseline.len();
    if n < 2 {
        return Err(CompareError::TooFewPairs { pairs: n });
    }
    for (run, scores) in [("baseline", baseline), ("other run", other)] {
        if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
            return Err(CompareError::NonFinite { run, index });
        }
    }
    let differences: Vec<f64> = other.iter().zip(baseline).map(|(o, b)| o - b).collect();
    let (mean, standard_error) = mean_and_standard_error(&differences);
    if !(mean.is_finite() && standard_error.is_finite()) {
        let magnitude = baseline
            .iter()
            .chain(other)
            .fold(0.0f64, |m, s| m.max(s.abs()));
        return Err(CompareError::Overflow { magnitude });
    }
    let df = n as f64 - 1.0;
    let (t_statistic, t_p_value) = if standard_error > 0.0 {
        let t = mean / standard_error;
        (t, student_t_two_sided(t, df))
    } else if mean == 0.0 {
        (0.0, 1.0)
    } else {
        (mean.signum() * f64::INFINITY, 0.0)
    };
    let half_width = student_t_quantile_975(df) * standard_error;
    let (wilcoxon_statistic, wilcoxon_p_value) = wilcoxon(&differences);
    Ok(PairedComparison {
        n,
        mean_difference: mean,
        ci_low: mean - half_width,
        ci_high: mean + half_width,
        t_statistic,
        t_p_value,
        wilcoxon_statistic,
        wilcoxon_p_value,
    })
}

/// The mean of `values` with its 95 % t confidence interval, mean ± t_{0.975, n-1} · sd / sqrt(n)
/// (sample standard deviation), the interval of a metric's mean over seeds; `None` for fewer
/// than two values, and when a value (or the spread) is not finite: no interval beats a
/// made-up one.
pub fn mean_interval(values: &[f64]) -> Option<Interval> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let (mean, standard_error) = mean_and_standard_error(values);
    if !(mean.is_finite() && standard_error.is_finite()) {
        return None;
    }
    let half_width = student_t_quantile_975(n as f64 - 1.0) * standard_error;
    Some(Interval {
        estimate: mean,
        low: mean - half_width,
        high: mean + half_width,
    })
}

/// Mean and standard error of the mean (sample standard deviation / sqrt(n)) of at least two
/// values.
fn mean_and_standard_error(values: &[f64]) -> (f64, f64) {
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (count - 1.0);
    (mean, (variance / count).sqrt())
}

/// Holm-adjusted p-values, in input order: the i-th smallest p is multiplied by (m - i)
/// (i from 0), made non-decreasing along that order, and capped at 1. Equal p-values get equal
/// adjusted values whatever their order, as in statsmodels. An empty slice gives an empty
/// result. A p-value outside [0, 1] (NaN included) is refused: where it would rank is unknown,
/// so every adjusted value would be a guess.
pub fn holm(p_values: &[f64]) -> Result<Vec<f64>, CompareError> {
    if let Some(index) = p_values.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(CompareError::NotAPValue {
            index,
            value: p_values[index],
        });
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &index) in order.iter().enumerate() {
        running = running.max((m - rank) as f64 * p_values[index]);
        adjusted[index] = running.min(1.0);
    }
    Ok(adjusted)
}

/// (statistic min(R+, R-), two-sided p-value) of the signed-rank test, SciPy's "auto" rules.
fn wilcoxon(differences: &[f64]) -> (f64, f64) {
    let n = differences.len();
    let nonzero: Vec<f64> = differences.iter().copied().filter(|&d| d != 0.0).collect();
    let m = nonzero.len();
    if m == 0 {
        return (0.0, 1.0);
    }
    let (ranks, tie_sizes) = average_ranks(&nonzero);
    // An empty f64 sum is -0.0; adding 0.0 makes it 0, so no table shows a statistic "-0".
    let r_plus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum::<f64>()
        + 0.0;
    let total = (m * (m + 1)) as f64 / 2.0;
    let statistic = r_plus.min(total - r_plus);
    let has_ties = tie_sizes.iter().any(|&t| t > 1);
    let has_zeros = m < n;
    let p = if n > EXACT_MAX_PAIRS {
        normal_p(r_plus, m, &tie_sizes)
    } else if !has_ties && !has_zeros {
        exact_p(r_plus, m)
    } else if n <= PERMUTATION_MAX_PAIRS {
        sign_flip_p(r_plus, &ranks)
    } else {
        normal_p(r_plus, m, &tie_sizes)
    };
    (statistic, p)
}

/// Average ranks (1-based) of |values| and the sizes of the tie groups.
fn average_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].abs().total_cmp(&values[b].abs()));
    let mut ranks = vec![0.0; values.len()];
    let mut sizes = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]].abs() == values[order[start]].abs() {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean is the group's rank.
        let rank = (start + end + 1) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = rank;
        }
        sizes.push(end - start);
        start = end;
    }
    (ranks, sizes)
}

/// Normal approximation without continuity correction, tie-corrected variance.
fn normal_p(r_plus: f64, m: usize, tie_sizes: &[usize]) -> f64 {
    let count = m as f64;
    let mean = count * (count + 1.0) / 4.0;
    let ties: f64 = tie_sizes
        .iter()
        .map(|&t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum();
    let se = ((count * (count + 1.0) * (2.0 * count + 1.0) - ties / 2.0) / 24.0).sqrt();
    let z = (r_plus - mean) / se;
    libm::erfc(z.abs() / SQRT_2).min(1.0)
}

/// Exact null distribution of R+ for m untied non-zero differences: the number of subsets
/// of {1..m} with each sum, over 2^m.
fn exact_p(r_plus: f64, m: usize) -> f64 {
    let max_sum = m * (m + 1) / 2;
    let mut counts = vec![0.0f64; max_sum + 1];
    counts[0] = 1.0;
    for rank in 1..=m {
        for sum in (rank..=max_sum).rev() {
            counts[sum] += counts[sum - rank];
        }
    }
    let total: f64 = counts.iter().sum();
    // Without ties R+ is an integer; rounding as SciPy does only guards the float.
    let at_most: f64 = counts[..=(r_plus.ceil() as usize).min(max_sum)]
        .iter()
        .sum();
    let at_least: f64 = counts[(r_plus.floor() as usize).min(max_sum)..]
        .iter()
        .sum();
    (2.0 * at_most.min(at_least) / total).min(1.0)
}

/// Exact sign-flip test over the (at most 2^13) sign assignments of the non-zero
/// differences; zeros are dropped by the statistic, so they only double every count.
fn sign_flip_p(r_plus: f64, ranks: &[f64]) -> f64 {
    let m = ranks.len();
    let tolerance = (f64::EPSILON * 100.0 * r_plus).abs();
    let (mut at_most, mut at_least) = (0u64, 0u64);
    for signs in 0u64..(1 << m) {
        let sum: f64 = ranks
            .iter()
            .enumerate()
            .filter(|(i, _)| signs & (1 << i) != 0)
            .map(|(_, r)| r)
            .sum();
        if sum <= r_plus + tolerance {
            at_most += 1;
        }
        if sum >= r_plus - tolerance {
            at_least += 1;
        }
    }
    (2.0 * at_most.min(at_least) as f64 / (1u64 << m) as f64).min(1.0)
}

/// Student's t with `df` degrees of freedom (`df` is at least 1 here).
fn student_t(df: f64) -> StudentsT {
    StudentsT::new(0.0, 1.0, df).expect("df >= 1 from at least two values")
}

/// Two-sided p-value P(|T| >= |t|) of Student's t with `df` degrees of freedom, from the upper
/// tail (the incomplete beta function I_x(df/2, 1/2), which keeps small p-values accurate).
fn student_t_two_sided(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return 0.0;
    }
    2.0 * student_t(df).sf(t.abs())
}

/// t_{0.975, df}: the t with two-sided p-value 0.05.
fn student_t_quantile_975(df: f64) -> f64 {
    student_t(df).inverse_cdf(0.975)
}
