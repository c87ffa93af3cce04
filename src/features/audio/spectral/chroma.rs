//! The chromagram: spectral energy folded onto the twelve pitch classes.

use super::mel::dot;

/// Pitch-class names, C first (`librosa.filters.chroma(base_c=True)` order).
pub const PITCH_CLASSES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// The chroma filterbank and projection of `librosa.feature.chroma_stft(tuning=0.0, norm=inf)`:
/// Gaussian bumps per pitch class (`librosa.filters.chroma`, `ctroct=5, octwidth=2, norm=2,
/// base_c=True`). Tuning estimation is skipped (A = 440 Hz): the parity script passes
/// `tuning=0.0` to librosa too.
pub struct Chromagram {
    weights: Vec<f32>,
    n_bins: usize,
}

impl Chromagram {
    /// The filterbank for an `n_fft`-point STFT at `sample_rate`.
    pub fn new(sample_rate: f64, n_fft: usize) -> Self {
        const N: usize = 12;
        let nc = N as f64;
        // Bin frequencies in fractional chroma bins above A0 = 27.5 Hz (hz_to_octs * 12).
        let mut frqbins: Vec<f64> = (1..n_fft)
            .map(|k| nc * (k as f64 * sample_rate / n_fft as f64 / 27.5).log2())
            .collect();
        frqbins.insert(0, frqbins[0] - 1.5 * nc);
        let mut widths: Vec<f64> = frqbins.windows(2).map(|w| (w[1] - w[0]).max(1.0)).collect();
        widths.push(1.0);
        let half = (nc / 2.0).round();
        let mut wts = vec![0.0f64; N * n_fft];
        for (k, (&f, &bw)) in frqbins.iter().zip(&widths).enumerate() {
            for c in 0..N {
                let d = (f - c as f64 + half + 10.0 * nc).rem_euclid(nc) - half;
                wts[c * n_fft + k] = (-0.5 * (2.0 * d / bw).powi(2)).exp();
            }
            // Column L2 normalisation, then the octave weighting centred on ctroct = 5.
            let norm = (0..N)
                .map(|c| wts[c * n_fft + k].powi(2))
                .sum::<f64>()
                .sqrt();
            let oct = (-0.5 * ((f / nc - 5.0) / 2.0).powi(2)).exp();
            for c in 0..N {
                wts[c * n_fft + k] = wts[c * n_fft + k] / norm * oct;
            }
        }
        let n_bins = n_fft / 2 + 1;
        // base_c: roll rows by -3 so that row 0 is C, and drop the aliased bins.
        let weights = (0..N)
            .flat_map(|c| {
                let src = (c + 3) % N;
                wts[src * n_fft..src * n_fft + n_bins].to_vec()
            })
            .map(|w| w as f32)
            .collect();
        Chromagram { weights, n_bins }
    }

    /// The dense `12 x (1 + n_fft/2)` filterbank, row-major.
    pub fn filters(&self) -> &[f32] {
        &self.weights
    }

    /// One chroma frame from a power spectrum into `out` (12 long), scaled to max 1
    /// (`norm=inf`; a silent frame stays 0).
    pub fn apply_frame(&self, power: &[f32], out: &mut [f32]) {
        for (c, o) in out.iter_mut().enumerate() {
            *o = dot(&self.weights[c * self.n_bins..(c + 1) * self.n_bins], power);
        }
        let max = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if max >= f32::MIN_POSITIVE {
            out.iter_mut().for_each(|v| *v /= max);
        }
    }
}
