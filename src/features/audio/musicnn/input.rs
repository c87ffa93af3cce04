//! The musicnn models' input (Pons and Serra 2019), exactly as `musicnn/extractor.py` makes it
//! from a 16 kHz mono signal: librosa's mel power spectrogram (n_fft 512, hop 256, 96 Slaney
//! mels), `log10(10000 * mel + 1)`, cut into patches of 3 s (187 frames).
//!
//! One deliberate difference: musicnn casts the mel spectrogram to float16 *before* the
//! multiplication, which with current numpy overflows to inf on loud frames and makes every
//! clip's output the same; here the scaling is done in float32, as the reference numbers of
//! the parity test are (`scripts/parity/musicnn_input.py`).

use crate::features::audio::log_mel::{LogMel, MelCompression};
use crate::features::audio::patching::patch_starts;

/// musicnn's sample rate.
pub const SAMPLE_RATE: u32 = 16_000;
/// FFT size.
pub const N_FFT: usize = 512;
/// Hop between frames.
pub const HOP: usize = 256;
/// Mel bands.
pub const N_MELS: usize = 96;

/// musicnn's front end.
pub const FRONT_END: LogMel = LogMel {
    sample_rate: SAMPLE_RATE,
    n_fft: N_FFT,
    hop_length: HOP,
    n_mels: N_MELS,
    fmin: 0.0,
    fmax: SAMPLE_RATE as f64 / 2.0,
    compression: MelCompression::Log10OnePlus,
    gain: 10_000.0,
    offset: 0.0,
};

/// The frame at `seconds` (`librosa.time_to_frames`, with musicnn's n_fft and hop), which is
/// how musicnn turns a patch hop in seconds into frames.
pub fn time_to_frames(seconds: f64) -> usize {
    FRONT_END.time_to_frames(seconds)
}

/// Frames of a patch of `seconds` (`librosa.time_to_frames(seconds) + 1`: 187 for 3 s).
pub fn patch_frames(seconds: f64) -> usize {
    FRONT_END.patch_frames(seconds)
}

/// The log-compressed mel spectrogram of `y` (16 kHz mono), one row of [`N_MELS`] per frame.
pub fn log_mel(y: &[f32]) -> Vec<[f32; N_MELS]> {
    let frames = FRONT_END.frames(y);
    frames.data.as_chunks::<N_MELS>().0.to_vec()
}

/// Patches of `frames` rows starting every `hop_frames` rows, as `batch_data` cuts them: the
/// last patch ends at or before the last frame, so a spectrogram shorter than one patch has
/// none (the extractor's short-clip policy decides what then).
pub fn patches(
    spectrogram: &[[f32; N_MELS]],
    frames: usize,
    hop_frames: usize,
) -> Vec<&[[f32; N_MELS]]> {
    patch_starts(spectrogram.len(), frames, hop_frames)
        .map(|start| &spectrogram[start..start + frames])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_seconds_are_187_frames_and_patches_never_run_past_the_end() {
        assert_eq!(patch_frames(3.0), 187);
        assert_eq!(time_to_frames(1.0), 61);
        let rows = vec![[0.0; N_MELS]; 400];
        let cut = patches(&rows, 187, 187);
        assert_eq!(cut.len(), 2);
        assert!(cut.iter().all(|p| p.len() == 187));
        assert_eq!(patches(&rows, 187, 100).len(), 3);
        assert!(patches(&rows[..186], 187, 187).is_empty());
        assert_eq!(patches(&rows[..187], 187, 187).len(), 1);
    }
}
