//! Applying a finished run to new songs (`mer predict`) and sharing it (`mer export`).
//!
//! A [`ModelBundle`] is the run's trained model (resolved spec, class names, extractor
//! settings, every seed's fold ensemble with its normalization; a classifier, a regression
//! or a multi-label tagger), made from a report folder
//! and the cache or read from an exported file; a [`SongList`] the songs to predict, from
//! files, folders, a CSV of paths or a dataset spec. [`predict`] extracts their features
//! through the cache with the run's own extraction stages (refusing when the extractors would
//! compute other features than the model was trained on), normalizes them with each fold's
//! fitted parameters and scores them with the evaluate stage's own functions, so a run's test
//! songs, given in the order of its `predictions.csv`, come out exactly as that file has them.
//! With test-time augmentation the noise is drawn in input order, as in evaluation: the same
//! songs in the same order give the same outputs.

mod bundle;
mod output;
mod songs;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::cache::{ArtifactStore, CacheError, FileHasher, Lookup};
use crate::modality::{Modality, ModalityMask};
use crate::pipeline::{
    ExtractedFeatures, Pipeline, PipelineError, RunObserver, RunOptions, StageGraph, TrainedSeed,
};
use crate::results::Model;
use crate::spec::TaskKind;

pub use bundle::{BUNDLE_FORMAT, ModelBundle};
pub use output::{OutputFormat, PredictedSong, Predictions, Readout, SkippedSong};
pub use songs::{NewSong, SongList, modality_of};

/// Why songs could not be predicted or a bundle not made.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// A folder given as a run is not a report folder.
    #[error(
        "'{}' is not a report folder of `mer run` (it has no spec.toml and run.json) nor a bundle of `mer export`",
        path.display()
    )]
    NotAReport {
        /// The folder.
        path: PathBuf,
        /// Why a file of it could not be read.
        source: std::io::Error,
    },
    /// A file of a report folder does not parse.
    #[error("'{}' cannot be read: {problem}", path.display())]
    BadReport {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The run record cannot be read.
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// The run stopped before its end.
    #[error(
        "the run of '{}' did not finish (or was a dry run), so it has no trained model; predict from a finished run",
        .0.display()
    )]
    Unfinished(PathBuf),
    /// The run record lacks a stage the model needs.
    #[error("the run record has no stage {0}; is it a report of this mer?")]
    NoStage(String),
    /// A stage of the run is no longer in the cache.
    #[error(
        "the run's {stage} is not in the cache '{}' (removed by `mer cache gc`, or another --cache): run the spec again to rebuild it, or predict from a bundle exported while it was there",
        cache.display()
    )]
    NotCached {
        /// The stage instance.
        stage: String,
        /// The cache folder.
        cache: PathBuf,
    },
    /// The cache failed, or a bundle file could not be written or read.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// Extracting or scoring failed.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// A bundle file holds something else, or misses a part.
    #[error("'{}' is not a usable model bundle: {problem}", path.display())]
    BadBundle {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A bundle of another format or stage versions.
    #[error(
        "'{}' was written by mer {written_by} with {what}: export it again from its report folder with this mer, or predict with mer {written_by}",
        path.display()
    )]
    Incompatible {
        /// The file.
        path: PathBuf,
        /// The mer version that wrote it.
        written_by: String,
        /// What differs.
        what: String,
    },
    /// The extractors would compute other features than the model was trained on.
    #[error(
        "{stage} would now extract other features than the model was trained on (extractor settings when trained: {trained}; now: {now}); predict with the extractor version and pretrained weights that trained it (`mer models fetch`)"
    )]
    ExtractorChanged {
        /// The extraction stage.
        stage: String,
        /// Its settings when the model was trained.
        trained: String,
        /// Its settings now.
        now: String,
    },
    /// The model reads precomputed features, which cannot be computed for new songs.
    #[error(
        "the model reads precomputed {0} features (modalities.{0}.extractor = \"precomputed\"), which mer predict cannot compute for new songs"
    )]
    Precomputed(Modality),
    /// An input path does not exist.
    #[error("'{}' does not exist", .0.display())]
    NoInput(PathBuf),
    /// An input file is none of the inputs predict reads.
    #[error(
        "'{}' is not an audio (mp3, wav, flac, ogg, aiff), lyrics (txt) or MIDI (mid, midi) file, a folder, a .csv of paths per modality or a .toml dataset spec",
        .0.display()
    )]
    NotMedia(PathBuf),
    /// A folder could not be walked.
    #[error("could not list '{}': {reason}", folder.display())]
    Walk {
        /// The folder.
        folder: PathBuf,
        /// Why.
        reason: String,
    },
    /// A CSV of paths is malformed.
    #[error(
        "'{}': {problem}; a CSV of songs has an `id` column and one column of paths per modality (`audio`, `lyrics`, `midi`)",
        path.display()
    )]
    BadCsv {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// Two files of one modality for one song id.
    #[error(
        "song {id} has two {modality} files, '{}' and '{}'; give one (songs are matched by file name stem)",
        first.display(),
        second.display()
    )]
    TwoFiles {
        /// The song id.
        id: String,
        /// The modality.
        modality: Modality,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// A dataset spec given as input could not be read.
    #[error("the dataset of '{}' cannot be read", path.display())]
    Dataset {
        /// The spec.
        path: PathBuf,
        /// Why.
        source: anyhow::Error,
    },
    /// `--model` names no model of the run.
    #[error("--model {model}: the run has no such model; it has {available}")]
    NoModel {
        /// The name given.
        model: String,
        /// The run's models.
        available: String,
    },
    /// `--seed` names no seed of the run.
    #[error("--seed {seed}: the run has no such seed; its seeds are {seeds}")]
    NoSeed {
        /// The seed given.
        seed: u64,
        /// The run's seeds.
        seeds: String,
    },
}

/// What to predict with.
#[derive(Debug, Clone, Default)]
pub struct PredictOptions {
    /// The model: the headline (the fold ensemble with test-time augmentation) by default.
    pub model: Option<Model>,
    /// One seed's ensemble; every seed's by default.
    pub seed: Option<u64>,
    /// Set (by Ctrl-C) to stop before the next extraction stage; finished ones stay cached.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// Predicts `songs` with `bundle`: extraction through `store` (input files hashed by
/// `hasher`, progress told to `observer`), then every selected seed's model.
pub fn predict(
    bundle: &ModelBundle,
    songs: &SongList,
    (store, hasher): (&ArtifactStore, &mut FileHasher),
    observer: &dyn RunObserver,
    options: &PredictOptions,
) -> Result<Predictions, PredictError> {
    let spec = &bundle.spec;
    if let Some(modality) =
        (spec.selected().iter()).find(|&m| spec.modalities.precomputed(m).is_some())
    {
        return Err(PredictError::Precomputed(modality));
    }
    let seeds = chosen_seeds(&bundle.seeds, options.seed)?;
    let features = extract(bundle, songs, (store, hasher), observer, options)?;
    let mut skipped: Vec<SkippedSong> = (features.iter())
        .flat_map(|f| {
            (f.skipped.iter()).map(|(id, reason)| SkippedSong {
                id: id.clone(),
                modality: Some(f.modality),
                reason: reason.clone(),
            })
        })
        .collect();
    let mut ids = Vec::new();
    let mut masks = Vec::new();
    for song in &songs.songs {
        let mask: ModalityMask = (features.iter())
            .filter(|f| f.rows.contains_key(&song.id))
            .map(|f| f.modality)
            .collect();
        if mask.is_empty() {
            skipped.push(SkippedSong {
                id: song.id.clone(),
                modality: None,
                reason: format!(
                    "no readable file of the model's modalities ({})",
                    spec.selected()
                ),
            });
        } else {
            ids.push(song.id.clone());
            masks.push(mask);
        }
    }
    let model = options.model.unwrap_or(Model::HEADLINE);
    let mut predicted = Vec::new();
    for seed in seeds {
        if ids.is_empty() {
            break;
        }
        let outputs = seed.score(spec, (&ids, &features), bundle.outputs.len())?;
        let available = outputs
            .iter()
            .map(|(m, _)| m.to_string())
            .collect::<Vec<_>>();
        let values = (outputs.into_iter().find(|(m, _)| *m == model))
            .map(|(_, values)| values)
            .ok_or_else(|| PredictError::NoModel {
                model: model.to_string(),
                available: available.join(", "),
            })?;
        let width = bundle.outputs.len();
        for (i, (id, mask)) in ids.iter().zip(&masks).enumerate() {
            predicted.push(PredictedSong {
                seed: seed.seed,
                id: id.clone(),
                modalities: *mask,
                outputs: values[i * width..][..width].to_vec(),
            });
        }
    }
    Ok(Predictions {
        kind: spec.task.kind,
        readout: readout(bundle),
        outputs: bundle.outputs.clone(),
        model,
        songs: predicted,
        skipped,
    })
}

/// How the bundle's outputs read.
fn readout(bundle: &ModelBundle) -> Readout {
    let task = &bundle.spec.task;
    match task.kind {
        TaskKind::Classification => Readout::Classes,
        TaskKind::Regression => Readout::Values(
            bundle
                .outputs
                .iter()
                .map(|t| task.target_scale(t))
                .collect(),
        ),
        TaskKind::Multilabel => Readout::Tags {
            thresholds: (bundle.seeds.iter().map(|s| s.seed))
                .zip(bundle.thresholds.iter().copied())
                .collect(),
            separator: task.tag_separator().to_string(),
        },
    }
}

/// The seeds to predict with: `seed`, or all.
fn chosen_seeds(
    seeds: &[TrainedSeed],
    seed: Option<u64>,
) -> Result<Vec<&TrainedSeed>, PredictError> {
    match seed {
        None => Ok(seeds.iter().collect()),
        Some(wanted) => match seeds.iter().find(|s| s.seed == wanted) {
            Some(found) => Ok(vec![found]),
            None => Err(PredictError::NoSeed {
                seed: wanted,
                seeds: (seeds.iter().map(|s| s.seed.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        },
    }
}

/// Runs the model's extraction stages on `songs` and reads back each modality's features.
fn extract(
    bundle: &ModelBundle,
    songs: &SongList,
    (store, hasher): (&ArtifactStore, &mut FileHasher),
    observer: &dyn RunObserver,
    options: &PredictOptions,
) -> Result<Vec<ExtractedFeatures>, PredictError> {
    let spec = &bundle.spec;
    let data = songs.dataset();
    let graph = StageGraph::extraction(spec, &data, hasher)?;
    bundle.check_extractors(&graph.extractor_settings())?;
    let run = RunOptions {
        force: Vec::new(),
        interrupt: options.interrupt.clone(),
        ..RunOptions::default()
    };
    if let (_, Some(error)) = Pipeline::new(spec, &data, store).execute(&graph, &run, observer) {
        return Err(error.into());
    }
    spec.selected()
        .iter()
        .map(|modality| {
            let node = graph
                .features_of(modality)
                .expect("the extraction graph has every selected modality");
            match store.get(&node.key)? {
                Lookup::Hit(artifact) => Ok(ExtractedFeatures::read(modality, &artifact)?),
                _ => Err(PredictError::NotCached {
                    stage: node.id.to_string(),
                    cache: store.root().to_path_buf(),
                }),
            }
        })
        .collect()
}
