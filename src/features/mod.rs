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

pub mod audio;
pub mod lyrics;
pub mod midi;

use std::path::Path;

use crate::modality::Modality;
use crate::spec::{
    AudioExtractor, AudioSection, LyricsExtractor, LyricsSection, MidiExtractor, MidiSection,
    ModalitySections,
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
    /// Not built yet (`precomputed`): the stage stores log2 of the file size.
    Placeholder,
}

impl<'a> Extractor<'a> {
    /// The extractor `sections` configure for `modality`.
    pub fn for_modality(modality: Modality, sections: &'a ModalitySections) -> Self {
        match modality {
            Modality::Audio => match &sections.audio {
                Some(s) if s.extractor == AudioExtractor::Spectral => Extractor::AudioSpectral(s),
                _ => Extractor::Placeholder,
            },
            Modality::Midi => match &sections.midi {
                Some(s) if s.extractor == MidiExtractor::Symbolic => Extractor::MidiSymbolic(s),
                _ => Extractor::Placeholder,
            },
            Modality::Lyrics => match &sections.lyrics {
                Some(s) if s.extractor == LyricsExtractor::HashedBow => {
                    Extractor::LyricsHashedBow(s)
                }
                _ => Extractor::Placeholder,
            },
        }
    }

    /// Version of the vectors it returns (enters the stage key).
    pub fn version(self) -> u32 {
        match self {
            Extractor::AudioSpectral(_) => audio::VERSION,
            Extractor::MidiSymbolic(_) => midi::VERSION,
            Extractor::LyricsHashedBow(_) => lyrics::VERSION,
            Extractor::Placeholder => 0,
        }
    }

    /// Names of the vector's entries, in order.
    pub fn feature_names(self) -> Vec<String> {
        match self {
            Extractor::AudioSpectral(section) => audio::feature_names(section),
            Extractor::MidiSymbolic(section) => midi::feature_names(section),
            Extractor::LyricsHashedBow(section) => lyrics::feature_names(section),
            Extractor::Placeholder => vec!["placeholder.log2_file_bytes".to_string()],
        }
    }

    /// One song's vector.
    pub fn extract(self, path: &Path) -> Result<Vec<f32>, FeatureError> {
        match self {
            Extractor::AudioSpectral(section) => Ok(audio::extract(path, section)?),
            Extractor::MidiSymbolic(section) => Ok(midi::extract(path, section)?),
            Extractor::LyricsHashedBow(section) => Ok(lyrics::extract(path, section)?),
            Extractor::Placeholder => {
                let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
                Ok(vec![(bytes as f32 + 1.0).log2()])
            }
        }
    }
}
