//! What a finished run hands to the report writer: per seed, the scored models, the training
//! curves and the test predictions. Built from the evaluate and train artifacts; the report
//! only lays them out, it computes no new numbers except the mean and spread across seeds.

use crate::eval::{Interval, Metrics};
use crate::modality::ModalityMask;

use super::plots::FoldCurve;

/// Which songs a row of metrics covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SongGroup {
    /// Every song of the split.
    All,
    /// Songs with every selected modality.
    AllModalities,
    /// Songs with some, but not all, of the selected modalities.
    Partial,
    /// Songs with none of the selected modalities: kept by `dataset.songs_with` (a modality
    /// ablation keeps every member's songs alike), their model sees only absent flags.
    NoModality,
}

impl SongGroup {
    /// The name in CSV files.
    pub fn name(self) -> &'static str {
        match self {
            SongGroup::All => "all",
            SongGroup::AllModalities => "all-modalities",
            SongGroup::Partial => "partial",
            SongGroup::NoModality => "no-modality",
        }
    }
}

/// One model scored on one split and song group.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelScore {
    /// `fold 0` .. `fold k`, `ensemble`, `ensemble+tta`, `vote`, `best-fold`, `out-of-fold`.
    pub model: String,
    /// `test`, `validation` (a fold model on its own fold) or `cv` (all folds' validation
    /// predictions pooled).
    pub split: String,
    /// The songs covered.
    pub group: SongGroup,
    /// The numbers.
    pub metrics: Metrics,
    /// Bootstrap 95 % intervals of (accuracy, macro-F1), where computed.
    pub intervals: Option<(Interval, Interval)>,
}

/// One test song's prediction by the headline model.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Song id.
    pub id: String,
    /// True class index.
    pub truth: usize,
    /// Class probabilities, in class order.
    pub probabilities: Vec<f32>,
    /// The modalities the song has (among the selected ones).
    pub modalities: ModalityMask,
}

/// Everything one seed's protocol produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedResults {
    /// The seed.
    pub seed: u64,
    /// Scores of every model on every split and group.
    pub scores: Vec<ModelScore>,
    /// Training curves, one per fold.
    pub curves: Vec<FoldCurve>,
    /// The headline model's name (whose predictions follow), e.g. `ensemble+tta`.
    pub headline: String,
    /// Test predictions of the headline model.
    pub predictions: Vec<Prediction>,
}

/// A whole run's results.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResults {
    /// Class names, in class order.
    pub classes: Vec<String>,
    /// The selected modalities.
    pub modalities: ModalityMask,
    /// One entry per seed, in the spec's order.
    pub seeds: Vec<SeedResults>,
}

impl SeedResults {
    /// The score of `model` on `split` for all songs, if present.
    pub fn score(&self, model: &str, split: &str) -> Option<&ModelScore> {
        self.scores
            .iter()
            .find(|s| s.model == model && s.split == split && s.group == SongGroup::All)
    }
}
