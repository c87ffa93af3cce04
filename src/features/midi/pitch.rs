//! Pitch and melody groups (percussion-channel notes are not pitches and are left out).

use super::song::{MidiSong, NoteEvent};
use super::stats::{entropy_bits, mean, normalized, ratio, std_dev};
use super::timing::ONSET_MERGE_S;
use super::vector::FeatureVector;

/// Pitch-class names used in feature names (sharps, as MIDI tools print them).
pub(crate) const PITCH_CLASS_NAMES: [&str; 12] = [
    "c", "c_sharp", "d", "d_sharp", "e", "f", "f_sharp", "g", "g_sharp", "a", "a_sharp", "b",
];
/// Melodic intervals up to an octave get their own bin; larger ones share the last.
const MELODIC_INTERVAL_BINS: usize = 13;

/// Duration-weighted share of each pitch class among pitched notes.
#[derive(Debug, Clone, PartialEq)]
pub struct PitchClassHistogram(pub [f64; 12]);

impl PitchClassHistogram {
    /// Sums note durations per pitch class (each note weighs at least a millisecond, so very
    /// short notes still count) and normalizes to shares.
    pub fn from_notes<'a>(notes: impl Iterator<Item = &'a NoteEvent>) -> PitchClassHistogram {
        let mut weights = [0.0; 12];
        for note in notes.filter(|n| !n.is_drum) {
            weights[usize::from(note.pitch % 12)] += note.duration_s.max(1e-3);
        }
        let shares = normalized(&weights);
        let mut histogram = [0.0; 12];
        histogram.copy_from_slice(&shares);
        PitchClassHistogram(histogram)
    }
}

/// `pitch_*`: range, centre and spread, pitch-class histogram and entropies, register.
pub(crate) fn pitch_features(song: &MidiSong, out: &mut FeatureVector) {
    let pitched: Vec<&NoteEvent> = song.notes.iter().filter(|n| !n.is_drum).collect();
    let pitches: Vec<f64> = pitched.iter().map(|n| f64::from(n.pitch)).collect();
    let lowest = pitches.iter().copied().reduce(f64::min).unwrap_or(0.0);
    let highest = pitches.iter().copied().reduce(f64::max).unwrap_or(0.0);
    out.push("pitch_min", lowest);
    out.push("pitch_max", highest);
    out.push("pitch_range", highest - lowest);
    out.push("pitch_mean", mean(&pitches));
    out.push("pitch_std", std_dev(&pitches));
    let histogram = PitchClassHistogram::from_notes(pitched.iter().copied());
    for (name, share) in PITCH_CLASS_NAMES.iter().zip(histogram.0) {
        out.push(format!("pitch_class_{name}"), share);
    }
    out.push("pitch_class_entropy_bits", entropy_bits(&histogram.0));
    let mut key_counts = [0.0; 128];
    for n in &pitched {
        key_counts[usize::from(n.pitch)] += 1.0;
    }
    out.push("pitch_entropy_bits", entropy_bits(&key_counts));
    let present_classes = histogram.0.iter().filter(|s| **s >= 0.01).count();
    out.push("pitch_distinct_classes", present_classes as f64);
    let distinct_pitches = key_counts.iter().filter(|c| **c > 0.0).count();
    out.push("pitch_distinct_pitches", distinct_pitches as f64);
    let count = pitches.len() as f64;
    let low = pitches.iter().filter(|p| **p < 48.0).count() as f64;
    let high = pitches.iter().filter(|p| **p > 72.0).count() as f64;
    out.push("pitch_low_register_fraction", ratio(low, count));
    out.push("pitch_high_register_fraction", ratio(high, count));
}

/// The melody as the highest pitched note of each onset (the "skyline" reduction).
fn skyline(notes: &[NoteEvent]) -> Vec<u8> {
    let mut melody: Vec<(f64, u8)> = Vec::new();
    for note in notes.iter().filter(|n| !n.is_drum) {
        match melody.last_mut() {
            Some((onset, pitch)) if note.onset_s - *onset <= ONSET_MERGE_S => {
                *pitch = (*pitch).max(note.pitch);
            }
            _ => melody.push((note.onset_s, note.pitch)),
        }
    }
    melody.into_iter().map(|(_, p)| p).collect()
}

/// `melody_*`: interval histogram of the skyline, steps and leaps, contour.
pub(crate) fn melody_features(song: &MidiSong, out: &mut FeatureVector) {
    let melody = skyline(&song.notes);
    let intervals: Vec<i32> = melody
        .windows(2)
        .map(|w| i32::from(w[1]) - i32::from(w[0]))
        .collect();
    let count = intervals.len() as f64;
    let mut bins = [0.0; MELODIC_INTERVAL_BINS + 1];
    for i in &intervals {
        bins[(i.unsigned_abs() as usize).min(MELODIC_INTERVAL_BINS)] += 1.0;
    }
    for (size, value) in bins.iter().enumerate().take(MELODIC_INTERVAL_BINS) {
        out.push(
            format!("melody_interval_{size}_fraction"),
            ratio(*value, count),
        );
    }
    out.push(
        "melody_interval_over_octave_fraction",
        ratio(bins[MELODIC_INTERVAL_BINS], count),
    );
    let abs: Vec<f64> = intervals.iter().map(|i| f64::from(i.abs())).collect();
    let steps = abs.iter().filter(|a| (1.0..=2.0).contains(*a)).count() as f64;
    let leaps = abs.iter().filter(|a| **a >= 3.0).count() as f64;
    out.push("melody_step_fraction", ratio(steps, count));
    out.push("melody_leap_fraction", ratio(leaps, count));
    out.push("melody_mean_abs_interval", mean(&abs));
    let up = intervals.iter().filter(|i| **i > 0).count() as f64;
    let down = intervals.iter().filter(|i| **i < 0).count() as f64;
    out.push("melody_ascending_fraction", ratio(up, count));
    out.push("melody_descending_fraction", ratio(down, count));
    let moves: Vec<i32> = intervals
        .iter()
        .map(|i| i.signum())
        .filter(|s| *s != 0)
        .collect();
    let turns = moves.windows(2).filter(|w| w[0] != w[1]).count() as f64;
    out.push(
        "melody_direction_change_rate",
        ratio(turns, moves.len().saturating_sub(1) as f64),
    );
}
