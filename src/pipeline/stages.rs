//! What each stage computes from its upstream artifacts.
//!
//! Extraction, training and evaluation are placeholders until their issues land (audio, MIDI
//! and lyrics features; dfdx training; ensemble evaluation): they store small honest arrays
//! (file sizes, class counts) so the cache, keys and explanations are exercised for real.
//! Each stage's version constant is bumped whenever its output would change, which
//! invalidates exactly its artifacts and everything downstream.

use std::collections::BTreeMap;

use crate::cache::Artifact;
use crate::dataset::{DatasetLoad, Manifest};
use crate::modality::Modality;
use crate::spec::ExperimentSpec;
use crate::split::split_manifest;

use super::PipelineError;
use super::graph::{StageKind, StageNode};

/// Placeholder extraction: log2 of each file's size.
pub(crate) const EXTRACT_VERSION: u32 = 1;
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
        StageKind::Extract(modality) => extract(&mut artifact, &cx.data.listed, modality),
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

fn extract(artifact: &mut Artifact, listed: &Manifest, modality: Modality) {
    let (ids, features): (Vec<String>, Vec<f32>) = listed
        .songs
        .iter()
        .filter_map(|song| {
            let bytes = std::fs::metadata(song.file(modality)?).ok()?.len();
            Some((song.id.clone(), (bytes as f32 + 1.0).log2()))
        })
        .unzip();
    let rows = ids.len();
    artifact
        .put_strings("ids", ids)
        .put_f32("features", &[rows, 1], features)
        .put_strings("feature_names", vec!["placeholder.log2_file_bytes".into()]);
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
