//! A finished run's trained model as `mer predict` and `mer export` use it: per seed, each
//! fold's fitted normalization and weights, the folds' validation scores (which `best-fold`
//! ensembles read) and stacked late fusion's weights.
//!
//! [`TrainedSeed::from_stages`] reads them from the run's stage artifacts;
//! [`TrainedSeed::write`] and [`TrainedSeed::read`] keep them in a model bundle in the stages'
//! own array layouts (the normalize and train stages write and read those, in one place each);
//! [`TrainedSeed::score`] scores new songs with the evaluate stage's own functions, so a run's
//! test songs, given in the order of its report, come out exactly as the report has them.

use std::collections::HashMap;

use crate::cache::{Artifact, StageInputs};
use crate::modality::Modality;
use crate::model::{ModalityInput, NamedTensors};
use crate::results::Model;
use crate::spec::ExperimentSpec;

use super::error::PipelineError;
use super::stages::Compute;
use super::stages::evaluate::{
    EvaluateParams, ensembles, fold_outputs, stored_stacking_weights, with_stacking,
};
use super::stages::extracted::{ExtractView, skipped};
use super::stages::normalize::FittedNormalization;
use super::stages::train::{TrainArtifact, read_weights, write_weights};
use super::stages::view::{f32_array, f64_array, first};
use super::stages::{evaluate, normalize, train};

/// The stages whose output a trained model holds, with their versions: a model made by
/// other versions of them is not this mer's to apply.
pub fn model_stage_versions() -> [(&'static str, u32); 3] {
    [
        (normalize::NAME, normalize::VERSION),
        (train::NAME, train::VERSION),
        (evaluate::NAME, evaluate::VERSION),
    ]
}

/// One modality's features of new songs, as its extraction (or join) artifact holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedFeatures {
    /// The modality.
    pub modality: Modality,
    /// The columns' names.
    pub names: Vec<String>,
    /// Each song with features, and its row.
    pub rows: HashMap<String, Vec<f32>>,
    /// Songs whose file could not be read, with why.
    pub skipped: Vec<(String, String)>,
}

impl ExtractedFeatures {
    /// The features `artifact` (the `extract.<modality>` stage's) holds.
    pub fn read(modality: Modality, artifact: &Artifact) -> Result<Self, PipelineError> {
        let view = ExtractView::read(artifact)?;
        let width = view.names.len();
        let rows = (view.ids.iter().enumerate())
            .map(|(i, id)| (id.clone(), view.features[i * width..][..width].to_vec()))
            .collect();
        let (ids, reasons) = skipped(artifact)?;
        Ok(ExtractedFeatures {
            modality,
            names: view.names.to_vec(),
            rows,
            skipped: ids.iter().cloned().zip(reasons.iter().cloned()).collect(),
        })
    }
}

/// One fold model: its normalization per modality, its weights and its validation score.
#[derive(Debug, Clone, PartialEq)]
struct TrainedFold {
    normalization: Vec<FittedNormalization>,
    weights: NamedTensors,
    valid_score: f64,
}

/// A bundle array of each fold: the fold's validation score at its kept epoch.
const VALID_SCORE: &str = "valid_score";
/// A bundle array of each seed: stacked late fusion's weights.
const STACKING_WEIGHTS: &str = "stacking_weights";

/// One seed's fold ensemble.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedSeed {
    /// The seed.
    pub seed: u64,
    folds: Vec<TrainedFold>,
    stacking: Option<Vec<f32>>,
}

impl TrainedSeed {
    /// From the artifacts of `normalize[k]@seed` and `train[k]@seed` (in fold order) and
    /// `evaluate@seed`; the model has `outputs` outputs.
    pub fn from_stages(
        seed: u64,
        (normalize, train): (&[Artifact], &[Artifact]),
        evaluate: &Artifact,
        outputs: usize,
    ) -> Result<Self, PipelineError> {
        let folds = (normalize.iter().zip(train))
            .map(|(normalize, train)| {
                let train = TrainArtifact::read(train, outputs)?;
                Ok(TrainedFold {
                    normalization: FittedNormalization::read_all(normalize)?,
                    valid_score: train.best_valid_macro_f1(),
                    weights: train.weights,
                })
            })
            .collect::<Result<Vec<_>, PipelineError>>()?;
        Ok(TrainedSeed {
            seed,
            folds,
            stacking: stored_stacking_weights(evaluate)?,
        })
    }

    /// The number of fold models.
    pub fn folds(&self) -> usize {
        self.folds.len()
    }

    /// Writes every fold into `bundle`, each array's name prefixed with `prefix` and the fold
    /// (`<prefix>fold-2.audio.center`).
    pub fn write(&self, bundle: &mut Artifact, prefix: &str) {
        for (k, fold) in self.folds.iter().enumerate() {
            let mut part = scratch(prefix);
            for normalization in &fold.normalization {
                normalization.write(&mut part);
            }
            write_weights(&mut part, fold.weights.clone());
            part.put_f64(VALID_SCORE, &[1], vec![fold.valid_score]);
            for (name, array) in part.arrays() {
                let name = format!("{prefix}fold-{k}.{name}");
                bundle.insert(name, array.shape.clone(), array.data.clone());
            }
        }
        if let Some(weights) = &self.stacking {
            let name = format!("{prefix}{STACKING_WEIGHTS}");
            bundle.put_f32(&name, &[weights.len()], weights.clone());
        }
    }

    /// What [`TrainedSeed::write`] wrote under `prefix` for `folds` folds.
    pub fn read(
        bundle: &Artifact,
        prefix: &str,
        seed: u64,
        folds: usize,
    ) -> Result<Self, PipelineError> {
        let folds = (0..folds)
            .map(|k| {
                let part = scoped(bundle, &format!("{prefix}fold-{k}."));
                Ok(TrainedFold {
                    normalization: FittedNormalization::read_all(&part)?,
                    weights: read_weights(&part)?,
                    valid_score: first(&part, VALID_SCORE, f64_array(&part, VALID_SCORE)?)?,
                })
            })
            .collect::<Result<Vec<_>, PipelineError>>()?;
        let name = format!("{prefix}{STACKING_WEIGHTS}");
        let stacking = match bundle.array(&name) {
            None => None,
            Some(_) => Some(f32_array(bundle, &name)?.to_vec()),
        };
        Ok(TrainedSeed {
            seed,
            folds,
            stacking,
        })
    }

    /// Every model's outputs for `songs` (in `ids` order, `ids.len() x outputs` each): each
    /// fold model, the ensembles and the ensemble with test-time augmentation, exactly as the
    /// evaluate stage computes them for the hold-out test songs.
    pub fn score(
        &self,
        spec: &ExperimentSpec,
        (ids, features): (&[String], &[ExtractedFeatures]),
        outputs: usize,
    ) -> Result<Vec<(Model, Vec<f32>)>, PipelineError> {
        let params = EvaluateParams::new(spec, self.seed, Compute::Real);
        let rows: Vec<usize> = (0..ids.len()).collect();
        let (mut plain, mut augmented) = (Vec::new(), Vec::new());
        for (k, fold) in self.folds.iter().enumerate() {
            let inputs = fold.inputs(ids, features)?;
            let mut weights = fold.weights.clone();
            if let Some(stacking) = &self.stacking {
                with_stacking(&mut weights, stacking);
            }
            let (p, a) = fold_outputs(&params, k, &weights, &inputs, &rows)?;
            plain.push(p);
            augmented.push(a);
        }
        let scores: Vec<f64> = self.folds.iter().map(|f| f.valid_score).collect();
        Ok(ensembles(
            spec.eval.ensemble,
            (&plain, &augmented),
            (spec.task.kind, outputs),
            &scores,
        ))
    }
}

impl TrainedFold {
    /// The model's inputs for `ids`: each modality's extracted row normalized as the fold's
    /// training songs were, absent (a zero row, flag off) where a song has no such row.
    fn inputs(
        &self,
        ids: &[String],
        features: &[ExtractedFeatures],
    ) -> Result<Vec<ModalityInput>, PipelineError> {
        self.normalization
            .iter()
            .map(|fitted| {
                let modality = fitted.modality;
                let extracted = features.iter().find(|f| f.modality == modality);
                let names = extracted.map_or(&[][..], |e| &e.names[..]);
                check_columns(fitted, names)?;
                let width = fitted.names.len();
                let mut input = ModalityInput {
                    modality,
                    width,
                    features: vec![0.0; ids.len() * width],
                    present: vec![false; ids.len()],
                };
                for (i, id) in ids.iter().enumerate() {
                    if let Some(row) = extracted.and_then(|e| e.rows.get(id)) {
                        let normalized = fitted.normalizer.transform(row);
                        input.features[i * width..][..width].copy_from_slice(&normalized);
                        input.present[i] = true;
                    }
                }
                Ok(input)
            })
            .collect()
    }
}

/// Whether the extracted columns `names` are the ones `fitted` was fitted on.
fn check_columns(fitted: &FittedNormalization, names: &[String]) -> Result<(), PipelineError> {
    let kept = &fitted.normalizer.scaler.kept;
    let mismatch = (kept.iter().zip(&fitted.names)).find(|&(&j, name)| names.get(j) != Some(name));
    match mismatch {
        None => Ok(()),
        Some((&column, expected)) => Err(PipelineError::FeatureMismatch {
            modality: fitted.modality,
            column,
            expected: expected.clone(),
            found: names.get(column).cloned().unwrap_or("nothing".into()),
        }),
    }
}

/// An empty artifact for one part of a bundle, named after it in error messages.
fn scratch(prefix: &str) -> Artifact {
    Artifact::new(&StageInputs::new(format!("bundle {prefix}"), 0))
}

/// The arrays of `bundle` under `prefix`, with the prefix taken off.
fn scoped(bundle: &Artifact, prefix: &str) -> Artifact {
    let mut part = scratch(prefix);
    for (name, array) in bundle.arrays() {
        if let Some(own) = name.strip_prefix(prefix) {
            part.insert(own, array.shape.clone(), array.data.clone());
        }
    }
    part
}
