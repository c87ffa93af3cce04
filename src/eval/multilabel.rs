//! Multi-label metrics (several mood tags per song) from true tag sets and per-tag scores.
//!
//! Conventions (scikit-learn's, checked by `scripts/parity/task_metrics.py`):
//! - ROC-AUC is `roc_auc_score`: the probability that a random positive song outscores a
//!   random negative one, ties counting one half;
//! - PR-AUC is `average_precision_score`: sum over thresholds of (R_n - R_{n-1}) P_n, without
//!   interpolation;
//! - macro averages run over the tags whose truth has both positive and negative songs: a tag
//!   no test song carries (or every one does) has no ranking to score. scikit-learn refuses
//!   such a tag for ROC-AUC and counts it as 0 for PR-AUC; mer leaves it out of both and
//!   reports it as NaN, so the two averages describe the same tags;
//! - micro averages pool every (song, tag) pair;
//! - F1 binarizes at one threshold for every tag (`score >= threshold`), chosen on validation
//!   songs by [`choose_threshold`]; per tag as `f1_score(zero_division=0)`, macro over all tags,
//!   micro from pooled counts.

use crate::rng::RandomStream;

use super::bootstrap::{Interval, percentile_bootstrap};
use super::column;

/// Every metric of one tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TagScores {
    /// Area under the ROC curve (NaN when the truth has one class only).
    pub roc_auc: f64,
    /// Average precision (NaN when the truth has one class only).
    pub pr_auc: f64,
    /// F1 at the threshold.
    pub f1: f64,
    /// Songs that carry the tag.
    pub support: u64,
}

/// Every metric of one set of multi-label predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct MultilabelMetrics {
    /// Songs scored.
    pub songs: usize,
    /// Mean ROC-AUC over the scorable tags.
    pub roc_auc_macro: f64,
    /// ROC-AUC of all (song, tag) pairs pooled.
    pub roc_auc_micro: f64,
    /// Mean average precision over the scorable tags.
    pub pr_auc_macro: f64,
    /// Average precision of all pairs pooled.
    pub pr_auc_micro: f64,
    /// Mean F1 over all tags at the threshold.
    pub f1_macro: f64,
    /// F1 of the pooled counts at the threshold.
    pub f1_micro: f64,
    /// The binarizing threshold the F1 scores use.
    pub threshold: f64,
    /// Per tag, in vocabulary order.
    pub per_tag: Vec<TagScores>,
}

/// Thresholds [`choose_threshold`] tries: 0.05 to 0.95 in steps of 0.05.
pub fn threshold_grid() -> impl Iterator<Item = f64> {
    (1..20).map(|i| f64::from(i) * 0.05)
}

/// Scores `scores` (songs x `tags`, row-major, each in [0, 1]) against `truth` (the same
/// shape, true where the song carries the tag), binarizing at `threshold` for F1.
///
/// # Panics
/// When the shapes disagree: callers build both from the same split.
pub fn score_multilabel(
    truth: &[bool],
    scores: &[f32],
    tags: usize,
    threshold: f64,
) -> MultilabelMetrics {
    assert_eq!(truth.len(), scores.len(), "songs x tags on both sides");
    assert!(
        tags > 0 && truth.len().is_multiple_of(tags),
        "rows of {tags} tags"
    );
    let per_tag: Vec<TagScores> = (0..tags)
        .map(|k| {
            let (t, s) = tag_column(truth, scores, tags, k);
            let scorable = t.iter().any(|&x| x) && t.iter().any(|&x| !x);
            let counts = F1Counts::at(&t, &s, threshold);
            TagScores {
                roc_auc: if scorable { roc_auc(&t, &s) } else { f64::NAN },
                pr_auc: if scorable {
                    average_precision(&t, &s)
                } else {
                    f64::NAN
                },
                f1: counts.f1(),
                support: t.iter().filter(|&&x| x).count() as u64,
            }
        })
        .collect();
    let pooled = F1Counts::at(truth, scores, threshold);
    MultilabelMetrics {
        songs: truth.len() / tags,
        roc_auc_macro: mean_of_numbers(per_tag.iter().map(|t| t.roc_auc)),
        roc_auc_micro: roc_auc(truth, scores),
        pr_auc_macro: mean_of_numbers(per_tag.iter().map(|t| t.pr_auc)),
        pr_auc_micro: average_precision(truth, scores),
        f1_macro: per_tag.iter().map(|t| t.f1).sum::<f64>() / tags as f64,
        f1_micro: pooled.f1(),
        threshold,
        per_tag,
    }
}

/// The averaged metrics of [`MultilabelMetrics`] in the order ROC-AUC macro and micro, PR-AUC
/// macro and micro, F1 macro and micro.
fn averages(metrics: &MultilabelMetrics) -> [f64; 6] {
    [
        metrics.roc_auc_macro,
        metrics.roc_auc_micro,
        metrics.pr_auc_macro,
        metrics.pr_auc_micro,
        metrics.f1_macro,
        metrics.f1_micro,
    ]
}

/// Bootstrap 95 % intervals of ROC-AUC macro and micro, PR-AUC macro and micro, and F1 macro
/// and micro at `threshold` (in that order) of `scores` against `truth` (songs x `tags`),
/// over `resamples` resamples of the songs from `stream` ([`percentile_bootstrap`]; a
/// metric that a resample leaves undefined, e.g. no tag with both classes, skips it).
pub fn bootstrap_intervals(
    truth: &[bool],
    scores: &[f32],
    (tags, threshold): (usize, f64),
    resamples: usize,
    stream: &mut RandomStream,
) -> [Interval; 6] {
    let songs = truth.len() / tags;
    let (mut t, mut s) = (
        Vec::with_capacity(truth.len()),
        Vec::with_capacity(scores.len()),
    );
    percentile_bootstrap(
        songs,
        resamples,
        stream,
        averages(&score_multilabel(truth, scores, tags, threshold)),
        |resample| {
            t.clear();
            s.clear();
            for &song in resample {
                t.extend_from_slice(&truth[song * tags..][..tags]);
                s.extend_from_slice(&scores[song * tags..][..tags]);
            }
            averages(&score_multilabel(&t, &s, tags, threshold))
        },
    )
}

/// The threshold of [`threshold_grid`] with the best macro F1 on validation songs (the
/// lowest on ties), so that no test song decides it.
pub fn choose_threshold(truth: &[bool], scores: &[f32], tags: usize) -> f64 {
    let columns: Vec<(Vec<bool>, Vec<f32>)> = (0..tags)
        .map(|k| tag_column(truth, scores, tags, k))
        .collect();
    let macro_f1 = |threshold: f64| -> f64 {
        (columns.iter())
            .map(|(t, s)| F1Counts::at(t, s, threshold).f1())
            .sum::<f64>()
    };
    let mut best = (f64::NEG_INFINITY, 0.5);
    for threshold in threshold_grid() {
        let f1 = macro_f1(threshold);
        if f1 > best.0 {
            best = (f1, threshold);
        }
    }
    best.1
}

/// Mean ROC-AUC over the tags whose truth has both classes (NaN when none has): the macro
/// average of [`score_multilabel`], alone (what model selection needs each epoch).
pub fn macro_roc_auc(truth: &[bool], scores: &[f32], tags: usize) -> f64 {
    mean_of_numbers((0..tags).map(|k| {
        let (t, s) = tag_column(truth, scores, tags, k);
        roc_auc(&t, &s)
    }))
}

/// Tag `k`'s truth and scores over the songs of row-major songs x `tags` matrices.
fn tag_column(truth: &[bool], scores: &[f32], tags: usize, k: usize) -> (Vec<bool>, Vec<f32>) {
    (column(truth, tags, k), column(scores, tags, k))
}

/// Area under the ROC curve of `scores` against binary `truth` (both classes present), by the
/// rank-sum identity with average ranks for ties.
pub fn roc_auc(truth: &[bool], scores: &[f32]) -> f64 {
    let positives = truth.iter().filter(|&&t| t).count() as f64;
    let negatives = truth.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    let mut rank_sum = 0.0;
    for (below, group) in tie_groups(scores) {
        // The group holds 1-based ranks below + 1 ..= below + len: their mean.
        let mean_rank = below as f64 + (group.len() + 1) as f64 / 2.0;
        rank_sum += mean_rank * group.iter().filter(|&&i| truth[i]).count() as f64;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// Average precision of `scores` against binary `truth`: thresholds at each distinct score,
/// highest first.
pub fn average_precision(truth: &[bool], scores: &[f32]) -> f64 {
    let positives = truth.iter().filter(|&&t| t).count() as f64;
    if positives == 0.0 {
        return f64::NAN;
    }
    let mut groups = tie_groups(scores);
    groups.reverse();
    let (mut seen, mut hits, mut ap) = (0.0, 0.0, 0.0);
    for (_, group) in groups {
        let new_hits = group.iter().filter(|&&i| truth[i]).count() as f64;
        seen += group.len() as f64;
        hits += new_hits;
        ap += (new_hits / positives) * (hits / seen);
    }
    ap
}

/// Song indices grouped by equal score, lowest score first, each with the number of songs
/// scored below it.
fn tie_groups(scores: &[f32]) -> Vec<(usize, Vec<usize>)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut groups = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        groups.push((start, order[start..end].to_vec()));
        start = end;
    }
    groups
}

/// True and false positives and false negatives of `score >= threshold`.
struct F1Counts {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl F1Counts {
    fn at(truth: &[bool], scores: &[f32], threshold: f64) -> F1Counts {
        let mut counts = F1Counts {
            tp: 0,
            fp: 0,
            fn_: 0,
        };
        for (&t, &s) in truth.iter().zip(scores) {
            match (t, f64::from(s) >= threshold) {
                (true, true) => counts.tp += 1,
                (false, true) => counts.fp += 1,
                (true, false) => counts.fn_ += 1,
                (false, false) => {}
            }
        }
        counts
    }

    /// 2 TP / (2 TP + FP + FN), 0 when nothing is predicted or true.
    fn f1(&self) -> f64 {
        let denominator = 2 * self.tp + self.fp + self.fn_;
        if denominator == 0 {
            0.0
        } else {
            (2 * self.tp) as f64 / denominator as f64
        }
    }
}

/// The mean of the values that are numbers; NaN when none is.
fn mean_of_numbers(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .filter(|v| !v.is_nan())
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_ranking_scores_one_and_a_reversed_one_zero() {
        let truth = [true, false, true, false];
        assert_eq!(roc_auc(&truth, &[0.9, 0.1, 0.8, 0.2]), 1.0);
        assert_eq!(roc_auc(&truth, &[0.1, 0.9, 0.2, 0.8]), 0.0);
        assert_eq!(average_precision(&truth, &[0.9, 0.1, 0.8, 0.2]), 1.0);
        // All tied: every positive-negative pair counts one half; precision is the base rate.
        assert_eq!(roc_auc(&truth, &[0.5; 4]), 0.5);
        assert_eq!(average_precision(&truth, &[0.5; 4]), 0.5);
    }

    #[test]
    fn tags_with_one_class_are_left_out_of_the_macro_means() {
        // Tag 1 is carried by no song.
        let truth = [true, false, false, false, true, false];
        let scores = [0.9, 0.3, 0.2, 0.1, 0.7, 0.6];
        let metrics = score_multilabel(&truth, &scores, 2, 0.5);
        assert!(metrics.per_tag[1].roc_auc.is_nan());
        assert_eq!(metrics.roc_auc_macro, metrics.per_tag[0].roc_auc);
        assert_eq!(metrics.per_tag[1].f1, 0.0, "a false positive at 0.6");
        assert_eq!(metrics.per_tag[0].support, 2);
    }
}
