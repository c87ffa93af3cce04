//! The `evaluate@S` stage: every fold model of seed S on the hold-out test set, plain and with
//! test-time augmentation, their ensembles, the pooled out-of-fold validation predictions and
//! the folds' histories, so the report needs nothing else; and its artifact.
//!
//! | array                 | type, shape                    | what                                   |
//! |-----------------------|--------------------------------|----------------------------------------|
//! | `test_ids`            | `strings [songs]`              | the hold-out test songs                |
//! | `test_labels`         | `i64 [songs]`                  | their class (or stratum) indices       |
//! | `modalities`          | `strings [modalities]`         | the selected modalities                |
//! | `test_present`        | `u8 [songs, modalities]`       | whether each song has each             |
//! | `models`              | `strings [models]`             | see below                              |
//! | `test_probabilities`  | `f32 [models, songs, outputs]` | every model's test outputs (class or tag probabilities, target values) |
//! | `test_modality_weights` | `f32 [songs, modalities]`    | gated, attention, stacked late fusion: each modality's weight per song |
//! | `stacking_weights`    | `f32 [modalities]`             | stacked late fusion: the weights fit on every out-of-fold song |
//! | `valid_macro_f1`      | `f64 [folds]`                  | each fold's validation macro-F1        |
//! | `oof_ids`, `oof_labels`, `oof_fold` | `[valid songs]`  | pooled out-of-fold validation songs    |
//! | `oof_probabilities`   | `f32 [valid songs, outputs]`   | their outputs                          |
//! | `history.fold`, `history.epoch`, `history.<column>` | `[epochs of all folds]` | the folds' histories |
//! | `best_epoch`          | `i64 [folds]`                  | each fold's kept epoch                 |
//!
//! Stacking (`model.late.combine = "stacking"`) fits late fusion's modality weights on the
//! pooled out-of-fold branch outputs; every test output uses those weights, and the stored
//! out-of-fold outputs are cross-fit (each fold's songs combined by weights fit on the other
//! folds' songs), so cross-validation scores stay out of sample.
//!
//! Models: `fold-<k>` (each fold model alone), `ensemble` (the spec's `eval.ensemble` method),
//! `ensemble+tta` (the same over `eval.tta_passes` noisy passes per fold model: the headline),
//! and the two other methods as `ensemble:<method>` for comparison.

use serde::Serialize;

use crate::cache::{Artifact, StageInputs};
use crate::eval::Ensemble;
use crate::eval::ensemble::combine_outputs;
use crate::model::{
    BranchPredictions, LATE_WEIGHTS, ModalityInput, NamedTensor, NamedTensors, Perturbation,
    branch_outputs, cross_fit, fit_weights, modality_weights, predict,
};
use crate::pipeline::error::PipelineError;
use crate::pipeline::stage_id::StageKind;
use crate::results::{Combination, Model, UnknownName};
use crate::rng::RandomStream;
use crate::spec::{EvalSection, ExperimentSpec, Fusion, LateCombine, ModelSection, TaskKind};

use super::mock;
use super::protocol::{Artifacts, Compute, Stage, StageContext, Upstream, is_real, key_config};
use super::split::SplitArtifact;
use super::train::{
    BEST_EPOCH, FoldHistory, HISTORY, HISTORY_EPOCH, TrainArtifact, fold_targets, history_name,
    model_inputs,
};
use super::view::{
    f32_array, f64_array, i64_array, indices_below, malformed, missing, sized, strings,
};

/// The stage's name.
pub(crate) const NAME: &str = "evaluate";
/// Fold models, ensembles and test-time augmentation on the hold-out test set (1 stored the
/// number of fold models as a placeholder).
pub(crate) const VERSION: u32 = 2;

/// Everything evaluation reads: its key slice, but for the model's architecture.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EvaluateParams {
    /// Ensemble and test-time augmentation; `bootstrap` is read by the report, not here, but
    /// stays in the key so that keys stay as they were.
    eval: EvalSection,
    seed: u64,
    /// The architecture the fold weights are run with: already in the key through every
    /// `train[k]` key, so left out of this one (keys stay as they were).
    #[serde(skip)]
    model: ModelSection,
    /// What the model outputs: in every `train[k]` key already (through `task`).
    #[serde(skip)]
    task: TaskKind,
    /// Late fusion's combination, which training leaves out of its keys; absent from the key
    /// for the plain mean (keys stay as they were).
    #[serde(skip_serializing_if = "LateCombine::is_average")]
    late_combine: LateCombine,
    /// Mock mode ([`Compute::Mock`]); absent from real keys.
    #[serde(skip_serializing_if = "is_real")]
    mock: bool,
}

impl EvaluateParams {
    pub(crate) fn new(spec: &ExperimentSpec, seed: u64, compute: Compute) -> Self {
        EvaluateParams {
            eval: spec.eval.clone(),
            seed,
            model: spec.model.clone(),
            task: spec.task.kind,
            late_combine: spec.model.late.combine,
            mock: compute.is_mock(),
        }
    }
}

/// What evaluation reads of fold k.
#[derive(Debug, Clone)]
pub(crate) struct FoldUpstream {
    /// Fold k's normalized test songs.
    pub(crate) normalize: Upstream,
    /// Fold k's model.
    pub(crate) train: Upstream,
}

/// The evaluation of one seed.
#[derive(Debug, Clone)]
pub(crate) struct Evaluate {
    pub(crate) params: EvaluateParams,
    /// The test songs and their labels.
    pub(crate) split: Upstream,
    /// Per fold, in fold order.
    pub(crate) folds: Vec<FoldUpstream>,
}

impl Stage for Evaluate {
    fn kind(&self) -> StageKind {
        StageKind::new(NAME)
    }

    /// The key names each fold model by its instance; the split's and normalized features'
    /// keys already enter through the train keys.
    fn inputs(&self) -> StageInputs {
        let mut inputs = StageInputs::new(NAME, VERSION).config(key_config(&self.params));
        for fold in &self.folds {
            inputs = inputs.upstream(fold.train.instance.clone(), fold.train.key);
        }
        inputs
    }

    fn upstream(&self) -> Vec<usize> {
        let normalizes = self.folds.iter().map(|f| f.normalize.index);
        let trains = self.folds.iter().map(|f| f.train.index);
        std::iter::once(self.split.index)
            .chain(normalizes)
            .chain(trains)
            .collect()
    }

    /// Scores the hold-out test set with every fold model, plain and with test-time
    /// augmentation, and combines them.
    fn compute(
        &self,
        artifact: &mut Artifact,
        upstream: Artifacts<'_>,
        cx: &StageContext<'_>,
    ) -> Result<(), PipelineError> {
        let (classes, outputs) = (cx.classes(), cx.outputs());
        let split = SplitArtifact::read(upstream.of(&self.split), classes)?;
        let test_rows = split.test_rows();
        let stacked = match self.stacks() {
            true => Some(self.stack(&split, &upstream, cx)?),
            false => None,
        };
        let (mut plain, mut augmented, mut trains) = (Vec::new(), Vec::new(), Vec::new());
        let mut presence = None;
        let mut fold_weights = Vec::new();
        for (fold, inputs) in self.folds.iter().enumerate() {
            let modalities = model_inputs(&split, upstream.of(&inputs.normalize))?;
            let mut train = TrainArtifact::read(upstream.of(&inputs.train), outputs)?;
            if let Some(stacked) = &stacked {
                with_stacking(&mut train.weights, &stacked.weights);
            }
            let (p, a) =
                self.fold_predictions(fold, &train.weights, &modalities, (&test_rows, outputs))?;
            plain.push(p);
            augmented.push(a);
            fold_weights.push(self.fold_modality_weights(
                &train.weights,
                &modalities,
                &test_rows,
            )?);
            trains.push(train);
            presence.get_or_insert_with(|| {
                let names: Vec<String> = modalities
                    .iter()
                    .map(|m| m.modality.name().into())
                    .collect();
                let flags: Vec<u8> = test_rows
                    .iter()
                    .flat_map(|&r| modalities.iter().map(move |m| u8::from(m.present[r])))
                    .collect();
                (names, flags)
            });
        }
        let valid_f1: Vec<f64> = trains
            .iter()
            .map(TrainArtifact::best_valid_macro_f1)
            .collect();
        let models = ensembles(
            self.params.eval.ensemble,
            (&plain, &augmented),
            (self.params.task, outputs),
            &valid_f1,
        );
        let (modalities, present) = presence.unwrap_or_default();
        let mut oof = OutOfFold::pool(&split, &trains);
        if let Some(stacked) = &stacked {
            oof.probabilities = stacked.out_of_fold.clone();
        }
        EvaluateArtifact {
            test: TestPredictions {
                ids: test_rows.iter().map(|&r| split.ids[r].clone()).collect(),
                labels: test_rows.iter().map(|&r| split.labels[r]).collect(),
                modalities,
                present,
                models: models.iter().map(|&(m, _)| m).collect(),
                probabilities: models.into_iter().flat_map(|(_, p)| p).collect(),
                modality_weights: mean_over_folds(fold_weights),
                stacking_weights: stacked.map(|s| s.weights),
            },
            valid_macro_f1: valid_f1,
            oof,
            history: PooledHistory::pool(&trains),
        }
        .write(artifact, outputs);
        Ok(())
    }
}

/// Stacking's fit: the modality weights, and the out-of-fold outputs they give (cross-fit), in
/// the order of [`OutOfFold::pool`].
struct Stacked {
    weights: Vec<f32>,
    out_of_fold: Vec<f32>,
}

impl Evaluate {
    /// Whether late fusion's outputs are combined by stacking (never in mock mode, which has no
    /// branches to stack).
    fn stacks(&self) -> bool {
        let EvaluateParams { model, mock, .. } = &self.params;
        !mock && model.fusion == Fusion::Late && self.params.late_combine == LateCombine::Stacking
    }

    /// Fits stacking on every fold's branch outputs for its validation songs.
    fn stack(
        &self,
        split: &SplitArtifact,
        upstream: &Artifacts<'_>,
        cx: &StageContext<'_>,
    ) -> Result<Stacked, PipelineError> {
        let (classes, outputs) = (cx.classes(), cx.outputs());
        let targets = fold_targets(split, &cx.data.targets, classes)?;
        let row_of: std::collections::HashMap<&str, usize> = (split.ids.iter().enumerate())
            .map(|(r, id)| (id.as_str(), r))
            .collect();
        let mut pooled = PooledBranches::default();
        for (fold, inputs) in self.folds.iter().enumerate() {
            let modalities = model_inputs(split, upstream.of(&inputs.normalize))?;
            let train = TrainArtifact::read(upstream.of(&inputs.train), outputs)?;
            // Aligned with the stored out-of-fold songs, which the cross-fit outputs replace.
            let rows = (train.valid_ids.iter())
                .map(|id| {
                    row_of.get(id.as_str()).copied().ok_or_else(|| {
                        malformed(
                            upstream.of(&inputs.train),
                            format!("song {id} is not in the split"),
                        )
                    })
                })
                .collect::<Result<Vec<usize>, PipelineError>>()?;
            let model = (&self.params.model, self.params.task);
            let branches =
                branch_outputs(&train.weights, model, &modalities, &rows)?.ok_or_else(|| {
                    PipelineError::Model(crate::model::ModelError::WeightsMismatch(
                        "stacking needs a late fusion's branches".into(),
                    ))
                })?;
            pooled.add(
                fold,
                (&branches, &modalities, &rows),
                targets.rows_of(&rows, 0.0),
            );
        }
        let predictions = BranchPredictions {
            outputs: &pooled.outputs,
            present: &pooled.present,
            targets: &pooled.targets,
            width: outputs,
            task: self.params.task,
        };
        Ok(Stacked {
            weights: fit_weights(&predictions)
                .iter()
                .map(|&w| w as f32)
                .collect(),
            out_of_fold: cross_fit(&predictions, &pooled.fold),
        })
    }

    /// Fold `weights`' modality weights on the test `rows`, for fusions that learn them.
    fn fold_modality_weights(
        &self,
        weights: &NamedTensors,
        inputs: &[ModalityInput],
        rows: &[usize],
    ) -> Result<Option<Vec<f32>>, PipelineError> {
        if self.params.mock {
            return Ok(None);
        }
        let model = (&self.params.model, self.params.task);
        Ok(modality_weights(weights, model, inputs, rows)?)
    }

    /// Fold `fold`'s test probabilities, plain and with test-time augmentation (in mock mode,
    /// made up from the seed).
    fn fold_predictions(
        &self,
        fold: usize,
        weights: &NamedTensors,
        inputs: &[ModalityInput],
        (rows, outputs): (&[usize], usize),
    ) -> Result<(Vec<f32>, Vec<f32>), PipelineError> {
        let EvaluateParams { seed, mock, .. } = self.params;
        if mock {
            let draw = |purpose: &str| {
                let purpose = format!("evaluate/{purpose}/fold-{fold}");
                mock::probabilities(seed, &purpose, rows.len(), outputs)
            };
            return Ok((draw("plain"), draw("tta")));
        }
        fold_outputs(&self.params, fold, weights, inputs, rows)
    }
}

/// Fold `fold`'s outputs for `rows`, plain and with test-time augmentation: the hold-out
/// test songs here, new songs in `mer predict`, by the same computation. The augmentation's
/// noise is drawn in `rows` order, so the same songs in the same order get the same outputs.
pub(crate) fn fold_outputs(
    params: &EvaluateParams,
    fold: usize,
    weights: &NamedTensors,
    inputs: &[ModalityInput],
    rows: &[usize],
) -> Result<(Vec<f32>, Vec<f32>), PipelineError> {
    Ok((
        predict(weights, (&params.model, params.task), inputs, rows, None)?,
        tta(params, fold, weights, inputs, rows)?,
    ))
}

/// Adds stacked late fusion's modality weights to a fold model's tensors, as the network
/// reads them.
pub(crate) fn with_stacking(weights: &mut NamedTensors, stacking: &[f32]) {
    weights.0.push(NamedTensor {
        name: LATE_WEIGHTS.into(),
        shape: vec![stacking.len()],
        values: stacking.to_vec(),
    });
}

/// The stacking weights an evaluate artifact stores, when late fusion was stacked.
pub(crate) fn stored_stacking_weights(
    evaluation: &Artifact,
) -> Result<Option<Vec<f32>>, PipelineError> {
    match evaluation.array(STACKING_WEIGHTS) {
        None => Ok(None),
        Some(_) => Ok(Some(f32_array(evaluation, STACKING_WEIGHTS)?.to_vec())),
    }
}

/// Every fold's branch outputs for its validation songs, pooled for stacking.
#[derive(Debug, Default)]
struct PooledBranches {
    /// Per modality, `songs x outputs`.
    outputs: Vec<Vec<f32>>,
    /// Per modality, 1 where the song has it.
    present: Vec<Vec<f32>>,
    targets: Vec<f32>,
    fold: Vec<usize>,
}

impl PooledBranches {
    fn add(
        &mut self,
        fold: usize,
        (branches, modalities, rows): (&[Vec<f32>], &[ModalityInput], &[usize]),
        targets: Vec<f32>,
    ) {
        self.outputs.resize(branches.len(), Vec::new());
        self.present.resize(modalities.len(), Vec::new());
        for (pooled, branch) in self.outputs.iter_mut().zip(branches) {
            pooled.extend_from_slice(branch);
        }
        for (pooled, modality) in self.present.iter_mut().zip(modalities) {
            pooled.extend(
                rows.iter()
                    .map(|&r| f32::from(u8::from(modality.present[r]))),
            );
        }
        self.targets.extend(targets);
        self.fold.extend(std::iter::repeat_n(fold, rows.len()));
    }
}

/// The element-wise mean of the folds' modality weights, when every fold has them.
fn mean_over_folds(folds: Vec<Option<Vec<f32>>>) -> Option<Vec<f32>> {
    let folds: Vec<Vec<f32>> = folds.into_iter().collect::<Option<_>>()?;
    let first = folds.first()?;
    let count = folds.len() as f32;
    Some(
        (0..first.len())
            .map(|i| folds.iter().map(|f| f[i]).sum::<f32>() / count)
            .collect(),
    )
}

/// Every model's test outputs: each fold model, the spec's ensemble plain and with test-time
/// augmentation (the headline), and the other ensemble methods for comparison.
pub(crate) fn ensembles(
    method: Ensemble,
    (plain, augmented): (&[Vec<f32>], &[Vec<f32>]),
    outputs: (TaskKind, usize),
    valid_scores: &[f64],
) -> Vec<(Model, Vec<f32>)> {
    let mut models: Vec<(Model, Vec<f32>)> = plain
        .iter()
        .enumerate()
        .map(|(k, p)| (Model::Fold(k), p.clone()))
        .collect();
    let combined = |how, folds: &[Vec<f32>]| combine_outputs(how, folds, outputs, valid_scores);
    models.push((Model::Ensemble, combined(method, plain)));
    models.push((Model::HEADLINE, combined(method, augmented)));
    for other in [Ensemble::Mean, Ensemble::Vote, Ensemble::BestFold] {
        if other != method {
            let model = Model::Alternative(combination(other));
            models.push((model, combined(other, plain)));
        }
    }
    models
}

/// The result vocabulary's word for an ensemble method of the spec.
fn combination(method: Ensemble) -> Combination {
    match method {
        Ensemble::Mean => Combination::Mean,
        Ensemble::Vote => Combination::Vote,
        Ensemble::BestFold => Combination::BestFold,
    }
}

/// `eval.tta_passes` passes with `eval.tta_noise` feature noise and
/// `eval.tta_modality_dropout`, averaged; one pass, or no perturbation at all, is the plain
/// prediction.
fn tta(
    params: &EvaluateParams,
    fold: usize,
    weights: &NamedTensors,
    inputs: &[ModalityInput],
    rows: &[usize],
) -> Result<Vec<f32>, PipelineError> {
    let (eval, model) = (&params.eval, &params.model);
    let passes = eval.tta_passes.max(1);
    if passes == 1 || (eval.tta_noise == 0.0 && eval.tta_modality_dropout == 0.0) {
        return Ok(predict(weights, (model, params.task), inputs, rows, None)?);
    }
    let mut sum: Vec<f32> = Vec::new();
    for pass in 0..passes {
        let purpose = format!("evaluate/tta/fold-{fold}/pass-{pass}");
        let mut rng = RandomStream::new(params.seed, &purpose);
        let perturbation = Perturbation {
            feature_noise: eval.tta_noise,
            modality_dropout: eval.tta_modality_dropout,
            rng: &mut rng,
        };
        let p = predict(
            weights,
            (model, params.task),
            inputs,
            rows,
            Some(perturbation),
        )?;
        if sum.is_empty() {
            sum = p;
        } else {
            sum.iter_mut().zip(p).for_each(|(s, v)| *s += v);
        }
    }
    sum.iter_mut().for_each(|s| *s /= passes as f32);
    Ok(sum)
}

const TEST_IDS: &str = "test_ids";
const TEST_LABELS: &str = "test_labels";
const TEST_PRESENT: &str = "test_present";
const MODALITIES: &str = "modalities";
const MODELS: &str = "models";
const TEST_PROBABILITIES: &str = "test_probabilities";
const TEST_MODALITY_WEIGHTS: &str = "test_modality_weights";
const STACKING_WEIGHTS: &str = "stacking_weights";
const VALID_MACRO_F1: &str = "valid_macro_f1";
const OOF_IDS: &str = "oof_ids";
const OOF_LABELS: &str = "oof_labels";
const OOF_FOLD: &str = "oof_fold";
const OOF_PROBABILITIES: &str = "oof_probabilities";
const HISTORY_FOLD: &str = "history.fold";

/// Every model's predictions for the hold-out test songs.
#[derive(Debug, Clone)]
pub(crate) struct TestPredictions {
    pub(crate) ids: Vec<String>,
    pub(crate) labels: Vec<usize>,
    /// The selected modalities' names.
    pub(crate) modalities: Vec<String>,
    /// `ids.len() x modalities.len()`: 1 where the song has the modality.
    pub(crate) present: Vec<u8>,
    pub(crate) models: Vec<Model>,
    /// `models.len() x ids.len() x classes`.
    pub(crate) probabilities: Vec<f32>,
    /// `ids.len() x modalities.len()`: the weight a gated, attention or stacked late fusion gives each
    /// modality of each song, mean over the fold models; absent for other designs.
    pub(crate) modality_weights: Option<Vec<f32>>,
    /// Stacked late fusion: each modality's weight, fit on the out-of-fold songs.
    pub(crate) stacking_weights: Option<Vec<f32>>,
}

/// The folds' validation predictions, pooled.
#[derive(Debug, Clone)]
pub(crate) struct OutOfFold {
    pub(crate) ids: Vec<String>,
    pub(crate) labels: Vec<usize>,
    pub(crate) fold: Vec<i64>,
    /// `ids.len() x classes`.
    pub(crate) probabilities: Vec<f32>,
}

impl OutOfFold {
    fn pool(split: &SplitArtifact, trains: &[TrainArtifact]) -> Self {
        let label_of: std::collections::HashMap<&str, usize> = split
            .ids
            .iter()
            .zip(&split.labels)
            .map(|(id, &l)| (id.as_str(), l))
            .collect();
        let mut pooled = OutOfFold {
            ids: vec![],
            labels: vec![],
            fold: vec![],
            probabilities: vec![],
        };
        for (fold, train) in trains.iter().enumerate() {
            for id in &train.valid_ids {
                pooled
                    .labels
                    .push(label_of.get(id.as_str()).copied().unwrap_or(0));
                pooled.fold.push(fold as i64);
            }
            pooled.ids.extend(train.valid_ids.iter().cloned());
            pooled
                .probabilities
                .extend_from_slice(&train.valid_probabilities);
        }
        pooled
    }
}

/// The folds' histories, pooled, with each row's fold, and each fold's kept epoch.
#[derive(Debug, Clone)]
pub(crate) struct PooledHistory {
    pub(crate) fold: Vec<i64>,
    /// Every fold's epochs, 0-based, with their columns.
    pub(crate) epochs: FoldHistory,
    /// Per fold, 0-based.
    pub(crate) best_epoch: Vec<usize>,
}

impl PooledHistory {
    fn pool(trains: &[TrainArtifact]) -> Self {
        let mut pooled = PooledHistory {
            fold: vec![],
            epochs: FoldHistory::default(),
            best_epoch: vec![],
        };
        for (fold, train) in trains.iter().enumerate() {
            let epochs = &train.history.epoch;
            pooled.epochs.epoch.extend_from_slice(epochs);
            pooled
                .fold
                .extend(std::iter::repeat_n(fold as i64, epochs.len()));
            for (out, column) in pooled.epochs.columns.iter_mut().zip(&train.history.columns) {
                out.extend_from_slice(column);
            }
            pooled.best_epoch.push(train.best_epoch as usize);
        }
        pooled
    }
}

/// The evaluate artifact (see the module doc), which the report reads.
#[derive(Debug, Clone)]
pub(crate) struct EvaluateArtifact {
    pub(crate) test: TestPredictions,
    pub(crate) valid_macro_f1: Vec<f64>,
    pub(crate) oof: OutOfFold,
    pub(crate) history: PooledHistory,
}

fn as_i64(values: &[usize]) -> Vec<i64> {
    values.iter().map(|&v| v as i64).collect()
}

impl EvaluateArtifact {
    fn write(self, artifact: &mut Artifact, outputs: usize) {
        let EvaluateArtifact {
            test,
            valid_macro_f1,
            oof,
            history,
        } = self;
        let n = test.ids.len();
        let models = test.models.len();
        let modalities = test.modalities.len();
        artifact
            .put_strings(TEST_IDS, test.ids)
            .put_i64(TEST_LABELS, &[n], as_i64(&test.labels))
            .put_u8(TEST_PRESENT, &[n, test.modalities.len()], test.present)
            .put_strings(MODALITIES, test.modalities)
            .put_strings(MODELS, test.models.iter().map(Model::to_string).collect())
            .put_f32(
                TEST_PROBABILITIES,
                &[models, n, outputs],
                test.probabilities,
            )
            .put_f64(VALID_MACRO_F1, &[valid_macro_f1.len()], valid_macro_f1);
        if let Some(weights) = test.modality_weights {
            artifact.put_f32(TEST_MODALITY_WEIGHTS, &[n, modalities], weights);
        }
        if let Some(weights) = test.stacking_weights {
            artifact.put_f32(STACKING_WEIGHTS, &[modalities], weights);
        }
        let n = oof.ids.len();
        artifact
            .put_strings(OOF_IDS, oof.ids)
            .put_i64(OOF_LABELS, &[n], as_i64(&oof.labels))
            .put_i64(OOF_FOLD, &[n], oof.fold)
            .put_f32(OOF_PROBABILITIES, &[n, outputs], oof.probabilities);
        let e = history.epochs.epoch.len();
        let folds = history.best_epoch.len();
        artifact
            .put_i64(HISTORY_FOLD, &[e], history.fold)
            .put_i64(HISTORY_EPOCH, &[e], history.epochs.epoch)
            .put_i64(BEST_EPOCH, &[folds], as_i64(&history.best_epoch));
        for (column, values) in HISTORY.iter().zip(history.epochs.columns) {
            artifact.put_f64(&history_name(column), &[e], values);
        }
    }

    /// Every array the report reads, checked against each other, with labels below
    /// `classes` and `outputs` values per song.
    pub(crate) fn read(
        evaluation: &Artifact,
        (classes, outputs): (usize, usize),
    ) -> Result<Self, PipelineError> {
        Ok(EvaluateArtifact {
            test: read_test(evaluation, (classes, outputs))?,
            valid_macro_f1: f64_array(evaluation, VALID_MACRO_F1)?.to_vec(),
            oof: read_oof(evaluation, (classes, outputs))?,
            history: read_history(evaluation)?,
        })
    }
}

fn read_test(
    evaluation: &Artifact,
    (classes, outputs): (usize, usize),
) -> Result<TestPredictions, PipelineError> {
    let labels = indices_below(
        evaluation,
        TEST_LABELS,
        i64_array(evaluation, TEST_LABELS)?,
        classes,
    )?;
    let n = labels.len();
    let models = read_models(evaluation)?;
    let probabilities = sized(
        evaluation,
        TEST_PROBABILITIES,
        f32_array(evaluation, TEST_PROBABILITIES)?,
        models.len() * n * outputs,
    )?;
    let ids = sized(evaluation, TEST_IDS, strings(evaluation, TEST_IDS)?, n)?;
    let modalities = strings(evaluation, MODALITIES)?;
    let present = evaluation
        .array(TEST_PRESENT)
        .and_then(|a| a.as_u8())
        .ok_or_else(|| missing(evaluation, TEST_PRESENT))?;
    let present = sized(evaluation, TEST_PRESENT, present, n * modalities.len())?;
    let optional = |name: &str, len: usize| -> Result<Option<Vec<f32>>, PipelineError> {
        match evaluation.array(name) {
            None => Ok(None),
            Some(_) => Ok(Some(
                sized(evaluation, name, f32_array(evaluation, name)?, len)?.to_vec(),
            )),
        }
    };
    Ok(TestPredictions {
        ids: ids.to_vec(),
        labels,
        modalities: modalities.to_vec(),
        present: present.to_vec(),
        models,
        probabilities: probabilities.to_vec(),
        modality_weights: optional(TEST_MODALITY_WEIGHTS, n * modalities.len())?,
        stacking_weights: optional(STACKING_WEIGHTS, modalities.len())?,
    })
}

/// The models the stage scored, in the order of its `test_probabilities`.
fn read_models(evaluation: &Artifact) -> Result<Vec<Model>, PipelineError> {
    strings(evaluation, MODELS)?
        .iter()
        .map(|name| {
            name.parse()
                .map_err(|e: UnknownName| malformed(evaluation, format!("array `{MODELS}`: {e}")))
        })
        .collect()
}

fn read_oof(
    evaluation: &Artifact,
    (classes, outputs): (usize, usize),
) -> Result<OutOfFold, PipelineError> {
    let labels = indices_below(
        evaluation,
        OOF_LABELS,
        i64_array(evaluation, OOF_LABELS)?,
        classes,
    )?;
    let fold = sized(
        evaluation,
        OOF_FOLD,
        i64_array(evaluation, OOF_FOLD)?,
        labels.len(),
    )?;
    let probabilities = sized(
        evaluation,
        OOF_PROBABILITIES,
        f32_array(evaluation, OOF_PROBABILITIES)?,
        labels.len() * outputs,
    )?;
    Ok(OutOfFold {
        ids: strings(evaluation, OOF_IDS)?.to_vec(),
        labels,
        fold: fold.to_vec(),
        probabilities: probabilities.to_vec(),
    })
}

fn read_history(evaluation: &Artifact) -> Result<PooledHistory, PipelineError> {
    let fold = i64_array(evaluation, HISTORY_FOLD)?;
    let rows = fold.len();
    let epoch = sized(
        evaluation,
        HISTORY_EPOCH,
        i64_array(evaluation, HISTORY_EPOCH)?,
        rows,
    )?;
    // Checked as indices, kept as stored.
    indices_below(evaluation, HISTORY_EPOCH, epoch, usize::MAX)?;
    let mut columns: [Vec<f64>; 5] = Default::default();
    for (column, out) in HISTORY.iter().zip(&mut columns) {
        let name = history_name(column);
        *out = sized(evaluation, &name, f64_array(evaluation, &name)?, rows)?.to_vec();
    }
    let best = i64_array(evaluation, BEST_EPOCH)?;
    Ok(PooledHistory {
        fold: fold.to_vec(),
        epochs: FoldHistory {
            epoch: epoch.to_vec(),
            columns,
        },
        best_epoch: indices_below(evaluation, BEST_EPOCH, best, usize::MAX)?,
    })
}
