//! Hand-crafted audio features (`extractor = "spectral"`), computed natively and checked
//! against librosa 0.11 by `tests/audio_parity.rs` (fixtures from
//! `scripts/parity/audio_reference.py`).
//!
//! One song: [`decode`] to mono at `sample_rate` -> one STFT pass ([`spectral`]) giving MFCC
//! (+ deltas), chroma, spectral shape and contrast, ZCR, RMS and onset strength per frame ->
//! [`pooling`] over frames -> song-level [`descriptors`] (tempo, pulse clarity, key, dynamics)
//! appended. The log-mel spectrogram feeds MFCC and onset strength but is not pooled itself
//! (128 more dimensions that the MFCC summarise).
//!
//! Deviations from librosa, on purpose: chroma uses `tuning=0` (no tuning estimation);
//! resampling is rubato's FFT resampler rather than soxr (correlation ~0.999997).
//!
//! `extract` is single-threaded: the pipeline runs songs in parallel.

/// Version of the vector [`extract`] returns; bump it whenever any value or name would change,
/// so cached features are recomputed.
pub const VERSION: u32 = 2;

mod analysis;
pub mod decode;
pub mod descriptors;
pub mod log_mel;
pub mod musicnn;
pub mod onnx;
pub mod patching;
pub mod pooling;
mod settings;
pub mod spectral;

use std::path::{Path, PathBuf};

use crate::features::{FeatureError, SettingRules, SongExtractor, Violation};
pub use musicnn::MusicnnSettings;
pub use onnx::OnnxSettings;
pub use patching::ShortClips;
pub use settings::{Pooling, SpectralSettings};
use spectral::{Frames, PITCH_CLASSES};

/// Why one song's audio features could not be computed; the stage turns it into a skip or a
/// failure according to `on_error`.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened.
    #[error("{}: cannot open audio file", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The container or codec is unsupported or the data is corrupt.
    #[error("{}: cannot decode audio: {message}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        message: String,
    },
    /// The file has no bytes at all.
    #[error("{}: the audio file is empty (0 bytes); restore it from the source or remove it", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// Less audio than `min_seconds` in the window, e.g. a file cut short by a failed copy.
    #[error(
        "{}: only {seconds:.3} s of audio{}, less than modalities.audio.min_seconds = {min_seconds}; replace the file, or lower min_seconds if songs this short are meant",
        path.display(),
        truncation_note(*declared_seconds)
    )]
    TooShort {
        /// The file.
        path: PathBuf,
        /// Seconds decoded in the window.
        seconds: f64,
        /// Seconds the header declares for the window, when more than decoded.
        declared_seconds: Option<f64>,
        /// The spec's minimum.
        min_seconds: f64,
    },
    /// Decoding gave no samples (the offset is past the end, or no frame decodes).
    #[error("{}: no audio samples in the requested window", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A clip shorter than one patch of a pretrained network, with `short_clips = "skip"`.
    #[error(
        "{}: {seconds:.2} s of audio, shorter than one {patch_seconds} s patch, and modalities.audio.short_clips = \"skip\"; set it to \"repeat\" or \"pad\" to keep such clips",
        path.display()
    )]
    ShorterThanPatch {
        /// The file.
        path: PathBuf,
        /// Seconds decoded.
        seconds: f64,
        /// Seconds one patch covers.
        patch_seconds: f64,
    },
    /// The pretrained network could not be loaded or run.
    #[error("{}: {source}", path.display())]
    Network {
        /// The file being described.
        path: PathBuf,
        /// Why the network is unavailable.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The resampler rejected the rates or buffers.
    #[error("{}: cannot resample audio: {message}", path.display())]
    Resample {
        /// The file.
        path: PathBuf,
        /// The resampler's message.
        message: String,
    },
}

/// Words for [`AudioError::TooShort`] when the header declares more than was decoded.
fn truncation_note(declared_seconds: Option<f64>) -> String {
    declared_seconds.map_or(String::new(), |declared| {
        format!(" where its header declares {declared:.3} s (the file looks truncated)")
    })
}

/// Frame-level features of one signal, all with the same number of frames.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameFeatures {
    /// Log-mel spectrogram in dB (`power_to_db(melspectrogram)`), `n_mels` wide.
    pub mel_db: Frames,
    /// MFCC, `n_mfcc` wide.
    pub mfcc: Frames,
    /// First-order MFCC deltas, `n_mfcc` wide.
    pub mfcc_delta: Frames,
    /// Chroma (C first), 12 wide.
    pub chroma: Frames,
    /// Centroid, bandwidth, rolloff and flatness.
    pub shape: spectral::SpectralShape,
    /// Spectral contrast, 7 wide.
    pub contrast: Frames,
    /// Zero-crossing rate.
    pub zcr: Vec<f32>,
    /// Frame RMS.
    pub rms: Vec<f32>,
    /// Onset strength envelope.
    pub onset: Vec<f32>,
}

/// The analysis settings of a section, with `fmax` resolved to Nyquist when unset.
fn settings(section: &SpectralSettings) -> (f64, f64) {
    let sr = f64::from(section.sample_rate);
    (sr, section.fmax.unwrap_or(sr / 2.0))
}

/// All frame features of mono samples `y` at `section.sample_rate`, from one STFT pass.
pub fn frame_features(y: &[f32], section: &SpectralSettings) -> FrameFeatures {
    analysis::frame_features(y, section)
}

/// Frame feature names (before pooling), in vector order.
fn frame_feature_bases(section: &SpectralSettings) -> Vec<String> {
    let mut bases = Vec::new();
    bases.extend((0..section.n_mfcc).map(|k| format!("mfcc.{k}")));
    bases.extend((0..section.n_mfcc).map(|k| format!("mfcc_delta.{k}")));
    bases.extend(PITCH_CLASSES.iter().map(|c| format!("chroma.{c}")));
    for name in [
        "spectral_centroid",
        "spectral_bandwidth",
        "spectral_rolloff",
        "spectral_flatness",
    ] {
        bases.push(name.to_string());
    }
    bases.extend((0..spectral::CONTRAST_BANDS).map(|k| format!("spectral_contrast.{k}")));
    for name in ["zcr", "rms", "onset_strength"] {
        bases.push(name.to_string());
    }
    bases
}

/// Song-level descriptor names, appended after the pooled frame features.
const SONG_DESCRIPTORS: [&str; 7] = [
    "tempo.bpm",
    "tempo.pulse_clarity",
    "key.tonic",
    "key.major",
    "key.strength",
    "energy.high_fraction",
    "energy.dynamic_range_db",
];

/// The names of [`extract`]'s vector, in order: each frame feature under each pooling
/// (`mfcc.3.mean`, `chroma.C#.std`, ...), then the song descriptors (`tempo.bpm`, ...).
pub fn feature_names(section: &SpectralSettings) -> Vec<String> {
    let mut names: Vec<String> = frame_feature_bases(section)
        .iter()
        .flat_map(|b| pooling::pooled_names(b, &section.pooling))
        .collect();
    names.extend(SONG_DESCRIPTORS.iter().map(|s| s.to_string()));
    names
}

/// One song's feature vector from a file (same length and order as [`feature_names`]), over
/// the section's [`AudioWindow`].
pub fn extract(path: &Path, section: &SpectralSettings) -> Result<Vec<f32>, AudioError> {
    let samples = read_window(path, section.window(), section.sample_rate)?;
    Ok(extract_samples(&samples, section))
}

/// The part of each file an audio extractor reads, and the bounds on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AudioWindow {
    /// Seconds skipped at the start.
    pub offset: f64,
    /// Seconds read after `offset`; `None` reads to the end, at most `max_seconds`.
    pub duration: Option<f64>,
    /// A shorter window is [`AudioError::TooShort`].
    pub min_seconds: f64,
    /// Most seconds read when `duration` is unset.
    pub max_seconds: f64,
}

impl AudioWindow {
    /// Its ranges: `min_seconds <= duration <= max_seconds`, as a shorter window would skip
    /// every song and a longer one than the cap would never be read.
    pub fn check(&self, rules: &mut SettingRules) {
        rules.non_negative("offset", self.offset);
        if let Some(duration) = self.duration {
            rules.positive("duration", duration);
        }
        rules.non_negative("min_seconds", self.min_seconds);
        rules.positive("max_seconds", self.max_seconds);
        let (min, max) = (self.min_seconds, self.max_seconds);
        match self.duration {
            Some(duration) if duration > 0.0 && min > duration => {
                let expected = format!(
                    "at most {} ({duration}), or every song is skipped",
                    rules.path("duration")
                );
                rules.out_of_range("min_seconds", expected, min);
            }
            Some(duration) if duration > max && max > 0.0 => {
                let expected = format!(
                    "at most {} ({max}); raise max_seconds to read longer windows",
                    rules.path("max_seconds")
                );
                rules.out_of_range("duration", expected, duration);
            }
            None if max > 0.0 && min > max => {
                let expected = format!("at most {} ({max})", rules.path("max_seconds"));
                rules.out_of_range("min_seconds", expected, min);
            }
            _ => {}
        }
    }
}

/// The ranges of a mel spectrogram's settings, shared by the extractors that compute one.
pub fn check_mel(
    rules: &mut SettingRules,
    sample_rate: u32,
    (n_fft, hop_length, n_mels): (usize, usize, usize),
    (fmin, fmax): (f64, Option<f64>),
) {
    rules.at_least("sample_rate", sample_rate as usize, 1);
    rules.at_least("n_fft", n_fft, 1);
    rules.at_least("hop_length", hop_length, 1);
    rules.at_least("n_mels", n_mels, 1);
    rules.non_negative("fmin", fmin);
    let nyquist = f64::from(sample_rate) / 2.0;
    if let Some(fmax) = fmax
        && !(fmax > fmin && fmax <= nyquist)
    {
        rules.out_of_range(
            "fmax",
            format!("above fmin ({fmin}) and at most half the sample rate ({nyquist})"),
            fmax,
        );
    }
}

/// Pooling over frames or patches needs at least one statistic.
pub fn check_pooling(rules: &mut SettingRules, pooling: &[Pooling]) {
    rules.not_empty(
        "pooling",
        pooling,
        "at least one statistic, e.g. [\"mean\", \"std\"]",
    );
}

/// Mono samples of `path` at `sample_rate` over `window`: `duration` seconds from `offset`, or
/// at most `max_seconds` when `duration` is unset (a longer file is cut there, with a
/// warning); a window shorter than `min_seconds` is [`AudioError::TooShort`].
pub fn read_window(
    path: &Path,
    window: AudioWindow,
    sample_rate: u32,
) -> Result<Vec<f32>, AudioError> {
    let length = window.duration.unwrap_or(window.max_seconds);
    let decoded = decode::decode_window(path, window.offset, Some(length))?;
    let seconds = decoded.seconds();
    if seconds < window.min_seconds {
        return Err(AudioError::TooShort {
            path: path.to_path_buf(),
            seconds,
            declared_seconds: decoded
                .looks_truncated(window.offset, Some(length))
                .then(|| decoded.declared_seconds(window.offset, Some(length)))
                .flatten(),
            min_seconds: window.min_seconds,
        });
    }
    if window.duration.is_none() && reaches_the_cap(&decoded, window) {
        tracing::warn!(
            "{}: longer than modalities.audio.max_seconds = {} s; only its first {} s are used (set modalities.audio.duration, or raise max_seconds)",
            path.display(),
            window.max_seconds,
            window.max_seconds
        );
    }
    Ok(decode::resample(decoded.audio, sample_rate, path)?.samples)
}

/// Whether decoding stopped at `max_seconds` with more of the file left.
fn reaches_the_cap(decoded: &decode::DecodedWindow, window: AudioWindow) -> bool {
    let full_length = decoded.declared_seconds(window.offset, None);
    decoded.seconds() + 0.5 / f64::from(decoded.audio.sample_rate) >= window.max_seconds
        && full_length.is_none_or(|declared| declared > window.max_seconds)
}

/// [`extract`] on mono samples already at `section.sample_rate`.
pub fn extract_samples(y: &[f32], section: &SpectralSettings) -> Vec<f32> {
    let f = frame_features(y, section);
    let p = &section.pooling;
    let mut out = Vec::with_capacity(feature_names(section).len());
    let pool_frames = |m: &Frames, out: &mut Vec<f32>| {
        for k in 0..m.width {
            pooling::pool_into(&m.row(k), p, out);
        }
    };
    pool_frames(&f.mfcc, &mut out);
    pool_frames(&f.mfcc_delta, &mut out);
    pool_frames(&f.chroma, &mut out);
    for series in [
        &f.shape.centroid,
        &f.shape.bandwidth,
        &f.shape.rolloff,
        &f.shape.flatness,
    ] {
        pooling::pool_into(series, p, &mut out);
    }
    pool_frames(&f.contrast, &mut out);
    for series in [&f.zcr, &f.rms, &f.onset] {
        pooling::pool_into(series, p, &mut out);
    }
    let (sr, _) = settings(section);
    let tempo = descriptors::tempo(&f.onset, sr, section.hop_length);
    let key = descriptors::key(&mean_chroma(&f.chroma));
    let dynamics = descriptors::dynamics(&f.rms);
    out.extend([
        tempo.bpm,
        tempo.pulse_clarity,
        key.tonic as f32,
        f32::from(u8::from(key.major)),
        key.strength,
        dynamics.high_energy_fraction,
        dynamics.dynamic_range_db,
    ]);
    // Decoders can emit NaN on broken frames; the vector must stay finite.
    for v in out.iter_mut().filter(|v| !v.is_finite()) {
        *v = 0.0;
    }
    out
}

/// Mean chroma over frames.
pub fn mean_chroma(chroma: &Frames) -> [f32; 12] {
    let mut mean = [0.0f32; 12];
    for t in 0..chroma.n_frames {
        for (m, v) in mean.iter_mut().zip(chroma.frame(t)) {
            *m += v;
        }
    }
    let n = chroma.n_frames.max(1) as f32;
    mean.map(|m| m / n)
}

impl SongExtractor for SpectralSettings {
    fn name(&self) -> &'static str {
        "spectral"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn feature_names(&self) -> Vec<String> {
        feature_names(self)
    }

    /// `fmax` defaults to half the sample rate.
    fn resolve(&mut self, _: &dyn Fn(&Path) -> PathBuf) {
        self.fmax.get_or_insert(f64::from(self.sample_rate) / 2.0);
    }

    fn violations(&self, table: &str) -> Vec<Violation> {
        let mut rules = SettingRules::new(table);
        check_mel(
            &mut rules,
            self.sample_rate,
            (self.n_fft, self.hop_length, self.n_mels),
            (self.fmin, self.fmax),
        );
        rules.at_least("n_mfcc", self.n_mfcc, 1);
        if self.n_mfcc > self.n_mels {
            rules.out_of_range(
                "n_mfcc",
                format!("at most n_mels ({})", self.n_mels),
                self.n_mfcc,
            );
        }
        self.window().check(&mut rules);
        check_pooling(&mut rules, &self.pooling);
        rules.found
    }

    fn extract(&self, path: &Path) -> Result<Vec<f32>, FeatureError> {
        Ok(extract(path, self)?)
    }
}
