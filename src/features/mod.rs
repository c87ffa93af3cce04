//! Feature extractors: one submodule per modality, each turning one song's file into a fixed
//! vector of `f32` with stable, documented names (`feature_names`), so reports and
//! `mer data inspect` can say what dimension 37 is.
//!
//! Every extractor has the same two entry points, which the `extract.*` pipeline stages call
//! per song, in parallel:
//! - `feature_names(section) -> Vec<String>`: the names, in order; depends only on the spec;
//! - `extract(path, section) -> Result<Vec<f32>, Error>`: one song's vector, same length.
//!
//! A per-song error is the stage's business (`on_error = "skip" | "fail"`), never a panic.
//! Each extractor bounds what one song may cost ([`read_at_most`] for lyrics and MIDI files,
//! a decoding window for audio), so one hostile file cannot exhaust memory.
//!
//! `extractor = "precomputed"` is not per song: [`precomputed::FeatureTable`] reads a matrix
//! computed elsewhere once per stage; [`FeatureSource`] says which of the two a modality uses.

pub mod audio;
pub mod lyrics;
pub mod midi;
pub mod precomputed;

use std::path::Path;

use crate::modality::Modality;
use crate::spec::{
    AudioExtractor, AudioSection, LyricsExtractor, LyricsSection, MidiExtractor, MidiSection,
    ModalitySections, PrecomputedSection,
};

/// One song's features could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// From the audio extractor.
    #[error(transparent)]
    Audio(#[from] audio::AudioError),
    /// From the MIDI extractor.
    #[error(transparent)]
    Midi(#[from] midi::MidiError),
    /// From the lyrics extractor.
    #[error(transparent)]
    Lyrics(#[from] lyrics::LyricsError),
    /// A precomputed feature file has no usable row for the song.
    #[error(transparent)]
    Row(#[from] precomputed::RowError),
}

/// Why [`read_at_most`] gave no bytes.
#[derive(Debug)]
pub(crate) enum CappedRead {
    /// The file could not be read.
    Io(std::io::Error),
    /// The file holds more than the cap: `bytes` is its size (for a stream, the bytes seen).
    TooLarge {
        /// Bytes in the file, or read before giving up.
        bytes: u64,
    },
}

/// The bytes of `path` when it holds at most `max_bytes`. The size is checked before reading,
/// and the read stops one byte past the cap, so a file that grows meanwhile or never ends (a
/// FIFO, a link to `/dev/zero`) cannot take more memory either.
pub(crate) fn read_at_most(path: &Path, max_bytes: usize) -> Result<Vec<u8>, CappedRead> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(CappedRead::Io)?;
    let size = file.metadata().map_err(CappedRead::Io)?.len();
    let cap = max_bytes as u64;
    if size > cap {
        return Err(CappedRead::TooLarge { bytes: size });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(CappedRead::Io)?;
    if bytes.len() as u64 > cap {
        return Err(CappedRead::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Where a modality's features come from.
#[derive(Debug, Clone, Copy)]
pub enum FeatureSource<'a> {
    /// An extractor run on each song's media file.
    Extractor(Extractor<'a>),
    /// `extractor = "precomputed"`: rows of a matrix file computed elsewhere.
    Precomputed(&'a PrecomputedSection),
}

impl<'a> FeatureSource<'a> {
    /// The source `sections` configure for `modality`; `None` when it is not selected.
    pub fn for_modality(modality: Modality, sections: &'a ModalitySections) -> Option<Self> {
        if let Some(table) = sections.precomputed(modality) {
            return Some(FeatureSource::Precomputed(table));
        }
        Extractor::for_modality(modality, sections).map(FeatureSource::Extractor)
    }

    /// Version of the vectors it gives (enters the stage key).
    pub fn version(self) -> u32 {
        match self {
            FeatureSource::Extractor(extractor) => extractor.version(),
            FeatureSource::Precomputed(_) => precomputed::VERSION,
        }
    }
}

/// The extractor a spec selects for one modality, with its settings.
#[derive(Debug, Clone, Copy)]
pub enum Extractor<'a> {
    /// `[modalities.audio] extractor = "spectral"`.
    AudioSpectral(&'a AudioSection),
    /// `[modalities.midi] extractor = "symbolic"`.
    MidiSymbolic(&'a MidiSection),
    /// `[modalities.lyrics] extractor = "hashed-bow"`.
    LyricsHashedBow(&'a LyricsSection),
}

impl<'a> Extractor<'a> {
    /// The per-song extractor `sections` configure for `modality`; `None` when the modality is
    /// not selected or its features are precomputed.
    pub fn for_modality(modality: Modality, sections: &'a ModalitySections) -> Option<Self> {
        match modality {
            Modality::Audio => sections
                .audio
                .as_ref()
                .filter(|s| s.extractor == AudioExtractor::Spectral)
                .map(Extractor::AudioSpectral),
            Modality::Midi => sections
                .midi
                .as_ref()
                .filter(|s| s.extractor == MidiExtractor::Symbolic)
                .map(Extractor::MidiSymbolic),
            Modality::Lyrics => sections
                .lyrics
                .as_ref()
                .filter(|s| s.extractor == LyricsExtractor::HashedBow)
                .map(Extractor::LyricsHashedBow),
        }
    }

    /// Version of the vectors it returns (enters the stage key).
    pub fn version(self) -> u32 {
        match self {
            Extractor::AudioSpectral(_) => audio::VERSION,
            Extractor::MidiSymbolic(_) => midi::VERSION,
            Extractor::LyricsHashedBow(_) => lyrics::VERSION,
        }
    }

    /// Names of the vector's entries, in order.
    pub fn feature_names(self) -> Vec<String> {
        match self {
            Extractor::AudioSpectral(section) => audio::feature_names(section),
            Extractor::MidiSymbolic(section) => midi::feature_names(section),
            Extractor::LyricsHashedBow(section) => lyrics::feature_names(section),
        }
    }

    /// One song's vector.
    pub fn extract(self, path: &Path) -> Result<Vec<f32>, FeatureError> {
        match self {
            Extractor::AudioSpectral(section) => Ok(audio::extract(path, section)?),
            Extractor::MidiSymbolic(section) => Ok(midi::extract(path, section)?),
            Extractor::LyricsHashedBow(section) => Ok(lyrics::extract(path, section)?),
        }
    }
}
