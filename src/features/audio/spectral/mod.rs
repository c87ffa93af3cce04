//! Frame features from one STFT pass, each mirroring the librosa function named on it
//! (librosa 0.11 defaults unless the section says otherwise).
//!
//! Every per-frame quantity is a [`Frames`] matrix stored frame-major (`data[t * width + k]`),
//! which is the order the STFT produces. The spectral features are per-frame kernels over one
//! power spectrum, so a song is analysed in one pass without holding its spectrogram
//! (`super::analysis`).

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

/// Number of spectral-contrast rows: `librosa.feature.spectral_contrast` default 6 bands + 1.
pub const CONTRAST_BANDS: usize = 7;

/// `librosa.feature.spectral_contrast(n_bands=6, fmin=200, quantile=0.02, linear=False)`:
/// per octave band, dB of the mean of the top 2 % magnitudes minus dB of the bottom 2 %.
/// [`SpectralContrast::frame`] collects the per-frame means, [`SpectralContrast::finish`] turns
/// them into dB (librosa's floor is over the whole song).
pub struct SpectralContrast {
    bands: Vec<(usize, usize, usize)>,
    low: Vec<f32>,
    high: Vec<f32>,
}

impl SpectralContrast {
    /// The bands for an STFT with bin frequencies `freqs`.
    pub fn new(freqs: &[f64]) -> Self {
        SpectralContrast {
            bands: contrast_bands(freqs),
            low: Vec::new(),
            high: Vec::new(),
        }
    }

    /// Mean magnitude of each band's bottom (`valley`) and top (`peak`) quantile in one frame.
    pub fn frame(&mut self, power: &[f32], valley: &mut [f32], peak: &mut [f32]) {
        for (k, &(lo, hi, q)) in self.bands.iter().enumerate() {
            let band = &power[lo..hi];
            let q = q.min(band.len());
            // sqrt is monotonic, so the extremes are chosen on power and only q roots taken.
            extremes(band, q, &mut self.low, &mut self.high);
            valley[k] = self.low.iter().map(|v| v.sqrt()).sum::<f32>() / q as f32;
            peak[k] = self.high.iter().map(|v| v.sqrt()).sum::<f32>() / q as f32;
        }
    }

    /// Contrast in dB from the per-frame peaks and valleys, returned in `peak`'s matrix.
    pub fn finish(mut peak: Frames, mut valley: Frames) -> Frames {
        power_to_db(&mut peak.data);
        power_to_db(&mut valley.data);
        for (p, v) in peak.data.iter_mut().zip(&valley.data) {
            *p -= v;
        }
        peak
    }
}

/// The `q` smallest values of `values` into `low` and the `q` largest into `high` (any order),
/// `1 <= q <= values.len()`. q is at most a handful (2 % of a band), so keeping a short sorted
/// run beats a selection over the whole band.
fn extremes(values: &[f32], q: usize, low: &mut Vec<f32>, high: &mut Vec<f32>) {
    low.clear();
    high.clear();
    if q == 1 {
        let (min, max) = min_max(values);
        low.push(min);
        high.push(max);
        return;
    }
    let n = values.len();
    low.extend_from_slice(&values[n - q..]);
    low.sort_unstable_by(f32::total_cmp);
    high.extend_from_slice(&values[..q]);
    high.sort_unstable_by(|a, b| b.total_cmp(a));
    // Spectra mostly fall with frequency: scanning up for the largest and down for the
    // smallest meets few values that need inserting.
    keep_largest(high, &values[q..]);
    keep_smallest(low, &values[..n - q]);
}

/// Minimum and maximum over 8 lanes (`values` not empty).
fn min_max(values: &[f32]) -> (f32, f32) {
    let (mut min, mut max) = ([values[0]; 8], [values[0]; 8]);
    let chunks = values.chunks_exact(8);
    for &v in chunks.remainder() {
        min[0] = if v < min[0] { v } else { min[0] };
        max[0] = if v > max[0] { v } else { max[0] };
    }
    for c in chunks {
        for i in 0..8 {
            min[i] = if c[i] < min[i] { c[i] } else { min[i] };
            max[i] = if c[i] > max[i] { c[i] } else { max[i] };
        }
    }
    (
        min.into_iter().fold(min[0], f32::min),
        max.into_iter().fold(max[0], f32::max),
    )
}

/// Merges `values` into `top`, the descending run of the largest values seen.
fn keep_largest(top: &mut [f32], values: &[f32]) {
    let last = top.len() - 1;
    for chunk in values.chunks(8) {
        // Most chunks hold nothing above the bar: test them with one vector compare.
        let bar = top[last];
        if !chunk.iter().fold(false, |any, &v| any | (v > bar)) {
            continue;
        }
        for &v in chunk {
            if v > top[last] {
                insert_sorted(top, v, |a, b| a > b);
            }
        }
    }
}

/// Merges `values` into `bottom`, the ascending run of the smallest values seen, scanning
/// from the end.
fn keep_smallest(bottom: &mut [f32], values: &[f32]) {
    let last = bottom.len() - 1;
    for chunk in values.rchunks(8) {
        let bar = bottom[last];
        if !chunk.iter().fold(false, |any, &v| any | (v < bar)) {
            continue;
        }
        for &v in chunk.iter().rev() {
            if v < bottom[last] {
                insert_sorted(bottom, v, |a, b| a < b);
            }
        }
    }
}

/// Puts `v` into the sorted `run` (sorted by `before`), dropping the last element.
fn insert_sorted(run: &mut [f32], v: f32, before: impl Fn(f32, f32) -> bool) {
    let mut i = run.len() - 1;
    while i > 0 && before(v, run[i - 1]) {
        run[i] = run[i - 1];
        i -= 1;
    }
    run[i] = v;
}

/// Bin ranges `[lo, hi)` and quantile counts of the contrast bands, following librosa's
/// construction (one extra bin below each band but the first, the last band to Nyquist).
fn contrast_bands(freqs: &[f64]) -> Vec<(usize, usize, usize)> {
    const FMIN: f64 = 200.0;
    const QUANTILE: f64 = 0.02;
    let n_bands = CONTRAST_BANDS - 1;
    let mut octa = vec![0.0];
    octa.extend((0..=n_bands).map(|i| FMIN * 2f64.powi(i as i32)));
    (0..=n_bands)
        .map(|k| {
            let (f_low, f_high) = (octa[k], octa[k + 1]);
            let first = freqs.iter().position(|&f| f >= f_low).unwrap_or(0);
            let last = freqs.iter().rposition(|&f| f <= f_high).unwrap_or(0);
            let lo = if k > 0 {
                first.saturating_sub(1)
            } else {
                first
            };
            let hi_incl = if k == n_bands { freqs.len() - 1 } else { last };
            let count = hi_incl + 1 - lo;
            // The sub-band drops its last bin except in the top band.
            let hi = if k < n_bands { hi_incl } else { hi_incl + 1 };
            let q = ((QUANTILE * count as f64).round_ties_even() as usize).max(1);
            (lo, hi.max(lo + 1), q)
        })
        .collect()
}

/// `librosa.feature.zero_crossing_rate(frame_length, hop_length, center=True)`: edge padding,
/// samples with `|y| <= 1e-10` count as zero (positive), and the rate divides the crossings
/// by the frame length (librosa pads the crossing array with a leading `False`).
pub fn zero_crossing_rate(y: &[f32], frame_length: usize, hop_length: usize) -> Vec<f32> {
    let n_frames = 1 + y.len() / hop_length;
    let Some(last) = y.len().checked_sub(1) else {
        return vec![0.0; n_frames];
    };
    // Frames overlap 4x, so each crossing is counted once into a running total and a frame's
    // count is the difference of two totals. Edge padding repeats the end samples, which adds
    // no crossings: a padded position maps to the running total at its clamped sample.
    let negative: Vec<bool> = y.iter().map(|&v| v < -1e-10).collect();
    let mut total = 0u32;
    let crossings_through: Vec<u32> = std::iter::once(0)
        .chain(negative.windows(2).map(|w| {
            total += u32::from(w[0] != w[1]);
            total
        }))
        .collect();
    let pad = frame_length / 2;
    let before = |p: usize| crossings_through[p.saturating_sub(pad).min(last)];
    (0..n_frames)
        .map(|t| {
            let start = t * hop_length;
            let crossings = before(start + frame_length - 1) - before(start);
            crossings as f32 / frame_length as f32
        })
        .collect()
}

/// `librosa.feature.rms(frame_length, hop_length, center=True, pad_mode="constant")`.
pub fn rms(y: &[f32], frame_length: usize, hop_length: usize) -> Vec<f32> {
    let n_frames = 1 + y.len() / hop_length;
    let pad = frame_length / 2;
    let mean_square = |sum: f64| (sum / frame_length as f64).sqrt() as f32;
    if !frame_length.is_multiple_of(hop_length) || !pad.is_multiple_of(hop_length) {
        return (0..n_frames)
            .map(|t| {
                let start = (t * hop_length) as isize - pad as isize;
                let lo = start.max(0) as usize;
                let hi = ((start + frame_length as isize).max(0) as usize).min(y.len());
                mean_square(sum_squares(&y[lo.min(hi)..hi]))
            })
            .collect();
    }
    // Frames are runs of whole hop-sized blocks here: each block's energy is summed once.
    let blocks: Vec<f64> = y.chunks(hop_length).map(sum_squares).collect();
    let (per_frame, offset) = (frame_length / hop_length, pad / hop_length);
    (0..n_frames)
        .map(|t| {
            let first = t.saturating_sub(offset);
            let end = (t + per_frame - offset).min(blocks.len());
            mean_square(blocks[first.min(end)..end].iter().sum())
        })
        .collect()
}

/// Sum of squares in f64 over 4 independent lanes.
fn sum_squares(values: &[f32]) -> f64 {
    let mut lanes = [0.0f64; 4];
    let chunks = values.chunks_exact(4);
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum();
    for c in chunks {
        for i in 0..4 {
            lanes[i] += f64::from(c[i]) * f64::from(c[i]);
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// `librosa.onset.onset_strength` from a dB mel spectrogram (lag 1, no max filter, mean over
/// bands, `center=True`): frame t holds the rectified flux between frames t-2 and t-3, the
/// first three frames are 0, so the envelope lines up with the STFT frames.
pub fn onset_strength(mel_db: &Frames, n_fft: usize, hop_length: usize) -> Vec<f32> {
    let n = mel_db.n_frames;
    let shift = 1 + n_fft / (2 * hop_length);
    (0..n)
        .map(|t| {
            if t < shift || t - shift + 1 >= n {
                return 0.0;
            }
            let (a, b) = (mel_db.frame(t - shift), mel_db.frame(t - shift + 1));
            b.iter().zip(a).map(|(b, a)| (b - a).max(0.0)).sum::<f32>() / mel_db.width as f32
        })
        .collect()
}

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

/// Dot product in 8 independent lanes, so the compiler can vectorise it (a plain `sum` is a
/// serial dependency chain under strict float ordering).
fn dot(a: &[f32], b: &[f32]) -> f32 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1 << 24) as f32
            })
            .collect()
    }

    #[test]
    fn extremes_are_the_ends_of_a_full_sort() {
        let random = lcg(400, 3);
        let falling: Vec<f32> = (0..400).map(|i| 1.0 / (1.0 + i as f32)).collect();
        let rising: Vec<f32> = falling.iter().rev().copied().collect();
        let ties = vec![0.5; 37];
        for values in [random, falling, rising, ties] {
            let mut sorted = values.clone();
            sorted.sort_by(f32::total_cmp);
            for q in [1, 2, 3, 8, values.len()] {
                let (mut low, mut high) = (Vec::new(), Vec::new());
                extremes(&values, q, &mut low, &mut high);
                low.sort_by(f32::total_cmp);
                high.sort_by(f32::total_cmp);
                assert_eq!(low, sorted[..q], "q {q}");
                assert_eq!(high, sorted[sorted.len() - q..], "q {q}");
            }
        }
    }

    #[test]
    fn rms_by_blocks_equals_the_frame_by_frame_sum() {
        let y = lcg(10_007, 5);
        let direct = |frame_length: usize, hop: usize| -> Vec<f32> {
            let pad = frame_length as isize / 2;
            (0..1 + y.len() / hop)
                .map(|t| {
                    let start = (t * hop) as isize - pad;
                    let sum: f64 = (start..start + frame_length as isize)
                        .filter(|&j| j >= 0 && (j as usize) < y.len())
                        .map(|j| f64::from(y[j as usize]).powi(2))
                        .sum();
                    (sum / frame_length as f64).sqrt() as f32
                })
                .collect()
        };
        // 2048/512 takes the block path, 2048/500 the frame-by-frame one.
        for (frame_length, hop) in [(2048, 512), (2048, 500)] {
            let ours = rms(&y, frame_length, hop);
            let want = direct(frame_length, hop);
            assert_eq!(ours.len(), want.len());
            for (a, b) in ours.iter().zip(&want) {
                assert!((a - b).abs() <= 1e-6 * b.abs(), "{a} vs {b}");
            }
        }
    }
}
