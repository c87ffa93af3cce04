//! Spectral shape per frame: centroid, bandwidth, rolloff and flatness.

/// Magnitude-spectrum shape descriptors per frame, from `|STFT|` as librosa computes them
/// (`power=1`): centroid, bandwidth (p=2), rolloff (0.85) and flatness (on the power spectrum).
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralShape {
    /// `librosa.feature.spectral_centroid`, Hz.
    pub centroid: Vec<f32>,
    /// `librosa.feature.spectral_bandwidth(p=2)`, Hz.
    pub bandwidth: Vec<f32>,
    /// `librosa.feature.spectral_rolloff(roll_percent=0.85)`, Hz.
    pub rolloff: Vec<f32>,
    /// `librosa.feature.spectral_flatness(amin=1e-10, power=2)`.
    pub flatness: Vec<f32>,
}

impl SpectralShape {
    /// Empty series with room for `n_frames`.
    pub fn with_capacity(n_frames: usize) -> Self {
        SpectralShape {
            centroid: Vec::with_capacity(n_frames),
            bandwidth: Vec::with_capacity(n_frames),
            rolloff: Vec::with_capacity(n_frames),
            flatness: Vec::with_capacity(n_frames),
        }
    }

    /// Appends one frame's values from its power spectrum; `freqs` are the bin frequencies and
    /// `mag` a scratch buffer as long as `power`.
    pub fn push_frame(&mut self, power: &[f32], freqs: &[f64], mag: &mut [f32]) {
        for (m, &v) in mag.iter_mut().zip(power) {
            *m = v.sqrt();
        }
        let total = sum_f64(mag);
        // librosa.util.normalize(norm=1) leaves a column below `tiny` unscaled.
        let norm = if total < f64::from(f32::MIN_POSITIVE) {
            1.0
        } else {
            total
        };
        let centroid = weighted_sum(mag, freqs, |f| f) / norm;
        let bandwidth = weighted_sum(mag, freqs, |f| (f - centroid) * (f - centroid)) / norm;
        self.centroid.push(centroid as f32);
        self.bandwidth.push(bandwidth.sqrt() as f32);
        self.rolloff.push(rolloff(mag, freqs, 0.85 * total) as f32);
        self.flatness.push(flatness(power) as f32);
    }
}

/// Sum in f64 over 4 independent lanes: a plain `sum` is one serial dependency chain.
fn sum_f64(values: &[f32]) -> f64 {
    let mut lanes = [0.0f64; 4];
    let chunks = values.chunks_exact(4);
    let tail: f64 = chunks.remainder().iter().map(|&v| f64::from(v)).sum();
    for c in chunks {
        for i in 0..4 {
            lanes[i] += f64::from(c[i]);
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// `sum(mag * g(freqs))` in f64 over 4 independent lanes.
#[inline]
fn weighted_sum(mag: &[f32], freqs: &[f64], g: impl Fn(f64) -> f64) -> f64 {
    let mut lanes = [0.0f64; 4];
    let (mc, fc) = (mag.chunks_exact(4), freqs.chunks_exact(4));
    let tail: f64 = mc
        .remainder()
        .iter()
        .zip(fc.remainder())
        .map(|(&m, &f)| f64::from(m) * g(f))
        .sum();
    for (m, f) in mc.zip(fc) {
        for i in 0..4 {
            lanes[i] += f64::from(m[i]) * g(f[i]);
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// Frequency of the first bin whose cumulative magnitude reaches `threshold` (the last bin if
/// none does). Whole blocks below the threshold are skipped by their sum.
fn rolloff(mag: &[f32], freqs: &[f64], threshold: f64) -> f64 {
    const BLOCK: usize = 8;
    let mut cum = 0.0f64;
    for (mb, fb) in mag.chunks(BLOCK).zip(freqs.chunks(BLOCK)) {
        let block: f64 = mb.iter().map(|&m| f64::from(m)).sum();
        if cum + block < threshold {
            cum += block;
            continue;
        }
        for (&m, &f) in mb.iter().zip(fb) {
            cum += f64::from(m);
            if cum >= threshold {
                return f;
            }
        }
    }
    freqs[freqs.len() - 1]
}

/// `librosa.feature.spectral_flatness(amin=1e-10, power=2)` of one power spectrum: geometric
/// over arithmetic mean.
fn flatness(power: &[f32]) -> f64 {
    // ln of products of 16 values (each in [1e-10, ~1e7], so a product stays in f64 range)
    // instead of one ln per bin: the logarithm dominated this loop. Four lanes of 16-value
    // products keep the multiplications independent.
    const LANES: usize = 4;
    const RUN: usize = 16;
    let (mut log_sum, mut sum) = (0.0f64, [0.0f64; LANES]);
    let blocks = power.chunks_exact(LANES * RUN);
    let rest = blocks.remainder();
    for block in blocks {
        let mut prod = [1.0f64; LANES];
        for quad in block.chunks_exact(LANES) {
            for i in 0..LANES {
                let v = f64::from(quad[i].max(1e-10));
                prod[i] *= v;
                sum[i] += v;
            }
        }
        log_sum += prod.iter().map(|p| p.ln()).sum::<f64>();
    }
    let mut tail_sum = 0.0f64;
    for chunk in rest.chunks(RUN) {
        let mut prod = 1.0f64;
        for &v in chunk {
            let v = f64::from(v.max(1e-10));
            prod *= v;
            tail_sum += v;
        }
        log_sum += prod.ln();
    }
    let len = power.len() as f64;
    let sum = (sum[0] + sum[1]) + (sum[2] + sum[3]) + tail_sum;
    (log_sum / len).exp() / (sum / len)
}
