//! Paired statistics against hand-computed cases and SciPy's numbers
//! (`scripts/parity/compare_reference.py` -> `tests/fixtures/compare/reference.json`),
//! the errors, and Holm's correction.

use mer::compare::stats::mean_interval;
use mer::compare::{CompareError, holm, paired};
use serde_json::Value;

/// Statistics (means, interval ends, t, rank sums) are sums of a few dozen numbers: they
/// agree with NumPy's to rounding (the largest gap seen is 2e-15, in an interval end).
const STATISTIC_TOLERANCE: f64 = 1e-12;
/// p-values go through special functions (incomplete beta, erfc) computed differently from
/// SciPy's (statrs's t, libm's erfc); the largest gap seen is 1.2e-14, the margin is for other
/// platforms' libm.
const P_TOLERANCE: f64 = 1e-10;

fn close(a: f64, b: f64, tolerance: f64, what: &str) {
    assert!(
        (a - b).abs() <= tolerance,
        "{what}: {a} vs {b} (tolerance {tolerance})"
    );
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/compare/reference.json"
    ))
    .expect("run scripts/parity/compare_reference.py to make the fixture");
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn paired_statistics_match_scipy() {
    let reference = reference();
    let cases = reference["paired"].as_array().expect("paired cases");
    assert!(cases.len() >= 8, "the fixture lost cases");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let r = paired(&floats(&case["baseline"]), &floats(&case["other"])).unwrap();
        assert_eq!(r.n as u64, case["n"].as_u64().unwrap(), "{name}: n");
        let number = |key: &str| case[key].as_f64().unwrap();
        let checks = [
            ("mean_difference", r.mean_difference, STATISTIC_TOLERANCE),
            ("ci_low", r.ci_low, STATISTIC_TOLERANCE),
            ("ci_high", r.ci_high, STATISTIC_TOLERANCE),
            ("t_statistic", r.t_statistic, STATISTIC_TOLERANCE),
            ("t_p_value", r.t_p_value, P_TOLERANCE),
            (
                "wilcoxon_statistic",
                r.wilcoxon_statistic,
                STATISTIC_TOLERANCE,
            ),
            ("wilcoxon_p_value", r.wilcoxon_p_value, P_TOLERANCE),
        ];
        for (key, ours, tolerance) in checks {
            close(ours, number(key), tolerance, &format!("{name}: {key}"));
        }
    }
}

#[test]
fn fixture_covers_every_wilcoxon_branch() {
    // SciPy's method="auto" has three branches; each must be checked against the fixture.
    let reference = reference();
    let methods: Vec<&str> = reference["paired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["wilcoxon_method"].as_str().unwrap())
        .collect();
    for method in ["exact", "permutation", "asymptotic"] {
        assert!(methods.contains(&method), "no {method} case");
    }
}

#[test]
fn holm_matches_statsmodels_convention() {
    let reference = reference();
    for case in reference["holm"].as_array().expect("holm cases") {
        let name = case["name"].as_str().unwrap();
        let adjusted = holm(&floats(&case["p_values"])).unwrap();
        let expected = floats(&case["adjusted"]);
        assert_eq!(adjusted.len(), expected.len(), "{name}");
        for (i, (a, e)) in adjusted.iter().zip(&expected).enumerate() {
            close(*a, *e, 1e-12, &format!("{name}[{i}]"));
        }
    }
}

#[test]
fn hand_computed_t_test() {
    // Differences 1, 2, 3: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 2 sqrt 3. With df = 2 the t
    // distribution has closed forms: two-sided p = 1 - |t| / sqrt(2 + t^2) = 1 - sqrt(6/7),
    // and t_{q} = (2q - 1) / sqrt(2 q (1 - q)).
    let r = paired(&[0.0, 0.0, 0.0], &[1.0, 2.0, 3.0]).unwrap();
    assert_eq!(r.n, 3);
    close(r.mean_difference, 2.0, 1e-15, "mean");
    close(r.t_statistic, 2.0 * 3f64.sqrt(), 1e-12, "t");
    close(r.t_p_value, 1.0 - (6.0f64 / 7.0).sqrt(), 1e-12, "p");
    let quantile = 0.95 / (2.0f64 * 0.975 * 0.025).sqrt();
    close(r.ci_low, 2.0 - quantile / 3f64.sqrt(), 1e-10, "CI low");
    close(r.ci_high, 2.0 + quantile / 3f64.sqrt(), 1e-10, "CI high");
    // Wilcoxon, exact: all three differences positive, R- = 0, p = 2 / 2^3.
    close(r.wilcoxon_statistic, 0.0, 0.0, "W");
    close(r.wilcoxon_p_value, 0.25, 1e-15, "Wilcoxon p");
}

#[test]
fn the_wilcoxon_statistic_is_never_negative_zero() {
    // Every difference negative: R+ is an empty sum, which Rust's f64 `sum` makes -0.0; a
    // CSV would print "-0".
    let r = paired(&[1.0, 2.0, 3.0], &[0.0, 0.0, 0.0]).unwrap();
    assert!(r.wilcoxon_statistic == 0.0 && r.wilcoxon_statistic.is_sign_positive());
}

#[test]
fn mean_interval_over_seeds_is_the_t_interval() {
    // 1, 2, 3: mean 2, sd 1, df = 2 with t_{0.975} = 0.95 / sqrt(2 * 0.975 * 0.025).
    let interval = mean_interval(&[1.0, 2.0, 3.0]).unwrap();
    let half = 0.95 / (2.0f64 * 0.975 * 0.025).sqrt() / 3f64.sqrt();
    close(interval.estimate, 2.0, 1e-15, "mean");
    close(interval.low, 2.0 - half, 1e-10, "low");
    close(interval.high, 2.0 + half, 1e-10, "high");
    assert_eq!(mean_interval(&[0.5]), None, "one seed has no interval");
}

#[test]
fn swapping_the_runs_flips_the_sign_only() {
    let a = [0.61, 0.58, 0.66, 0.59, 0.63];
    let b = [0.64, 0.57, 0.69, 0.62, 0.66];
    let ab = paired(&a, &b).unwrap();
    let ba = paired(&b, &a).unwrap();
    close(ab.mean_difference, -ba.mean_difference, 1e-15, "mean");
    close(ab.ci_low, -ba.ci_high, 1e-15, "CI");
    close(ab.t_statistic, -ba.t_statistic, 1e-12, "t");
    close(ab.t_p_value, ba.t_p_value, 1e-15, "t p");
    close(ab.wilcoxon_statistic, ba.wilcoxon_statistic, 0.0, "W");
    close(ab.wilcoxon_p_value, ba.wilcoxon_p_value, 0.0, "W p");
}

#[test]
fn zero_variance_differences() {
    // All differences zero: nothing to test; p = 1 for both tests (SciPy: NaN for the t-test).
    let same = paired(&[0.5, 0.6, 0.7], &[0.5, 0.6, 0.7]).unwrap();
    assert_eq!(same.mean_difference, 0.0);
    assert_eq!((same.ci_low, same.ci_high), (0.0, 0.0));
    assert_eq!(same.t_statistic, 0.0);
    assert_eq!(same.t_p_value, 1.0);
    assert_eq!(same.wilcoxon_statistic, 0.0);
    assert_eq!(same.wilcoxon_p_value, 1.0);
    // All equal and non-zero: SciPy's t = inf, p = 0; the interval is the point.
    let shifted = paired(&[0.25, 0.5, 0.75], &[0.5, 0.75, 1.0]).unwrap();
    assert_eq!(shifted.t_statistic, f64::INFINITY);
    assert_eq!(shifted.t_p_value, 0.0);
    assert_eq!((shifted.ci_low, shifted.ci_high), (0.25, 0.25));
    let lower = paired(&[0.5, 0.75, 1.0], &[0.25, 0.5, 0.75]).unwrap();
    assert_eq!(lower.t_statistic, f64::NEG_INFINITY);
    assert_eq!(lower.t_p_value, 0.0);
}

#[test]
fn mismatched_lengths_are_an_error() {
    let error = paired(&[0.1, 0.2, 0.3], &[0.1, 0.2]).unwrap_err();
    assert_eq!(
        error,
        CompareError::LengthMismatch {
            baseline: 3,
            other: 2
        }
    );
    assert!(
        error.to_string().contains("same seeds and folds"),
        "{error}"
    );
}

#[test]
fn fewer_than_two_pairs_is_an_error() {
    for n in [0, 1] {
        let scores = vec![0.5; n];
        let error = paired(&scores, &scores).unwrap_err();
        assert_eq!(error, CompareError::TooFewPairs { pairs: n });
        assert!(error.to_string().contains("at least 2"), "{error}");
    }
}

#[test]
fn non_finite_scores_are_an_error() {
    let error = paired(&[0.5, f64::NAN, 0.7], &[0.5, 0.6, 0.7]).unwrap_err();
    assert_eq!(
        error,
        CompareError::NonFinite {
            run: "baseline",
            index: 1
        }
    );
    let error = paired(&[0.5, 0.6, 0.7], &[0.5, 0.6, f64::INFINITY]).unwrap_err();
    assert_eq!(
        error,
        CompareError::NonFinite {
            run: "other run",
            index: 2
        }
    );
    assert!(error.to_string().contains("re-run"), "{error}");
}

#[test]
fn holm_is_monotone_capped_and_keeps_input_order() {
    let p = [0.04, 0.001, 0.5, 0.03, 0.02, 0.9, 0.011];
    let adjusted = holm(&p).unwrap();
    assert_eq!(adjusted.len(), p.len());
    // Each adjusted value is at least its raw p and at most 1.
    for (raw, adj) in p.iter().zip(&adjusted) {
        assert!(adj >= raw && *adj <= 1.0, "{raw} -> {adj}");
    }
    // Order preserved: a smaller raw p never gets a larger adjusted p.
    for i in 0..p.len() {
        for j in 0..p.len() {
            if p[i] < p[j] {
                assert!(adjusted[i] <= adjusted[j], "{i} vs {j}: {adjusted:?}");
            }
        }
    }
    // The smallest is multiplied by m = 7, and 0.5 * 2 = 1.0 caps the two largest.
    close(adjusted[1], 0.007, 1e-15, "smallest");
    assert_eq!(adjusted[2], 1.0);
    assert_eq!(adjusted[5], 1.0);
    assert!(holm(&[]).unwrap().is_empty());
}

#[test]
fn holm_refuses_a_p_value_that_is_not_a_probability() {
    // statsmodels ranks NaN nowhere; f64::max used to skip it, so a NaN came out as 0.
    for bad in [f64::NAN, -f64::NAN, f64::INFINITY, -0.1, 1.5] {
        let error = holm(&[0.01, bad, 0.04]).unwrap_err();
        assert!(
            matches!(error, CompareError::NotAPValue { index: 1, value } if value.to_bits() == bad.to_bits()),
            "{bad}: {error:?}"
        );
        assert!(error.to_string().contains("not a probability"), "{error}");
    }
    // The ends of [0, 1] are p-values.
    assert_eq!(holm(&[0.0, 1.0]).unwrap(), [0.0, 1.0]);
}

#[test]
fn the_t_interval_of_non_finite_values_is_none() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(mean_interval(&[0.5, bad, 0.7]), None, "{bad}");
    }
    // Finite values whose spread overflows have no interval either.
    assert_eq!(mean_interval(&[-f64::MAX, f64::MAX]), None);
}

#[test]
fn differences_that_overflow_are_an_error_not_a_p_value_of_zero() {
    // Each score is finite, but other - baseline is +inf and -inf: the mean is NaN, and the
    // t-test used to report p = 0 and the Wilcoxon test a statistic for it.
    let error = paired(&[-1e308, 1e308], &[1e308, -1e308]).unwrap_err();
    assert!(matches!(error, CompareError::Overflow { .. }), "{error:?}");
    assert!(error.to_string().contains("not finite"), "{error}");
}

/// Song-bootstrap inputs: 20 songs of two classes, the baseline right with 0.8 on each.
fn bootstrap_seed(other: impl Fn(usize) -> [f32; 2]) -> mer::compare::bootstrap::SeedSongs {
    let truth: Vec<usize> = (0..20).map(|i| i % 2).collect();
    let baseline = truth
        .iter()
        .flat_map(|&t| if t == 0 { [0.8, 0.2] } else { [0.2, 0.8] })
        .collect();
    mer::compare::bootstrap::SeedSongs {
        seed: 7,
        other: (0..truth.len()).flat_map(&other).collect(),
        truth: (truth.iter())
            .flat_map(|&t| if t == 0 { [1.0, 0.0] } else { [0.0, 1.0] })
            .collect(),
        baseline,
        thresholds: (0.5, 0.5),
    }
}

/// The song bootstrap's scorer of a two-class macro-F1.
fn macro_f1() -> mer::compare::bootstrap::SongScorer {
    mer::compare::bootstrap::SongScorer {
        kind: mer::results::TaskKind::Classification,
        width: 2,
        metric: mer::results::Metric::MacroF1,
    }
}

#[test]
fn the_song_bootstrap_refuses_non_finite_probabilities() {
    use mer::compare::bootstrap::{BootstrapError, paired_bootstrap};
    // NaN probabilities used to score as a wrong guess on every resample: p = 0.005.
    for bad in [f32::NAN, f32::INFINITY] {
        let seeds = [bootstrap_seed(
            |i| if i == 3 { [bad, 0.5] } else { [0.5, 0.5] },
        )];
        let error = paired_bootstrap(&seeds, macro_f1(), 200).unwrap_err();
        assert!(
            matches!(
                error,
                BootstrapError::NonFinite {
                    run: "other run",
                    seed: 7,
                    song: 3,
                    ..
                }
            ),
            "{bad}: {error:?}"
        );
        assert!(error.to_string().contains("seed 7"), "{error}");
    }
    // The same inputs with finite probabilities are compared.
    let seeds = [bootstrap_seed(|_| [0.5, 0.5])];
    assert!(paired_bootstrap(&seeds, macro_f1(), 200).is_ok());
}
