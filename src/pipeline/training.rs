//! The `train[k]` and `evaluate` stages: the model's inputs built from the split and fold k's
//! normalized features, one trained fold per artifact, and the ensemble's hold-out test
//! predictions with test-time augmentation.
//!
//! Rows are the experiment's songs in split order. A modality a song lacks is a zero row with
//! its presence flag off, never a silent zero.
//!
//! `train[k]` stores `weight.<name>` arrays (and `weight_names`), the per-epoch history
//! (`history.*`), `best_epoch`, and the validation songs' probabilities under the kept weights
//! (`valid_ids`, `valid_probabilities`).
//!
//! `evaluate` stores the test songs (`test_ids`, `test_labels`, `test_present` with
//! `modalities`), every model's test probabilities (`models`, `test_probabilities`
//! [models, songs, classes]), the pooled out-of-fold validation predictions (`oof_*`) and the
//! folds' histories, so the report needs nothing else. Models: `fold-<k>` (each fold model
//! alone), `ensemble` (the spec's `eval.ensemble` method), `ensemble+tta` (the same over
//! `eval.tta_passes` noisy passes per fold model: the headline), and the two other methods as
//! `ensemble:<method>` for comparison.

use crate::cache::Artifact;
use crate::eval::{Ensemble, combine};
use crate::modality::Modality;
use crate::model::{
    FoldData, ModalityInput, NamedTensor, NamedTensors, Perturbation, TrainSettings, predict,
    train_fold,
};
use crate::rng::RandomStream;
use crate::spec::ExperimentSpec;

use super::PipelineError;
use super::stages::{
    f32_array, f64_array, first, i64_array, indices_below, malformed, missing, sized, strings,
};

/// The headline model of a run.
pub const HEADLINE_MODEL: &str = "ensemble+tta";

/// Columns of `history.*` arrays, besides `history.epoch`.
const HISTORY: [&str; 5] = [
    "train_loss",
    "valid_loss",
    "valid_accuracy",
    "valid_macro_f1",
    "learning_rate",
];

/// The split artifact, read once.
pub(crate) struct SplitView {
    pub(crate) ids: Vec<String>,
    pub(crate) labels: Vec<usize>,
    /// Fold of each song, -1 for the hold-out test set.
    pub(crate) fold: Vec<i64>,
}

impl SplitView {
    /// The split's arrays, checked to describe the same songs with labels below `classes`.
    pub(crate) fn read(split: &Artifact, classes: usize) -> Result<Self, PipelineError> {
        let ids = strings(split, "ids")?.to_vec();
        let labels = sized(split, "labels", i64_array(split, "labels")?, ids.len())?;
        Ok(SplitView {
            labels: indices_below(split, "labels", labels, classes)?,
            fold: sized(split, "fold", i64_array(split, "fold")?, ids.len())?.to_vec(),
            ids,
        })
    }

    fn rows(&self, keep: impl Fn(i64) -> bool) -> Vec<usize> {
        (0..self.ids.len())
            .filter(|&r| keep(self.fold[r]))
            .collect()
    }

    pub(crate) fn test_rows(&self) -> Vec<usize> {
        self.rows(|f| f < 0)
    }
}

/// The selected modalities' normalized features of one fold, aligned to the split's rows.
pub(crate) fn model_inputs(
    split: &SplitView,
    normalize: &Artifact,
) -> Result<Vec<ModalityInput>, PipelineError> {
    let row_of: std::collections::HashMap<&str, usize> = split
        .ids
        .iter()
        .enumerate()
        .map(|(r, id)| (id.as_str(), r))
        .collect();
    let mut inputs = Vec::new();
    for modality in Modality::ALL {
        let name = modality.name();
        let Some(ids) = normalize
            .array(&format!("{name}.ids"))
            .and_then(|a| a.as_str())
        else {
            continue;
        };
        let features_name = format!("{name}.features");
        let array = normalize
            .array(&features_name)
            .ok_or_else(|| missing(normalize, &features_name))?;
        let &[rows, width] = array.shape.as_slice() else {
            return Err(malformed(
                normalize,
                format!(
                    "array `{features_name}` has shape {:?}, not [songs, features]",
                    array.shape
                ),
            ));
        };
        let values = array
            .as_f32()
            .ok_or_else(|| missing(normalize, &features_name))?;
        if rows != ids.len() || width == 0 {
            return Err(malformed(
                normalize,
                format!(
                    "array `{features_name}` has shape {:?} for {} songs",
                    array.shape,
                    ids.len()
                ),
            ));
        }
        let mut features = vec![0.0f32; split.ids.len() * width];
        let mut present = vec![false; split.ids.len()];
        for (i, id) in ids.iter().enumerate() {
            if let Some(&row) = row_of.get(id.as_str()) {
                features[row * width..(row + 1) * width]
                    .copy_from_slice(&values[i * width..(i + 1) * width]);
                present[row] = true;
            }
        }
        inputs.push(ModalityInput {
            modality,
            width,
            features,
            present,
        });
    }
    Ok(inputs)
}

fn settings(spec: &ExperimentSpec) -> TrainSettings<'_> {
    TrainSettings {
        model: &spec.model,
        augment: &spec.augment,
        schedule: &spec.schedule,
    }
}

/// Trains fold `fold` under `seed` on `[split, normalize[fold]]`.
pub(crate) fn train(
    artifact: &mut Artifact,
    upstream: &[&Artifact],
    spec: &ExperimentSpec,
    classes: usize,
    (seed, fold): (u64, usize),
) -> Result<(), PipelineError> {
    let split = SplitView::read(upstream[0], classes)?;
    let data = FoldData {
        classes,
        modalities: model_inputs(&split, upstream[1])?,
        labels: split.labels.clone(),
        train_rows: split.rows(|f| f >= 0 && f != fold as i64),
        valid_rows: split.rows(|f| f == fold as i64),
    };
    let trained = train_fold(&data, &settings(spec), seed, fold)?;
    let names: Vec<String> = trained.weights.0.iter().map(|t| t.name.clone()).collect();
    for tensor in trained.weights.0 {
        artifact.put_f32(
            &format!("weight.{}", tensor.name),
            &tensor.shape,
            tensor.values,
        );
    }
    let epochs = trained.history.len();
    artifact.put_strings("weight_names", names).put_i64(
        "history.epoch",
        &[epochs],
        trained.history.iter().map(|e| e.epoch as i64).collect(),
    );
    for column in HISTORY {
        let values = trained
            .history
            .iter()
            .map(|e| match column {
                "train_loss" => e.train_loss,
                "valid_loss" => e.valid_loss,
                "valid_accuracy" => e.valid_accuracy,
                "valid_macro_f1" => e.valid_macro_f1,
                _ => e.learning_rate,
            })
            .collect();
        artifact.put_f64(&format!("history.{column}"), &[epochs], values);
    }
    let valid_ids: Vec<String> = data
        .valid_rows
        .iter()
        .map(|&r| split.ids[r].clone())
        .collect();
    let rows = valid_ids.len();
    artifact
        .put_i64("best_epoch", &[1], vec![trained.best_epoch as i64])
        .put_strings("valid_ids", valid_ids)
        .put_f32(
            "valid_probabilities",
            &[rows, classes],
            trained.valid_probabilities,
        );
    Ok(())
}

fn read_weights(train: &Artifact) -> Result<NamedTensors, PipelineError> {
    strings(train, "weight_names")?
        .iter()
        .map(|name| {
            let array = train
                .array(&format!("weight.{name}"))
                .ok_or_else(|| missing(train, &format!("weight.{name}")))?;
            Ok(NamedTensor {
                name: name.clone(),
                shape: array.shape.clone(),
                values: array
                    .as_f32()
                    .ok_or_else(|| missing(train, &format!("weight.{name}")))?
                    .to_vec(),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(NamedTensors)
}

/// The fold's validation macro-F1 at its kept epoch.
fn best_valid_macro_f1(train: &Artifact) -> Result<f64, PipelineError> {
    let best = first(train, "best_epoch", i64_array(train, "best_epoch")?)?;
    let epochs = i64_array(train, "history.epoch")?;
    let f1 = sized(
        train,
        "history.valid_macro_f1",
        f64_array(train, "history.valid_macro_f1")?,
        epochs.len(),
    )?;
    Ok(epochs
        .iter()
        .position(|&e| e == best)
        .map_or(0.0, |i| f1[i]))
}

/// Scores the hold-out test set with every fold model, plain and with test-time
/// augmentation, and combines them; `upstream` is `[split, normalize[0..k], train[0..k]]`.
pub(crate) fn evaluate(
    artifact: &mut Artifact,
    upstream: &[&Artifact],
    spec: &ExperimentSpec,
    classes: usize,
    seed: u64,
) -> Result<(), PipelineError> {
    let folds = (upstream.len() - 1) / 2;
    let split = SplitView::read(upstream[0], classes)?;
    let (normalizes, trains) = upstream[1..].split_at(folds);
    let test_rows = split.test_rows();
    let (mut plain, mut augmented, mut valid_f1) = (Vec::new(), Vec::new(), Vec::new());
    let mut presence = None;
    for fold in 0..folds {
        let inputs = model_inputs(&split, normalizes[fold])?;
        let weights = read_weights(trains[fold])?;
        plain.push(predict(&weights, &spec.model, &inputs, &test_rows, None)?);
        augmented.push(tta(spec, seed, fold, &weights, &inputs, &test_rows)?);
        valid_f1.push(best_valid_macro_f1(trains[fold])?);
        presence.get_or_insert_with(|| {
            let names: Vec<String> = inputs.iter().map(|m| m.modality.name().into()).collect();
            let flags: Vec<u8> = test_rows
                .iter()
                .flat_map(|&r| inputs.iter().map(move |m| u8::from(m.present[r])))
                .collect();
            (names, flags)
        });
    }
    let method = spec.eval.ensemble;
    let mut models: Vec<(String, Vec<f32>)> = plain
        .iter()
        .enumerate()
        .map(|(k, p)| (format!("fold-{k}"), p.clone()))
        .collect();
    models.push((
        "ensemble".into(),
        combine(method, &plain, classes, &valid_f1),
    ));
    models.push((
        HEADLINE_MODEL.into(),
        combine(method, &augmented, classes, &valid_f1),
    ));
    for other in [Ensemble::Mean, Ensemble::Vote, Ensemble::BestFold] {
        if other != method {
            let name = format!("ensemble:{}", ensemble_name(other));
            models.push((name, combine(other, &plain, classes, &valid_f1)));
        }
    }
    let (modalities, flags) = presence.unwrap_or_default();
    let n = test_rows.len();
    artifact
        .put_strings(
            "test_ids",
            test_rows.iter().map(|&r| split.ids[r].clone()).collect(),
        )
        .put_i64(
            "test_labels",
            &[n],
            test_rows.iter().map(|&r| split.labels[r] as i64).collect(),
        )
        .put_u8("test_present", &[n, modalities.len()], flags)
        .put_strings("modalities", modalities)
        .put_strings("models", models.iter().map(|(m, _)| m.clone()).collect())
        .put_f32(
            "test_probabilities",
            &[models.len(), n, classes],
            models.into_iter().flat_map(|(_, p)| p).collect(),
        )
        .put_f64("valid_macro_f1", &[folds], valid_f1);
    copy_fold_records(artifact, &split, trains, classes)
}

fn ensemble_name(method: Ensemble) -> &'static str {
    match method {
        Ensemble::Mean => "mean",
        Ensemble::Vote => "vote",
        Ensemble::BestFold => "best-fold",
    }
}

/// `eval.tta_passes` passes with `eval.tta_noise` feature noise and
/// `eval.tta_modality_dropout`, averaged; one pass, or no perturbation at all, is the plain
/// prediction.
fn tta(
    spec: &ExperimentSpec,
    seed: u64,
    fold: usize,
    weights: &NamedTensors,
    inputs: &[ModalityInput],
    rows: &[usize],
) -> Result<Vec<f32>, PipelineError> {
    let passes = spec.eval.tta_passes.max(1);
    if passes == 1 || (spec.eval.tta_noise == 0.0 && spec.eval.tta_modality_dropout == 0.0) {
        return Ok(predict(weights, &spec.model, inputs, rows, None)?);
    }
    let mut sum: Vec<f32> = Vec::new();
    for pass in 0..passes {
        let mut rng = RandomStream::new(seed, &format!("evaluate/tta/fold-{fold}/pass-{pass}"));
        let perturbation = Perturbation {
            feature_noise: spec.eval.tta_noise,
            modality_dropout: spec.eval.tta_modality_dropout,
            rng: &mut rng,
        };
        let p = predict(weights, &spec.model, inputs, rows, Some(perturbation))?;
        if sum.is_empty() {
            sum = p;
        } else {
            sum.iter_mut().zip(p).for_each(|(s, v)| *s += v);
        }
    }
    sum.iter_mut().for_each(|s| *s /= passes as f32);
    Ok(sum)
}

/// Pools the folds' validation predictions (`oof_*`) and histories (`history.*` with a
/// `history.fold` column, `best_epoch` per fold) into the evaluate artifact.
fn copy_fold_records(
    artifact: &mut Artifact,
    split: &SplitView,
    trains: &[&Artifact],
    classes: usize,
) -> Result<(), PipelineError> {
    let label_of: std::collections::HashMap<&str, usize> = split
        .ids
        .iter()
        .zip(&split.labels)
        .map(|(id, &l)| (id.as_str(), l))
        .collect();
    let (mut ids, mut labels, mut fold_of, mut probabilities) = (vec![], vec![], vec![], vec![]);
    let mut history: Vec<Vec<f64>> = vec![Vec::new(); HISTORY.len()];
    let (mut history_fold, mut history_epoch, mut best) = (vec![], vec![], vec![]);
    for (fold, train) in trains.iter().enumerate() {
        let valid = strings(train, "valid_ids")?;
        for id in valid {
            labels.push(label_of.get(id.as_str()).copied().unwrap_or(0) as i64);
            fold_of.push(fold as i64);
        }
        ids.extend(valid.iter().cloned());
        let valid_probabilities = f32_array(train, "valid_probabilities")?;
        probabilities.extend_from_slice(sized(
            train,
            "valid_probabilities",
            valid_probabilities,
            valid.len() * classes,
        )?);
        let epochs = i64_array(train, "history.epoch")?;
        history_epoch.extend_from_slice(epochs);
        history_fold.extend(std::iter::repeat_n(fold as i64, epochs.len()));
        for (column, out) in HISTORY.iter().zip(&mut history) {
            let name = format!("history.{column}");
            out.extend_from_slice(sized(train, &name, f64_array(train, &name)?, epochs.len())?);
        }
        best.push(first(train, "best_epoch", i64_array(train, "best_epoch")?)?);
    }
    let n = ids.len();
    let e = history_epoch.len();
    artifact
        .put_strings("oof_ids", ids)
        .put_i64("oof_labels", &[n], labels)
        .put_i64("oof_fold", &[n], fold_of)
        .put_f32("oof_probabilities", &[n, classes], probabilities)
        .put_i64("history.fold", &[e], history_fold)
        .put_i64("history.epoch", &[e], history_epoch)
        .put_i64("best_epoch", &[trains.len()], best);
    for (column, values) in HISTORY.iter().zip(history) {
        artifact.put_f64(&format!("history.{column}"), &[e], values);
    }
    Ok(())
}
