//! The mel scale and what is built on it: the filterbank, decibels, MFCC (DCT-II) and deltas.

use super::stft::{Frames, fft_frequencies};

/// `librosa.hz_to_mel(htk=False)`: Slaney's scale, linear below 1 kHz, logarithmic above.
pub fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

/// `librosa.mel_to_hz(htk=False)`, the inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (logstep * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// Triangular Slaney mel filterbank, exactly `librosa.filters.mel(htk=False, norm="slaney")`.
/// Filters are stored sparsely (first non-zero bin and weights) since each one spans only a
/// few bins: applying it is then ~20x cheaper than the dense product.
pub struct MelFilterbank {
    n_bins: usize,
    filters: Vec<(usize, Vec<f32>)>,
}

impl MelFilterbank {
    /// `n_mels` filters between `fmin` and `fmax` Hz for an `n_fft`-point STFT.
    pub fn new(sample_rate: f64, n_fft: usize, n_mels: usize, fmin: f64, fmax: f64) -> Self {
        let fftfreqs = fft_frequencies(sample_rate, n_fft);
        let (mel_lo, mel_hi) = (hz_to_mel(fmin), hz_to_mel(fmax));
        // librosa.mel_frequencies: n_mels + 2 points evenly spaced on the mel scale.
        let mel_f: Vec<f64> = (0..n_mels + 2)
            .map(|i| mel_to_hz(mel_lo + (mel_hi - mel_lo) * i as f64 / (n_mels + 1) as f64))
            .collect();
        let filters = (0..n_mels)
            .map(|i| {
                let (lo, mid, hi) = (mel_f[i], mel_f[i + 1], mel_f[i + 2]);
                let enorm = 2.0 / (hi - lo);
                let weights: Vec<f32> = fftfreqs
                    .iter()
                    .map(|&f| {
                        let lower = (f - lo) / (mid - lo);
                        let upper = (hi - f) / (hi - mid);
                        (lower.min(upper).max(0.0) * enorm) as f32
                    })
                    .collect();
                let first = weights.iter().position(|&w| w > 0.0).unwrap_or(0);
                let last = weights.iter().rposition(|&w| w > 0.0).map_or(0, |l| l + 1);
                (first, weights[first..last.max(first)].to_vec())
            })
            .collect();
        MelFilterbank {
            n_bins: fftfreqs.len(),
            filters,
        }
    }

    /// Number of filters.
    pub fn n_mels(&self) -> usize {
        self.filters.len()
    }

    /// The dense `n_mels x (1 + n_fft/2)` weight matrix, row-major, as librosa returns it.
    pub fn dense(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.n_mels() * self.n_bins];
        for (m, (first, w)) in self.filters.iter().enumerate() {
            out[m * self.n_bins + first..m * self.n_bins + first + w.len()].copy_from_slice(w);
        }
        out
    }

    /// One frame of the mel spectrogram, `filters @ power` (`librosa.feature.melspectrogram`),
    /// into `out` (`n_mels` long).
    pub fn apply_frame(&self, power: &[f32], out: &mut [f32]) {
        for (o, (first, w)) in out.iter_mut().zip(&self.filters) {
            *o = dot(w, &power[*first..*first + w.len()]);
        }
    }
}

/// `librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80)` in place: the floor at
/// `max - top_db` is taken over the whole array, as librosa does.
pub fn power_to_db(values: &mut [f32]) {
    const AMIN: f32 = 1e-10;
    const TOP_DB: f32 = 80.0;
    let mut max = f32::NEG_INFINITY;
    for v in values.iter_mut() {
        *v = 10.0 * v.max(AMIN).log10();
        max = max.max(*v);
    }
    let floor = max - TOP_DB;
    for v in values.iter_mut() {
        *v = v.max(floor);
    }
}

/// MFCC from a dB mel spectrogram: `scipy.fftpack.dct(type=2, norm="ortho")` over bands,
/// first `n_mfcc` coefficients (`librosa.feature.mfcc`, `lifter=0`).
pub fn mfcc(mel_db: &Frames, n_mfcc: usize) -> Frames {
    let n = mel_db.width;
    let basis: Vec<f32> = (0..n_mfcc)
        .flat_map(|k| {
            let scale = if k == 0 {
                (1.0 / n as f64).sqrt()
            } else {
                (2.0 / n as f64).sqrt()
            };
            (0..n).map(move |i| {
                let angle = std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2 * n) as f64;
                (scale * angle.cos()) as f32
            })
        })
        .collect();
    let mut out = Frames::zeros(mel_db.n_frames, n_mfcc);
    for t in 0..mel_db.n_frames {
        let x = mel_db.frame(t);
        for (k, o) in out.frame_mut(t).iter_mut().enumerate() {
            *o = dot(&basis[k * n..(k + 1) * n], x);
        }
    }
    out
}

/// `librosa.feature.delta(width=9, order=1, mode="interp")`, i.e. a Savitzky-Golay first
/// derivative of polyorder 1: the least-squares slope over 9 frames. In "interp" mode the
/// first and last 4 frames take the slope fitted to the first/last full window. Inputs shorter
/// than 9 frames (librosa raises) get the slope fitted to all frames.
pub fn delta(x: &Frames) -> Frames {
    const HALF: usize = 4;
    let n = x.n_frames;
    let mut out = Frames::zeros(n, x.width);
    if n == 0 {
        return out;
    }
    // Slope of the least-squares line through frames [start, start + len).
    let slope = |k: usize, start: usize, len: usize| -> f32 {
        let c = (len as f32 - 1.0) / 2.0;
        let denom: f32 = (0..len).map(|i| (i as f32 - c).powi(2)).sum();
        if denom == 0.0 {
            return 0.0;
        }
        (0..len)
            .map(|i| (i as f32 - c) * x.data[(start + i) * x.width + k])
            .sum::<f32>()
            / denom
    };
    for k in 0..x.width {
        if n < 2 * HALF + 1 {
            let s = slope(k, 0, n);
            (0..n).for_each(|t| out.data[t * x.width + k] = s);
            continue;
        }
        for t in 0..n {
            let start = t.saturating_sub(HALF).min(n - 2 * HALF - 1);
            out.data[t * x.width + k] = slope(k, start, 2 * HALF + 1);
        }
    }
    out
}

/// Dot product in 8 independent lanes, so the compiler can vectorise it (a plain `sum` is a
/// serial dependency chain under strict float ordering).
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}
