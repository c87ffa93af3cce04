//! What a finished run hands to the report writer: per seed, the scored models, the training
//! curves and the test predictions. Built from the evaluate artifacts; the report only lays
//! them out, it computes no new numbers except the mean and spread across seeds.

use crate::eval::{Interval, Metrics};
use crate::modality::ModalityMask;

use super::vocabulary::{Model, SongGroup, Split};

/// One model scored on one split and song group.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelScore {
    /// The model.
    pub model: Model,
    /// The songs' split.
    pub split: Split,
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

/// One epoch of one fold's training, as the learning curves show it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochPoint {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Validation loss.
    pub valid_loss: f64,
    /// Validation accuracy.
    pub valid_accuracy: f64,
    /// Validation macro-F1.
    pub valid_macro_f1: f64,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
}

/// One fold's training curve.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldCurve {
    /// Fold index.
    pub fold: usize,
    /// Its epochs, in order.
    pub epochs: Vec<EpochPoint>,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: usize,
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
    /// The model whose predictions follow, [`Model::HEADLINE`] in a run.
    pub headline: Model,
    /// Test predictions of the headline model.
    pub predictions: Vec<Prediction>,
    /// A gated, attention or stacked late fusion's mean weight per selected modality (in modality order)
    /// over the test songs that have every one of them; `None` for other designs.
    pub modality_weights: Option<Vec<f64>>,
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
    pub fn score(&self, model: Model, split: Split) -> Option<&ModelScore> {
        self.scores
            .iter()
            .find(|s| s.model == model && s.split == split && s.group == SongGroup::All)
    }

    /// The headline model's test score on all songs, if present.
    pub fn headline_score(&self) -> Option<&ModelScore> {
        self.score(self.headline, Split::Test)
    }
}
