//! The settings of `extractor = "spectral"` (`[modalities.audio]`), with their defaults.

use serde::{Deserialize, Serialize};

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

impl SpectralSettings {
    /// The part of each file it reads.
    pub fn window(&self) -> super::AudioWindow {
        super::AudioWindow {
            offset: self.offset,
            duration: self.duration,
            min_seconds: self.min_seconds,
            max_seconds: self.max_seconds,
        }
    }
}
