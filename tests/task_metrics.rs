//! Regression and multi-label metrics against scikit-learn's and scipy's numbers
//! (`scripts/parity/task_metrics.py` -> `tests/fixtures/metrics/task_reference.json`), the
//! validation-chosen F1 threshold, and the bootstrap intervals of both kinds.

use mer::eval::Interval;
use mer::eval::multilabel::{self, choose_threshold, score_multilabel};
use mer::eval::regression::{self, score_targets};
use mer::rng::RandomStream;
use serde_json::Value;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/metrics/task_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn close(ours: f64, theirs: &Value, what: &str) {
    match theirs.as_f64() {
        Some(t) => assert!((ours - t).abs() < 1e-12, "{what}: {ours} vs {t}"),
        None => assert!(ours.is_nan(), "{what}: {ours}, scikit-learn has none"),
    }
}

#[test]
fn regression_metrics_agree_with_scikit_learn_and_scipy() {
    for case in reference()["regression"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let targets = case["targets"].as_u64().unwrap() as usize;
        let ours = score_targets(
            &floats(&case["truth"]),
            &floats(&case["predicted"]),
            targets,
        );
        for (k, (scores, theirs)) in ours
            .iter()
            .zip(case["scores"].as_array().unwrap())
            .enumerate()
        {
            let at = |metric: &str| format!("{name} target {k} {metric}");
            close(scores.r2, &theirs["r2"], &at("r2"));
            close(scores.rmse, &theirs["rmse"], &at("rmse"));
            close(scores.mae, &theirs["mae"], &at("mae"));
            close(scores.pearson, &theirs["pearson"], &at("pearson"));
            close(scores.ccc, &theirs["ccc"], &at("ccc"));
        }
    }
}

#[test]
fn multilabel_metrics_agree_with_scikit_learn() {
    for case in reference()["multilabel"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let tags = case["tags"].as_u64().unwrap() as usize;
        let truth: Vec<bool> = case["truth"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        let scores: Vec<f32> = floats(&case["scores"]).iter().map(|&s| s as f32).collect();
        let threshold = case["threshold"].as_f64().unwrap();
        let ours = score_multilabel(&truth, &scores, tags, threshold);
        let at = |metric: &str| format!("{name} {metric}");
        close(
            ours.roc_auc_macro,
            &case["roc_auc_macro"],
            &at("ROC-AUC macro"),
        );
        close(
            ours.roc_auc_micro,
            &case["roc_auc_micro"],
            &at("ROC-AUC micro"),
        );
        close(
            ours.pr_auc_macro,
            &case["pr_auc_macro"],
            &at("PR-AUC macro"),
        );
        close(
            ours.pr_auc_micro,
            &case["pr_auc_micro"],
            &at("PR-AUC micro"),
        );
        close(ours.f1_macro, &case["f1_macro"], &at("F1 macro"));
        close(ours.f1_micro, &case["f1_micro"], &at("F1 micro"));
        let per_tag = case["per_tag"].as_array().unwrap();
        for (k, (tag, theirs)) in ours.per_tag.iter().zip(per_tag).enumerate() {
            close(
                tag.roc_auc,
                &theirs["roc_auc"],
                &at(&format!("tag {k} ROC-AUC")),
            );
            close(
                tag.pr_auc,
                &theirs["pr_auc"],
                &at(&format!("tag {k} PR-AUC")),
            );
            close(tag.f1, &case["f1_per_tag"][k], &at(&format!("tag {k} F1")));
        }
    }
}

#[test]
fn the_threshold_is_chosen_on_the_songs_given() {
    // Positives score 0.3, negatives 0.1: only thresholds in (0.1, 0.3] separate them, and
    // the lowest of those on the grid is chosen.
    let truth = [true, false, true, false];
    let scores = [0.3, 0.1, 0.3, 0.1];
    let threshold = choose_threshold(&truth, &scores, 1);
    assert!((threshold - 0.15).abs() < 1e-12, "{threshold}");
    assert_eq!(
        score_multilabel(&truth, &scores, 1, threshold).f1_macro,
        1.0
    );
    // At the default 0.5 nothing is predicted.
    assert_eq!(score_multilabel(&truth, &scores, 1, 0.5).f1_macro, 0.0);
}

/// Two targets, `songs` songs: truth spread over [-1, 1], predictions with noise of `noise`.
fn noisy_regression(songs: usize, noise: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut draw = RandomStream::new(seed, "test/noisy-regression");
    let truth: Vec<f64> = (0..songs * 2).map(|_| draw.uniform_in(-1.0, 1.0)).collect();
    let predicted = truth.iter().map(|t| t + draw.normal(0.0, noise)).collect();
    (truth, predicted)
}

fn width(interval: &Interval) -> f64 {
    interval.high - interval.low
}

#[test]
fn regression_intervals_hold_the_estimate_and_narrow_with_more_songs() {
    let interval = |songs: usize| {
        let (truth, predicted) = noisy_regression(songs, 0.4, 1);
        let mut stream = RandomStream::new(2, "test/bootstrap");
        regression::bootstrap_intervals(&truth, &predicted, 2, 400, &mut stream)
    };
    let [ccc, r2, ..] = interval(100);
    for i in [ccc, r2] {
        assert!(i.low < i.estimate && i.estimate < i.high, "{i:?}");
    }
    let (truth, predicted) = noisy_regression(100, 0.4, 1);
    let scores = score_targets(&truth, &predicted, 2);
    assert_eq!(ccc.estimate, (scores[0].ccc + scores[1].ccc) / 2.0);
    let [wide_ccc, ..] = interval(100);
    let [narrow_ccc, ..] = interval(1600);
    assert_eq!(wide_ccc, ccc, "the same stream gives the same interval");
    // Sixteen times the songs: about a quarter of the width.
    let ratio = width(&narrow_ccc) / width(&wide_ccc);
    assert!((0.15..0.4).contains(&ratio), "{ratio}");
    // Perfect predictions leave nothing to doubt.
    let mut stream = RandomStream::new(3, "test/bootstrap");
    let exact = regression::bootstrap_intervals(&truth, &truth, 2, 100, &mut stream);
    // CCC, R^2 and Pearson's r are 1, RMSE and MAE 0, in every resample.
    let bounds: Vec<(f64, f64)> = exact.iter().map(|i| (i.low, i.high)).collect();
    assert_eq!(
        bounds,
        [(1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (0.0, 0.0), (0.0, 0.0)]
    );
}

#[test]
fn multilabel_intervals_skip_resamples_without_both_classes_and_hold_the_estimate() {
    let mut draw = RandomStream::new(4, "test/tags");
    let songs = 120;
    // Tag 0 common, tag 1 on 3 songs only: many resamples miss it, and still count tag 0.
    let truth: Vec<bool> = (0..songs).flat_map(|s| [s % 2 == 0, s % 40 == 0]).collect();
    let scores: Vec<f32> = (truth.iter())
        .map(|&t| (if t { 0.65 } else { 0.35 } + draw.normal(0.0, 0.2)) as f32)
        .collect();
    let mut stream = RandomStream::new(5, "test/bootstrap");
    let intervals = multilabel::bootstrap_intervals(&truth, &scores, (2, 0.5), 300, &mut stream);
    let [roc, roc_micro, pr, pr_micro, f1, f1_micro] = intervals;
    let full = score_multilabel(&truth, &scores, 2, 0.5);
    assert_eq!(roc.estimate, full.roc_auc_macro);
    assert_eq!(pr.estimate, full.pr_auc_macro);
    assert_eq!(f1_micro.estimate, full.f1_micro);
    for i in [roc, roc_micro, pr, pr_micro, f1, f1_micro] {
        assert!(i.low.is_finite() && i.high.is_finite(), "{i:?}");
        assert!(i.low <= i.estimate && i.estimate <= i.high, "{i:?}");
        assert!(i.low < i.high);
    }
}
