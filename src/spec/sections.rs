//! The sections of an experiment spec, as serde structs with the built-in defaults.
//!
//! Each section's `Default` is the student pipeline's recipe (DESIGN.md), so a spec only names
//! what it changes. Unknown keys are rejected everywhere (`deny_unknown_fields`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::modality::Modality;

/// `[dataset]`: where the songs are and how their labels are laid out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSection {
    /// On-disk layout of the dataset.
    pub layout: Layout,
    /// Dataset folder; relative paths are relative to the spec file's folder.
    pub root: PathBuf,
    /// `table` layout: the labels CSV (`id,label`, more columns kept as metadata), relative to
    /// `root`. Default `labels.csv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
    /// `table` layout: name of the id column. Default `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    /// `table` layout: name of the label column. Default `label`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// `table` layout: one path template per modality, relative to `root`, with `{id}`, e.g.
    /// `audio = "audio/{id}.wav"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub paths: BTreeMap<String, String>,
    /// What to do with a song whose label sources disagree (`mirex-like`: `clusters.txt` against
    /// the `.bat` files). Never resolved silently: `drop` reports and leaves the song out.
    #[serde(default)]
    pub on_label_conflict: LabelConflictPolicy,
    /// Which songs the experiment keeps: those with a file (or a precomputed row) for at least
    /// one of these modalities. Default: the selected modalities. A modality ablation
    /// (`[sweep] modalities = "all-subsets"`) sets it to the base spec's modalities, so every
    /// member splits the same songs; a song with none of a member's modalities then reaches
    /// its model with every presence flag off. A precomputed row counts only for a selected
    /// modality (an unselected one has no table to read it from): its media file decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub songs_with: Option<Vec<Modality>>,
}

/// Supported dataset layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// The MIREX-like mood archive as distributed (Panda et al. 2013).
    MirexLike,
    /// A labels CSV plus one path template per modality.
    Table,
}

/// Policy for songs whose label sources disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelConflictPolicy {
    /// Report the song and leave it out of the experiment.
    #[default]
    Drop,
    /// Stop with an error listing the conflicts.
    Fail,
}

/// `[modalities]`: the modalities this experiment uses; a modality is selected by having a table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModalitySections {
    /// `[modalities.audio]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioSection>,
    /// `[modalities.lyrics]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lyrics: Option<LyricsSection>,
    /// `[modalities.midi]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub midi: Option<MidiSection>,
}

/// What to do when one song's file of a modality cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Report the file and treat the modality as missing for that song.
    #[default]
    Skip,
    /// Stop the run.
    Fail,
}

/// Features computed elsewhere (CNN14, BERT, ...) read from a matrix file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecomputedSection {
    /// `.npy`, `.npz`, `.csv` or `.h5` matrix, one row per song; relative to the spec's folder.
    pub path: PathBuf,
    /// A text file with one id per line, in row order: required for `.npy`, and replaces the
    /// ids of the other formats when given. Relative to the spec's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<PathBuf>,
    /// The id column (`.csv`, default `id`) or array/dataset name (`.npz`, `.h5`, default
    /// `ids`) holding the ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_key: Option<String>,
    /// The array/dataset name holding the matrix (`.npz`, `.h5`; default `features`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_key: Option<String>,
}

/// Audio feature extractors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AudioExtractor {
    /// librosa-compatible spectral, timbral, harmonic and rhythm features, pooled per song.
    #[default]
    Spectral,
    /// Read from `[modalities.audio.precomputed]`.
    Precomputed,
}

/// Frame statistics pooled into the song vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// Mean over frames.
    Mean,
    /// Standard deviation over frames.
    Std,
    /// 10th, 50th and 90th percentiles.
    Percentiles,
    /// Skewness.
    Skew,
    /// Excess kurtosis.
    Kurtosis,
}

/// `[modalities.audio]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioSection {
    /// Default `spectral`.
    pub extractor: AudioExtractor,
    /// Resampling target in Hz. Default 22050.
    pub sample_rate: u32,
    /// FFT size in samples. Default 2048.
    pub n_fft: usize,
    /// Hop between frames in samples. Default 512.
    pub hop_length: usize,
    /// Mel bands. Default 128.
    pub n_mels: usize,
    /// MFCC coefficients. Default 20.
    pub n_mfcc: usize,
    /// Lowest mel frequency in Hz. Default 0.
    pub fmin: f64,
    /// Highest mel frequency in Hz. Default: half the sample rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fmax: Option<f64>,
    /// Seconds skipped at the start of each file. Default 0.
    pub offset: f64,
    /// Seconds read after `offset`. Default: to the end (at most `max_seconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// A song whose decoded window is shorter than this many seconds is skipped: a file cut
    /// short by a failed copy decodes to a few milliseconds and would pass for a song. Half a
    /// second is about 20 analysis frames, the least that pooled statistics and an onset
    /// envelope mean anything on; raise it to what your clips should hold. A file that decodes
    /// to less than its header declares is reported either way. Default 0.5.
    pub min_seconds: f64,
    /// Most seconds decoded per song when `duration` is unset, which bounds each song's memory
    /// (it grows with the decoded length); a longer file is cut there with a warning. Default 600.
    pub max_seconds: f64,
    /// Frame statistics per song. Default `["mean", "std"]`.
    pub pooling: Vec<Pooling>,
    /// Default `skip`.
    pub on_error: OnError,
    /// Required when `extractor = "precomputed"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precomputed: Option<PrecomputedSection>,
}

impl Default for AudioSection {
    fn default() -> Self {
        AudioSection {
            extractor: AudioExtractor::Spectral,
            sample_rate: 22_050,
            n_fft: 2048,
            hop_length: 512,
            n_mels: 128,
            n_mfcc: 20,
            fmin: 0.0,
            fmax: None,
            offset: 0.0,
            duration: None,
            min_seconds: 0.5,
            max_seconds: 600.0,
            pooling: vec![Pooling::Mean, Pooling::Std],
            on_error: OnError::Skip,
            precomputed: None,
        }
    }
}

/// Lyrics feature extractors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LyricsExtractor {
    /// Hashed bag of n-grams plus stylistic features (and a lexicon if given).
    #[default]
    HashedBow,
    /// Read from `[modalities.lyrics.precomputed]`.
    Precomputed,
}

/// `[modalities.lyrics]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LyricsSection {
    /// Default `hashed-bow`.
    pub extractor: LyricsExtractor,
    /// Hashed bag-of-words dimensions. Default 2048.
    pub hash_dims: usize,
    /// Longest n-gram hashed (1 = unigrams only). Default 2.
    pub max_ngram: usize,
    /// Sublinear term frequency (1 + ln tf). Default true.
    pub sublinear_tf: bool,
    /// Stylistic features (lines, repetition, pronouns, ...). Default true.
    pub stylistic: bool,
    /// Optional affective lexicon CSV (`word,valence,arousal,dominance`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lexicon: Option<PathBuf>,
    /// Largest lyrics file read, in bytes; a larger file is skipped, since no song's lyrics
    /// come near it and tokenizing it would take about 35 times its size in memory.
    /// Default 1048576 (1 MiB).
    pub max_bytes: usize,
    /// Default `skip`.
    pub on_error: OnError,
    /// Required when `extractor = "precomputed"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precomputed: Option<PrecomputedSection>,
}

impl Default for LyricsSection {
    fn default() -> Self {
        LyricsSection {
            extractor: LyricsExtractor::HashedBow,
            hash_dims: 2048,
            max_ngram: 2,
            sublinear_tf: true,
            stylistic: true,
            lexicon: None,
            max_bytes: 1 << 20,
            on_error: OnError::Skip,
            precomputed: None,
        }
    }
}

/// MIDI feature extractors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MidiExtractor {
    /// jSymbolic-style tempo, rhythm, pitch, melody, harmony, key, dynamics and
    /// instrumentation features.
    #[default]
    Symbolic,
    /// Read from `[modalities.midi.precomputed]`.
    Precomputed,
}

/// `[modalities.midi]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MidiSection {
    /// Default `symbolic`.
    pub extractor: MidiExtractor,
    /// Largest MIDI file read, in bytes; a larger file is skipped. Default 4194304 (4 MiB; the
    /// largest MIREX-like file is 83 kB).
    pub max_bytes: usize,
    /// Most events (notes, tempo and control changes, over all tracks) in a file; a file with
    /// more is skipped, which bounds each song's memory and time. Default 500000.
    pub max_events: usize,
    /// Default `skip`.
    pub on_error: OnError,
    /// Required when `extractor = "precomputed"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precomputed: Option<PrecomputedSection>,
}

impl Default for MidiSection {
    fn default() -> Self {
        MidiSection {
            extractor: MidiExtractor::Symbolic,
            max_bytes: 4 << 20,
            max_events: 500_000,
            on_error: OnError::Skip,
            precomputed: None,
        }
    }
}

/// Feature scalings, fitted per fold on training songs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scaling {
    /// Zero mean, unit variance.
    #[default]
    Standard,
    /// Median and inter-quartile range.
    Robust,
    /// Into [0, 1].
    Minmax,
    /// Each song vector to unit length.
    L2,
    /// Leave features as extracted.
    None,
}

/// `[normalize]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalizeSection {
    /// Scaling for every modality without its own. Default `standard`.
    pub method: Scaling,
    /// Scaling for audio features, overriding `method`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<Scaling>,
    /// Scaling for lyrics features, overriding `method`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lyrics: Option<Scaling>,
    /// Scaling for MIDI features, overriding `method`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub midi: Option<Scaling>,
    /// TF-IDF weighting of the hashed lyrics n-grams (`bow_*` columns; IDF fitted per fold,
    /// each song's block then scaled to unit length), before the scaling. Default true.
    pub tfidf: bool,
}

impl Default for NormalizeSection {
    fn default() -> Self {
        NormalizeSection {
            method: Scaling::Standard,
            audio: None,
            lyrics: None,
            midi: None,
            tfidf: true,
        }
    }
}

/// How modality embeddings are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fusion {
    /// Intermediate fusion: encoder outputs and presence masks concatenated.
    #[default]
    Concat,
}

/// Normalization layers inside the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NormLayer {
    /// Layer normalization.
    #[default]
    Layer,
    /// Batch normalization (running statistics in evaluation).
    Batch,
    /// No normalization layer.
    None,
}

/// Activation functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// Rectified linear unit.
    Relu,
    /// Gaussian error linear unit.
    #[default]
    Gelu,
}

/// `[model]`: the fusion network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Default `concat`.
    pub fusion: Fusion,
    /// Hidden layers per modality encoder. Default 1.
    pub encoder_layers: usize,
    /// Width of each encoder layer (the modality embedding size). Default 128.
    pub encoder_width: usize,
    /// Hidden layers of the classifier head. Default 1.
    pub head_layers: usize,
    /// Width of the head's hidden layers. Default 64.
    pub head_width: usize,
    /// Dropout probability after each hidden layer. Default 0.3.
    pub dropout: f64,
    /// Default `layer`.
    pub norm: NormLayer,
    /// Default `gelu`.
    pub activation: Activation,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            fusion: Fusion::Concat,
            encoder_layers: 1,
            encoder_width: 128,
            head_layers: 1,
            head_width: 64,
            dropout: 0.3,
            norm: NormLayer::Layer,
            activation: Activation::Gelu,
        }
    }
}

/// `[augment]`: training-time augmentations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentSection {
    /// Beta(alpha, alpha) mixup; 0 turns it off. Default 0.4.
    pub mixup_alpha: f64,
    /// Label smoothing mass. Default 0.1.
    pub label_smoothing: f64,
    /// Per-sample, per-modality drop probability (never every present modality). Default 0.2.
    pub modality_dropout: f64,
    /// Standard deviation of Gaussian noise added to normalized features. Default 0.05.
    pub feature_noise: f64,
}

impl Default for AugmentSection {
    fn default() -> Self {
        AugmentSection {
            mixup_alpha: 0.4,
            label_smoothing: 0.1,
            modality_dropout: 0.2,
            feature_noise: 0.05,
        }
    }
}

/// Learning-rate schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// Cosine annealing with warm restarts (SGDR).
    #[default]
    CosineWarmRestarts,
    /// A constant learning rate.
    Constant,
}

/// When the schedule advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleStep {
    /// Once per epoch.
    #[default]
    Epoch,
    /// Once per mini-batch (fractional epochs).
    Step,
}

/// `[schedule]`: optimizer and training length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleSection {
    /// AdamW learning rate. Default 1e-3.
    pub lr: f64,
    /// Decoupled weight decay. Default 1e-4.
    pub weight_decay: f64,
    /// AdamW first-moment decay. Default 0.9.
    pub beta1: f64,
    /// AdamW second-moment decay. Default 0.999.
    pub beta2: f64,
    /// AdamW epsilon. Default 1e-8.
    pub eps: f64,
    /// Mini-batch size. Default 32.
    pub batch_size: usize,
    /// Maximum epochs. Default 60.
    pub epochs: usize,
    /// Default `cosine-warm-restarts`.
    pub lr_schedule: LrSchedule,
    /// Length of the first cosine cycle, in epochs. Default 10.
    pub t0: usize,
    /// Cycle length multiplier after each restart. Default 2.
    pub t_mult: usize,
    /// Floor of the cosine schedule. Default 0.
    pub eta_min: f64,
    /// Default `epoch`.
    pub step: ScheduleStep,
    /// Stop after this many epochs without a better validation macro-F1. Default: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patience: Option<usize>,
    /// Weight the loss by inverse class frequency. Default false.
    pub class_weights: bool,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        ScheduleSection {
            lr: 1e-3,
            weight_decay: 1e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            batch_size: 32,
            epochs: 60,
            lr_schedule: LrSchedule::CosineWarmRestarts,
            t0: 10,
            t_mult: 2,
            eta_min: 0.0,
            step: ScheduleStep::Epoch,
            patience: None,
            class_weights: false,
        }
    }
}

/// `[split]`: hold-out test set and cross-validation folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitSection {
    /// Fraction of songs held out for the final test, stratified by class. Default 0.2.
    pub test_fraction: f64,
    /// Stratified folds over the remaining songs. Default 5.
    pub folds: usize,
    /// What to do with a class too small to stratify: fewer songs than one per fold plus its
    /// share of the test set (with the defaults, fewer than 7). `drop` (default) reports the
    /// class, its songs by id and the metadata lines that label them, and leaves them out
    /// before the split, so the experiment goes on with the other classes; `fail` stops with
    /// that report. Written to the resolved spec only when not the default, so specs that
    /// leave it out keep their hash and their cached stages.
    #[serde(skip_serializing_if = "RareClassPolicy::is_default")]
    pub rare_classes: RareClassPolicy,
}

impl Default for SplitSection {
    fn default() -> Self {
        SplitSection {
            test_fraction: 0.2,
            folds: 5,
            rare_classes: RareClassPolicy::Drop,
        }
    }
}

/// Policy for classes with too few songs to split (`split.rare_classes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RareClassPolicy {
    /// Report the class and leave its songs out of the experiment.
    #[default]
    Drop,
    /// Stop with an error listing the class and its songs.
    Fail,
}

impl RareClassPolicy {
    fn is_default(&self) -> bool {
        *self == RareClassPolicy::default()
    }
}

/// How fold models are combined on the test set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ensemble {
    /// Mean of the fold models' softmax probabilities.
    #[default]
    Mean,
    /// Majority vote of the fold models.
    Vote,
    /// The single fold model with the best validation macro-F1.
    BestFold,
}

/// `[eval]`: ensemble evaluation on the hold-out test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSection {
    /// Default `mean`.
    pub ensemble: Ensemble,
    /// Test-time augmentation passes (1 = no augmentation). Default 5.
    pub tta_passes: usize,
    /// Feature noise of the test-time passes. Default 0.05.
    pub tta_noise: f64,
    /// Per-song, per-modality drop probability in the test-time passes (never every present
    /// modality of a song). Default 0.
    pub tta_modality_dropout: f64,
    /// Bootstrap resamples for confidence intervals (0 = none). Default 1000.
    pub bootstrap: usize,
}

impl Default for EvalSection {
    fn default() -> Self {
        EvalSection {
            ensemble: Ensemble::Mean,
            tta_passes: 5,
            tta_noise: 0.05,
            tta_modality_dropout: 0.0,
            bootstrap: 1000,
        }
    }
}

/// `[sweep]`: the members a `mer sweep` expands this spec into.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepSection {
    /// `"all-subsets"`: one member per non-empty subset of the selected modalities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modalities: Option<ModalitySweep>,
    /// Key path to the values it takes; members are the cartesian product.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// Named members, each with its own overrides.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variant: Vec<SweepVariant>,
}

impl SweepSection {
    /// Whether the section asks for no member at all (a plain spec).
    pub fn is_empty(&self) -> bool {
        self.modalities.is_none() && self.grid.is_empty() && self.variant.is_empty()
    }
}

/// Modality-ablation shorthands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModalitySweep {
    /// Every non-empty subset of the spec's modalities.
    AllSubsets,
}

/// `[[sweep.variant]]`: a named member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepVariant {
    /// Member name, used in report folders.
    pub name: String,
    /// Key path to value overrides, as `--set` takes them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, toml::Value>,
}
