//! What each stage computes from its upstream artifacts.
//!
//! Extraction is real for every modality ([`crate::features`]; `precomputed` embeddings still
//! store a placeholder); training and evaluation are placeholders until their issues land:
//! they store small honest arrays (class counts) so the cache, keys and explanations are
//! exercised for real.
//! Each stage's version constant is bumped whenever its output would change, which
//! invalidates exactly its artifacts and everything downstream.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::cache::Artifact;
use crate::dataset::DatasetLoad;
use crate::features::Extractor;
use crate::modality::Modality;
use crate::spec::{ExperimentSpec, OnError};
use crate::split::split_manifest;

use super::PipelineError;
use super::graph::{StageKind, StageNode};

/// Per-song extraction in parallel, skipped songs recorded (1 was the file-size placeholder
/// for every modality); the extractor's own version enters the key separately.
pub(crate) const EXTRACT_VERSION: u32 = 2;
/// Stratified hold-out + k-fold assignment.
pub(crate) const SPLIT_VERSION: u32 = 1;
/// Per-fold standardization of every feature, fitted on the fold's training songs.
pub(crate) const NORMALIZE_VERSION: u32 = 1;
/// Placeholder training: the fold's training class counts.
pub(crate) const TRAIN_VERSION: u32 = 1;
/// Placeholder evaluation: the number of fold models combined.
pub(crate) const EVALUATE_VERSION: u32 = 1;

/// The name of `modality`'s extraction stage, e.g. `extract.audio`.
pub(crate) fn extract_stage(modality: Modality) -> String {
    format!("extract.{}", modality.name())
}

/// Everything a stage may read besides its upstream artifacts.
pub(crate) struct StageContext<'a> {
    pub(crate) spec: &'a ExperimentSpec,
    pub(crate) data: &'a DatasetLoad,
}

/// Computes `node`'s artifact; `upstream[i]` is the artifact of `node.upstream[i]`.
pub(crate) fn compute(
    node: &StageNode,
    upstream: &[&Artifact],
    cx: &StageContext<'_>,
) -> Result<Artifact, PipelineError> {
    let mut artifact = Artifact::new(&node.inputs);
    match node.kind {
        StageKind::Extract(modality) => extract(&mut artifact, cx, modality)?,
        StageKind::Split => split(&mut artifact, cx, node.seed.unwrap_or_default())?,
        StageKind::Normalize { fold } => normalize(&mut artifact, upstream, fold)?,
        StageKind::Train { fold } => train(
            &mut artifact,
            upstream,
            cx.data.manifest.classes.len(),
            fold,
        )?,
        StageKind::Evaluate => {
            artifact.put_i64("fold_models", &[], vec![upstream.len() as i64]);
        }
    }
    Ok(artifact)
}

/// Runs the spec's extractor on every listed song with a file, in parallel. A song whose file
/// cannot be read is recorded in `skipped_ids`/`skipped_reasons` (`on_error = "skip"`) or
/// fails the stage (`"fail"`).
fn extract(
    artifact: &mut Artifact,
    cx: &StageContext<'_>,
    modality: Modality,
) -> Result<(), PipelineError> {
    let extractor = Extractor::for_modality(modality, &cx.spec.modalities);
    let songs: Vec<(&str, &std::path::Path)> = cx
        .data
        .listed
        .songs
        .iter()
        .filter_map(|song| Some((song.id.as_str(), song.file(modality)?)))
        .collect();
    let results: Vec<_> = songs
        .par_iter()
        .map(|(id, path)| (*id, *path, extractor.extract(path)))
        .collect();
    let names = extractor.feature_names();
    let (mut ids, mut values, mut skipped_ids, mut skipped_reasons) =
        (vec![], vec![], vec![], vec![]);
    for (id, path, result) in results {
        match result {
            Ok(vector) => {
                debug_assert_eq!(vector.len(), names.len());
                ids.push(id.to_string());
                values.extend(vector);
            }
            Err(err) if on_error(modality, cx.spec) == OnError::Fail => {
                return Err(PipelineError::Extraction {
                    modality,
                    id: id.to_string(),
                    path: path.to_path_buf(),
                    reason: err.to_string(),
                });
            }
            Err(err) => {
                tracing::warn!("{modality} of song {id} skipped: {err}");
                skipped_ids.push(id.to_string());
                skipped_reasons.push(err.to_string());
            }
        }
    }
    let rows = ids.len();
    tracing::info!(
        "extract.{modality}: {rows} songs x {} features, {} skipped",
        names.len(),
        skipped_ids.len()
    );
    artifact
        .put_strings("ids", ids)
        .put_f32("features", &[rows, names.len()], values)
        .put_strings("feature_names", names)
        .put_strings("skipped_ids", skipped_ids)
        .put_strings("skipped_reasons", skipped_reasons);
    Ok(())
}

fn on_error(modality: Modality, spec: &ExperimentSpec) -> OnError {
    let m = &spec.modalities;
    let policy = match modality {
        Modality::Audio => m.audio.as_ref().map(|a| a.on_error),
        Modality::Lyrics => m.lyrics.as_ref().map(|l| l.on_error),
        Modality::Midi => m.midi.as_ref().map(|x| x.on_error),
    };
    policy.unwrap_or_default()
}

/// Stores each experiment song's id and its fold (-1 for the hold-out test set).
fn split(artifact: &mut Artifact, cx: &StageContext<'_>, seed: u64) -> Result<(), PipelineError> {
    let manifest = &cx.data.manifest;
    let plan = split_manifest(manifest, &cx.spec.split, seed)?;
    let mut fold_of = vec![-1i64; manifest.songs.len()];
    for fold in &plan.folds {
        for &song in &fold.valid {
            fold_of[song] = fold.index as i64;
        }
    }
    let ids = manifest.songs.iter().map(|s| s.id.clone()).collect();
    let labels = manifest.songs.iter().map(|s| s.label as i64).collect();
    let rows = fold_of.len();
    artifact
        .put_strings("ids", ids)
        .put_i64("labels", &[rows], labels)
        .put_i64("fold", &[rows], fold_of);
    Ok(())
}

/// Mean and standard deviation of every extracted feature over fold `fold`'s training songs.
fn normalize(
    artifact: &mut Artifact,
    upstream: &[&Artifact],
    fold: usize,
) -> Result<(), PipelineError> {
    let (split, extracts) = upstream
        .split_first()
        .expect("normalize reads the split first");
    let folds = i64_array(split, "fold")?;
    let ids = strings(split, "ids")?;
    let training: BTreeMap<&str, bool> = ids
        .iter()
        .zip(folds)
        .map(|(id, &f)| (id.as_str(), f >= 0 && f != fold as i64))
        .collect();
    for extract in extracts {
        let (mean, std) = fit_standard(extract, &training)?;
        let name = extract.meta.stage.trim_start_matches("extract.");
        let width = mean.len();
        artifact
            .put_f64(&format!("{name}.mean"), &[width], mean)
            .put_f64(&format!("{name}.std"), &[width], std);
    }
    Ok(())
}

fn fit_standard(
    extract: &Artifact,
    training: &BTreeMap<&str, bool>,
) -> Result<(Vec<f64>, Vec<f64>), PipelineError> {
    let ids = strings(extract, "ids")?;
    let features = extract
        .array("features")
        .ok_or_else(|| missing(extract, "features"))?;
    let width = features.shape.get(1).copied().unwrap_or(1);
    let values = features
        .as_f32()
        .ok_or_else(|| missing(extract, "features"))?;
    let rows: Vec<&[f32]> = ids
        .iter()
        .zip(values.chunks(width.max(1)))
        .filter(|(id, _)| training.get(id.as_str()).copied().unwrap_or(false))
        .map(|(_, row)| row)
        .collect();
    let n = rows.len().max(1) as f64;
    let mean: Vec<f64> = (0..width)
        .map(|j| rows.iter().map(|r| f64::from(r[j])).sum::<f64>() / n)
        .collect();
    let std = (0..width)
        .map(|j| {
            let var = rows
                .iter()
                .map(|r| (f64::from(r[j]) - mean[j]).powi(2))
                .sum::<f64>()
                / n;
            // A constant feature keeps unit scale instead of dividing by zero.
            if var > 0.0 { var.sqrt() } else { 1.0 }
        })
        .collect();
    Ok((mean, std))
}

/// Placeholder: the fold's training songs per class, read from the split.
fn train(
    artifact: &mut Artifact,
    upstream: &[&Artifact],
    classes: usize,
    fold: usize,
) -> Result<(), PipelineError> {
    let split = upstream.first().expect("train reads the split first");
    let folds = i64_array(split, "fold")?;
    let labels = i64_array(split, "labels")?;
    let mut counts = vec![0i64; classes];
    for (&f, &label) in folds.iter().zip(labels) {
        if f >= 0 && f != fold as i64 {
            counts[label as usize] += 1;
        }
    }
    artifact.put_i64("class_counts", &[classes], counts);
    Ok(())
}

fn strings<'a>(artifact: &'a Artifact, name: &str) -> Result<&'a [String], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_str())
        .ok_or_else(|| missing(artifact, name))
}

fn i64_array<'a>(artifact: &'a Artifact, name: &str) -> Result<&'a [i64], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_i64())
        .ok_or_else(|| missing(artifact, name))
}

fn missing(artifact: &Artifact, array: &str) -> PipelineError {
    PipelineError::MissingArray {
        stage: artifact.meta.stage.clone(),
        key: artifact.meta.key.short(),
        array: array.to_string(),
    }
}
