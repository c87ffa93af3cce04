//! Frame features from one STFT pass, each mirroring the librosa function named on it
//! (librosa 0.11 defaults unless the section says otherwise).
//!
//! Every per-frame quantity is a [`Frames`] matrix stored frame-major (`data[t * width + k]`),
//! which is the order the STFT produces.

use realfft::RealFftPlanner;

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
pub struct Stft {
    n_fft: usize,
    hop_length: usize,
    window: Vec<f32>,
}

impl Stft {
    /// An STFT with a periodic Hann window of `n_fft` samples.
    pub fn new(n_fft: usize, hop_length: usize) -> Self {
        Stft {
            n_fft,
            hop_length,
            window: hann_periodic(n_fft),
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

    /// Power spectrogram `|STFT|^2` (librosa's `power=2`).
    pub fn power(&self, y: &[f32]) -> Frames {
        let n_frames = self.n_frames(y.len());
        let mut out = Frames::zeros(n_frames, self.n_bins());
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(self.n_fft);
        let mut input = fft.make_input_vec();
        let mut spectrum = fft.make_output_vec();
        let mut scratch = fft.make_scratch_vec();
        let pad = self.n_fft / 2;
        for t in 0..n_frames {
            // Frame t covers y[t*hop - pad .. t*hop - pad + n_fft], zeros outside y.
            let start = (t * self.hop_length) as isize - pad as isize;
            for (i, (x, w)) in input.iter_mut().zip(&self.window).enumerate() {
                let j = start + i as isize;
                *x = if j >= 0 && (j as usize) < y.len() {
                    y[j as usize] * w
                } else {
                    0.0
                };
            }
            fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .expect("buffer sizes come from the plan");
            for (p, c) in out.frame_mut(t).iter_mut().zip(&spectrum) {
                *p = c.re * c.re + c.im * c.im;
            }
        }
        out
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

    /// Mel spectrogram `filters @ power` (`librosa.feature.melspectrogram`).
    pub fn apply(&self, power: &Frames) -> Frames {
        let mut out = Frames::zeros(power.n_frames, self.n_mels());
        for t in 0..power.n_frames {
            let spec = power.frame(t);
            for (o, (first, w)) in out.frame_mut(t).iter_mut().zip(&self.filters) {
                *o = dot(w, &spec[*first..*first + w.len()]);
            }
        }
        out
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

/// Computes [`SpectralShape`] from the power spectrogram.
pub fn spectral_shape(power: &Frames, freqs: &[f64]) -> SpectralShape {
    let n = power.n_frames;
    let mut shape = SpectralShape {
        centroid: Vec::with_capacity(n),
        bandwidth: Vec::with_capacity(n),
        rolloff: Vec::with_capacity(n),
        flatness: Vec::with_capacity(n),
    };
    let mut mag = vec![0.0f32; power.width];
    for t in 0..n {
        let p = power.frame(t);
        for (m, &v) in mag.iter_mut().zip(p) {
            *m = v.sqrt();
        }
        let total: f64 = mag.iter().map(|&m| f64::from(m)).sum();
        // librosa.util.normalize(norm=1) leaves a column below `tiny` unscaled.
        let norm = if total < f64::from(f32::MIN_POSITIVE) {
            1.0
        } else {
            total
        };
        let centroid: f64 = mag
            .iter()
            .zip(freqs)
            .map(|(&m, f)| f64::from(m) * f)
            .sum::<f64>()
            / norm;
        let bandwidth: f64 = mag
            .iter()
            .zip(freqs)
            .map(|(&m, f)| f64::from(m) * (f - centroid).powi(2))
            .sum::<f64>()
            / norm;
        // First bin whose cumulative magnitude reaches 85 % of the total.
        let threshold = 0.85 * total;
        let mut cum = 0.0f64;
        let mut rolloff = freqs[freqs.len() - 1];
        for (&m, &f) in mag.iter().zip(freqs) {
            cum += f64::from(m);
            if cum >= threshold {
                rolloff = f;
                break;
            }
        }
        // ln of products of 16 values (each in [1e-10, ~1e7], so the product stays in f64
        // range) instead of one ln per bin: the logarithm dominated this loop.
        let (mut log_sum, mut sum) = (0.0f64, 0.0f64);
        for chunk in p.chunks(16) {
            let mut prod = 1.0f64;
            for &v in chunk {
                let v = f64::from(v.max(1e-10));
                prod *= v;
                sum += v;
            }
            log_sum += prod.ln();
        }
        let len = p.len() as f64;
        shape.centroid.push(centroid as f32);
        shape.bandwidth.push(bandwidth.sqrt() as f32);
        shape.rolloff.push(rolloff as f32);
        shape
            .flatness
            .push(((log_sum / len).exp() / (sum / len)) as f32);
    }
    shape
}

/// Number of spectral-contrast rows: `librosa.feature.spectral_contrast` default 6 bands + 1.
pub const CONTRAST_BANDS: usize = 7;

/// `librosa.feature.spectral_contrast(n_bands=6, fmin=200, quantile=0.02, linear=False)`:
/// per octave band, dB of the mean of the top 2 % magnitudes minus dB of the bottom 2 %.
pub fn spectral_contrast(power: &Frames, freqs: &[f64]) -> Frames {
    let bands = contrast_bands(freqs);
    let n = power.n_frames;
    let mut peak = Frames::zeros(n, CONTRAST_BANDS);
    let mut valley = Frames::zeros(n, CONTRAST_BANDS);
    let mut scratch: Vec<f32> = Vec::with_capacity(power.width);
    for t in 0..n {
        let p = power.frame(t);
        for (k, &(lo, hi, q)) in bands.iter().enumerate() {
            scratch.clear();
            scratch.extend(p[lo..hi].iter().map(|v| v.sqrt()));
            let len = scratch.len();
            let q = q.min(len);
            // Partial selection instead of a full sort: only the q smallest/largest matter.
            scratch.select_nth_unstable_by(q - 1, f32::total_cmp);
            let low: f32 = scratch[..q].iter().sum::<f32>() / q as f32;
            scratch.select_nth_unstable_by(len - q, f32::total_cmp);
            let high: f32 = scratch[len - q..].iter().sum::<f32>() / q as f32;
            valley.frame_mut(t)[k] = low;
            peak.frame_mut(t)[k] = high;
        }
    }
    power_to_db(&mut peak.data);
    power_to_db(&mut valley.data);
    for (p, v) in peak.data.iter_mut().zip(&valley.data) {
        *p -= v;
    }
    peak
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
    let pad = frame_length / 2;
    let last = y.len().saturating_sub(1);
    let negative = |j: isize| -> bool {
        let i = j.clamp(0, last as isize) as usize;
        let v = y.get(i).copied().unwrap_or(0.0);
        v.abs() > 1e-10 && v.is_sign_negative()
    };
    (0..n_frames)
        .map(|t| {
            let start = (t * hop_length) as isize - pad as isize;
            let mut prev = negative(start);
            let mut crossings = 0usize;
            for i in 1..frame_length as isize {
                let cur = negative(start + i);
                crossings += usize::from(cur != prev);
                prev = cur;
            }
            crossings as f32 / frame_length as f32
        })
        .collect()
}

/// `librosa.feature.rms(frame_length, hop_length, center=True, pad_mode="constant")`.
pub fn rms(y: &[f32], frame_length: usize, hop_length: usize) -> Vec<f32> {
    let n_frames = 1 + y.len() / hop_length;
    let pad = frame_length / 2;
    (0..n_frames)
        .map(|t| {
            let start = (t * hop_length) as isize - pad as isize;
            let lo = start.max(0) as usize;
            let hi = ((start + frame_length as isize).max(0) as usize).min(y.len());
            let sum: f64 = y[lo.min(hi)..hi]
                .iter()
                .map(|&v| f64::from(v) * f64::from(v))
                .sum();
            (sum / frame_length as f64).sqrt() as f32
        })
        .collect()
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

    /// Chroma per frame from the power spectrogram, each frame scaled to max 1 (`norm=inf`;
    /// silent frames stay 0).
    pub fn apply(&self, power: &Frames) -> Frames {
        let mut out = Frames::zeros(power.n_frames, 12);
        for t in 0..power.n_frames {
            let p = power.frame(t);
            let frame = out.frame_mut(t);
            for (c, o) in frame.iter_mut().enumerate() {
                let w = &self.weights[c * self.n_bins..(c + 1) * self.n_bins];
                *o = dot(w, p);
            }
            let max = frame.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if max >= f32::MIN_POSITIVE {
                frame.iter_mut().for_each(|v| *v /= max);
            }
        }
        out
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
