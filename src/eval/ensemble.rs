//! Combining the fold models' test-set outputs into one prediction, for every task kind.

pub use crate::spec::Ensemble;

use crate::spec::TaskKind;

use super::metrics::argmax_rows;

/// Combines `folds` (one rows x `classes` probability matrix per fold model) as `how` says.
/// `valid_macro_f1[k]` is fold k's validation macro-F1, which `best-fold` picks by (the first
/// fold on ties). Every method returns rows x `classes` probabilities:
/// - `mean`: the mean of the fold models' probabilities;
/// - `vote`: each fold model's top class is one vote; the share of votes is the probability
///   (ties broken by the mean probability, so the top class is well defined);
/// - `best-fold`: the probabilities of the fold model with the best validation macro-F1.
///
/// # Panics
/// When `folds` is empty or the matrices disagree in size (a bug in the caller).
pub fn combine(
    how: Ensemble,
    folds: &[Vec<f32>],
    classes: usize,
    valid_macro_f1: &[f64],
) -> Vec<f32> {
    assert!(!folds.is_empty(), "an ensemble needs at least one model");
    let len = folds[0].len();
    assert!(
        folds.iter().all(|f| f.len() == len),
        "fold matrices differ in size"
    );
    match how {
        Ensemble::Mean => mean(folds),
        Ensemble::Vote => vote(folds, classes),
        Ensemble::BestFold => {
            let best = (0..folds.len())
                .max_by(|&a, &b| {
                    let (fa, fb) = (score_of(valid_macro_f1, a), score_of(valid_macro_f1, b));
                    // Reverse index order on ties, so `max_by` keeps the first fold.
                    fa.total_cmp(&fb).then(b.cmp(&a))
                })
                .unwrap_or(0);
            folds[best].clone()
        }
    }
}

/// [`combine`] for the outputs of any task kind (rows x `width`: class probabilities, target
/// values or tag probabilities); `valid_scores[k]` is fold k's validation score (macro-F1,
/// mean CCC, macro ROC-AUC). `mean` and `best-fold` are as for classes; `vote` is, per kind:
/// - classification: [`combine`]'s vote;
/// - regression: the median of the fold models' values (a vote that one wild fold model
///   cannot drag), the mean of the middle two for an even count;
/// - multi-label: per tag, the share of fold models whose probability is at least 1/2, with
///   ties broken by the mean probability as for classes.
pub fn combine_outputs(
    how: Ensemble,
    folds: &[Vec<f32>],
    (kind, width): (TaskKind, usize),
    valid_scores: &[f64],
) -> Vec<f32> {
    match (how, kind) {
        (Ensemble::Vote, TaskKind::Regression) => median(folds),
        (Ensemble::Vote, TaskKind::Multilabel) => tag_vote(folds),
        _ => combine(how, folds, width, valid_scores),
    }
}

fn median(folds: &[Vec<f32>]) -> Vec<f32> {
    let mut column = vec![0.0f32; folds.len()];
    (0..folds[0].len())
        .map(|i| {
            for (slot, fold) in column.iter_mut().zip(folds) {
                *slot = fold[i];
            }
            column.sort_by(f32::total_cmp);
            let n = column.len();
            if n % 2 == 1 {
                column[n / 2]
            } else {
                (column[n / 2 - 1] + column[n / 2]) / 2.0
            }
        })
        .collect()
}

fn tag_vote(folds: &[Vec<f32>]) -> Vec<f32> {
    let averaged = mean(folds);
    let n = folds.len() as f32;
    (averaged.iter().enumerate())
        .map(|(i, &mean)| {
            let votes = folds.iter().filter(|f| f[i] >= 0.5).count() as f32;
            (votes + 1e-3 * mean) / (n + 1e-3)
        })
        .collect()
}

fn score_of(scores: &[f64], fold: usize) -> f64 {
    scores.get(fold).copied().unwrap_or(f64::NEG_INFINITY)
}

fn mean(folds: &[Vec<f32>]) -> Vec<f32> {
    let n = folds.len() as f32;
    (0..folds[0].len())
        .map(|i| folds.iter().map(|f| f[i]).sum::<f32>() / n)
        .collect()
}

fn vote(folds: &[Vec<f32>], classes: usize) -> Vec<f32> {
    let averaged = mean(folds);
    let rows = averaged.len() / classes;
    let mut out = vec![0.0f32; averaged.len()];
    for fold in folds {
        for (row, class) in argmax_rows(fold, classes).into_iter().enumerate() {
            out[row * classes + class] += 1.0;
        }
    }
    let n = folds.len() as f32;
    for row in 0..rows {
        let cells = &mut out[row * classes..(row + 1) * classes];
        // A tiny share of the mean probability breaks ties without changing a clear majority.
        for (k, cell) in cells.iter_mut().enumerate() {
            *cell = (*cell + 1e-3 * averaged[row * classes + k]) / (n + 1e-3);
        }
    }
    out
}
