//! What a finished regression or multi-label run hands to the report writer: per seed, every
//! model's scores in its kind's metrics ([`Metric::columns`]), each target's or tag's own
//! scores, the training curves and the headline model's test outputs.

use crate::eval::{Interval, Metrics};
use crate::modality::ModalityMask;

use super::scores::FoldCurve;
use super::vocabulary::{Metric, Model, SongGroup, Split, TaskKind};

/// One model scored on one split and song group.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetScore {
    /// The model.
    pub model: Model,
    /// The songs' split.
    pub split: Split,
    /// The songs covered.
    pub group: SongGroup,
    /// One value per metric of [`Metric::columns`] of the run's kind, in that order.
    pub values: Vec<f64>,
    /// Per target or tag: [`output_columns`] of the kind, in order.
    pub per_output: Vec<Vec<f64>>,
    /// Bootstrap 95 % intervals of the kind's [`interval_metrics`], in order, where computed.
    pub intervals: Option<Vec<Interval>>,
    /// A valence-arousal regression's quadrant view: true and predicted places as Russell's
    /// quadrants (Q1 to Q4, `eval::regression::quadrant`), scored as a four-class
    /// classification. `None` without both a valence and an arousal target.
    pub quadrants: Option<Metrics>,
}

/// The quadrant view's class names, in `eval::regression::quadrant`'s order.
pub const QUADRANTS: [&str; 4] = ["Q1", "Q2", "Q3", "Q4"];

/// The per-target (regression) or per-tag (multi-label) columns of [`TargetScore::per_output`].
pub fn output_columns(kind: TaskKind) -> &'static [&'static str] {
    match kind {
        TaskKind::Regression => &["r2", "rmse", "mae", "pearson", "ccc"],
        _ => &["roc_auc", "pr_auc", "f1", "support"],
    }
}

/// The prefixes of `predictions.csv`'s per-output columns: the true value, then the model's
/// output (`true_valence`, `predicted_valence`; `true_calm`, `p_calm`).
pub fn prediction_prefixes(kind: TaskKind) -> (&'static str, &'static str) {
    match kind {
        TaskKind::Regression => ("true_", "predicted_"),
        _ => ("true_", "p_"),
    }
}

/// The column of a multi-label `metrics.csv` that holds the F1 threshold of the row's seed.
pub const THRESHOLD_COLUMN: &str = "threshold";

/// The positions of the valence and arousal outputs (names matched without regard to case)
/// of a regression that has both: what the quadrant view and the valence-arousal plane need.
pub fn valence_arousal(kind: TaskKind, outputs: &[String]) -> Option<(usize, usize)> {
    if kind != TaskKind::Regression {
        return None;
    }
    let find = |name: &str| (outputs.iter()).position(|o| o.trim().eq_ignore_ascii_case(name));
    Some((find("valence")?, find("arousal")?))
}

/// The metrics [`TargetScore::intervals`] bound: every metric of the kind but the song count,
/// in column order (as `eval::regression::bootstrap_intervals` and
/// `eval::multilabel::bootstrap_intervals` return them).
pub fn interval_metrics(kind: TaskKind) -> &'static [Metric] {
    let columns = Metric::columns(kind);
    &columns[..columns.len() - 1]
}

/// One test song's outputs from the headline model.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetPrediction {
    /// Song id.
    pub id: String,
    /// True values on [-1, 1], or 1 and 0 for carried and absent tags.
    pub truth: Vec<f32>,
    /// Predicted values, or tag probabilities.
    pub outputs: Vec<f32>,
    /// The modalities the song has (among the selected ones).
    pub modalities: ModalityMask,
}

/// Everything one seed's protocol produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSeedResults {
    /// The seed.
    pub seed: u64,
    /// Scores of every model on every split and group.
    pub scores: Vec<TargetScore>,
    /// Training curves, one per fold (`valid_macro_f1` holds the kind's validation score).
    pub curves: Vec<FoldCurve>,
    /// Test outputs of [`Model::HEADLINE`].
    pub predictions: Vec<TargetPrediction>,
    /// Multi-label: the F1 threshold, chosen on the out-of-fold predictions.
    pub threshold: Option<f64>,
    /// A gated, attention or stacked late fusion's mean weight per selected modality (see
    /// `SeedResults::modality_weights`).
    pub modality_weights: Option<Vec<f64>>,
}

/// A whole regression or multi-label run's results.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRunResults {
    /// Regression or multi-label.
    pub kind: TaskKind,
    /// Target names or tags, in output order.
    pub outputs: Vec<String>,
    /// The selected modalities.
    pub modalities: ModalityMask,
    /// One entry per seed, in the spec's order.
    pub seeds: Vec<TargetSeedResults>,
}

impl TargetSeedResults {
    /// The score of `model` on `split` for all songs, if present.
    pub fn score(&self, model: Model, split: Split) -> Option<&TargetScore> {
        (self.scores.iter())
            .find(|s| s.model == model && s.split == split && s.group == SongGroup::All)
    }
}
