//! The log-compressed mel spectrogram that pretrained audio networks take (musicnn, ONNX
//! models): librosa's `melspectrogram` (centred STFT with zero padding, periodic Hann window,
//! power spectrum, Slaney mel scale and normalization), then the compression the network was
//! trained on.

use serde::{Deserialize, Serialize};

use super::spectral::{Frames, MelFilterbank, Stft};

/// How mel power is compressed before the network sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelCompression {
    /// `log10(1 + gain * mel)`, as musicnn and Essentia's models take it (gain 10000).
    #[serde(rename = "log10_1p")]
    Log10OnePlus,
    /// `10 * log10(max(mel, 1e-10))`: decibels without librosa's `top_db` floor, which
    /// depends on the whole clip rather than the patch.
    Db,
    /// `ln(mel + offset)`, as VGGish-style models take it.
    Ln,
    /// Mel power as it is.
    Power,
}

/// A mel front end: the spectrogram's parameters and its compression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogMel {
    /// Sample rate of the signal, Hz.
    pub sample_rate: u32,
    /// FFT size, samples.
    pub n_fft: usize,
    /// Hop between frames, samples.
    pub hop_length: usize,
    /// Mel bands.
    pub n_mels: usize,
    /// Lowest band edge, Hz.
    pub fmin: f64,
    /// Highest band edge, Hz.
    pub fmax: f64,
    /// The compression.
    pub compression: MelCompression,
    /// `gain` of [`MelCompression::Log10OnePlus`].
    pub gain: f32,
    /// `offset` of [`MelCompression::Ln`].
    pub offset: f32,
}

impl LogMel {
    /// The compressed mel spectrogram of `y`, one row of `n_mels` per frame.
    pub fn frames(&self, y: &[f32]) -> Frames {
        let mut stft = Stft::new(self.n_fft, self.hop_length);
        let filters = MelFilterbank::new(
            f64::from(self.sample_rate),
            self.n_fft,
            self.n_mels,
            self.fmin,
            self.fmax,
        );
        let mut power = vec![0.0f32; stft.n_bins()];
        let mut mel = Frames::zeros(stft.n_frames(y.len()), self.n_mels);
        for t in 0..mel.n_frames {
            stft.power_frame(y, t, &mut power);
            let row = mel.frame_mut(t);
            filters.apply_frame(&power, row);
            row.iter_mut().for_each(|m| *m = self.compress(*m));
        }
        mel
    }

    fn compress(&self, mel: f32) -> f32 {
        match self.compression {
            MelCompression::Log10OnePlus => (self.gain * mel + 1.0).log10(),
            MelCompression::Db => 10.0 * mel.max(1e-10).log10(),
            MelCompression::Ln => (mel + self.offset).ln(),
            MelCompression::Power => mel,
        }
    }

    /// The compressed value of silence, which pads a short clip.
    pub fn silence(&self) -> f32 {
        self.compress(0.0)
    }

    /// The frame at `seconds` (`librosa.time_to_frames` with this front end's n_fft and hop).
    pub fn time_to_frames(&self, seconds: f64) -> usize {
        let samples = (seconds * f64::from(self.sample_rate)).round() as usize;
        samples.saturating_sub(self.n_fft / 2) / self.hop_length
    }

    /// Frames of a patch of `seconds` (`time_to_frames(seconds) + 1`, as musicnn counts them).
    pub fn patch_frames(&self, seconds: f64) -> usize {
        self.time_to_frames(seconds) + 1
    }
}
