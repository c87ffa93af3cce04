//! From a Standard MIDI File to one time-ordered list of notes in seconds.
//!
//! All tracks are merged into one event stream ordered by tick (ties keep file order), so
//! tempo changes in a conductor track, program changes on one track and notes on another all
//! apply as a player would apply them. Ticks become seconds through the [`TempoMap`].

use midly::{Format, MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};
use std::collections::HashMap;

/// MIDI channel 10 (index 9) is the General MIDI percussion channel.
const DRUM_CHANNEL: u8 = 9;
/// The MIDI default when a file sets no tempo: 120 BPM.
const DEFAULT_MICROS_PER_QUARTER: u32 = 500_000;
/// SMPTE-timed files have no beats; they are counted at a nominal 120 BPM.
const SMPTE_NOMINAL_BEATS_PER_SECOND: f64 = 2.0;

/// One sounding note, after merging tracks and applying the tempo map.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteEvent {
    /// Onset in seconds from the start of the file.
    pub onset_s: f64,
    /// Duration in seconds (zero for a note-off at the same tick).
    pub duration_s: f64,
    /// Onset in quarter-note beats (nominal 120 BPM beats for SMPTE timing).
    pub onset_beats: f64,
    /// Duration in beats, like `onset_beats`.
    pub duration_beats: f64,
    /// MIDI key number, 0..=127.
    pub pitch: u8,
    /// Note-on velocity, 1..=127.
    pub velocity: u8,
    /// MIDI channel, 0..=15 (9 is channel 10).
    pub channel: u8,
    /// General MIDI program active on the channel at the onset, 0..=127.
    pub program: u8,
    /// On the percussion channel: `pitch` names a drum, not a pitch.
    pub is_drum: bool,
}

/// A tempo change: from `tick` on, a quarter note lasts `micros_per_quarter` microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TempoChange {
    /// Absolute tick of the change.
    pub tick: u64,
    /// Seconds elapsed at `tick`.
    pub seconds: f64,
    /// Microseconds per quarter note from `tick` on.
    pub micros_per_quarter: u32,
}

/// Converts absolute ticks into seconds and beats for one file's timing.
#[derive(Debug, Clone, PartialEq)]
pub enum TempoMap {
    /// Ticks per quarter note, with the tempo changes in tick order (the first at tick 0).
    Metrical {
        /// Ticks per quarter note.
        ticks_per_quarter: u16,
        /// Tempo changes, sorted by tick; never empty.
        changes: Vec<TempoChange>,
    },
    /// SMPTE timing: a fixed number of ticks per second, whatever the tempo events say.
    Timecode {
        /// Frames per second times ticks per frame.
        ticks_per_second: f64,
        /// Tempo events, kept only for the tempo features.
        changes: Vec<TempoChange>,
    },
}

impl TempoMap {
    /// Builds the map from `(tick, microseconds per quarter)` events in any order.
    fn new(timing: Timing, mut events: Vec<(u64, u32)>) -> Result<TempoMap, String> {
        events.sort_by_key(|(tick, _)| *tick);
        // Several changes on one tick: the last one in file order wins.
        events.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 = later.1;
            }
            same
        });
        if events.first().is_none_or(|(tick, _)| *tick > 0) {
            events.insert(0, (0, DEFAULT_MICROS_PER_QUARTER));
        }
        match timing {
            Timing::Metrical(ppq) => {
                let ticks_per_quarter = ppq.as_int();
                if ticks_per_quarter == 0 {
                    return Err("header says 0 ticks per quarter note".into());
                }
                let changes = accumulate_seconds(&events, f64::from(ticks_per_quarter));
                Ok(TempoMap::Metrical {
                    ticks_per_quarter,
                    changes,
                })
            }
            Timing::Timecode(fps, ticks_per_frame) => {
                let ticks_per_second = f64::from(fps.as_f32()) * f64::from(ticks_per_frame);
                if ticks_per_second <= 0.0 {
                    return Err("header says 0 ticks per SMPTE frame".into());
                }
                let changes = events
                    .iter()
                    .map(|&(tick, micros_per_quarter)| TempoChange {
                        tick,
                        seconds: tick as f64 / ticks_per_second,
                        micros_per_quarter,
                    })
                    .collect();
                Ok(TempoMap::Timecode {
                    ticks_per_second,
                    changes,
                })
            }
        }
    }

    /// The tempo changes (at least one, at tick 0).
    pub fn changes(&self) -> &[TempoChange] {
        match self {
            TempoMap::Metrical { changes, .. } | TempoMap::Timecode { changes, .. } => changes,
        }
    }

    /// Seconds elapsed at an absolute tick.
    pub fn seconds_at(&self, tick: u64) -> f64 {
        match self {
            TempoMap::Metrical {
                ticks_per_quarter,
                changes,
            } => {
                let change = last_change_at(changes, tick);
                change.seconds
                    + (tick - change.tick) as f64 * f64::from(change.micros_per_quarter)
                        / 1e6
                        / f64::from(*ticks_per_quarter)
            }
            TempoMap::Timecode {
                ticks_per_second, ..
            } => tick as f64 / ticks_per_second,
        }
    }

    /// Quarter-note beats elapsed at an absolute tick.
    pub fn beats_at(&self, tick: u64) -> f64 {
        match self {
            TempoMap::Metrical {
                ticks_per_quarter, ..
            } => tick as f64 / f64::from(*ticks_per_quarter),
            TempoMap::Timecode { .. } => self.seconds_at(tick) * SMPTE_NOMINAL_BEATS_PER_SECOND,
        }
    }
}

/// Fills in the seconds at each change for metrical timing.
fn accumulate_seconds(events: &[(u64, u32)], ticks_per_quarter: f64) -> Vec<TempoChange> {
    let mut changes: Vec<TempoChange> = Vec::with_capacity(events.len());
    for &(tick, micros_per_quarter) in events {
        let seconds = changes.last().map_or(0.0, |prev| {
            prev.seconds
                + (tick - prev.tick) as f64 * f64::from(prev.micros_per_quarter)
                    / 1e6
                    / ticks_per_quarter
        });
        changes.push(TempoChange {
            tick,
            seconds,
            micros_per_quarter,
        });
    }
    changes
}

/// The change in force at `tick` (`changes` is sorted and starts at tick 0).
fn last_change_at(changes: &[TempoChange], tick: u64) -> &TempoChange {
    let index = changes.partition_point(|change| change.tick <= tick);
    &changes[index.saturating_sub(1)]
}

/// A parsed file: its notes in onset order, tempo map and length.
#[derive(Debug, Clone, PartialEq)]
pub struct MidiSong {
    /// Notes sorted by onset, then pitch.
    pub notes: Vec<NoteEvent>,
    /// Tick-to-time conversion, with the tempo changes.
    pub tempo: TempoMap,
    /// Seconds to the last event of any track (end-of-track included).
    pub length_s: f64,
    /// Number of `MTrk` chunks read.
    pub track_count: usize,
    /// Program-change events seen (on any channel).
    pub program_changes: usize,
}

impl Default for MidiSong {
    fn default() -> Self {
        MidiSong {
            notes: Vec::new(),
            tempo: TempoMap::Metrical {
                ticks_per_quarter: 480,
                changes: vec![TempoChange {
                    tick: 0,
                    seconds: 0.0,
                    micros_per_quarter: DEFAULT_MICROS_PER_QUARTER,
                }],
            },
            length_s: 0.0,
            track_count: 0,
            program_changes: 0,
        }
    }
}

/// A channel event at an absolute tick, tagged with its track for ordering and note pairing.
struct TimedMessage {
    tick: u64,
    track: usize,
    channel: u8,
    message: MidiMessage,
}

/// A note-on waiting for its note-off.
struct OpenNote {
    tick: u64,
    velocity: u8,
    program: u8,
}

impl MidiSong {
    /// Merges the tracks of a parsed file into notes.
    pub fn from_smf(smf: &Smf) -> Result<MidiSong, String> {
        let mut tempo_events = Vec::new();
        let mut messages = Vec::new();
        let mut last_tick = 0u64;
        for (track_index, track) in smf.tracks.iter().enumerate() {
            let mut tick = 0u64;
            for event in track {
                tick += u64::from(event.delta.as_int());
                match event.kind {
                    TrackEventKind::Midi { channel, message } => messages.push(TimedMessage {
                        tick,
                        // Format 2 tracks are independent songs; treating them as one is the
                        // usual, imperfect, reading.
                        track: if smf.header.format == Format::Sequential {
                            0
                        } else {
                            track_index
                        },
                        channel: channel.as_int(),
                        message,
                    }),
                    TrackEventKind::Meta(MetaMessage::Tempo(micros)) if micros.as_int() > 0 => {
                        tempo_events.push((tick, micros.as_int()))
                    }
                    _ => {}
                }
            }
            last_tick = last_tick.max(tick);
        }
        // Stable sort: events on one tick keep their order within the file.
        messages.sort_by_key(|m| m.tick);
        let tempo = TempoMap::new(smf.header.timing, tempo_events)?;
        let (notes, program_changes) = pair_notes(&messages, &tempo, last_tick);
        Ok(MidiSong {
            notes,
            length_s: tempo.seconds_at(last_tick),
            tempo,
            track_count: smf.tracks.len(),
            program_changes,
        })
    }
}

/// Pairs note-ons with note-offs (first in, first out per track, channel and key); notes still
/// sounding at the end are closed at the file's last tick.
fn pair_notes(
    messages: &[TimedMessage],
    tempo: &TempoMap,
    last_tick: u64,
) -> (Vec<NoteEvent>, usize) {
    let mut programs = [0u8; 16];
    let mut program_changes = 0;
    let mut open: HashMap<(usize, u8, u8), Vec<OpenNote>> = HashMap::new();
    let mut notes = Vec::new();
    for m in messages {
        match m.message {
            MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                open.entry((m.track, m.channel, key.as_int()))
                    .or_default()
                    .push(OpenNote {
                        tick: m.tick,
                        velocity: vel.as_int(),
                        program: programs[usize::from(m.channel)],
                    });
            }
            MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                if let Some(stack) = open.get_mut(&(m.track, m.channel, key.as_int()))
                    && !stack.is_empty()
                {
                    let start = stack.remove(0);
                    notes.push(make_note(&start, m.tick, key.as_int(), m.channel, tempo));
                }
            }
            MidiMessage::ProgramChange { program } => {
                programs[usize::from(m.channel)] = program.as_int();
                program_changes += 1;
            }
            _ => {}
        }
    }
    for ((_, channel, key), stack) in open {
        for start in stack {
            notes.push(make_note(&start, last_tick, key, channel, tempo));
        }
    }
    notes.sort_by(|a, b| {
        a.onset_s
            .total_cmp(&b.onset_s)
            .then(a.pitch.cmp(&b.pitch))
            .then(a.channel.cmp(&b.channel))
            .then(a.velocity.cmp(&b.velocity))
            .then(a.duration_s.total_cmp(&b.duration_s))
    });
    (notes, program_changes)
}

fn make_note(start: &OpenNote, end_tick: u64, key: u8, channel: u8, tempo: &TempoMap) -> NoteEvent {
    let end_tick = end_tick.max(start.tick);
    let onset_s = tempo.seconds_at(start.tick);
    let onset_beats = tempo.beats_at(start.tick);
    NoteEvent {
        onset_s,
        duration_s: (tempo.seconds_at(end_tick) - onset_s).max(0.0),
        onset_beats,
        duration_beats: (tempo.beats_at(end_tick) - onset_beats).max(0.0),
        pitch: key,
        velocity: start.velocity,
        channel,
        program: start.program,
        is_drum: channel == DRUM_CHANNEL,
    }
}
