//! The settings of `extractor = "onnx"` (`[modalities.audio]`), with their defaults.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::features::audio::log_mel::{LogMel, MelCompression};
use crate::features::audio::{AudioWindow, Pooling, ShortClips};

/// What the model's input tensor holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnnxInput {
    /// Mono samples at `sample_rate`: `[1, samples]` or `[1, 1, samples]`.
    Waveform,
    /// A log-mel patch: `[1, frames, mels]`, `[1, mels, frames]` (`layout`), or either with a
    /// channel axis of 1 after the batch (`[1, 1, frames, mels]`).
    LogMel,
}

/// The order of a log-mel input's two axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelLayout {
    /// Frames, then bands (Essentia's models, musicnn).
    FramesMels,
    /// Bands, then frames (most image-style CNNs).
    MelsFrames,
}

/// `extractor = "onnx"` (`[modalities.audio]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnnxSettings {
    /// The `.onnx` file, relative to the spec's folder. Required.
    pub model: PathBuf,
    /// What the model takes: `waveform` or `log_mel`. Default `log_mel`.
    pub input: OnnxInput,
    /// Sample rate the model expects, Hz. Default 16000.
    pub sample_rate: u32,
    /// Seconds of audio per patch. Default: unset, the model's own input length (an error
    /// when the model's length is not fixed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_seconds: Option<f64>,
    /// Seconds between the starts of consecutive patches. Default: unset, one patch length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_hop: Option<f64>,
    /// The output tensor kept, by name. Default: unset, the model's first output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Statistics over a song's patches, per output value. Default `["mean"]`.
    pub pooling: Vec<Pooling>,
    /// A clip shorter than one patch: `repeat`, `pad` or `skip`. Default `pad`.
    pub short_clips: ShortClips,
    /// `log_mel` only: FFT size in samples. Default 512.
    pub n_fft: usize,
    /// `log_mel` only: hop between frames in samples. Default 256.
    pub hop_length: usize,
    /// `log_mel` only: mel bands. Default 96.
    pub n_mels: usize,
    /// `log_mel` only: lowest band edge in Hz. Default 0.
    pub fmin: f64,
    /// `log_mel` only: highest band edge in Hz. Default: half the sample rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fmax: Option<f64>,
    /// `log_mel` only: `log10_1p`, `db`, `ln` or `power`. Default `log10_1p`.
    pub mel_compression: MelCompression,
    /// `log_mel` only: the gain of `log10_1p`. Default 10000.
    pub log_gain: f32,
    /// `log_mel` only: the offset of `ln`. Default 1e-6.
    pub log_offset: f32,
    /// `log_mel` only: `frames_mels` or `mels_frames`. Default `frames_mels`.
    pub layout: MelLayout,
    /// Seconds skipped at the start of each file. Default 0.
    pub offset: f64,
    /// Seconds read after `offset`. Default: to the end (at most `max_seconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// A song whose decoded window is shorter than this many seconds is skipped. Default 0.5.
    pub min_seconds: f64,
    /// Most seconds decoded per song when `duration` is unset. Default 600.
    pub max_seconds: f64,
}

impl Default for OnnxSettings {
    fn default() -> Self {
        OnnxSettings {
            model: PathBuf::new(),
            input: OnnxInput::LogMel,
            sample_rate: 16_000,
            patch_seconds: None,
            patch_hop: None,
            output: None,
            pooling: vec![Pooling::Mean],
            short_clips: ShortClips::Pad,
            n_fft: 512,
            hop_length: 256,
            n_mels: 96,
            fmin: 0.0,
            fmax: None,
            mel_compression: MelCompression::Log10OnePlus,
            log_gain: 10_000.0,
            log_offset: 1e-6,
            layout: MelLayout::FramesMels,
            offset: 0.0,
            duration: None,
            min_seconds: 0.5,
            max_seconds: 600.0,
        }
    }
}

impl OnnxSettings {
    /// The part of each file it reads.
    pub fn window(&self) -> AudioWindow {
        AudioWindow {
            offset: self.offset,
            duration: self.duration,
            min_seconds: self.min_seconds,
            max_seconds: self.max_seconds,
        }
    }

    /// The mel front end, for `input = "log_mel"`.
    pub fn front_end(&self) -> LogMel {
        LogMel {
            sample_rate: self.sample_rate,
            n_fft: self.n_fft,
            hop_length: self.hop_length,
            n_mels: self.n_mels,
            fmin: self.fmin,
            fmax: self.fmax.unwrap_or(f64::from(self.sample_rate) / 2.0),
            compression: self.mel_compression,
            gain: self.log_gain,
            offset: self.log_offset,
        }
    }
}
