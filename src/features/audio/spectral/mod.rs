//! Frame features from one STFT pass, each mirroring the librosa function named on it
//! (librosa 0.11 defaults unless the section says otherwise).
//!
//! Every per-frame quantity is a [`Frames`] matrix stored frame-major (`data[t * width + k]`),
//! which is the order the STFT produces. The spectral features are per-frame kernels over one
//! power spectrum, so a song is analysed in one pass without holding its spectrogram
//! (`super::analysis`).

mod chroma;
mod contrast;
mod envelope;
mod mel;
mod shape;
mod stft;
#[cfg(test)]
mod tests;

pub use chroma::{Chromagram, PITCH_CLASSES};
pub use contrast::{CONTRAST_BANDS, SpectralContrast};
pub use envelope::{onset_strength, rms, zero_crossing_rate};
pub use mel::{MelFilterbank, delta, hz_to_mel, mel_to_hz, mfcc, power_to_db};
pub use shape::SpectralShape;
pub use stft::{Frames, Stft, fft_frequencies, hann_periodic};
