//! Feature extractors: one submodule per modality, each turning one song's file into a fixed
//! vector of `f32` with stable, documented names (`feature_names`), so reports and
//! `mer data inspect` can say what dimension 37 is.
//!
//! Every per-song extractor implements [`SongExtractor`] on its settings struct, in its own
//! module: its name and version, the names of its vector's entries, its key slice (the
//! settings it reads, plus files such as a lexicon by content), and `extract(path)`, which the
//! `extract.*` pipeline stages call per song, in parallel. A new per-song
//! extractor is its module (its settings struct and this trait's implementation) plus one line
//! in its modality's list in `spec::modalities`, which maps the spec's extractor variant to it.
//!
//! A per-song error is the stage's business (`on_error = "skip" | "fail"`), never a panic.
//! Each extractor bounds what one song may cost (`read_at_most` for lyrics and MIDI files,
//! a decoding window for audio), so one hostile file cannot exhaust memory.
//!
//! `extractor = "precomputed"` is not per song: [`precomputed::FeatureTable`] reads a matrix
//! computed elsewhere once per stage; [`FeatureSource`] says which of the two a modality uses.

pub mod audio;
pub mod lyrics;
pub mod midi;
pub mod precomputed;

mod extractor;
mod shared_load;

use std::path::Path;

pub use extractor::{KeyFile, KeyFileError, SettingRules, SettingsSlice, SongExtractor, Violation};

use precomputed::PrecomputedSection;

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
#[derive(Clone, Copy)]
pub enum FeatureSource<'a> {
    /// An extractor run on each song's media file.
    Extractor(Extractor<'a>),
    /// `extractor = "precomputed"`: rows of a matrix file computed elsewhere.
    Precomputed(&'a PrecomputedSection),
}

/// The per-song extractor a spec selects for one modality, with its settings.
pub type Extractor<'a> = &'a dyn SongExtractor;

impl<'a> FeatureSource<'a> {
    /// Version of the vectors it gives (enters the stage key).
    pub fn version(self) -> u32 {
        match self {
            FeatureSource::Extractor(extractor) => extractor.version(),
            FeatureSource::Precomputed(_) => precomputed::VERSION,
        }
    }

    /// The extractor's name in specs (`spectral`, `precomputed`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FeatureSource::Extractor(extractor) => extractor.name(),
            FeatureSource::Precomputed(_) => precomputed::EXTRACTOR,
        }
    }
}
