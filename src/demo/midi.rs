//! Standard MIDI file (type 1) transcription of a [`Score`].
//!
//! Layout as sequencers export it: track 0 is the conductor track (name, tempo, time and key
//! signature), then one track per part with its name, program change and notes.

use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use super::score::{Part, Role, Score, TICKS_PER_BEAT};

/// The bytes of a type 1 standard MIDI file for `score`, titled `title`.
pub fn to_smf_bytes(score: &Score, title: &str) -> Vec<u8> {
    let mut tracks = vec![conductor_track(score, title.as_bytes())];
    tracks.extend(score.parts.iter().map(part_track));
    let smf = Smf {
        header: Header::new(
            Format::Parallel,
            Timing::Metrical(u15::new(TICKS_PER_BEAT as u16)),
        ),
        tracks,
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes)
        .expect("writing a MIDI file into memory cannot fail");
    bytes
}

fn meta(delta: u32, message: MetaMessage<'_>) -> TrackEvent<'_> {
    TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Meta(message),
    }
}

fn conductor_track<'a>(score: &Score, title: &'a [u8]) -> Vec<TrackEvent<'a>> {
    let micros_per_beat = (60_000_000.0 / score.tempo_bpm).round() as u32;
    vec![
        meta(0, MetaMessage::TrackName(title)),
        meta(0, MetaMessage::Tempo(u24::new(micros_per_beat))),
        // Quarter-note beats: denominator 2^2, 24 MIDI clocks per click, 8 32nds per quarter.
        meta(
            0,
            MetaMessage::TimeSignature(score.beats_per_bar as u8, 2, 24, 8),
        ),
        meta(
            0,
            MetaMessage::KeySignature(score.key_signature_accidentals(), score.minor),
        ),
        meta(0, MetaMessage::EndOfTrack),
    ]
}

fn role_name(role: Role) -> &'static [u8] {
    match role {
        Role::Melody => b"Melody",
        Role::Chords => b"Chords",
        Role::Bass => b"Bass",
        Role::Drums => b"Drums",
    }
}

/// A note-on or note-off at an absolute tick, before conversion to delta times.
struct Timed {
    tick: u32,
    /// Offs sort before ons at the same tick, so a repeated pitch is released before it is
    /// struck again instead of being cut by its own late note-off.
    is_on: bool,
    key: u8,
    velocity: u8,
}

fn part_track<'a>(part: &Part) -> Vec<TrackEvent<'a>> {
    let channel = u4::new(part.channel);
    let midi = |delta: u32, message: MidiMessage| TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Midi { channel, message },
    };
    let mut events = vec![meta(0, MetaMessage::TrackName(role_name(part.role)))];
    if part.role != Role::Drums {
        events.push(midi(
            0,
            MidiMessage::ProgramChange {
                program: u7::new(part.program),
            },
        ));
    }
    let mut timed: Vec<Timed> = Vec::with_capacity(part.notes.len() * 2);
    for note in &part.notes {
        timed.push(Timed {
            tick: note.start,
            is_on: true,
            key: note.pitch,
            velocity: note.velocity.max(1),
        });
        timed.push(Timed {
            tick: note.start + note.duration,
            is_on: false,
            key: note.pitch,
            velocity: 0,
        });
    }
    timed.sort_by_key(|e| (e.tick, e.is_on, e.key));
    let mut last = 0;
    for e in timed {
        let key = u7::new(e.key);
        let message = if e.is_on {
            MidiMessage::NoteOn {
                key,
                vel: u7::new(e.velocity),
            }
        } else {
            MidiMessage::NoteOff {
                key,
                vel: u7::new(64),
            }
        };
        events.push(midi(e.tick - last, message));
        last = e.tick;
    }
    events.push(meta(0, MetaMessage::EndOfTrack));
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::score::Note;

    #[test]
    fn writes_a_parsable_type_1_file() {
        let score = Score {
            tempo_bpm: 120.0,
            beats_per_bar: 3,
            key_root: 9,
            minor: true,
            parts: vec![Part {
                role: Role::Melody,
                channel: 0,
                program: 40,
                notes: vec![
                    Note {
                        start: 0,
                        duration: 480,
                        pitch: 69,
                        velocity: 90,
                    },
                    Note {
                        start: 480,
                        duration: 240,
                        pitch: 69,
                        velocity: 80,
                    },
                ],
            }],
        };
        let bytes = to_smf_bytes(&score, "Test");
        let smf = Smf::parse(&bytes).unwrap();
        assert_eq!(smf.header.format, Format::Parallel);
        assert_eq!(smf.tracks.len(), 2);
        assert!(smf.tracks[0].iter().any(|e| matches!(
            e.kind,
            TrackEventKind::Meta(MetaMessage::Tempo(t)) if t.as_int() == 500_000
        )));
        assert!(smf.tracks[0].iter().any(|e| matches!(
            e.kind,
            TrackEventKind::Meta(MetaMessage::KeySignature(0, true))
        )));
        let ons = smf.tracks[1]
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    TrackEventKind::Midi {
                        message: MidiMessage::NoteOn { .. },
                        ..
                    }
                )
            })
            .count();
        assert_eq!(ons, 2);
    }
}
