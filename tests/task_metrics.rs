//! Regression and multi-label metrics against scikit-learn's and scipy's numbers
//! (`scripts/parity/task_metrics.py` -> `tests/fixtures/metrics/task_reference.json`), and the
//! validation-chosen F1 threshold.

use mer::eval::multilabel::{choose_threshold, score_multilabel};
use mer::eval::regression::score_targets;
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
