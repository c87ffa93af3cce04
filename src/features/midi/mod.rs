//! Symbolic (MIDI) features, in the spirit of jSymbolic: one fixed vector per Standard MIDI
//! File, with stable names grouped by prefix.
//!
//! Reading: midly's default, lenient parser (its `strict` cargo feature stays off) copes with
//! running status, format 0/1/2, any number of tracks, PPQ or SMPTE timing and meta events
//! anywhere. It does not cope well with data bytes above 127 (some files of the MIREX-like set
//! have them): it silently drops the rest of the track. So every file first goes through a
//! structural pass (`repair`) that masks such bytes to 7 bits; if midly still cannot parse
//! the masked file, the original bytes get one more try, and then the file is an [`MidiError`]
//! (the stage treats the song's MIDI as missing). Nothing here panics on bad input, and one
//! file's cost is bounded: a file over `max_bytes` is not read, one of more than `max_events`
//! events is not turned into notes.
//!
//! All tracks are merged through the tempo map into [`NoteEvent`]s (onset and duration in
//! seconds, pitch, velocity, channel, program, drum flag for channel 10). Then the groups, in
//! vector order ("pitched" notes are those off the drum channel):
//! - `tempo_*`: initial, time-weighted mean and standard deviation, min and max (BPM), number
//!   of changes and changes per minute;
//! - `rhythm_*`: note and onset density, inter-onset interval (IOI) mean, std and coefficient
//!   of variation, rhythmic variability (std of log2 ratios of successive IOIs), entropy of
//!   IOIs on a 1/12-beat grid, share of onsets on the beat, syncopation (share of pitched
//!   notes starting off the beat and held across the next one), pitched note duration
//!   mean/std, staccato share (< 0.1 s);
//! - `pitch_*`: min, max, range, mean, std, the duration-weighted 12-bin
//!   [`PitchClassHistogram`], its entropy, entropy over the 128 keys, distinct pitch classes
//!   and pitches, low (< C3) and high (> C5) register shares;
//! - `melody_*`: on the skyline (highest pitched note per onset): histogram of interval sizes
//!   0..12 semitones plus "over an octave", step (1-2) and leap (3+) shares, mean absolute
//!   interval, ascending/descending shares, direction-change rate;
//! - `texture_*`: mean polyphony while sounding, max polyphony, silence share, consonance of
//!   simultaneous intervals (interval classes 0, 3, 4, 5 among all pairs sounding at each
//!   onset), interval-class shares 1..6, chord share (onsets with 3+ pitch classes), chords
//!   per second, pitch classes per onset;
//! - `key_*`: Krumhansl-Schmuckler over the duration-weighted pitch classes: tonic, major and
//!   minor flags, clarity (best correlation), margin to the second key, best-major minus
//!   best-minor correlation, tonic on the circle of fifths (sin, cos), tonic one-hot;
//! - `dynamics_*`: velocity mean, std, min, max, range, mean change between successive pitched
//!   notes, loud (>= 100) and soft (< 50) shares;
//! - `instrument_*`: share of pitched notes per General MIDI program family (16), drum
//!   presence and share, voices (channels with notes), distinct programs, program changes,
//!   tracks;
//! - `length_*`: seconds (to the end of the last note: densities and rates use it too, so a
//!   late end-of-track does not dilute them), notes, pitched notes.
//!
//! Every value is finite (empty statistics are 0). A file without a single note is an error:
//! there is nothing to describe, and a vector of zeros would pass for a real song.

mod harmony;
mod performance;
mod pitch;
mod repair;
mod song;
mod stats;
mod timing;
mod vector;

pub use harmony::KeyEstimate;
pub use pitch::PitchClassHistogram;
pub use song::{MidiSong, NoteEvent, TempoChange, TempoMap};

use crate::features::{
    CappedRead, FeatureError, SettingRules, SongExtractor, Violation, read_at_most,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;
use vector::FeatureVector;

/// `extractor = "symbolic"` (`[modalities.midi]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SymbolicSettings {
    /// Largest MIDI file read, in bytes; a larger file is skipped. Default 4194304 (4 MiB; the
    /// largest MIREX-like file is 83 kB).
    pub max_bytes: usize,
    /// Most events (notes, tempo and control changes, over all tracks) in a file; a file with
    /// more is skipped, which bounds each song's memory and time. Default 500000.
    pub max_events: usize,
}

impl Default for SymbolicSettings {
    fn default() -> Self {
        SymbolicSettings {
            max_bytes: 4 << 20,
            max_events: 500_000,
        }
    }
}

/// Version of the MIDI vectors: bump it whenever a value or name would change, so cached
/// `extract.midi` artifacts are recomputed.
pub const VERSION: u32 = 1;

/// Why one MIDI file gave no features.
#[derive(Debug, Error)]
pub enum MidiError {
    /// The file could not be read.
    #[error("cannot read MIDI file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a Standard MIDI File midly can parse, even after masking stray data bytes.
    #[error("cannot parse MIDI file {path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// midly's (or our) reason.
        reason: String,
    },
    /// The file is larger than `max_bytes`.
    #[error(
        "MIDI file {path} is {bytes} bytes, more than modalities.midi.max_bytes = {max_bytes}; check the file, or raise max_bytes if it really is one song"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (or the bytes read before stopping).
        bytes: u64,
        /// The spec's cap.
        max_bytes: usize,
    },
    /// The file holds more events than `max_events`.
    #[error(
        "MIDI file {path} has {events} events, more than modalities.midi.max_events = {max_events}; check the file, or raise max_events if it really is one song"
    )]
    TooManyEvents {
        /// The file.
        path: PathBuf,
        /// Events over all tracks.
        events: usize,
        /// The spec's cap.
        max_events: usize,
    },
    /// Parsed, but holds no notes.
    #[error("MIDI file {path} has no notes")]
    NoNotes {
        /// The file.
        path: PathBuf,
    },
}

/// The feature names, in vector order (they do not depend on the section's settings yet).
pub fn feature_names(_section: &SymbolicSettings) -> Vec<String> {
    describe(&MidiSong::default()).names
}

/// One file's feature vector, the length of [`feature_names`].
pub fn extract(path: &Path, section: &SymbolicSettings) -> Result<Vec<f32>, MidiError> {
    let bytes = read_at_most(path, section.max_bytes).map_err(|err| match err {
        CappedRead::Io(source) => MidiError::Read {
            path: path.to_owned(),
            source,
        },
        CappedRead::TooLarge { bytes } => MidiError::TooLarge {
            path: path.to_owned(),
            bytes,
            max_bytes: section.max_bytes,
        },
    })?;
    let song = read_song_within(&bytes, section.max_events).map_err(|err| match err {
        ReadError::Parse(reason) => MidiError::Parse {
            path: path.to_owned(),
            reason,
        },
        ReadError::TooManyEvents(events) => MidiError::TooManyEvents {
            path: path.to_owned(),
            events,
            max_events: section.max_events,
        },
    })?;
    if song.notes.is_empty() {
        return Err(MidiError::NoNotes {
            path: path.to_owned(),
        });
    }
    Ok(describe(&song).values)
}

/// Parses a file's bytes into a [`MidiSong`], masking stray data bytes first (see the module
/// documentation); the error is a reason to put next to the file's name.
pub fn read_song(bytes: &[u8]) -> Result<MidiSong, String> {
    read_song_within(bytes, usize::MAX).map_err(|err| match err {
        ReadError::Parse(reason) => reason,
        ReadError::TooManyEvents(events) => format!("{events} events"),
    })
}

/// Why [`read_song_within`] gave no song.
enum ReadError {
    /// midly's (or our) reason.
    Parse(String),
    /// Events over all tracks, more than the cap.
    TooManyEvents(usize),
}

/// [`read_song`], refusing a file of more than `max_events` events before notes are built
/// from them (midly's own parse is bounded by the file size cap).
fn read_song_within(bytes: &[u8], max_events: usize) -> Result<MidiSong, ReadError> {
    let repaired = repair::mask_stray_data_bytes(bytes);
    if repaired.masked > 0 {
        tracing::debug!(masked = repaired.masked, "masked MIDI data bytes above 127");
    }
    let smf = match midly::Smf::parse(&repaired.bytes) {
        Ok(smf) => smf,
        Err(masked_err) => {
            midly::Smf::parse(bytes).map_err(|_| ReadError::Parse(masked_err.to_string()))?
        }
    };
    let events: usize = smf.tracks.iter().map(Vec::len).sum();
    if events > max_events {
        return Err(ReadError::TooManyEvents(events));
    }
    MidiSong::from_smf(&smf).map_err(ReadError::Parse)
}

/// All groups, in the documented order.
fn describe(song: &MidiSong) -> FeatureVector {
    let mut out = FeatureVector::default();
    timing::tempo_features(song, &mut out);
    timing::rhythm_features(song, &mut out);
    pitch::pitch_features(song, &mut out);
    pitch::melody_features(song, &mut out);
    harmony::texture_features(song, &mut out);
    harmony::key_features(song, &mut out);
    performance::dynamics_features(song, &mut out);
    performance::instrumentation_features(song, &mut out);
    performance::length_features(song, &mut out);
    out
}

impl SongExtractor for SymbolicSettings {
    fn name(&self) -> &'static str {
        "symbolic"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn feature_names(&self) -> Vec<String> {
        feature_names(self)
    }

    fn violations(&self, table: &str) -> Vec<Violation> {
        let mut rules = SettingRules::new(table);
        rules.at_least("max_bytes", self.max_bytes, 1);
        rules.at_least("max_events", self.max_events, 1);
        rules.found
    }

    fn extract(&self, path: &Path) -> Result<Vec<f32>, FeatureError> {
        Ok(extract(path, self)?)
    }
}
