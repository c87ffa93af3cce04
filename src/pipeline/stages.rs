//! What each stage computes from its upstream artifacts.
//!
//! Extraction ([`crate::features`], precomputed matrices included) and per-fold normalization
//! ([`crate::normalize`]) are real; training and evaluation are placeholders until their issues land:
//! they store small honest arrays (class counts) so the cache, keys and explanations are
//! exercised for real.
//! Each stage's version constant is bumped whenever its output would change, which
//! invalidates exactly its artifacts and everything downstream.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache::Artifact;
use crate::dataset::DatasetLoad;
use crate::features::precomputed::FeatureTable;
use crate::features::{Extractor, FeatureError, FeatureSource};
use crate::modality::Modality;
use crate::normalize::Normalizer;
use crate::spec::{ExperimentSpec, OnError, PrecomputedSection, Scaling};
use crate::split::split_manifest;

use super::graph::{StageKind, StageNode};
use super::{PipelineError, training};

/// Per-song extraction in parallel, skipped songs recorded (1 was the file-size placeholder
/// for every modality); the extractor's own version enters the key separately.
pub(crate) const EXTRACT_VERSION: u32 = 2;
/// Stratified hold-out + k-fold assignment.
pub(crate) const SPLIT_VERSION: u32 = 1;
/// Per-fold TF-IDF and scaling fitted on the fold's training songs, constant features dropped,
/// normalized features stored (1 stored only a mean and standard deviation per feature).
pub(crate) const NORMALIZE_VERSION: u32 = 2;
/// The fusion model trained on fold k (1 stored the fold's class counts as a placeholder).
pub(crate) const TRAIN_VERSION: u32 = 2;
/// Fold models, ensembles and test-time augmentation on the hold-out test set (1 stored the
/// number of fold models as a placeholder).
pub(crate) const EVALUATE_VERSION: u32 = 2;

/// The name of `modality`'s extraction stage, e.g. `extract.audio`.
pub(crate) fn extract_stage(modality: Modality) -> String {
    format!("extract.{}", modality.name())
}

/// Everything a stage may read besides its upstream artifacts.
pub(crate) struct StageContext<'a> {
    pub(crate) spec: &'a ExperimentSpec,
    pub(crate) data: &'a DatasetLoad,
    pub(crate) observer: &'a dyn super::RunObserver,
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
        StageKind::Normalize { fold } => normalize(&mut artifact, upstream, cx, fold)?,
        StageKind::Train { fold } => training::train(
            &mut artifact,
            upstream,
            cx.spec,
            cx.data.manifest.classes.len(),
            (node.seed.unwrap_or_default(), fold),
        )?,
        StageKind::Evaluate => training::evaluate(
            &mut artifact,
            upstream,
            cx.spec,
            cx.data.manifest.classes.len(),
            node.seed.unwrap_or_default(),
        )?,
    }
    Ok(artifact)
}

/// Features of every listed song that has `modality`, from the spec's extractor (per song, in
/// parallel) or precomputed matrix (read once). A song whose features cannot be had is recorded
/// in `skipped_ids`/`skipped_reasons` (`on_error = "skip"`) or fails the stage (`"fail"`).
fn extract(
    artifact: &mut Artifact,
    cx: &StageContext<'_>,
    modality: Modality,
) -> Result<(), PipelineError> {
    let source = FeatureSource::for_modality(modality, &cx.spec.modalities)
        .expect("extraction stages exist only for selected modalities");
    let extracted = match source {
        FeatureSource::Extractor(extractor) => extract_per_song(extractor, cx, modality),
        FeatureSource::Precomputed(table) => {
            let extracted = extract_precomputed(table, cx, modality)?;
            artifact.put_strings("unknown_ids", extracted.unknown_ids.clone());
            extracted
        }
    };
    store_features(artifact, cx, modality, extracted)
}

/// One song's id, the file its features come from, and the features or why there are none.
type SongFeatures<'a> = (&'a str, PathBuf, Result<Vec<f32>, FeatureError>);

/// Features of each song, or why it has none, before `on_error` decides.
struct Extracted<'a> {
    names: Vec<String>,
    songs: Vec<SongFeatures<'a>>,
    unknown_ids: Vec<String>,
}

/// Runs `extractor` on every listed song with a media file, in parallel.
fn extract_per_song<'a>(
    extractor: Extractor<'_>,
    cx: &StageContext<'a>,
    modality: Modality,
) -> Extracted<'a> {
    let songs: Vec<(&str, &Path)> = cx
        .data
        .listed
        .songs
        .iter()
        .filter_map(|song| Some((song.id.as_str(), song.file(modality)?)))
        .collect();
    let stage = extract_stage(modality);
    cx.observer.songs_started(&stage, songs.len());
    Extracted {
        names: extractor.feature_names(),
        songs: songs
            .par_iter()
            .map(|(id, path)| {
                let features = extractor.extract(path);
                cx.observer.song_done(&stage);
                (*id, path.to_path_buf(), features)
            })
            .collect(),
        unknown_ids: Vec::new(),
    }
}

/// Reads the matrix once and matches its rows to the listed songs that have `modality` (a
/// media file or a row): no row and non-finite rows are per-song failures; ids the dataset
/// does not list are reported and returned.
fn extract_precomputed<'a>(
    section: &PrecomputedSection,
    cx: &StageContext<'a>,
    modality: Modality,
) -> Result<Extracted<'a>, PipelineError> {
    let table = FeatureTable::read(section, modality)
        .map_err(|source| PipelineError::Precomputed { modality, source })?;
    let listed = &cx.data.listed.songs;
    let unknown_ids = table.unknown_ids(listed.iter().map(|s| s.id.as_str()));
    if !unknown_ids.is_empty() {
        let examples: Vec<&str> = unknown_ids.iter().take(5).map(String::as_str).collect();
        tracing::warn!(
            "extract.{modality}: {} of {} rows of {} belong to no listed song (e.g. {}); they are left out",
            unknown_ids.len(),
            table.ids.len(),
            table.path.display(),
            examples.join(", ")
        );
    }
    let songs = listed
        .iter()
        .filter(|song| song.present().contains(modality))
        .map(|song| {
            let row = table.row(&song.id).map(<[f32]>::to_vec);
            (
                song.id.as_str(),
                table.path.clone(),
                row.map_err(Into::into),
            )
        })
        .collect();
    Ok(Extracted {
        names: table.names.clone(),
        songs,
        unknown_ids,
    })
}

/// Stores the features, names and skipped songs, applying the modality's `on_error`.
fn store_features(
    artifact: &mut Artifact,
    cx: &StageContext<'_>,
    modality: Modality,
    extracted: Extracted<'_>,
) -> Result<(), PipelineError> {
    let Extracted { names, songs, .. } = extracted;
    let (mut ids, mut values, mut skipped_ids, mut skipped_reasons) =
        (vec![], vec![], vec![], vec![]);
    for (id, path, result) in songs {
        match result {
            Ok(vector) => {
                debug_assert_eq!(vector.len(), names.len());
                ids.push(id.to_string());
                values.extend(vector);
            }
            Err(err) if cx.spec.modalities.on_error(modality) == OnError::Fail => {
                return Err(PipelineError::Extraction {
                    modality,
                    id: id.to_string(),
                    path,
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

/// Fits fold `fold`'s normalization of each extracted modality `m` on the fold's training
/// songs (split fold neither -1 nor `fold`) and applies it to every experiment song with
/// features for `m`. The artifact, which training and `mer predict` read:
///
/// | array             | type, shape          | what                                                     |
/// |-------------------|----------------------|----------------------------------------------------------|
/// | `m.ids`           | strings [rows]       | experiment songs with `m` features: train, valid, test   |
/// | `m.features`      | f32 [rows, kept]     | normalized features, rows in `m.ids` order               |
/// | `m.feature_names` | strings [kept]       | names of the kept columns                                |
/// | `m.kept`          | i64 [kept]           | their indices into the extracted columns                 |
/// | `m.center`        | f64 [kept]           | subtracted from each kept column                         |
/// | `m.scale`         | f64 [kept]           | then divided by (positive, finite)                       |
/// | `m.method`        | strings [1]          | `standard`, `robust`, `minmax`, `l2` (rows to unit length after scaling) or `none` |
/// | `m.idf`           | f64 [bow]            | TF-IDF only: idf of each bag-of-words column             |
/// | `m.bow`           | i64 [bow]            | TF-IDF only: those columns' indices into the extracted ones |
///
/// New songs are normalized the same way ([`crate::normalize::Normalizer`]): TF-IDF on the
/// extracted row (bow columns times idf, then that block to unit length), keep `m.kept`,
/// subtract `m.center`, divide by `m.scale`, and for `l2` divide the row by its norm.
fn normalize(
    artifact: &mut Artifact,
    upstream: &[&Artifact],
    cx: &StageContext<'_>,
    fold: usize,
) -> Result<(), PipelineError> {
    let (split, extracts) = upstream
        .split_first()
        .expect("normalize reads the split first");
    let ids = strings(split, "ids")?;
    let folds = sized(split, "fold", i64_array(split, "fold")?, ids.len())?;
    let fold_of: HashMap<&str, i64> = ids
        .iter()
        .map(String::as_str)
        .zip(folds.iter().copied())
        .collect();
    for extract in extracts {
        let name = extract.meta.stage.trim_start_matches("extract.");
        let modality = Modality::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                malformed(
                    extract,
                    format!("an input of normalize is of stage `{}`", extract.meta.stage),
                )
            })?;
        let settings = &cx.spec.normalize;
        let tfidf = modality == Modality::Lyrics && settings.tfidf;
        let fitted =
            normalize_modality(extract, &fold_of, fold, settings.scaling(modality), tfidf)?;
        if fitted.names.is_empty() {
            return Err(PipelineError::NoVaryingFeature {
                modality,
                fold,
                training_songs: fitted.training_songs,
            });
        }
        fitted.store(artifact, name);
    }
    Ok(())
}

/// One modality's normalized features and fitted parameters.
struct NormalizedModality {
    /// Training songs of the fold the normalizer was fitted on.
    training_songs: usize,
    ids: Vec<String>,
    names: Vec<String>,
    features: Vec<f32>,
    normalizer: Normalizer,
}

impl NormalizedModality {
    fn store(self, artifact: &mut Artifact, m: &str) {
        let scaler = &self.normalizer.scaler;
        let kept = scaler.kept.len();
        // The spec's spelling (`minmax`), so a reader can match it against `normalize.method`.
        let method = serde_json::to_value(scaler.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        artifact
            .put_strings(&format!("{m}.ids"), self.ids.clone())
            .put_f32(
                &format!("{m}.features"),
                &[self.ids.len(), kept],
                self.features,
            )
            .put_strings(&format!("{m}.feature_names"), self.names)
            .put_i64(&format!("{m}.kept"), &[kept], indices(&scaler.kept))
            .put_f64(&format!("{m}.center"), &[kept], scaler.center.clone())
            .put_f64(&format!("{m}.scale"), &[kept], scaler.scale.clone())
            .put_strings(&format!("{m}.method"), vec![method]);
        if let Some(tfidf) = &self.normalizer.tfidf {
            let bow = tfidf.columns.len();
            artifact
                .put_f64(&format!("{m}.idf"), &[bow], tfidf.idf.clone())
                .put_i64(&format!("{m}.bow"), &[bow], indices(&tfidf.columns));
        }
    }
}

fn indices(columns: &[usize]) -> Vec<i64> {
    columns.iter().map(|&j| j as i64).collect()
}

/// Fits on the training songs of `fold` among `extract`'s rows, transforms every experiment
/// song's row (songs the split does not know, left out of the experiment, are dropped).
fn normalize_modality(
    extract: &Artifact,
    fold_of: &HashMap<&str, i64>,
    fold: usize,
    method: Scaling,
    tfidf: bool,
) -> Result<NormalizedModality, PipelineError> {
    let ids = strings(extract, "ids")?;
    let names = strings(extract, "feature_names")?;
    let width = names.len();
    let values = sized(
        extract,
        "features",
        f32_array(extract, "features")?,
        ids.len() * width,
    )?;
    let rows: Vec<(&str, &[f32])> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| fold_of.contains_key(id.as_str()))
        .map(|(i, id)| (id.as_str(), &values[i * width..(i + 1) * width]))
        .collect();
    let training: Vec<&[f32]> = rows
        .iter()
        .filter(|(id, _)| matches!(fold_of.get(id), Some(&f) if f >= 0 && f != fold as i64))
        .map(|(_, row)| *row)
        .collect();
    let stage = &extract.meta.stage;
    let bow: Vec<usize> = (0..width)
        .filter(|&j| names[j].starts_with("bow_"))
        .collect();
    let bow = (tfidf && !bow.is_empty()).then_some(bow);
    let normalizer = Normalizer::fit(method, bow, &training, width);
    let features = rows
        .iter()
        .flat_map(|(_, row)| normalizer.transform(row))
        .collect();
    tracing::debug!(
        "normalize[{fold}]: {stage}: {} of {width} features kept, fitted on {} songs",
        normalizer.scaler.kept.len(),
        training.len()
    );
    Ok(NormalizedModality {
        training_songs: training.len(),
        ids: rows.iter().map(|(id, _)| id.to_string()).collect(),
        names: normalizer
            .scaler
            .kept
            .iter()
            .map(|&j| names[j].clone())
            .collect(),
        features,
        normalizer,
    })
}

pub(crate) fn strings<'a>(
    artifact: &'a Artifact,
    name: &str,
) -> Result<&'a [String], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_str())
        .ok_or_else(|| missing(artifact, name))
}

pub(crate) fn i64_array<'a>(
    artifact: &'a Artifact,
    name: &str,
) -> Result<&'a [i64], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_i64())
        .ok_or_else(|| missing(artifact, name))
}

pub(crate) fn f32_array<'a>(
    artifact: &'a Artifact,
    name: &str,
) -> Result<&'a [f32], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_f32())
        .ok_or_else(|| missing(artifact, name))
}

pub(crate) fn f64_array<'a>(
    artifact: &'a Artifact,
    name: &str,
) -> Result<&'a [f64], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_f64())
        .ok_or_else(|| missing(artifact, name))
}

/// `values` (the array `name` of `artifact`) if there are `expected` of them.
pub(crate) fn sized<'a, T>(
    artifact: &Artifact,
    name: &str,
    values: &'a [T],
    expected: usize,
) -> Result<&'a [T], PipelineError> {
    if values.len() == expected {
        Ok(values)
    } else {
        Err(malformed(
            artifact,
            format!(
                "array `{name}` has {} values where {expected} were expected",
                values.len()
            ),
        ))
    }
}

/// Class indices, epochs, ...: every value of array `name` as an index below `bound`.
pub(crate) fn indices_below(
    artifact: &Artifact,
    name: &str,
    values: &[i64],
    bound: usize,
) -> Result<Vec<usize>, PipelineError> {
    values
        .iter()
        .map(|&v| usize::try_from(v).ok().filter(|&i| i < bound))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            malformed(
                artifact,
                format!("array `{name}` has a value outside 0..{bound}"),
            )
        })
}

/// The single value of a one-value array, e.g. `best_epoch` of a fold.
pub(crate) fn first<T: Copy>(
    artifact: &Artifact,
    name: &str,
    values: &[T],
) -> Result<T, PipelineError> {
    sized(artifact, name, values, 1).map(|v| v[0])
}

pub(crate) fn malformed(artifact: &Artifact, problem: String) -> PipelineError {
    PipelineError::MalformedArtifact {
        stage: artifact.meta.stage.clone(),
        key: artifact.meta.key.short(),
        problem,
    }
}

pub(crate) fn missing(artifact: &Artifact, array: &str) -> PipelineError {
    PipelineError::MissingArray {
        stage: artifact.meta.stage.clone(),
        key: artifact.meta.key.short(),
        array: array.to_string(),
    }
}
