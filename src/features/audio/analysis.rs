//! One pass over a song's frames: each power spectrum is computed once and fed, while it is in
//! cache, to every spectral feature; the spectrogram itself is never stored. The analysis state
//! (FFT plan, filterbanks, buffers) is built once per thread and settings and then reused for
//! every song that thread extracts.

use std::cell::RefCell;

use super::FrameFeatures;
use super::SpectralSettings;
use super::spectral::{
    self, CONTRAST_BANDS, Chromagram, Frames, MelFilterbank, SpectralContrast, SpectralShape, Stft,
};

/// The settings the reusable state depends on; f64s compare by bit pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    sample_rate: u64,
    n_fft: usize,
    hop_length: usize,
    n_mels: usize,
    fmin: u64,
    fmax: u64,
}

impl Settings {
    fn of(section: &SpectralSettings) -> Self {
        let (sr, fmax) = super::settings(section);
        Settings {
            sample_rate: sr.to_bits(),
            n_fft: section.n_fft,
            hop_length: section.hop_length,
            n_mels: section.n_mels,
            fmin: section.fmin.to_bits(),
            fmax: fmax.to_bits(),
        }
    }
}

/// Per-thread analysis state for one [`Settings`].
struct Analyzer {
    settings: Settings,
    stft: Stft,
    mel: MelFilterbank,
    chroma: Chromagram,
    contrast: SpectralContrast,
    freqs: Vec<f64>,
    power: Vec<f32>,
    mag: Vec<f32>,
}

impl Analyzer {
    fn new(settings: Settings) -> Self {
        let sr = f64::from_bits(settings.sample_rate);
        let n_fft = settings.n_fft;
        let stft = Stft::new(n_fft, settings.hop_length);
        let freqs = spectral::fft_frequencies(sr, n_fft);
        let (fmin, fmax) = (f64::from_bits(settings.fmin), f64::from_bits(settings.fmax));
        Analyzer {
            settings,
            mel: MelFilterbank::new(sr, n_fft, settings.n_mels, fmin, fmax),
            chroma: Chromagram::new(sr, n_fft),
            contrast: SpectralContrast::new(&freqs),
            power: vec![0.0; stft.n_bins()],
            mag: vec![0.0; stft.n_bins()],
            freqs,
            stft,
        }
    }

    /// All frame features of `y`.
    fn frame_features(&mut self, y: &[f32], section: &SpectralSettings) -> FrameFeatures {
        let hop = self.settings.hop_length;
        let n = self.stft.n_frames(y.len());
        let mut mel_db = Frames::zeros(n, self.mel.n_mels());
        let mut chroma = Frames::zeros(n, 12);
        let mut peak = Frames::zeros(n, CONTRAST_BANDS);
        let mut valley = Frames::zeros(n, CONTRAST_BANDS);
        let mut shape = SpectralShape::with_capacity(n);
        for t in 0..n {
            self.stft.power_frame(y, t, &mut self.power);
            let power = &self.power;
            self.mel.apply_frame(power, mel_db.frame_mut(t));
            self.chroma.apply_frame(power, chroma.frame_mut(t));
            shape.push_frame(power, &self.freqs, &mut self.mag);
            self.contrast
                .frame(power, valley.frame_mut(t), peak.frame_mut(t));
        }
        spectral::power_to_db(&mut mel_db.data);
        let mfcc = spectral::mfcc(&mel_db, section.n_mfcc);
        FrameFeatures {
            mfcc_delta: spectral::delta(&mfcc),
            mfcc,
            chroma,
            shape,
            contrast: SpectralContrast::finish(peak, valley),
            zcr: spectral::zero_crossing_rate(y, 2048, hop),
            rms: spectral::rms(y, self.settings.n_fft, hop),
            onset: spectral::onset_strength(&mel_db, self.settings.n_fft, hop),
            mel_db,
        }
    }
}

thread_local! {
    static ANALYZER: RefCell<Option<Analyzer>> = const { RefCell::new(None) };
}

/// All frame features of mono samples `y` at `section.sample_rate`, with this thread's
/// analysis state (built on first use and whenever the settings change).
pub fn frame_features(y: &[f32], section: &SpectralSettings) -> FrameFeatures {
    let settings = Settings::of(section);
    ANALYZER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|a| a.settings != settings) {
            *slot = Some(Analyzer::new(settings));
        }
        slot.as_mut()
            .expect("just filled")
            .frame_features(y, section)
    })
}
