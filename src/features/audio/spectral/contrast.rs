//! Spectral contrast: peak against valley energy in octave bands.

use super::mel::power_to_db;
use super::stft::Frames;

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
pub(super) fn extremes(values: &[f32], q: usize, low: &mut Vec<f32>, high: &mut Vec<f32>) {
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
