//! The validation numbers training needs each epoch (early stopping, history). Full evaluation
//! metrics live in the evaluation module; these follow scikit-learn's definitions so that the
//! PyTorch reference script computes the same numbers.

/// Fraction of rows whose predicted class is the true one (0 for no rows).
pub(crate) fn accuracy(truth: &[usize], predicted: &[usize]) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let hits = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
    hits as f64 / truth.len() as f64
}

/// Unweighted mean of per-class F1 over the classes that occur in `truth` or `predicted`
/// (scikit-learn's `f1_score(average="macro")`); a class with no true or predicted rows
/// does not enter the mean, one never predicted but present scores 0.
pub(crate) fn macro_f1(truth: &[usize], predicted: &[usize], classes: usize) -> f64 {
    let mut true_positives = vec![0usize; classes];
    let mut actual = vec![0usize; classes];
    let mut claimed = vec![0usize; classes];
    for (&t, &p) in truth.iter().zip(predicted) {
        actual[t] += 1;
        claimed[p] += 1;
        if t == p {
            true_positives[t] += 1;
        }
    }
    let scores: Vec<f64> = (0..classes)
        .filter(|&c| actual[c] + claimed[c] > 0)
        .map(|c| 2.0 * true_positives[c] as f64 / (actual[c] + claimed[c]) as f64)
        .collect();
    if scores.is_empty() {
        return 0.0;
    }
    scores.iter().sum::<f64>() / scores.len() as f64
}

/// Index of the largest value (the first on ties).
pub(crate) fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// Row-wise softmax of `logits` (rows x classes), computed in f64.
pub(crate) fn softmax_rows(logits: &[f32], classes: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks_exact(classes) {
        let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let exps: Vec<f64> = row.iter().map(|&z| f64::from(z - max).exp()).collect();
        let total: f64 = exps.iter().sum();
        out.extend(exps.iter().map(|e| (e / total) as f32));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_matches_scikit_learn_on_literal_data() {
        // sklearn.metrics.f1_score([0,0,1,1,2], [0,1,1,1,0], average="macro") = 0.3777...
        // class 0: P 1/2 R 1/2 F 0.5; class 1: P 2/3 R 1 F 0.8; class 2: F 0.
        let f1 = macro_f1(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 4);
        assert!((f1 - (0.5 + 0.8 + 0.0) / 3.0).abs() < 1e-12, "{f1}");
        assert_eq!(macro_f1(&[1, 2], &[1, 2], 3), 1.0);
        assert_eq!(accuracy(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0]), 0.6);
    }

    #[test]
    fn softmax_rows_are_distributions() {
        let p = softmax_rows(&[1000.0, 0.0, -1000.0, 1.0, 1.0, 1.0], 3);
        assert!((p[0] - 1.0).abs() < 1e-6 && p[2] == 0.0);
        assert!(p[3..].iter().all(|v| (v - 1.0 / 3.0).abs() < 1e-6));
    }
}
