//! Tempo and rhythm groups.

use super::song::{MidiSong, NoteEvent};
use super::stats::{entropy_bits, mean, ratio, std_dev, weighted_mean_std};
use super::vector::FeatureVector;

/// Onsets closer than this are one onset (a chord played slightly spread).
pub(crate) const ONSET_MERGE_S: f64 = 0.01;
/// How far from a grid position (in beats) an onset may be and still count as on it.
const GRID_TOLERANCE_BEATS: f64 = 0.05;
/// Inter-onset intervals are histogrammed on a twelfth-of-a-beat grid (covers 16ths and triplets).
const IOI_GRID_PER_BEAT: f64 = 12.0;
/// A tempo event that moves the tempo by less than this is not a change.
const TEMPO_CHANGE_MIN_BPM: f64 = 0.5;

/// The song's length for rates: to the end of the last note. Trailing events after it (an
/// end-of-track minutes later, as in some dev-set files) would dilute every density; the last
/// event counts only for a file without notes.
pub(crate) fn song_length_s(song: &MidiSong) -> f64 {
    if song.notes.is_empty() {
        return song.length_s;
    }
    song.notes
        .iter()
        .map(|n| n.onset_s + n.duration_s)
        .fold(0.0, f64::max)
}

/// Distinct onsets of `notes` (sorted by onset), as `(seconds, beats)`.
pub(crate) fn distinct_onsets<'a>(notes: impl Iterator<Item = &'a NoteEvent>) -> Vec<(f64, f64)> {
    let mut onsets: Vec<(f64, f64)> = Vec::new();
    for note in notes {
        if onsets
            .last()
            .is_none_or(|(s, _)| note.onset_s - s > ONSET_MERGE_S)
        {
            onsets.push((note.onset_s, note.onset_beats));
        }
    }
    onsets
}

/// `tempo_*`: initial, time-weighted mean and spread, extremes, and how often it changes.
pub(crate) fn tempo_features(song: &MidiSong, out: &mut FeatureVector) {
    let changes = song.tempo.changes();
    let length = song_length_s(song);
    let bpm = |micros: u32| 60e6 / f64::from(micros);
    // Each tempo weighted by how long it is in force within the song (changes after the end
    // weigh nothing); a song of zero length gets its initial tempo.
    let weighted: Vec<(f64, f64)> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let end = changes
                .get(i + 1)
                .map_or(length, |next| next.seconds.min(length));
            (bpm(c.micros_per_quarter), (end - c.seconds).max(0.0))
        })
        .collect();
    let initial = bpm(changes[0].micros_per_quarter);
    let (mean_bpm, std_bpm) = if weighted.iter().any(|(_, w)| *w > 0.0) {
        weighted_mean_std(&weighted)
    } else {
        (initial, 0.0)
    };
    let tempos: Vec<f64> = weighted.iter().map(|(b, _)| *b).collect();
    let change_count = tempos
        .windows(2)
        .filter(|w| (w[1] - w[0]).abs() >= TEMPO_CHANGE_MIN_BPM)
        .count() as f64;
    out.push("tempo_initial_bpm", initial);
    out.push("tempo_mean_bpm", mean_bpm);
    out.push("tempo_std_bpm", std_bpm);
    out.push(
        "tempo_min_bpm",
        tempos.iter().copied().fold(initial, f64::min),
    );
    out.push(
        "tempo_max_bpm",
        tempos.iter().copied().fold(initial, f64::max),
    );
    out.push("tempo_changes", change_count);
    out.push(
        "tempo_changes_per_minute",
        ratio(change_count * 60.0, length),
    );
}

/// `rhythm_*`: densities, inter-onset intervals, grid position and syncopation, durations.
pub(crate) fn rhythm_features(song: &MidiSong, out: &mut FeatureVector) {
    let length = song_length_s(song);
    let onsets = distinct_onsets(song.notes.iter());
    let iois: Vec<f64> = onsets.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let ioi_mean = mean(&iois);
    // Successive IOI ratios on a log scale: 0 for a steady pulse, large for mixed values.
    let log_ratios: Vec<f64> = iois
        .windows(2)
        .filter(|w| w[0] > 0.0 && w[1] > 0.0)
        .map(|w| (w[1] / w[0]).log2())
        .collect();
    let beats: Vec<f64> = onsets.iter().map(|(_, b)| *b).collect();
    let pitched_durations: Vec<f64> = song
        .notes
        .iter()
        .filter(|n| !n.is_drum)
        .map(|n| n.duration_s)
        .collect();
    out.push(
        "rhythm_note_density_per_s",
        ratio(song.notes.len() as f64, length),
    );
    out.push(
        "rhythm_onset_density_per_s",
        ratio(onsets.len() as f64, length),
    );
    out.push("rhythm_ioi_mean_s", ioi_mean);
    out.push("rhythm_ioi_std_s", std_dev(&iois));
    out.push("rhythm_ioi_cv", ratio(std_dev(&iois), ioi_mean));
    out.push("rhythm_variability", std_dev(&log_ratios));
    out.push("rhythm_ioi_entropy_bits", ioi_grid_entropy(&beats));
    out.push("rhythm_onbeat_fraction", onbeat_fraction(&beats));
    out.push("rhythm_syncopation", syncopation(&song.notes));
    out.push("rhythm_duration_mean_s", mean(&pitched_durations));
    out.push("rhythm_duration_std_s", std_dev(&pitched_durations));
    let staccato = pitched_durations.iter().filter(|d| **d < 0.1).count() as f64;
    out.push(
        "rhythm_staccato_fraction",
        ratio(staccato, pitched_durations.len() as f64),
    );
}

/// Distance in beats to the nearest whole beat.
fn beat_offset(beat: f64) -> f64 {
    (beat - beat.round()).abs()
}

/// Share of onsets on a quarter-note beat.
fn onbeat_fraction(beats: &[f64]) -> f64 {
    let on = beats
        .iter()
        .filter(|b| beat_offset(**b) <= GRID_TOLERANCE_BEATS)
        .count();
    ratio(on as f64, beats.len() as f64)
}

/// Share of pitched notes that start off the beat and are held across the next beat: the
/// accent moves to the weak position, the classic syncopation. (Counting off-beat onsets with
/// no onset on the next beat instead reads about 0 for any full arrangement, since drums or
/// accompaniment nearly always mark the beat.)
fn syncopation(notes: &[NoteEvent]) -> f64 {
    let pitched = notes.iter().filter(|n| !n.is_drum);
    let (mut syncopated, mut count) = (0usize, 0usize);
    for n in pitched {
        count += 1;
        let next_beat = n.onset_beats.ceil();
        if beat_offset(n.onset_beats) > GRID_TOLERANCE_BEATS
            && n.onset_beats + n.duration_beats > next_beat + GRID_TOLERANCE_BEATS
        {
            syncopated += 1;
        }
    }
    ratio(syncopated as f64, count as f64)
}

/// Entropy of the inter-onset intervals quantized to a twelfth of a beat.
fn ioi_grid_entropy(beats: &[f64]) -> f64 {
    let mut counts: std::collections::BTreeMap<i64, f64> = std::collections::BTreeMap::new();
    for w in beats.windows(2) {
        let cell = ((w[1] - w[0]) * IOI_GRID_PER_BEAT).round() as i64;
        *counts.entry(cell).or_default() += 1.0;
    }
    entropy_bits(&counts.into_values().collect::<Vec<_>>())
}
