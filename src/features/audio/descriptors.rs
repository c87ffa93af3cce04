//! Song-level descriptors: tempo and pulse clarity from the onset envelope, key and mode from
//! the mean chroma, and two loudness descriptors from the RMS curve.

use realfft::RealFftPlanner;

/// Tempo estimate and how clear the pulse is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tempo {
    /// Beats per minute, `librosa.feature.tempo` (aggregate = mean).
    pub bpm: f32,
    /// Height of the chosen autocorrelation peak in the mean normalised tempogram, in [0, 1]
    /// (MIRtoolbox's `mirpulseclarity` idea, on librosa's tempogram): 1 = perfectly periodic.
    pub pulse_clarity: f32,
}

/// `librosa.feature.tempo(onset_envelope, sr, hop_length, ac_size=8, max_tempo=320,
/// start_bpm=120, std_bpm=1)`: the mean over frames of the windowed, normalised onset
/// autocorrelation (`librosa.feature.tempogram`), weighted by a log-normal prior around
/// 120 BPM. Periods are whole frames, as in librosa.
pub fn tempo(onset: &[f32], sample_rate: f64, hop_length: usize) -> Tempo {
    let frame_rate = sample_rate / hop_length as f64;
    let win = (8.0 * frame_rate).floor() as usize;
    let tg = mean_tempogram(onset, win);
    let bpm_of = |lag: usize| 60.0 * frame_rate / lag as f64;
    let mut best = (f64::NEG_INFINITY, 0usize);
    for (lag, &v) in tg.iter().enumerate().skip(1) {
        let bpm = bpm_of(lag);
        if bpm >= 320.0 {
            continue;
        }
        let logprior = -0.5 * (bpm.log2() - 120f64.log2()).powi(2);
        let score = (1e6 * f64::from(v)).ln_1p() + logprior;
        if score > best.0 {
            best = (score, lag);
        }
    }
    if best.1 == 0 {
        return Tempo {
            bpm: 0.0,
            pulse_clarity: 0.0,
        };
    }
    Tempo {
        bpm: bpm_of(best.1) as f32,
        pulse_clarity: tg[best.1].clamp(0.0, 1.0),
    }
}

/// Mean over frames of `librosa.feature.tempogram(win_length=win, center=True, window="hann",
/// norm=inf)`: each frame is the onset envelope around t (padded with librosa's
/// `linear_ramp` to 0), Hann-windowed, autocorrelated (via FFT) and scaled by its lag-0 value.
fn mean_tempogram(onset: &[f32], win: usize) -> Vec<f32> {
    let n = onset.len();
    let mut mean = vec![0.0f64; win];
    if n == 0 || win == 0 {
        return vec![0.0; win];
    }
    let half = win / 2;
    let padded = ramp_pad(onset, half);
    let window = super::spectral::hann_periodic(win);
    let fft_len = (2 * win - 1).next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(fft_len);
    let inv = planner.plan_fft_inverse(fft_len);
    let mut buf = fwd.make_input_vec();
    let mut spec = fwd.make_output_vec();
    let mut scratch = fwd.make_scratch_vec();
    let mut inv_scratch = inv.make_scratch_vec();
    for t in 0..n {
        buf.iter_mut().for_each(|v| *v = 0.0);
        for (b, (x, w)) in buf.iter_mut().zip(padded[t..t + win].iter().zip(&window)) {
            *b = x * w;
        }
        // A silent stretch autocorrelates to 0 and stays 0 (librosa leaves it unnormalised).
        if buf.iter().all(|&v| v == 0.0) {
            continue;
        }
        fwd.process_with_scratch(&mut buf, &mut spec, &mut scratch)
            .expect("buffer sizes come from the plan");
        for c in spec.iter_mut() {
            *c = realfft::num_complex::Complex::new(c.norm_sqr(), 0.0);
        }
        inv.process_with_scratch(&mut spec, &mut buf, &mut inv_scratch)
            .expect("buffer sizes come from the plan");
        let max = buf[..win].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if max < f32::MIN_POSITIVE {
            continue;
        }
        for (m, v) in mean.iter_mut().zip(&buf[..win]) {
            *m += f64::from(v / max);
        }
    }
    mean.iter().map(|m| (m / n as f64) as f32).collect()
}

/// `np.pad(x, half, mode="linear_ramp", end_values=0)`.
fn ramp_pad(x: &[f32], half: usize) -> Vec<f32> {
    let (first, last) = (x[0], x[x.len() - 1]);
    let mut out = Vec::with_capacity(x.len() + 2 * half);
    out.extend((0..half).map(|i| first * i as f32 / half as f32));
    out.extend_from_slice(x);
    out.extend((0..half).map(|j| last * (half - 1 - j) as f32 / half as f32));
    out
}

/// Krumhansl-Kessler major profile, tonic first.
const MAJOR_PROFILE: [f32; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
/// Krumhansl-Kessler minor profile, tonic first.
const MINOR_PROFILE: [f32; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

/// Key estimate from a chroma profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Key {
    /// Tonic pitch class, 0 = C ... 11 = B.
    pub tonic: usize,
    /// True for major, false for minor.
    pub major: bool,
    /// Pearson correlation with the winning profile, in [-1, 1] (0 for a flat chroma).
    pub strength: f32,
}

/// Krumhansl-Schmuckler key finding: the mean chroma is correlated with the 24 rotations of
/// the Krumhansl-Kessler major and minor profiles; the best one is the key.
pub fn key(mean_chroma: &[f32; 12]) -> Key {
    let mut best = Key {
        tonic: 0,
        major: true,
        strength: f32::NEG_INFINITY,
    };
    for (major, profile) in [(true, &MAJOR_PROFILE), (false, &MINOR_PROFILE)] {
        for tonic in 0..12 {
            let rotated: [f32; 12] = std::array::from_fn(|pc| profile[(pc + 12 - tonic) % 12]);
            let r = pearson(mean_chroma, &rotated);
            if r > best.strength {
                best = Key {
                    tonic,
                    major,
                    strength: r,
                };
            }
        }
    }
    best
}

fn pearson(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len() as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Loudness descriptors from the RMS curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dynamics {
    /// Fraction of frames whose RMS exceeds the song's mean RMS (the complement of
    /// MIRtoolbox's `mirlowenergy`).
    pub high_energy_fraction: f32,
    /// 95th minus 5th percentile of the RMS in dB (floored at -100 dB), in dB.
    pub dynamic_range_db: f32,
}

/// Computes [`Dynamics`]; silence gives 0 and 0.
pub fn dynamics(rms: &[f32]) -> Dynamics {
    if rms.is_empty() {
        return Dynamics {
            high_energy_fraction: 0.0,
            dynamic_range_db: 0.0,
        };
    }
    let mean = rms.iter().map(|&v| f64::from(v)).sum::<f64>() / rms.len() as f64;
    let high = rms.iter().filter(|&&v| f64::from(v) > mean).count();
    let mut db: Vec<f32> = rms.iter().map(|&v| 20.0 * v.max(1e-5).log10()).collect();
    db.sort_by(f32::total_cmp);
    let range =
        super::pooling::percentile_sorted(&db, 95.0) - super::pooling::percentile_sorted(&db, 5.0);
    Dynamics {
        high_energy_fraction: high as f32 / rms.len() as f32,
        dynamic_range_db: range,
    }
}
