//! Harmony/texture and key/mode groups.

use super::pitch::{PITCH_CLASS_NAMES, PitchClassHistogram};
use super::song::{MidiSong, NoteEvent};
use super::stats::{mean, pearson, ratio};
use super::timing::{ONSET_MERGE_S, song_length_s};
use super::vector::FeatureVector;
use std::f64::consts::TAU;

/// Krumhansl & Kessler (1982) major key profile, tonic first.
const MAJOR_PROFILE: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
/// Krumhansl & Kessler (1982) minor key profile, tonic first.
const MINOR_PROFILE: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];
/// Interval classes heard as consonant: 0 (unison/octave), 3 and 4 (thirds and their sixths),
/// 5 (fourth/fifth); 1, 2 (seconds/sevenths) and 6 (tritone) are dissonant.
const CONSONANT_INTERVAL_CLASSES: [u8; 4] = [0, 3, 4, 5];

/// `texture_*`: polyphony, silence, consonance of simultaneous intervals, chords.
pub(crate) fn texture_features(song: &MidiSong, out: &mut FeatureVector) {
    let pitched: Vec<&NoteEvent> = song.notes.iter().filter(|n| !n.is_drum).collect();
    let length = song_length_s(song);
    let (mean_polyphony, max_polyphony, sounding_s) = polyphony(&pitched);
    out.push("texture_polyphony_mean", mean_polyphony);
    out.push("texture_polyphony_max", max_polyphony);
    out.push(
        "texture_silence_fraction",
        if length > 0.0 {
            (1.0 - sounding_s / length).clamp(0.0, 1.0)
        } else {
            0.0
        },
    );
    let sonorities = sonorities(&pitched);
    let mut interval_classes = [0.0; 7];
    for pitches in &sonorities {
        for (i, low) in pitches.iter().enumerate() {
            for high in &pitches[i + 1..] {
                let class = (high - low) % 12;
                interval_classes[usize::from(class.min(12 - class))] += 1.0;
            }
        }
    }
    let pairs: f64 = interval_classes.iter().sum();
    let consonant: f64 = CONSONANT_INTERVAL_CLASSES
        .iter()
        .map(|c| interval_classes[usize::from(*c)])
        .sum();
    out.push("texture_consonance_fraction", ratio(consonant, pairs));
    for (class, count) in interval_classes.iter().enumerate().skip(1) {
        out.push(
            format!("texture_interval_class_{class}_fraction"),
            ratio(*count, pairs),
        );
    }
    let pc_counts: Vec<f64> = sonorities.iter().map(|p| distinct_classes(p)).collect();
    let chords = pc_counts.iter().filter(|c| **c >= 3.0).count() as f64;
    out.push(
        "texture_chord_fraction",
        ratio(chords, sonorities.len() as f64),
    );
    out.push("texture_chords_per_s", ratio(chords, length));
    out.push("texture_pitch_classes_per_onset", mean(&pc_counts));
}

fn distinct_classes(pitches: &[u8]) -> f64 {
    let mut seen = [false; 12];
    for p in pitches {
        seen[usize::from(p % 12)] = true;
    }
    seen.iter().filter(|s| **s).count() as f64
}

/// Time-weighted mean polyphony while anything sounds, the maximum, and seconds sounding.
fn polyphony(notes: &[&NoteEvent]) -> (f64, f64, f64) {
    let mut edges: Vec<(f64, i32)> = Vec::with_capacity(notes.len() * 2);
    for n in notes.iter().filter(|n| n.duration_s > 0.0) {
        edges.push((n.onset_s, 1));
        edges.push((n.onset_s + n.duration_s, -1));
    }
    // Ends before starts at equal times: a repeated note is not two voices.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut active, mut max_active, mut last_t) = (0i32, 0i32, 0.0);
    let (mut weighted, mut sounding) = (0.0, 0.0);
    for (t, step) in edges {
        if active > 0 {
            weighted += f64::from(active) * (t - last_t);
            sounding += t - last_t;
        }
        active += step;
        max_active = max_active.max(active);
        last_t = t;
    }
    (ratio(weighted, sounding), f64::from(max_active), sounding)
}

/// The sorted distinct pitches sounding at each distinct onset (those starting there and those
/// still held).
fn sonorities(notes: &[&NoteEvent]) -> Vec<Vec<u8>> {
    let mut result = Vec::new();
    let mut held: Vec<&NoteEvent> = Vec::new();
    let mut i = 0;
    while i < notes.len() {
        let t = notes[i].onset_s;
        held.retain(|n| n.onset_s + n.duration_s > t + ONSET_MERGE_S);
        while i < notes.len() && notes[i].onset_s - t <= ONSET_MERGE_S {
            held.push(notes[i]);
            i += 1;
        }
        let mut pitches: Vec<u8> = held.iter().map(|n| n.pitch).collect();
        pitches.sort_unstable();
        pitches.dedup();
        result.push(pitches);
    }
    result
}

/// The Krumhansl-Schmuckler estimate: the best-correlating of the 24 rotated key profiles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyEstimate {
    /// Tonic pitch class, 0 = C.
    pub tonic: u8,
    /// Major (true) or minor.
    pub major: bool,
    /// Correlation of the best key (the key's clarity).
    pub correlation: f64,
    /// Best minus second-best correlation over all 24 keys.
    pub margin: f64,
    /// Best major minus best minor correlation.
    pub major_minor_gap: f64,
}

impl KeyEstimate {
    /// Correlates the histogram with each key's profile; `None` when no pitched note sounds.
    pub fn from_histogram(histogram: &PitchClassHistogram) -> Option<KeyEstimate> {
        if histogram.0.iter().all(|s| *s == 0.0) {
            return None;
        }
        let mut scores: Vec<(f64, u8, bool)> = Vec::with_capacity(24);
        for tonic in 0..12u8 {
            for (profile, major) in [(&MAJOR_PROFILE, true), (&MINOR_PROFILE, false)] {
                let rotated: Vec<f64> = (0..12)
                    .map(|pc| profile[(pc + 12 - usize::from(tonic)) % 12])
                    .collect();
                scores.push((pearson(&histogram.0, &rotated), tonic, major));
            }
        }
        let best_of = |major: bool| {
            scores
                .iter()
                .filter(|s| s.2 == major)
                .map(|s| s.0)
                .fold(f64::NEG_INFINITY, f64::max)
        };
        let gap = best_of(true) - best_of(false);
        // Ties go to the first key in C, C minor, C#, ... order: deterministic.
        scores.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (correlation, tonic, major) = scores[0];
        Some(KeyEstimate {
            tonic,
            major,
            correlation,
            margin: correlation - scores[1].0,
            major_minor_gap: gap,
        })
    }
}

/// `key_*`: estimated tonic and mode, clarity, and the tonic's place on the circle of fifths.
pub(crate) fn key_features(song: &MidiSong, out: &mut FeatureVector) {
    let histogram = PitchClassHistogram::from_notes(song.notes.iter());
    let estimate = KeyEstimate::from_histogram(&histogram);
    let e = estimate.unwrap_or(KeyEstimate {
        tonic: 0,
        major: true,
        correlation: 0.0,
        margin: 0.0,
        major_minor_gap: 0.0,
    });
    // Tonic as a number is categorical; sin/cos on the circle of fifths gives neighbouring keys
    // neighbouring values. The one-hot is what a linear model can use directly.
    let fifths_angle = f64::from((e.tonic * 7) % 12) * TAU / 12.0;
    let found = estimate.is_some();
    out.push("key_tonic", f64::from(e.tonic));
    out.push("key_mode_major", if found && e.major { 1.0 } else { 0.0 });
    out.push("key_mode_minor", if found && !e.major { 1.0 } else { 0.0 });
    out.push("key_clarity", e.correlation);
    out.push("key_clarity_margin", e.margin);
    out.push("key_major_minor_gap", e.major_minor_gap);
    out.push(
        "key_fifths_sin",
        if found { fifths_angle.sin() } else { 0.0 },
    );
    out.push(
        "key_fifths_cos",
        if found { fifths_angle.cos() } else { 0.0 },
    );
    for (pc, name) in PITCH_CLASS_NAMES.iter().enumerate() {
        let is_tonic = found && usize::from(e.tonic) == pc;
        out.push(
            format!("key_tonic_{name}"),
            if is_tonic { 1.0 } else { 0.0 },
        );
    }
}
