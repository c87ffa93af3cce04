//! The short-time Fourier transform: frame-major matrices, the Hann window and the FFT bin
//! frequencies.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// A frame-major matrix: `n_frames` rows of `width` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Frames {
    /// Values per frame (bins, bands, coefficients).
    pub width: usize,
    /// Number of frames.
    pub n_frames: usize,
    /// `n_frames * width` values, frame after frame.
    pub data: Vec<f32>,
}

impl Frames {
    /// A zero matrix.
    pub fn zeros(n_frames: usize, width: usize) -> Self {
        Frames {
            width,
            n_frames,
            data: vec![0.0; n_frames * width],
        }
    }

    /// Frame `t`.
    pub fn frame(&self, t: usize) -> &[f32] {
        &self.data[t * self.width..(t + 1) * self.width]
    }

    /// Frame `t`, mutable.
    pub fn frame_mut(&mut self, t: usize) -> &mut [f32] {
        &mut self.data[t * self.width..(t + 1) * self.width]
    }

    /// Row `k` across all frames (one band's time series).
    pub fn row(&self, k: usize) -> Vec<f32> {
        self.data
            .iter()
            .skip(k)
            .step_by(self.width)
            .copied()
            .collect()
    }
}

/// Short-time Fourier transform as `librosa.stft(center=True, pad_mode="constant",
/// window="hann")`: periodic Hann window (`scipy.signal.get_window("hann", n_fft)`), frames
/// centred by zero-padding `n_fft / 2` on both sides, `1 + len / hop` frames.
///
/// It owns its FFT plan and buffers, so one instance serves every frame of every song a
/// thread analyses.
pub struct Stft {
    n_fft: usize,
    hop_length: usize,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl Stft {
    /// An STFT with a periodic Hann window of `n_fft` samples.
    pub fn new(n_fft: usize, hop_length: usize) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        Stft {
            n_fft,
            hop_length,
            window: hann_periodic(n_fft),
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
        }
    }

    /// Number of frequency bins, `1 + n_fft / 2`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Number of centred frames for `len` samples.
    pub fn n_frames(&self, len: usize) -> usize {
        1 + len / self.hop_length
    }

    /// Power spectrum `|STFT|^2` of frame `t` of `y` (librosa's `power=2`) into `out`
    /// (`n_bins` long).
    pub fn power_frame(&mut self, y: &[f32], t: usize, out: &mut [f32]) {
        // Frame t covers y[t*hop - pad .. t*hop - pad + n_fft]; only [lo, hi) of it is inside y.
        let start = (t * self.hop_length) as isize - (self.n_fft / 2) as isize;
        let lo = (-start).clamp(0, self.n_fft as isize) as usize;
        let hi = (y.len() as isize - start).clamp(lo as isize, self.n_fft as isize) as usize;
        self.input[..lo].fill(0.0);
        self.input[hi..].fill(0.0);
        let samples = &y[(start + lo as isize) as usize..(start + hi as isize) as usize];
        for ((x, w), s) in self.input[lo..hi]
            .iter_mut()
            .zip(&self.window[lo..hi])
            .zip(samples)
        {
            *x = s * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffer sizes come from the plan");
        for (p, c) in out.iter_mut().zip(&self.spectrum) {
            *p = c.re * c.re + c.im * c.im;
        }
    }
}

/// `scipy.signal.get_window("hann", n, fftbins=True)`.
pub fn hann_periodic(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            (0.5 - 0.5 * x.cos()) as f32
        })
        .collect()
}

/// `librosa.fft_frequencies`: bin centre frequencies in Hz.
pub fn fft_frequencies(sample_rate: f64, n_fft: usize) -> Vec<f64> {
    (0..=n_fft / 2)
        .map(|k| k as f64 * sample_rate / n_fft as f64)
        .collect()
}
