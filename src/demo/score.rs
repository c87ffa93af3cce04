//! Class-dependent note generation: one short piece per song, as a list of parts and notes.
//!
//! The score is the single source of the song's music: the MIDI file is its transcription and
//! the audio is rendered from it, so the two modalities agree the way a real song and its MIDI
//! transcription do. The audio then adds what MIDI cannot carry (timbre brightness, mix
//! loudness, background noise), drawn separately in the synthesizer.

use super::classes::{ArousalCues, ClassProfile};
use crate::rng::RandomStream;

/// MIDI ticks per quarter note; 480 is what most sequencers write.
pub const TICKS_PER_BEAT: u32 = 480;

/// GM drum keys (channel 10) used by the generated kits.
pub mod drum_key {
    /// Acoustic bass drum.
    pub const KICK: u8 = 36;
    /// Acoustic snare.
    pub const SNARE: u8 = 38;
    /// Closed hi-hat.
    pub const CLOSED_HAT: u8 = 42;
    /// Crash cymbal 1.
    pub const CRASH: u8 = 49;
}

const MAJOR_SCALE: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR_SCALE: [u8; 7] = [0, 2, 3, 5, 7, 8, 10];

/// Chord progressions as 0-based scale degrees, one chord per bar.
const MAJOR_PROGRESSIONS: [[usize; 4]; 4] =
    [[0, 4, 5, 3], [0, 3, 4, 0], [0, 5, 3, 4], [0, 3, 0, 4]];
const MINOR_PROGRESSIONS: [[usize; 4]; 4] =
    [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 4], [0, 3, 6, 2]];

/// One sounding note, in ticks from the start of the piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note {
    /// Onset in ticks.
    pub start: u32,
    /// Length in ticks (at least 1).
    pub duration: u32,
    /// MIDI key number.
    pub pitch: u8,
    /// MIDI velocity, 1..=127.
    pub velocity: u8,
}

/// What a part plays, which decides its MIDI channel and how the synthesizer voices it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The tune.
    Melody,
    /// Harmony: block or repeated chords.
    Chords,
    /// The bass line.
    Bass,
    /// A GM drum kit on channel 10.
    Drums,
}

/// One instrument's track.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// What the part plays.
    pub role: Role,
    /// 0-based MIDI channel (9 for drums).
    pub channel: u8,
    /// 0-based GM program (ignored for drums).
    pub program: u8,
    /// Notes sorted by onset.
    pub notes: Vec<Note>,
}

/// A generated piece.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Tempo in beats per minute (constant through the piece).
    pub tempo_bpm: f64,
    /// Beats per bar (3 or 4, quarter-note beats).
    pub beats_per_bar: u32,
    /// Pitch class of the tonic, 0 = C.
    pub key_root: u8,
    /// Whether the key is minor.
    pub minor: bool,
    /// The instruments.
    pub parts: Vec<Part>,
}

impl Score {
    /// Seconds per tick at this score's tempo.
    pub fn seconds_per_tick(&self) -> f64 {
        60.0 / (self.tempo_bpm * f64::from(TICKS_PER_BEAT))
    }

    /// Sharps (positive) or flats (negative) of the key signature, as MIDI's meta event wants.
    pub fn key_signature_accidentals(&self) -> i8 {
        // Relative major decides the signature; C major = 0, each fifth up adds a sharp.
        let major_root = if self.minor {
            (self.key_root + 3) % 12
        } else {
            self.key_root
        };
        let fifths = (i32::from(major_root) * 7) % 12; // position on the circle of fifths
        let sharps = if fifths > 6 { fifths - 12 } else { fifths };
        sharps as i8
    }
}

/// Per-song values drawn around the class profile; the song's own "performance".
struct Style {
    notes_per_beat: f64,
    velocity: f64,
    articulation: f64,
    dissonance: f64,
    leap_probability: f64,
    melody_center: f64,
}

/// Generates a piece of at least `seconds` for a song of class `class` whose arousal is
/// `arousal` (the class's, scattered per song): arousal sets tempo, density, dynamics and
/// drums through [`ArousalCues`], the class the harmony, articulation, register and
/// instruments.
pub fn compose(class: &ClassProfile, arousal: f64, seconds: f64, rng: &mut RandomStream) -> Score {
    let cues = ArousalCues::at(arousal);
    let tempo_bpm = rng.normal(cues.tempo_bpm, 10.0).clamp(50.0, 200.0).round();
    let style = Style {
        notes_per_beat: rng.normal(cues.notes_per_beat, 0.25).clamp(0.5, 3.5),
        velocity: rng.normal(cues.velocity, 7.0).clamp(30.0, 120.0),
        articulation: rng.normal(class.articulation, 0.12).clamp(0.2, 1.0),
        dissonance: rng.normal(class.dissonance, 0.06).clamp(0.0, 0.8),
        leap_probability: rng.normal(class.leap_probability, 0.08).clamp(0.02, 0.8),
        melody_center: rng.normal(class.melody_center, 3.5),
    };
    let beats_per_bar = if rng.chance(class.triple_meter_probability) {
        3
    } else {
        4
    };
    let key_root = rng.below(12) as u8;
    let minor = rng.chance(class.minor_probability);
    let scale = if minor { MINOR_SCALE } else { MAJOR_SCALE };
    let progression = if minor {
        *rng.pick(&MINOR_PROGRESSIONS)
    } else {
        *rng.pick(&MAJOR_PROGRESSIONS)
    };

    let bar_ticks = beats_per_bar * TICKS_PER_BEAT;
    let beats_needed = (seconds * tempo_bpm / 60.0).ceil() as u32 + 1;
    let bars = beats_needed.div_ceil(beats_per_bar);
    let harmony = Harmony {
        key_root,
        scale,
        progression,
        bar_ticks,
        bars,
    };

    let melody_program = *rng.pick(class.melody_programs);
    let chord_program = *rng.pick(class.chord_programs);
    let bass_program = if rng.chance(0.5) {
        33
    } else {
        *rng.pick(&[32, 34, 38])
    };
    let mut parts = vec![
        Part {
            role: Role::Melody,
            channel: 0,
            program: melody_program,
            notes: melody(&harmony, &style, rng),
        },
        Part {
            role: Role::Chords,
            channel: 1,
            program: chord_program,
            notes: chords(&harmony, &style, rng),
        },
        Part {
            role: Role::Bass,
            channel: 2,
            program: bass_program,
            notes: bass(&harmony, &style, rng),
        },
    ];
    if rng.chance(cues.drums_probability) {
        parts.push(Part {
            role: Role::Drums,
            channel: 9,
            program: 0,
            notes: drums(&harmony, &style, rng),
        });
    }
    Score {
        tempo_bpm,
        beats_per_bar,
        key_root,
        minor,
        parts,
    }
}

/// The harmonic frame every part follows.
struct Harmony {
    key_root: u8,
    scale: [u8; 7],
    progression: [usize; 4],
    bar_ticks: u32,
    bars: u32,
}

impl Harmony {
    /// Semitones above the tonic of scale degree `degree` (may exceed one octave).
    fn degree_semitones(&self, degree: i32) -> i32 {
        let octave = degree.div_euclid(7);
        i32::from(self.scale[degree.rem_euclid(7) as usize]) + 12 * octave
    }

    /// MIDI pitch of `degree` in the octave whose tonic is at or below `floor`.
    fn pitch(&self, degree: i32, floor: i32) -> i32 {
        let tonic = floor - (floor - i32::from(self.key_root)).rem_euclid(12);
        tonic + self.degree_semitones(degree)
    }

    fn chord_root(&self, bar: u32) -> i32 {
        self.progression[bar as usize % self.progression.len()] as i32
    }
}

fn velocity(base: f64, accent: f64, rng: &mut RandomStream) -> u8 {
    rng.normal(base + accent, 6.0).clamp(1.0, 127.0) as u8
}

fn melody(h: &Harmony, style: &Style, rng: &mut RandomStream) -> Vec<Note> {
    // Grid of 1, 1/2 or 1/4 beat, chosen so that the mean density matches the song's style.
    let weights = [
        (2.0 - style.notes_per_beat).max(0.1),
        1.0,
        (style.notes_per_beat - 1.5).max(0.1),
    ];
    let center = style.melody_center.round() as i32;
    let mut degree: i32 = 0;
    let mut notes = Vec::new();
    let end = h.bars * h.bar_ticks;
    let mut tick = 0;
    while tick < end {
        let step = [TICKS_PER_BEAT, TICKS_PER_BEAT / 2, TICKS_PER_BEAT / 4][rng.weighted(&weights)];
        let on_downbeat = tick % h.bar_ticks == 0;
        if on_downbeat {
            // Land on a chord tone at the bar line so the tune outlines the harmony.
            let chord_root = h.chord_root(tick / h.bar_ticks);
            let choice = [0, 2, 4][rng.below(3)];
            let octave = degree.div_euclid(7);
            degree = chord_root + choice + 7 * octave;
        } else if rng.chance(style.leap_probability) {
            let leap = rng.between(2, 5) as i32;
            degree += if rng.chance(0.5) { leap } else { -leap };
        } else {
            degree += *rng.pick(&[-1, -1, 1, 1, 0]);
        }
        let mut pitch = h.pitch(degree, center - 6);
        // Fold back into an octave and a half around the center to keep the register.
        while pitch > center + 9 {
            degree -= 7;
            pitch -= 12;
        }
        while pitch < center - 9 {
            degree += 7;
            pitch += 12;
        }
        if rng.chance(0.88) {
            let length = (f64::from(step) * rng.normal(style.articulation, 0.05).clamp(0.1, 1.0))
                .max(1.0) as u32;
            let accent = if on_downbeat { 8.0 } else { 0.0 };
            notes.push(Note {
                start: tick,
                duration: length,
                pitch: pitch.clamp(0, 127) as u8,
                velocity: velocity(style.velocity, accent, rng),
            });
        }
        tick += step;
    }
    notes
}

/// Extra tone that roughens a chord: added second, minor second or tritone above the root.
fn dissonant_tone(root_pitch: i32, rng: &mut RandomStream) -> i32 {
    root_pitch + [2, 1, 6][rng.below(3)]
}

fn chords(h: &Harmony, style: &Style, rng: &mut RandomStream) -> Vec<Note> {
    // Sustained pads for legato songs, repeated chords on each beat for energetic ones.
    let hits_per_bar = if style.articulation > 0.85 {
        1
    } else if style.notes_per_beat > 1.7 {
        h.bar_ticks / TICKS_PER_BEAT
    } else {
        2
    };
    let hit_ticks = h.bar_ticks / hits_per_bar;
    let mut notes = Vec::new();
    for bar in 0..h.bars {
        let root = h.chord_root(bar);
        let root_pitch = h.pitch(root, 52);
        let mut pitches: Vec<i32> = [0, 2, 4].iter().map(|d| h.pitch(root + d, 52)).collect();
        if rng.chance(style.dissonance) {
            pitches.push(dissonant_tone(root_pitch, rng));
        }
        for hit in 0..hits_per_bar {
            let start = bar * h.bar_ticks + hit * hit_ticks;
            let length = (f64::from(hit_ticks) * style.articulation.max(0.5)) as u32;
            for pitch in &pitches {
                notes.push(Note {
                    start,
                    duration: length.max(1),
                    pitch: (*pitch).clamp(0, 127) as u8,
                    velocity: velocity(style.velocity - 15.0, 0.0, rng),
                });
            }
        }
    }
    notes
}

fn bass(h: &Harmony, style: &Style, rng: &mut RandomStream) -> Vec<Note> {
    let beats = h.bar_ticks / TICKS_PER_BEAT;
    let per_beat = style.notes_per_beat > 1.5;
    let mut notes = Vec::new();
    for bar in 0..h.bars {
        let root = h.pitch(h.chord_root(bar), 36);
        for beat in 0..beats {
            if !per_beat && beat % 2 == 1 {
                continue;
            }
            let slot = if per_beat { 1 } else { 2 } * TICKS_PER_BEAT;
            // Octave jumps and fifths give the bass some movement without leaving the chord.
            let pitch = match rng.below(6) {
                0 => root + 12,
                1 => root + 7,
                _ => root,
            };
            notes.push(Note {
                start: bar * h.bar_ticks + beat * TICKS_PER_BEAT,
                duration: ((f64::from(slot) * style.articulation) as u32).max(1),
                pitch: pitch.clamp(0, 127) as u8,
                velocity: velocity(style.velocity - 5.0, 0.0, rng),
            });
        }
    }
    notes
}

fn drums(h: &Harmony, style: &Style, rng: &mut RandomStream) -> Vec<Note> {
    let beats = h.bar_ticks / TICKS_PER_BEAT;
    let hat_step = if style.notes_per_beat > 2.0 {
        TICKS_PER_BEAT / 4
    } else {
        TICKS_PER_BEAT / 2
    };
    let mut notes = Vec::new();
    let mut hit = |start: u32, pitch: u8, accent: f64, rng: &mut RandomStream| {
        notes.push(Note {
            start,
            duration: TICKS_PER_BEAT / 8,
            pitch,
            velocity: velocity(style.velocity, accent, rng),
        });
    };
    for bar in 0..h.bars {
        let bar_start = bar * h.bar_ticks;
        if bar % 4 == 0 && style.velocity > 85.0 {
            hit(bar_start, drum_key::CRASH, 0.0, rng);
        }
        for beat in 0..beats {
            let at = bar_start + beat * TICKS_PER_BEAT;
            // Kick on the strong beats, snare on the back beats (beat 2 in 3/4 as a waltz would).
            if beat == 0 || (beats == 4 && beat == 2) {
                hit(at, drum_key::KICK, 10.0, rng);
            } else {
                hit(at, drum_key::SNARE, 0.0, rng);
            }
        }
        let mut t = bar_start;
        while t < bar_start + h.bar_ticks {
            hit(t, drum_key::CLOSED_HAT, -20.0, rng);
            t += hat_step;
        }
    }
    notes.sort_by_key(|n| (n.start, n.pitch));
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::classes::Taxonomy;

    #[test]
    fn key_signatures_follow_the_circle_of_fifths() {
        let score = |key_root, minor| Score {
            tempo_bpm: 100.0,
            beats_per_bar: 4,
            key_root,
            minor,
            parts: vec![],
        };
        assert_eq!(score(0, false).key_signature_accidentals(), 0); // C
        assert_eq!(score(7, false).key_signature_accidentals(), 1); // G
        assert_eq!(score(5, false).key_signature_accidentals(), -1); // F
        assert_eq!(score(9, true).key_signature_accidentals(), 0); // A minor
        assert_eq!(score(4, true).key_signature_accidentals(), 1); // E minor
        assert_eq!(score(2, true).key_signature_accidentals(), -1); // D minor
    }

    #[test]
    fn compose_covers_the_requested_length() {
        let class = &Taxonomy::MirexClusters.classes()[0];
        let mut rng = RandomStream::new(1, "test/1");
        let score = compose(class, class.arousal, 5.0, &mut rng);
        let last_end = score
            .parts
            .iter()
            .flat_map(|p| p.notes.iter())
            .map(|n| f64::from(n.start + n.duration))
            .fold(0.0, f64::max);
        assert!(last_end * score.seconds_per_tick() >= 4.5);
        assert!(score.parts.len() >= 3);
        assert!(score.parts.iter().all(|p| !p.notes.is_empty()));
    }
}
