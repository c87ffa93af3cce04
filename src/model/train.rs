//! The `train[k]` stage's work: one fold's training loop, and all folds in parallel.
//!
//! Randomness: every fold draws from its own streams, keyed by the spec's seed and named
//! `train/fold-<k>/<purpose>` with purposes `init` (weights), `shuffle` (epoch order),
//! `augment` (noise, modality dropout, mixup) and `dropout` (hidden-layer masks). Separate
//! purposes keep, e.g., the shuffling unchanged when mixup is turned off, and since nothing is
//! shared between folds, results do not depend on thread scheduling.

use rayon::prelude::*;

use crate::rng::RandomStream;

use super::adamw::AdamW;
use super::augment::{self, Batch};
use super::layers::{self, Matrix, Mode};
use super::network::{Architecture, FusionNet};
use super::objective::{Loss, Objective, Validation};
use super::schedule::LearningRate;
use super::settings::CheckedSettings;
use super::{EpochRecord, FoldData, ModelError, NamedTensors, TrainSettings, TrainedFold};
use crate::spec::{LateTraining, ScheduleStep};
use dfdx::shapes::HasShape;
use dfdx::tensor::TensorFromVec;

/// Rows per evaluation pass; bounds memory on large validation sets.
const EVAL_CHUNK: usize = 512;

/// Trains fold `fold` of `data` under `seed`; see the module docs of [`super`] for the recipe.
pub fn train_fold(
    data: &FoldData,
    settings: &TrainSettings<'_>,
    seed: u64,
    fold: usize,
) -> Result<TrainedFold, ModelError> {
    let checked = CheckedSettings::new(settings)?;
    data.check(fold, checked.task.kind)?;
    FoldTrainer::new(data, &checked, seed, fold).run()
}

/// Trains every fold (`folds[k]` is fold k) in parallel with rayon; results come back in fold
/// order and are identical whatever the thread count.
pub fn train_folds(
    folds: &[FoldData],
    settings: &TrainSettings<'_>,
    seed: u64,
) -> Result<Vec<TrainedFold>, ModelError> {
    let checked = CheckedSettings::new(settings)?;
    for (fold, data) in folds.iter().enumerate() {
        data.check(fold, checked.task.kind)?;
    }
    (folds.par_iter().enumerate())
        .map(|(fold, data)| FoldTrainer::new(data, &checked, seed, fold).run())
        .collect()
}

/// Trains fold `fold` from `initial` weights over the given epoch orders (no shuffling, no
/// validation, no early stopping) and returns every batch's loss and the final weights. Random
/// draws (augmentations, dropout) still come from the fold's streams. For step-by-step
/// comparison with a reference implementation; see [`super::train_in_order`].
pub fn train_in_order(
    data: &FoldData,
    settings: &TrainSettings<'_>,
    seed: u64,
    fold: usize,
    initial: &NamedTensors,
    orders: &[Vec<usize>],
) -> Result<(Vec<f32>, NamedTensors), ModelError> {
    let checked = CheckedSettings::new(settings)?;
    data.check(fold, checked.task.kind)?;
    let mut trainer = FoldTrainer::new(data, &checked, seed, fold);
    trainer.net.load(initial)?;
    let mut losses = Vec::new();
    for (epoch, order) in orders.iter().enumerate() {
        if let Some(&row) = order.iter().find(|&&r| r >= data.targets.rows()) {
            return Err(ModelError::InconsistentData(format!(
                "epoch {epoch} orders row {row}, but the data has {} rows",
                data.targets.rows()
            )));
        }
        losses.extend(trainer.train_in_order(epoch, order)?);
    }
    Ok((losses, trainer.net.export()))
}

/// The stream for `purpose` in fold `fold`.
fn fold_stream(seed: u64, fold: usize, purpose: &str) -> RandomStream {
    RandomStream::new(seed, &format!("train/fold-{fold}/{purpose}"))
}

struct FoldTrainer<'a> {
    data: &'a FoldData,
    settings: &'a CheckedSettings,
    fold: usize,
    net: FusionNet,
    objective: Objective,
    optimizer: AdamW,
    schedule: LearningRate,
    /// `schedule.class_weights`: per class or per tag (see `Targets::weights`).
    class_weights: Option<Vec<f32>>,
    shuffle: RandomStream,
    augment: RandomStream,
    dropout: RandomStream,
}

impl<'a> FoldTrainer<'a> {
    fn new(data: &'a FoldData, settings: &'a CheckedSettings, seed: u64, fold: usize) -> Self {
        let architecture = Architecture {
            inputs: data
                .modalities
                .iter()
                .map(|m| (m.modality, m.width))
                .collect(),
            outputs: data.targets.width(),
            task: settings.task.kind,
        };
        let mut init = fold_stream(seed, fold, "init");
        let mut net = FusionNet::new(&settings.model, &architecture, &mut init);
        let lengths: Vec<usize> = net.parameters().iter().map(|p| p.values.len()).collect();
        FoldTrainer {
            data,
            settings,
            fold,
            net,
            objective: Objective::new(&settings.task),
            optimizer: AdamW::new(&settings.schedule, &lengths),
            schedule: LearningRate::new(&settings.schedule),
            class_weights: (settings.schedule.class_weights)
                .then(|| data.targets.weights(&data.train_rows))
                .flatten(),
            shuffle: fold_stream(seed, fold, "shuffle"),
            augment: fold_stream(seed, fold, "augment"),
            dropout: fold_stream(seed, fold, "dropout"),
        }
    }

    fn run(mut self) -> Result<TrainedFold, ModelError> {
        let schedule = self.settings.schedule.clone();
        let mut history = Vec::with_capacity(schedule.epochs);
        let mut best: Option<(usize, f64, NamedTensors, Vec<f32>)> = None;
        for epoch in 0..schedule.epochs {
            let learning_rate = self.schedule.at(epoch as f64);
            let train_loss = self.train_epoch(epoch)?;
            let validation = self.validate();
            history.push(EpochRecord {
                epoch,
                train_loss,
                valid_loss: validation.loss,
                valid_accuracy: validation.accuracy,
                valid_score: validation.score,
                learning_rate,
            });
            // Strictly better only: on ties the earlier (less trained) epoch stays, and a NaN
            // score (no tag with both classes to rank) never replaces a kept epoch.
            if best.as_ref().is_none_or(|b| validation.score > b.1) {
                // `export` copies every value: later updates cannot reach the checkpoint.
                best = Some((
                    epoch,
                    validation.score,
                    self.net.export(),
                    validation.outputs,
                ));
            }
            let best_epoch = best.as_ref().map_or(0, |b| b.0);
            if schedule.patience.is_some_and(|p| epoch - best_epoch >= p) {
                break;
            }
        }
        let (best_epoch, _, weights, valid_probabilities) =
            best.expect("schedule.epochs >= 1 is checked, so one epoch ran");
        Ok(TrainedFold {
            weights,
            history,
            best_epoch,
            valid_probabilities,
        })
    }

    /// One pass over the shuffled training songs; returns the mean training loss.
    fn train_epoch(&mut self, epoch: usize) -> Result<f64, ModelError> {
        let mut order = self.data.train_rows.clone();
        self.shuffle.shuffle(&mut order);
        let losses = self.train_in_order(epoch, &order)?;
        let batch_size = self.settings.schedule.batch_size;
        let total: f64 = (losses.iter().zip(order.chunks(batch_size)))
            .map(|(&loss, rows)| f64::from(loss) * rows.len() as f64)
            .sum();
        Ok(total / order.len() as f64)
    }

    /// Epoch `epoch` over the training songs in `order`, in mini-batches of the schedule's
    /// size; returns each batch's loss.
    fn train_in_order(&mut self, epoch: usize, order: &[usize]) -> Result<Vec<f32>, ModelError> {
        // `chunks` never yields an empty slice, so no zero-sized tensor is ever built; the
        // last batch may be smaller.
        let batches: Vec<&[usize]> = order.chunks(self.settings.schedule.batch_size).collect();
        let steps = batches.len();
        let mut losses = Vec::with_capacity(steps);
        for (step, rows) in batches.into_iter().enumerate() {
            let time = match self.settings.schedule.step {
                ScheduleStep::Epoch => epoch as f64,
                ScheduleStep::Step => epoch as f64 + step as f64 / steps as f64,
            };
            let lr = self.schedule.at(time);
            let loss = self.train_step(rows, lr)?;
            if !loss.is_finite() {
                return Err(ModelError::Diverged {
                    fold: self.fold,
                    epoch,
                });
            }
            losses.push(loss);
        }
        Ok(losses)
    }

    /// Forward, backward and one AdamW update on `rows`; returns the batch loss.
    fn train_step(&mut self, rows: &[usize], lr: f64) -> Result<f32, ModelError> {
        let augmentation = &self.settings.augment;
        let targets = self
            .data
            .targets
            .rows_of(rows, augmentation.label_smoothing);
        let width = self.data.targets.width();
        let mut batch = Batch::gather(&self.data.modalities, rows, targets, width);
        augment::add_feature_noise(&mut batch, augmentation.feature_noise, &mut self.augment);
        augment::drop_modalities(&mut batch, augmentation.modality_dropout, &mut self.augment);
        augment::mixup(&mut batch, augmentation.mixup_alpha, &mut self.augment);
        let mut tag_weights = None;
        match (&self.class_weights, self.objective) {
            (Some(weights), Objective::Classes) => augment::weight_targets(&mut batch, weights),
            (Some(weights), _) => tag_weights = Some(weights.as_slice()),
            (None, _) => {}
        }
        let dev = self.net.device().clone();
        let (inputs, masks, targets) = tensors(&dev, batch);
        let separate = self.settings.model.late.training == LateTraining::Separate;
        let loss = match separate && self.net.has_branches() {
            true => separate_loss(
                (&mut self.net, &mut self.dropout, self.objective),
                (&inputs, &masks),
                &targets,
                tag_weights,
            ),
            false => None,
        };
        let loss = loss.unwrap_or_else(|| {
            let logits = (self.net).forward(&inputs, &masks, &mut Mode::Train(&mut self.dropout));
            self.objective.loss(logits, targets, tag_weights)
        });
        let (loss, mut grads) = layers::backward(loss);
        let step = self.optimizer.begin_step(lr);
        for (index, parameter) in self.net.parameters().into_iter().enumerate() {
            let grad = parameter.gradient(&mut grads)?;
            self.optimizer
                .update(&step, index, &mut parameter.values, grad);
            parameter.sync();
        }
        Ok(loss)
    }

    /// Evaluates the current weights on the validation songs.
    fn validate(&mut self) -> Validation {
        let data = self.data;
        let outputs = evaluate_inputs(
            &mut self.net,
            (&data.modalities, &data.valid_rows),
            (self.objective, data.targets.width()),
            None,
        );
        self.objective
            .validate(outputs, &data.targets, &data.valid_rows)
    }
}

/// The outputs (`rows x width`, see [`Objective::outputs`]) of `rows` of `inputs` under the
/// net in evaluation mode, optionally perturbing each batch first (test-time augmentation:
/// feature noise and modality dropout).
pub(crate) fn evaluate_inputs(
    net: &mut FusionNet,
    (inputs, rows): (&[super::ModalityInput], &[usize]),
    (objective, width): (Objective, usize),
    mut perturbation: Option<&mut super::Perturbation<'_>>,
) -> Vec<f32> {
    let dev = net.device().clone();
    let mut outputs = Vec::with_capacity(rows.len() * width);
    for chunk in rows.chunks(EVAL_CHUNK) {
        let mut batch = Batch::gather(inputs, chunk, vec![0.0; chunk.len() * width], width);
        if let Some(p) = perturbation.as_deref_mut() {
            augment::add_feature_noise(&mut batch, p.feature_noise, p.rng);
            augment::drop_modalities(&mut batch, p.modality_dropout, p.rng);
        }
        let (inputs, masks, _) = tensors(&dev, batch);
        let logits = layers::values(&net.forward(&inputs, &masks, &mut Mode::Eval));
        outputs.extend(objective.outputs(&logits, width));
    }
    outputs
}

/// Per song of `rows`, the weight `net`'s fusion gives each modality (`rows x modalities`), if
/// it learns one.
pub(crate) fn modality_weights_of_inputs(
    net: &mut FusionNet,
    (inputs, rows): (&[super::ModalityInput], &[usize]),
) -> Option<Vec<f32>> {
    let dev = net.device().clone();
    let mut weights = Vec::new();
    for chunk in rows.chunks(EVAL_CHUNK) {
        let batch = Batch::gather(inputs, chunk, Vec::new(), 0);
        let (inputs, masks, _) = tensors(&dev, batch);
        weights.extend(net.modality_weights(&inputs, &masks)?);
    }
    Some(weights)
}

/// Late fusion trained separately: each branch's own loss on the batch's songs that have
/// its modality (mask above 0), averaged over the branches that had any; `None` when no
/// branch had a song.
fn separate_loss(
    (net, dropout, objective): (&mut FusionNet, &mut RandomStream, Objective),
    (inputs, masks): (&[Matrix], &[Vec<f32>]),
    targets: &Matrix,
    tag_weights: Option<&[f32]>,
) -> Option<Loss> {
    let dev = net.device().clone();
    let mut total: Option<Loss> = None;
    let mut branches = 0;
    for (modality, (input, mask)) in inputs.iter().zip(masks).enumerate() {
        let rows: Vec<usize> = (0..mask.len()).filter(|&r| mask[r] > 0.0).collect();
        if rows.is_empty() {
            continue;
        }
        let input = select_rows(&dev, input, &rows);
        let mut mode = Mode::Train(dropout);
        let outputs = (net.forward_branch(modality, &input, &mut mode))
            .expect("only late fusion is trained separately");
        let loss = objective.loss(outputs, select_rows(&dev, targets, &rows), tag_weights);
        branches += 1;
        total = Some(match total {
            None => loss,
            Some(sum) => sum + loss,
        });
    }
    total.map(|sum| sum * (1.0 / branches as f32))
}

/// Late fusion's branches on their own: per modality, the raw outputs (`rows x width`: class
/// logits, values, tag logits) of each branch for `rows` of `inputs`, in evaluation mode (a
/// branch's outputs for songs without its modality are computed all the same); `None` for
/// other designs.
pub(crate) fn branch_outputs_of_inputs(
    net: &mut FusionNet,
    (inputs, rows): (&[super::ModalityInput], &[usize]),
    width: usize,
) -> Option<Vec<Vec<f32>>> {
    if !net.has_branches() {
        return None;
    }
    let dev = net.device().clone();
    let mut outputs = vec![Vec::with_capacity(rows.len() * width); inputs.len()];
    for chunk in rows.chunks(EVAL_CHUNK) {
        let batch = Batch::gather(inputs, chunk, Vec::new(), 0);
        let (matrices, _, _) = tensors(&dev, batch);
        for (modality, (input, out)) in matrices.iter().zip(&mut outputs).enumerate() {
            let raw = net.forward_branch(modality, input, &mut Mode::Eval)?;
            out.extend(layers::values(&raw));
        }
    }
    Some(outputs)
}

/// The `rows` of `matrix`, in that order.
fn select_rows(dev: &dfdx::tensor::Cpu, matrix: &Matrix, rows: &[usize]) -> Matrix {
    let width = matrix.shape().1;
    let values = layers::values(matrix);
    let selected: Vec<f32> = (rows.iter())
        .flat_map(|&r| values[r * width..(r + 1) * width].iter().copied())
        .collect();
    dev.tensor_from_vec(selected, (rows.len(), width))
}

/// The batch as dfdx tensors: one input matrix per modality, the masks, the targets.
fn tensors(dev: &dfdx::tensor::Cpu, batch: Batch) -> (Vec<Matrix>, Vec<Vec<f32>>, Matrix) {
    let rows = batch.rows;
    let inputs = (batch.features.into_iter().zip(&batch.widths))
        .map(|(features, &width)| dev.tensor_from_vec(features, (rows, width)))
        .collect();
    let targets = dev.tensor_from_vec(batch.targets, (rows, batch.target_width));
    (inputs, batch.masks, targets)
}
