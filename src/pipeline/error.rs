//! Why a pipeline could not be planned or run: one error type for the graph, the stages and
//! the executor, so the command line reports every failure the same way.

use crate::cache::CacheError;

/// Why a pipeline could not be planned or run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Training or prediction failed (a spec value out of range, inconsistent data).
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// The cache failed (I/O, HDF5); the message says which file.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The split could not be drawn.
    #[error(transparent)]
    Split(#[from] crate::split::SplitError),
    /// An upstream artifact lacks an array its consumer needs: a stage version mismatch.
    #[error(
        "artifact of {stage} ({key}) has no array `{array}`; remove it with `mer cache gc` or run with --force {stage}"
    )]
    MissingArray {
        /// The producing stage.
        stage: String,
        /// Its key (short).
        key: String,
        /// The array looked for.
        array: String,
    },
    /// An upstream artifact is inconsistent with itself (an array of the wrong size, a label
    /// out of range): an entry that passed its checksum but was written by a buggy or older
    /// stage. An error naming it, never a panic.
    #[error("artifact of {stage} ({key}) is malformed: {problem}; run with --force {stage}")]
    MalformedArtifact {
        /// The producing stage.
        stage: String,
        /// Its key (short).
        key: String,
        /// What is wrong, naming the array.
        problem: String,
    },
    /// A song's file could not be read and its modality's `on_error` is `"fail"`.
    #[error(
        "{modality} of song {id} ({}) could not be extracted: {reason}; fix or remove the file, or set modalities.{modality}.on_error = \"skip\"",
        path.display()
    )]
    Extraction {
        /// The modality.
        modality: crate::modality::Modality,
        /// The song.
        id: String,
        /// Its file.
        path: std::path::PathBuf,
        /// The extractor's message.
        reason: String,
    },
    /// A file an extractor's settings name (`modalities.lyrics.lexicon`) is missing or
    /// malformed.
    #[error("{table}.{source}")]
    KeyFile {
        /// The extractor's table in the spec (`modalities.lyrics`).
        table: String,
        /// The key, and what is wrong with its file.
        source: crate::features::KeyFileError,
    },
    /// A precomputed feature file is unusable as a whole (unreadable, wrong keys, duplicate
    /// ids).
    #[error("modalities.{modality}.precomputed: {source}")]
    Precomputed {
        /// The modality.
        modality: crate::modality::Modality,
        /// What is wrong with the file.
        source: crate::features::precomputed::PrecomputedError,
    },
    /// No feature of a modality varies over a fold's training songs (too few of them have
    /// the modality), so normalization kept none and the model would get an empty input.
    #[error(
        "normalize[{fold}]: no {modality} feature varies over the {training_songs} training song(s) of fold {fold} that have {modality}, so every {modality} feature was dropped; lower split.folds, add songs with {modality}, or leave [modalities.{modality}] out"
    )]
    NoVaryingFeature {
        /// The modality.
        modality: crate::modality::Modality,
        /// The fold.
        fold: usize,
        /// Training songs of the fold with the modality.
        training_songs: usize,
    },
    /// The user interrupted the run (Ctrl-C) before this stage computed.
    #[error(
        "interrupted before {0} computed; every finished stage is cached, so running the same command again continues from there"
    )]
    Interrupted(String),
    /// New songs' features do not have the columns a trained model's normalization keeps:
    /// the extractor changed since the model was trained.
    #[error(
        "the {modality} features extracted now differ from the ones the model was trained on: column {column} is `{found}`, the model expects `{expected}`; predict with the mer version and extractor settings that trained it"
    )]
    FeatureMismatch {
        /// The modality.
        modality: crate::modality::Modality,
        /// The extracted column index.
        column: usize,
        /// Its name when the model was trained.
        expected: String,
        /// Its name now (`nothing` when there is no such column).
        found: String,
    },
    /// A stage's cached entry went missing after the run decided it would not need that
    /// stage's inputs (a shard's join removed by `mer cache gc` at the same moment).
    #[error(
        "the cached entry of {0} went missing while the run began (a `mer cache gc` at the same time?); run again"
    )]
    Vanished(String),
    /// A shard lacks a song its join expects: shards of another dataset's listing.
    #[error(
        "{stage}: no shard has song {id}; run with --force {stage} to extract its shards again"
    )]
    ShardMissesSong {
        /// The join's stage.
        stage: String,
        /// The song.
        id: String,
    },
    /// A run that may only reuse cached stages (`--cached-only`, as a Slurm run's report job)
    /// found one missing.
    #[error(
        "{0} is not in the cache and this run may only reuse cached stages: the task that computes it did not finish (`mer status` names it, with its log)"
    )]
    NotCached(String),
    /// `--force` (or `--only`) named no stage of this experiment.
    #[error("{0} {1}: no such stage in this experiment; stages are: {2}")]
    UnknownStage(&'static str, String, String),
}
