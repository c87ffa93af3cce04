//! Dynamics, instrumentation and length groups.

use super::song::MidiSong;
use super::stats::{mean, ratio, std_dev};
use super::timing::song_length_s;
use super::vector::FeatureVector;

/// The 16 General MIDI program families, 8 programs each, in program order.
const PROGRAM_FAMILIES: [&str; 16] = [
    "piano",
    "chromatic_percussion",
    "organ",
    "guitar",
    "bass",
    "strings",
    "ensemble",
    "brass",
    "reed",
    "pipe",
    "synth_lead",
    "synth_pad",
    "synth_effects",
    "ethnic",
    "percussive",
    "sound_effects",
];

/// `dynamics_*`: note-on velocity level, spread and change.
pub(crate) fn dynamics_features(song: &MidiSong, out: &mut FeatureVector) {
    let velocities: Vec<f64> = song.notes.iter().map(|n| f64::from(n.velocity)).collect();
    let lowest = velocities.iter().copied().reduce(f64::min).unwrap_or(0.0);
    let highest = velocities.iter().copied().reduce(f64::max).unwrap_or(0.0);
    let pitched: Vec<f64> = song
        .notes
        .iter()
        .filter(|n| !n.is_drum)
        .map(|n| f64::from(n.velocity))
        .collect();
    let changes: Vec<f64> = pitched.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let count = velocities.len() as f64;
    out.push("dynamics_velocity_mean", mean(&velocities));
    out.push("dynamics_velocity_std", std_dev(&velocities));
    out.push("dynamics_velocity_min", lowest);
    out.push("dynamics_velocity_max", highest);
    out.push("dynamics_velocity_range", highest - lowest);
    out.push("dynamics_velocity_change_mean", mean(&changes));
    let loud = velocities.iter().filter(|v| **v >= 100.0).count() as f64;
    let soft = velocities.iter().filter(|v| **v < 50.0).count() as f64;
    out.push("dynamics_loud_fraction", ratio(loud, count));
    out.push("dynamics_soft_fraction", ratio(soft, count));
}

/// `instrument_*`: GM family shares of pitched notes, drums, voices and programs.
pub(crate) fn instrumentation_features(song: &MidiSong, out: &mut FeatureVector) {
    let mut families = [0.0; 16];
    let mut programs = [false; 128];
    let mut channels = [false; 16];
    let mut drum_notes = 0.0;
    for note in &song.notes {
        channels[usize::from(note.channel)] = true;
        if note.is_drum {
            drum_notes += 1.0;
        } else {
            families[usize::from(note.program / 8)] += 1.0;
            programs[usize::from(note.program)] = true;
        }
    }
    let pitched = song.notes.len() as f64 - drum_notes;
    for (name, count) in PROGRAM_FAMILIES.iter().zip(families) {
        out.push(
            format!("instrument_family_{name}_fraction"),
            ratio(count, pitched),
        );
    }
    out.push(
        "instrument_drums_present",
        if drum_notes > 0.0 { 1.0 } else { 0.0 },
    );
    out.push(
        "instrument_drum_note_fraction",
        ratio(drum_notes, song.notes.len() as f64),
    );
    let voices = channels.iter().filter(|c| **c).count();
    out.push("instrument_voice_count", voices as f64);
    out.push(
        "instrument_distinct_programs",
        programs.iter().filter(|p| **p).count() as f64,
    );
    out.push("instrument_program_changes", song.program_changes as f64);
    out.push("instrument_track_count", song.track_count as f64);
}

/// `length_*`: duration and note counts.
pub(crate) fn length_features(song: &MidiSong, out: &mut FeatureVector) {
    let drums = song.notes.iter().filter(|n| n.is_drum).count();
    out.push("length_seconds", song_length_s(song));
    out.push("length_notes", song.notes.len() as f64);
    out.push("length_pitched_notes", (song.notes.len() - drums) as f64);
}
