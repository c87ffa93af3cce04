//! The fusion model and its training: the work of the `train[k]` stage (one cached artifact
//! per fold) and the predictions the evaluate stage needs.
//!
//! This module owns the network (`network.rs`: one encoder per selected modality, a fusion
//! with presence masks behind the `Fusion` trait in `fusion.rs`, an MLP head), its layers on
//! runtime-shaped dfdx 0.13 tensors (`layers.rs`), the optimizer ([`adamw`]), the
//! learning-rate schedule ([`schedule`]), the training-time augmentations (`augment.rs`), the
//! targets per task kind (`targets.rs`) with each kind's output, loss and selection metric
//! (`objective.rs`), the checked settings (`settings.rs`) and the training loop (`train.rs`). It reads already
//! normalized features; splitting and normalization are upstream stages, full metrics and
//! reports downstream.
//!
//! # API for the pipeline
//!
//! ```text
//! train_fold(&FoldData, &TrainSettings, seed, fold) -> Result<TrainedFold, ModelError>
//! train_folds(&[FoldData], &TrainSettings, seed)    -> Result<Vec<TrainedFold>, ModelError>
//! predict(&NamedTensors, (&ModelSection, TaskKind), &[ModalityInput], rows, Option<Perturbation>)
//!                                                   -> Result<Vec<f32>, ModelError>
//! modality_weights(&NamedTensors, (&ModelSection, TaskKind), &[ModalityInput], rows)
//!                                                   -> Result<Option<Vec<f32>>, ModelError>
//! ```
//!
//! A [`TrainedFold`] holds everything evaluation and reports need without retraining: the best
//! epoch's weights (a copy, not a view of the live ones), the per-epoch history, the best epoch
//! and the out-of-fold outputs of the validation songs under those weights.
//!
//! # The recipe (every knob is a spec key; defaults are the student pipeline's)
//!
//! Mini-batches (`schedule.batch_size`) over the training songs, reshuffled every epoch; the
//! last batch may be smaller and no batch is ever empty. Per batch: feature noise
//! (`augment.feature_noise`), modality dropout (`augment.modality_dropout`, never every present
//! modality of a song), mixup (`augment.mixup_alpha`) of inputs, masks and label-smoothed
//! (`augment.label_smoothing`) targets, optional class weights (`schedule.class_weights`:
//! inverse class frequency, or each tag's negatives over positives), the task's loss
//! (`task.kind`: soft-target cross-entropy, MSE or CCC, binary cross-entropy), AdamW
//! (`schedule.lr`, `weight_decay`, `beta1`, `beta2`, `eps`) at the rate of the
//! cosine-with-warm-restarts schedule (`t0`, `t_mult`, `eta_min`, advanced per `step` or per
//! epoch). After each epoch the validation songs are evaluated; the epoch with the best
//! validation score (macro-F1, mean CCC, macro ROC-AUC) is kept and training stops after
//! `schedule.patience` epochs without improvement.
//!
//! # Determinism
//!
//! Same data, settings and seed give bit-identical weights, history and predictions on one
//! machine, whatever the thread count: every random draw comes from a
//! [`RandomStream`] keyed by the seed and named `train/fold-<k>/<purpose>` (purposes `init`,
//! `shuffle`, `augment`, `dropout`, so turning one augmentation off leaves the other draws as
//! they were), each fold has its own tensor device, and dfdx's multi-threaded matmul (gemm)
//! splits work over output blocks only, never over the summation, so the thread count does
//! not change any sum (`tests/model_train.rs` and the bench's weight fingerprints check it).

pub mod adamw;
mod augment;
mod error;
mod fusion;
mod layers;
mod metrics;
mod network;
mod objective;
pub mod schedule;
mod settings;
mod stacking;
mod targets;
mod train;

pub use crate::spec::{SettingError, TrainSettings};
pub use error::ModelError;
pub use network::LATE_WEIGHTS;
pub use settings::CheckedSettings;
pub use stacking::{BranchPredictions, cross_fit, fit_weights};
pub use targets::Targets;
pub use train::{train_fold, train_folds};

/// Training from given initial weights over given batch orders, returning every batch's loss
/// and the final weights: the hook that lets a reference implementation (PyTorch, in
/// `tests/model_reference.rs`) be compared step by step. Not meant for pipelines.
#[doc(hidden)]
pub use train::train_in_order;

use crate::modality::Modality;
use crate::rng::RandomStream;
use crate::spec::{ModelSection, TaskKind};

use network::{Architecture, FusionNet};
use objective::Objective;

/// One fold's inputs: rows are songs, features already normalized for this fold.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldData {
    /// The selected modalities, in [`Modality::ALL`] order.
    pub modalities: Vec<ModalityInput>,
    /// Each row's class, target values or tags; their kind must be the settings' `task.kind`.
    pub targets: Targets,
    /// Rows to train on.
    pub train_rows: Vec<usize>,
    /// Rows to validate on (early stopping and out-of-fold predictions).
    pub valid_rows: Vec<usize>,
}

/// One modality's feature matrix with its presence flags.
#[derive(Debug, Clone, PartialEq)]
pub struct ModalityInput {
    /// Which modality.
    pub modality: Modality,
    /// Features per song.
    pub width: usize,
    /// rows x width, row-major; the values of absent rows are ignored (read as zeros).
    pub features: Vec<f32>,
    /// Whether each row (song) has this modality.
    pub present: Vec<bool>,
}

/// One tensor of a trained network.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// Structural name: `encoder.<modality>.<layer>.linear.{weight,bias}` (weights stored
    /// `(inputs, outputs)`), `...norm.{gain,shift,running_mean,running_var}`, `head.<layer>...`,
    /// `classifier.{weight,bias}`.
    pub name: String,
    /// `[rows, cols]` or `[len]`.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

/// Every parameter and buffer of a trained network: enough, with the `[model]` section, to
/// rebuild it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NamedTensors(pub Vec<NamedTensor>);

impl NamedTensors {
    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&NamedTensor> {
        self.0.iter().find(|t| t.name == name)
    }
}

/// One epoch of a fold's training.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// 0-based epoch.
    pub epoch: usize,
    /// Mean training objective over the epoch's batches (augmented, smoothed targets).
    pub train_loss: f64,
    /// The task's loss on the validation songs (no augmentation, smoothing or weights):
    /// cross-entropy, MSE or 1 - CCC, binary cross-entropy.
    pub valid_loss: f64,
    /// Validation accuracy (classification; NaN for the other kinds).
    pub valid_accuracy: f64,
    /// The number the best epoch is chosen by: macro-F1 over the classes occurring in truth
    /// or prediction (classification), mean CCC over targets (regression), macro ROC-AUC over
    /// the tags with both classes among the validation songs (multi-label).
    pub valid_score: f64,
    /// Learning rate at the epoch's first step.
    pub learning_rate: f64,
}

/// One trained fold: the `train[k]` artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedFold {
    /// The best epoch's weights.
    pub weights: NamedTensors,
    /// One record per epoch that ran (fewer than `schedule.epochs` after early stopping).
    pub history: Vec<EpochRecord>,
    /// The epoch whose weights were kept (best validation score, earliest on ties).
    pub best_epoch: usize,
    /// Validation songs' outputs under the kept weights (class probabilities, values or tag
    /// probabilities), `valid_rows x outputs` in the order of [`FoldData::valid_rows`].
    pub valid_probabilities: Vec<f32>,
}

/// Test-time augmentation for [`predict`]: feature noise and modality dropout as in training
/// (never every present modality). To hide a modality outright, clear its `present` flags.
#[derive(Debug)]
pub struct Perturbation<'a> {
    /// Standard deviation of Gaussian noise on present features.
    pub feature_noise: f64,
    /// Per-song, per-modality drop probability.
    pub modality_dropout: f64,
    /// The stream to draw from, e.g. `RandomStream::new(seed, "evaluate/tta/pass-2")`.
    pub rng: &'a mut RandomStream,
}

/// Rebuilds a trained network from `weights` and the `[model]` section it was trained with,
/// and returns its outputs for `rows` of `inputs` (`rows.len() x outputs`: class
/// probabilities, target values or tag probabilities, as `task` says), optionally perturbed
/// for test-time augmentation.
pub fn predict(
    weights: &NamedTensors,
    (model, task): (&ModelSection, TaskKind),
    inputs: &[ModalityInput],
    rows: &[usize],
    mut perturbation: Option<Perturbation<'_>>,
) -> Result<Vec<f32>, ModelError> {
    let (mut net, outputs) = rebuild(weights, (model, task), inputs, rows)?;
    Ok(train::evaluate_inputs(
        &mut net,
        (inputs, rows),
        (Objective::of_kind(task), outputs),
        perturbation.as_mut(),
    ))
}

/// Per song of `rows`, the weight a trained fusion gives each of the `inputs`' modalities
/// (`rows.len() x modalities`: a gate's share, the attention a modality receives averaged
/// over the song's present modalities, or a stacking weight's share over the song's present
/// modalities; zero for a missing one); `None` for a model that learns no such weight.
pub fn modality_weights(
    weights: &NamedTensors,
    (model, task): (&ModelSection, TaskKind),
    inputs: &[ModalityInput],
    rows: &[usize],
) -> Result<Option<Vec<f32>>, ModelError> {
    let (mut net, _) = rebuild(weights, (model, task), inputs, rows)?;
    Ok(train::modality_weights_of_inputs(&mut net, (inputs, rows)))
}

/// Late fusion's branches on their own: per modality of `inputs`, each branch's raw outputs
/// for `rows` (`rows.len() x outputs`: class logits, values, tag logits), whether or not a
/// song has the modality; `None` for a model that is not a late fusion. Stacking fits its
/// weights on these ([`fit_weights`]).
pub fn branch_outputs(
    weights: &NamedTensors,
    (model, task): (&ModelSection, TaskKind),
    inputs: &[ModalityInput],
    rows: &[usize],
) -> Result<Option<Vec<Vec<f32>>>, ModelError> {
    let (mut net, outputs) = rebuild(weights, (model, task), inputs, rows)?;
    Ok(train::branch_outputs_of_inputs(
        &mut net,
        (inputs, rows),
        outputs,
    ))
}

/// The network `weights` were trained as, for `inputs` and `rows`, with its output count.
fn rebuild(
    weights: &NamedTensors,
    (model, task): (&ModelSection, TaskKind),
    inputs: &[ModalityInput],
    rows: &[usize],
) -> Result<(FusionNet, usize), ModelError> {
    // `classifier.bias`, or late fusion's `classifier.<modality>.bias`.
    let outputs = (weights.0.iter())
        .find(|t| t.name.starts_with("classifier.") && t.name.ends_with(".bias"))
        .map(|t| t.values.len())
        .ok_or_else(|| ModelError::WeightsMismatch("no tensor named classifier.bias".into()))?;
    check_inputs(inputs, None)?;
    let total = inputs[0].present.len();
    if let Some(&row) = rows.iter().find(|&&r| r >= total) {
        return Err(ModelError::InconsistentData(format!(
            "row {row} asked for, but the inputs have {total} rows"
        )));
    }
    let architecture = Architecture {
        inputs: inputs.iter().map(|m| (m.modality, m.width)).collect(),
        outputs,
        task,
    };
    // Every initial value is overwritten by `load`; the stream only fills the shapes.
    let mut unused = RandomStream::new(0, "predict/placeholder-init");
    let mut net = FusionNet::new(model, &architecture, &mut unused);
    net.load(weights)?;
    Ok((net, outputs))
}

/// Checks that modality inputs are non-empty, ordered, and consistent in their row counts;
/// `rows` is the expected row count if known.
fn check_inputs(inputs: &[ModalityInput], rows: Option<usize>) -> Result<(), ModelError> {
    let first = inputs.first().ok_or(ModelError::NoModality)?;
    let rows = rows.unwrap_or(first.present.len());
    let bad = |msg: String| Err(ModelError::InconsistentData(msg));
    for pair in inputs.windows(2) {
        if pair[0].modality >= pair[1].modality {
            return bad(format!(
                "modalities must be distinct and in canonical order, found {} before {}",
                pair[0].modality, pair[1].modality
            ));
        }
    }
    for input in inputs {
        let m = input.modality;
        if input.width == 0 {
            return bad(format!("modality {m} has zero features"));
        }
        if input.present.len() != rows || input.features.len() != rows * input.width {
            return bad(format!(
                "modality {m}: {} presence flags and {} values for {rows} rows of width {}",
                input.present.len(),
                input.features.len(),
                input.width
            ));
        }
        let non_finite = (input.features.chunks_exact(input.width).enumerate())
            .find(|(row, values)| input.present[*row] && values.iter().any(|v| !v.is_finite()));
        if let Some((row, _)) = non_finite {
            return bad(format!(
                "modality {m}, row {row}: a feature is NaN or infinite"
            ));
        }
    }
    Ok(())
}

impl FoldData {
    /// Checks that the parts fit together before any training starts.
    pub(crate) fn check(&self, fold: usize, kind: TaskKind) -> Result<(), ModelError> {
        let rows = self.targets.rows();
        check_inputs(&self.modalities, Some(rows))?;
        let bad = |msg: String| Err(ModelError::InconsistentData(msg));
        if let Some(problem) = self.targets.problem() {
            return bad(problem);
        }
        if self.targets.kind() != kind {
            return bad(format!(
                "{:?} targets, but the settings' task.kind is {kind:?}",
                self.targets.kind()
            ));
        }
        for (which, list) in [
            ("training", &self.train_rows),
            ("validation", &self.valid_rows),
        ] {
            if list.is_empty() {
                return Err(ModelError::EmptyFold { fold, which });
            }
            if let Some(row) = list.iter().find(|&&r| r >= rows) {
                return bad(format!("{which} row {row} with {rows} rows"));
            }
        }
        Ok(())
    }
}
