//! Time-domain and onset envelopes: zero-crossing rate, RMS and onset strength.

use super::stft::Frames;

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
