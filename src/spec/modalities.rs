//! `[modalities.*]`: which modalities an experiment uses and, per modality, which extractor
//! computes its features, with only that extractor's settings.
//!
//! A modality's section is the keys every extractor shares (`on_error`) plus one variant of
//! its extractor enum (`extractor = "spectral"` holds `n_fft`, `n_mels`, ...;
//! `extractor = "precomputed"` holds the matrix table). The TOML is flat, as it always was;
//! [`super::modality_keys`] turns the flat table into the variant and reports a key of another
//! extractor as an error. Adding an extractor is one variant here plus its settings struct.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::modality::Modality;

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

/// One modality's section: the keys every extractor shares, and the chosen extractor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModalitySection<E> {
    /// `extractor = "..."` with that extractor's own keys.
    pub extractor: E,
    /// What to do when one song's features cannot be had. Default `skip`.
    pub on_error: OnError,
}

/// `[modalities.audio]`.
pub type AudioSection = ModalitySection<AudioSettings>;
/// `[modalities.lyrics]`.
pub type LyricsSection = ModalitySection<LyricsSettings>;
/// `[modalities.midi]`.
pub type MidiSection = ModalitySection<MidiSettings>;

/// What every modality's section says, whatever its extractor.
#[derive(Debug, Clone, Copy)]
pub struct SectionSummary<'a> {
    /// The extractor's name in specs (`spectral`, `precomputed`, ...).
    pub extractor: &'static str,
    /// The modality's `on_error`.
    pub on_error: OnError,
    /// The matrix table, when `extractor = "precomputed"`.
    pub precomputed: Option<&'a PrecomputedSection>,
}

impl ModalitySections {
    /// What the section of `modality` says; `None` when the modality is not selected. The one
    /// place that maps a modality to its section.
    pub fn summary(&self, modality: Modality) -> Option<SectionSummary<'_>> {
        match modality {
            Modality::Audio => self.audio.as_ref().map(ModalitySection::summary),
            Modality::Lyrics => self.lyrics.as_ref().map(ModalitySection::summary),
            Modality::Midi => self.midi.as_ref().map(ModalitySection::summary),
        }
    }

    /// Whether the spec has a table for `modality`.
    pub fn is_selected(&self, modality: Modality) -> bool {
        self.summary(modality).is_some()
    }

    /// The precomputed feature file of `modality`, when it is selected with
    /// `extractor = "precomputed"`.
    pub fn precomputed(&self, modality: Modality) -> Option<&PrecomputedSection> {
        self.summary(modality)?.precomputed
    }

    /// What a song's `modality` does when it cannot be extracted (default `skip`).
    pub fn on_error(&self, modality: Modality) -> OnError {
        self.summary(modality)
            .map(|s| s.on_error)
            .unwrap_or_default()
    }
}

impl<E: ExtractorSettings> ModalitySection<E> {
    fn summary(&self) -> SectionSummary<'_> {
        SectionSummary {
            extractor: self.extractor.name(),
            on_error: self.on_error,
            precomputed: self.extractor.precomputed(),
        }
    }
}

/// The extractor enum of one modality: one variant per extractor, each with its own keys.
pub trait ExtractorSettings {
    /// The extractor's name in specs, the value of `extractor`.
    fn name(&self) -> &'static str;
    /// The matrix table of the `precomputed` variant.
    fn precomputed(&self) -> Option<&PrecomputedSection>;
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

/// The audio extractors, with their settings.
#[derive(Debug, Clone, PartialEq)]
pub enum AudioSettings {
    /// `extractor = "spectral"`: librosa-compatible spectral, timbral, harmonic and rhythm
    /// features, pooled per song.
    Spectral(SpectralSettings),
    /// `extractor = "precomputed"`: rows of `[modalities.audio.precomputed]`.
    Precomputed(PrecomputedSection),
}

impl Default for AudioSettings {
    fn default() -> Self {
        AudioSettings::Spectral(SpectralSettings::default())
    }
}

impl ExtractorSettings for AudioSettings {
    fn name(&self) -> &'static str {
        match self {
            AudioSettings::Spectral(_) => "spectral",
            AudioSettings::Precomputed(_) => PRECOMPUTED,
        }
    }

    fn precomputed(&self) -> Option<&PrecomputedSection> {
        match self {
            AudioSettings::Precomputed(table) => Some(table),
            AudioSettings::Spectral(_) => None,
        }
    }
}

/// The name of the extractor that reads a matrix computed elsewhere, in every modality.
pub const PRECOMPUTED: &str = "precomputed";

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

/// `extractor = "spectral"` (`[modalities.audio]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpectralSettings {
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
}

impl Default for SpectralSettings {
    fn default() -> Self {
        SpectralSettings {
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
        }
    }
}

/// The lyrics extractors, with their settings.
#[derive(Debug, Clone, PartialEq)]
pub enum LyricsSettings {
    /// `extractor = "hashed-bow"`: hashed bag of n-grams plus stylistic features (and a lexicon
    /// if given).
    HashedBow(HashedBowSettings),
    /// `extractor = "precomputed"`: rows of `[modalities.lyrics.precomputed]`.
    Precomputed(PrecomputedSection),
}

impl Default for LyricsSettings {
    fn default() -> Self {
        LyricsSettings::HashedBow(HashedBowSettings::default())
    }
}

impl ExtractorSettings for LyricsSettings {
    fn name(&self) -> &'static str {
        match self {
            LyricsSettings::HashedBow(_) => "hashed-bow",
            LyricsSettings::Precomputed(_) => PRECOMPUTED,
        }
    }

    fn precomputed(&self) -> Option<&PrecomputedSection> {
        match self {
            LyricsSettings::Precomputed(table) => Some(table),
            LyricsSettings::HashedBow(_) => None,
        }
    }
}

/// `extractor = "hashed-bow"` (`[modalities.lyrics]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HashedBowSettings {
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
}

impl Default for HashedBowSettings {
    fn default() -> Self {
        HashedBowSettings {
            hash_dims: 2048,
            max_ngram: 2,
            sublinear_tf: true,
            stylistic: true,
            lexicon: None,
            max_bytes: 1 << 20,
        }
    }
}

/// The MIDI extractors, with their settings.
#[derive(Debug, Clone, PartialEq)]
pub enum MidiSettings {
    /// `extractor = "symbolic"`: jSymbolic-style tempo, rhythm, pitch, melody, harmony, key,
    /// dynamics and instrumentation features.
    Symbolic(SymbolicSettings),
    /// `extractor = "precomputed"`: rows of `[modalities.midi.precomputed]`.
    Precomputed(PrecomputedSection),
}

impl Default for MidiSettings {
    fn default() -> Self {
        MidiSettings::Symbolic(SymbolicSettings::default())
    }
}

impl ExtractorSettings for MidiSettings {
    fn name(&self) -> &'static str {
        match self {
            MidiSettings::Symbolic(_) => "symbolic",
            MidiSettings::Precomputed(_) => PRECOMPUTED,
        }
    }

    fn precomputed(&self) -> Option<&PrecomputedSection> {
        match self {
            MidiSettings::Precomputed(table) => Some(table),
            MidiSettings::Symbolic(_) => None,
        }
    }
}

/// `extractor = "symbolic"` (`[modalities.midi]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SymbolicSettings {
    /// Largest MIDI file read, in bytes; a larger file is skipped. Default 4194304 (4 MiB; the
    /// largest MIREX-like file is 83 kB).
    pub max_bytes: usize,
    /// Most events (notes, tempo and control changes, over all tracks) in a file; a file with
    /// more is skipped, which bounds each song's memory and time. Default 500000.
    pub max_events: usize,
}

impl Default for SymbolicSettings {
    fn default() -> Self {
        SymbolicSettings {
            max_bytes: 4 << 20,
            max_events: 500_000,
        }
    }
}
