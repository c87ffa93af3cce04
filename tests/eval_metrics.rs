//! Metrics against hand-computed cases and scikit-learn's numbers
//! (`scripts/parity/metrics_reference.py` -> `tests/fixtures/metrics/reference.json`),
//! bootstrap intervals, and the ensemble combinations.

use mer::eval::ensemble::combine_outputs;
use mer::eval::{Ensemble, argmax_rows, bootstrap_intervals, combine, score};
use mer::rng::RandomStream;
use mer::spec::TaskKind;

fn one_hot(classes: &[usize], width: usize) -> Vec<f32> {
    let mut out = vec![0.0; classes.len() * width];
    for (row, &c) in classes.iter().enumerate() {
        out[row * width + c] = 1.0;
    }
    out
}

fn close(a: f64, b: f64, tolerance: f64, what: &str) {
    assert!(
        (a - b).abs() <= tolerance,
        "{what}: {a} vs {b} (tolerance {tolerance})"
    );
}

#[test]
fn hand_computed_three_class_case() {
    // truth 0 0 1 1 2 2, predicted 0 1 1 1 0 2.
    let truth = [0, 0, 1, 1, 2, 2];
    let probabilities = one_hot(&[0, 1, 1, 1, 0, 2], 3);
    let m = score(&truth, &probabilities, 3);
    close(m.accuracy, 4.0 / 6.0, 1e-12, "accuracy");
    // class 0: P 1/2 R 1/2 F 1/2; class 1: P 2/3 R 1 F 0.8; class 2: P 1 R 1/2 F 2/3.
    close(m.per_class[0].f1, 0.5, 1e-12, "F1 class 0");
    close(
        m.per_class[1].precision,
        2.0 / 3.0,
        1e-12,
        "precision class 1",
    );
    close(m.per_class[1].f1, 0.8, 1e-12, "F1 class 1");
    close(m.per_class[2].f1, 2.0 / 3.0, 1e-12, "F1 class 2");
    close(m.macro_f1, (0.5 + 0.8 + 2.0 / 3.0) / 3.0, 1e-12, "macro F1");
    close(
        m.balanced_accuracy,
        (0.5 + 1.0 + 0.5) / 3.0,
        1e-12,
        "balanced",
    );
    assert_eq!(m.confusion.count(2, 0), 1);
    assert_eq!(m.confusion.count(0, 1), 1);
    assert_eq!(m.confusion.total(), 6);
    // One-hot predictions: log loss is 0 where right and -ln(1e-15) where wrong.
    close(
        m.log_loss,
        2.0 * 1e-15f64.ln().abs() / 6.0,
        1e-9,
        "log loss",
    );
    // Each wrong song contributes 2 to the Brier sum, each right one 0.
    close(m.brier, 4.0 / 6.0, 1e-12, "brier");
    // All confidence 1, accuracy 4/6: ECE = 1 - 4/6.
    close(m.ece, 2.0 / 6.0, 1e-12, "ECE");
}

#[test]
fn a_class_never_predicted_scores_zero_and_still_counts_in_the_macro_mean() {
    let truth = [0, 1, 2, 2];
    let m = score(&truth, &one_hot(&[0, 1, 1, 1], 3), 3);
    assert_eq!(m.per_class[2].precision, 0.0);
    assert_eq!(m.per_class[2].f1, 0.0);
    // F1: class 0 = 1, class 1 = 2/4 (P 1/3, R 1), class 2 = 0.
    close(m.macro_f1, (1.0 + 0.5 + 0.0) / 3.0, 1e-12, "macro F1");
}

#[test]
fn a_class_absent_from_both_truth_and_predictions_is_left_out_of_the_macro_mean() {
    let truth = [0, 1, 1];
    let m = score(&truth, &one_hot(&[0, 1, 1], 4), 4);
    close(m.macro_f1, 1.0, 1e-12, "perfect on the classes that occur");
    close(m.balanced_accuracy, 1.0, 1e-12, "balanced");
    assert_eq!(m.per_class[3].support, 0);
}

#[test]
fn ties_pick_the_lowest_class() {
    assert_eq!(argmax_rows(&[0.4, 0.4, 0.2, 0.1, 0.45, 0.45], 3), [0, 1]);
}

#[test]
fn metrics_agree_with_scikit_learn() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/metrics/reference.json"
    ))
    .unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let classes = case["classes"].as_u64().unwrap() as usize;
        let truth: Vec<usize> = case["truth"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let probabilities: Vec<f32> = case["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let m = score(&truth, &probabilities, classes);
        let want = |key: &str| case[key].as_f64().unwrap();
        close(
            m.accuracy,
            want("accuracy"),
            1e-12,
            &format!("{name} accuracy"),
        );
        close(
            m.balanced_accuracy,
            want("balanced_accuracy"),
            1e-12,
            &format!("{name} balanced"),
        );
        close(
            m.macro_f1,
            want("macro_f1"),
            1e-12,
            &format!("{name} macro F1"),
        );
        close(
            m.weighted_f1,
            want("weighted_f1"),
            1e-12,
            &format!("{name} weighted F1"),
        );
        close(
            m.log_loss,
            want("log_loss"),
            1e-6,
            &format!("{name} log loss"),
        );
        close(m.brier, want("brier"), 1e-6, &format!("{name} brier"));
        close(m.ece, want("ece"), 1e-6, &format!("{name} ECE"));
        for (k, scores) in m.per_class.iter().enumerate() {
            let at = |key: &str| case[key][k].as_f64().unwrap();
            close(
                scores.precision,
                at("precision"),
                1e-12,
                &format!("{name} P{k}"),
            );
            close(scores.recall, at("recall"), 1e-12, &format!("{name} R{k}"));
            close(scores.f1, at("f1"), 1e-12, &format!("{name} F{k}"));
            assert_eq!(scores.support as f64, at("support"), "{name} support {k}");
        }
    }
}

/// Songs of 4 classes, predicted right with probability `p` (deterministic pattern).
fn noisy_predictions(n: usize, right_every: usize) -> (Vec<usize>, Vec<f32>) {
    let truth: Vec<usize> = (0..n).map(|i| i % 4).collect();
    let predicted: Vec<usize> = truth
        .iter()
        .enumerate()
        .map(|(i, &t)| if i % right_every == 0 { (t + 1) % 4 } else { t })
        .collect();
    (truth, one_hot(&predicted, 4))
}

#[test]
fn bootstrap_interval_contains_the_estimate_and_narrows_with_more_songs() {
    let width = |n: usize| {
        let (truth, probabilities) = noisy_predictions(n, 3);
        let mut stream = RandomStream::new(7, "test/bootstrap");
        let (accuracy, f1) = bootstrap_intervals(&truth, &probabilities, 4, 500, &mut stream);
        for interval in [accuracy, f1] {
            assert!(interval.low <= interval.estimate && interval.estimate <= interval.high);
            assert!(interval.low < interval.high);
        }
        accuracy.high - accuracy.low
    };
    let (small, large) = (width(60), width(960));
    assert!(
        large < small / 2.0,
        "16x the songs should shrink the interval about 4x: {small} -> {large}"
    );
}

#[test]
fn bootstrap_is_reproducible_from_the_seed() {
    let (truth, probabilities) = noisy_predictions(100, 4);
    let draw = |seed| {
        let mut stream = RandomStream::new(seed, "test/bootstrap");
        bootstrap_intervals(&truth, &probabilities, 4, 200, &mut stream)
    };
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
    let mut stream = RandomStream::new(1, "test/bootstrap");
    let (accuracy, _) = bootstrap_intervals(&truth, &probabilities, 4, 0, &mut stream);
    assert_eq!(
        (accuracy.low, accuracy.high),
        (accuracy.estimate, accuracy.estimate)
    );
}

#[test]
fn ensembles_mean_vote_and_best_fold() {
    // Two rows, two classes, three fold models.
    let folds = vec![
        vec![0.9, 0.1, 0.4, 0.6],
        vec![0.6, 0.4, 0.45, 0.55],
        vec![0.2, 0.8, 0.9, 0.1],
    ];
    let mean = combine(Ensemble::Mean, &folds, 2, &[0.1, 0.2, 0.3]);
    for (got, want) in mean
        .iter()
        .zip([1.7 / 3.0, 1.3 / 3.0, 1.75 / 3.0, 1.25 / 3.0])
    {
        close(f64::from(*got), want, 1e-6, "mean");
    }
    let vote = combine(Ensemble::Vote, &folds, 2, &[0.1, 0.2, 0.3]);
    // Row 0: votes 2:1 for class 0; row 1: 2:1 for class 1, although the mean favours 0.
    assert_eq!(argmax_rows(&vote, 2), [0, 1]);
    for row in vote.chunks(2) {
        close(
            f64::from(row[0] + row[1]),
            1.0,
            1e-6,
            "vote rows are distributions",
        );
    }
    assert_eq!(argmax_rows(&mean, 2), [0, 0]);
    let best = combine(Ensemble::BestFold, &folds, 2, &[0.5, 0.7, 0.7]);
    assert_eq!(best, folds[1], "the best validation F1, first on ties");
}

#[test]
fn ensembles_of_values_and_tags() {
    // Two songs, two targets (or tags), three fold models; fold 2 is far off on song 0.
    let folds = vec![
        vec![0.2, -0.4, 0.6, 0.7],
        vec![0.3, -0.2, 0.4, 0.9],
        vec![-0.9, 0.9, 0.5, 0.1],
    ];
    let values = (TaskKind::Regression, 2);
    let scores = [0.1, 0.2, 0.3];
    let median = combine_outputs(Ensemble::Vote, &folds, values, &scores);
    assert_eq!(
        median,
        [0.2, -0.2, 0.5, 0.7],
        "the median ignores the wild fold"
    );
    let mean = combine_outputs(Ensemble::Mean, &folds, values, &scores);
    close(f64::from(mean[0]), -0.4 / 3.0, 1e-6, "mean");
    let best = combine_outputs(Ensemble::BestFold, &folds, values, &scores);
    assert_eq!(best, folds[2], "the best validation score");
    let even = combine_outputs(Ensemble::Vote, &folds[..2], values, &scores);
    close(
        f64::from(even[0]),
        0.25,
        1e-6,
        "even count: the middle two's mean",
    );

    let tags = (TaskKind::Multilabel, 2);
    let probabilities = vec![
        vec![0.2, 0.4, 0.6, 0.7],
        vec![0.3, 0.2, 0.4, 0.9],
        vec![0.1, 0.9, 0.5, 0.1],
    ];
    let vote = combine_outputs(Ensemble::Vote, &probabilities, tags, &scores);
    // Song 1, tag 1: two of three folds at or above 1/2; song 0, tag 0: none.
    assert!(vote[3] > 0.5 && vote[3] < 0.7, "{vote:?}");
    assert!(vote[0] < 0.01, "{vote:?}");
    assert!(vote.iter().all(|p| (0.0..=1.0).contains(p)));
}
