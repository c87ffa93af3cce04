//! Parity of the native audio features with librosa 0.11, on synthetic signals regenerated here
//! with the formulas of `scripts/parity/audio_reference.py` (which wrote the fixtures).
//!
//! Tolerances: mel dB and MFCC max abs error < 1e-3 of the signal's dynamic range; chroma
//! correlation > 0.99; scalar frame features within 1e-3 relative (rolloff: one bin); tempo
//! within 2 % of librosa and of the true click rate; key correct on the triad and the scale.
//! Spectral contrast and bandwidth are only compared where they do not measure FFT round-off.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use mer::features::audio::descriptors;
use mer::features::audio::spectral::{Chromagram, Frames, MelFilterbank};
use mer::features::audio::{frame_features, mean_chroma};
use mer::spec::SpectralSettings;
use serde_json::Value;

const SR: f64 = 22050.0;
const HOP: usize = 512;

fn tone(freqs: &[f64], seconds: f64, amp: f64) -> Vec<f64> {
    let n = (SR * seconds) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / SR;
            freqs.iter().map(|f| amp * (2.0 * PI * f * t).sin()).sum()
        })
        .collect()
}

fn midi_hz(m: i32) -> f64 {
    440.0 * 2f64.powf(f64::from(m - 69) / 12.0)
}

fn click_track(lag_frames: usize, seconds: f64) -> Vec<f64> {
    let n = (SR * seconds) as usize;
    let mut y = vec![0.0; n];
    let period = lag_frames * HOP;
    let len = (0.01 * SR) as usize;
    let mut start = 0;
    while start < n - len {
        for k in 0..len {
            let kf = k as f64;
            y[start + k] += 0.9 * (-kf / 40.0).exp() * (2.0 * PI * 1000.0 * kf / SR).sin();
        }
        start += period;
    }
    y
}

fn lcg_noise(n: usize) -> Vec<f64> {
    let mut state: u64 = 12345;
    (0..n)
        .map(|_| {
            state = (state * 1664525 + 1013904223) % (1 << 32);
            state as f64 / (1u64 << 32) as f64 - 0.5
        })
        .collect()
}

fn signal(name: &str) -> Vec<f32> {
    let y = match name {
        "sine" => tone(&[440.0], 3.0, 0.5),
        "chirp" => {
            let (secs, f0, f1) = (3.0, 100.0, 8000.0);
            (0..(SR * secs) as usize)
                .map(|i| {
                    let t = i as f64 / SR;
                    0.5 * (2.0 * PI * (f0 * t + (f1 - f0) * t * t / (2.0 * secs))).sin()
                })
                .collect()
        }
        "clicks_lag20" => click_track(20, 12.0),
        "clicks_lag27" => click_track(27, 12.0),
        "c_major_triad" => tone(&[48, 60, 64, 67].map(midi_hz), 3.0, 0.2),
        "a_minor_scale" => [57, 59, 60, 62, 64, 65, 67, 69, 57, 64, 57]
            .iter()
            .flat_map(|&m| tone(&[midi_hz(m)], 0.4, 0.4))
            .collect(),
        "noise" => lcg_noise((SR * 3.0) as usize),
        other => panic!("unknown signal {other}"),
    };
    y.into_iter().map(|v| v as f32).collect()
}

const SIGNALS: [&str; 7] = [
    "sine",
    "chirp",
    "clicks_lag20",
    "clicks_lag27",
    "c_major_triad",
    "a_minor_scale",
    "noise",
];

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/audio/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// Selected frames of a fixture matrix: frame index -> values.
fn picked(v: &Value) -> BTreeMap<usize, Vec<f32>> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), floats(v)))
        .collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len() as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    ab / (aa * bb).sqrt()
}

fn check_frames(name: &str, what: &str, ours: &Frames, reference: &Value, tol: f32) {
    for (t, want) in picked(reference) {
        let err = max_abs_diff(ours.frame(t), &want);
        assert!(
            err <= tol,
            "{name}: {what} frame {t}: max abs error {err} > {tol}"
        );
    }
}

fn check_series(name: &str, what: &str, ours: &[f32], want: &[f32], rel: f32, abs: f32) {
    assert_eq!(ours.len(), want.len(), "{name}: {what} length");
    for (t, (a, b)) in ours.iter().zip(want).enumerate() {
        let tol = abs + rel * b.abs();
        assert!(
            (a - b).abs() <= tol,
            "{name}: {what}[{t}] = {a}, librosa {b}"
        );
    }
}

#[test]
fn mel_filterbank_matches_librosa() {
    let fb = MelFilterbank::new(SR, 2048, 128, 0.0, SR / 2.0).dense();
    let refs = fixture("filters");
    for (row, want) in picked(&refs["mel_rows"]) {
        let ours = &fb[row * 1025..(row + 1) * 1025];
        let scale = want.iter().fold(0.0f32, |m, v| m.max(*v));
        let err = max_abs_diff(ours, &want);
        assert!(err <= 1e-5 * scale, "mel row {row}: {err} (peak {scale})");
    }
}

#[test]
fn chroma_filterbank_matches_librosa() {
    let chroma = Chromagram::new(SR, 2048);
    let fb = chroma.filters();
    for (bin, want) in picked(&fixture("filters")["chroma_cols"]) {
        let ours: Vec<f32> = (0..12).map(|c| fb[c * 1025 + bin]).collect();
        let err = max_abs_diff(&ours, &want);
        assert!(err <= 1e-5, "chroma column {bin}: {err}");
    }
}

#[test]
fn frame_features_match_librosa() {
    let section = SpectralSettings::default();
    for name in SIGNALS {
        let r = fixture(name);
        let y = signal(name);
        let f = frame_features(&y, &section);
        assert_eq!(
            f.mfcc.n_frames as u64,
            r["n_frames"].as_u64().unwrap(),
            "{name}"
        );
        let mel_tol = 1e-3 * r["mel_db_range"].as_f64().unwrap() as f32;
        check_frames(name, "mel_db", &f.mel_db, &r["mel_db"], mel_tol);
        let mfcc_tol = 1e-3 * r["mfcc_range"].as_f64().unwrap() as f32;
        check_frames(name, "mfcc", &f.mfcc, &r["mfcc"], mfcc_tol);
        check_frames(
            name,
            "mfcc_delta",
            &f.mfcc_delta,
            &r["mfcc_delta"],
            mfcc_tol,
        );
        // Contrast in a band with no signal compares FFT round-off (~1e-7 of the peak) in dB, so
        // it is checked on noise (every band has energy) and on the sine's own band (400-800 Hz).
        if name == "noise" {
            check_frames(name, "contrast", &f.contrast, &r["contrast"], 0.05);
        }
        if name == "sine" {
            for (t, want) in picked(&r["contrast"]) {
                let err = (f.contrast.frame(t)[2] - want[2]).abs();
                assert!(err < 0.05, "sine: contrast band 2 frame {t}: {err}");
            }
        }
        for (t, want) in picked(&r["chroma"]) {
            let ours = f.chroma.frame(t);
            let c = correlation(ours, &want);
            // A flat (noise) chroma has no shape to correlate; compare values then.
            let ok = c > 0.99 || max_abs_diff(ours, &want) < 1e-3;
            assert!(ok, "{name}: chroma frame {t}: correlation {c}");
        }
        let c = correlation(&mean_chroma(&f.chroma), &floats(&r["chroma_mean"]));
        assert!(
            c > 0.99 || name == "noise",
            "{name}: mean chroma correlation {c}"
        );
        check_series(
            name,
            "centroid",
            &f.shape.centroid,
            &floats(&r["centroid"]),
            1e-3,
            0.5,
        );
        // A pure tone's bandwidth (~12 Hz) is dominated by the FFT round-off floor weighted by
        // (f - centroid)^2, which differs between pocketfft and rustfft: 3 Hz absolute slack.
        check_series(
            name,
            "bandwidth",
            &f.shape.bandwidth,
            &floats(&r["bandwidth"]),
            1e-3,
            3.0,
        );
        // Rolloff is a bin frequency: allow one bin where the 85 % point sits on a boundary.
        check_series(
            name,
            "rolloff",
            &f.shape.rolloff,
            &floats(&r["rolloff"]),
            0.0,
            10.8,
        );
        check_series(
            name,
            "flatness",
            &f.shape.flatness,
            &floats(&r["flatness"]),
            1e-2,
            1e-6,
        );
        check_series(name, "zcr", &f.zcr, &floats(&r["zcr"]), 0.0, 1e-6);
        check_series(name, "rms", &f.rms, &floats(&r["rms"]), 1e-4, 1e-7);
        check_series(name, "onset", &f.onset, &floats(&r["onset"]), 1e-3, 1e-3);
    }
}

#[test]
fn tempo_matches_librosa_and_the_click_rate() {
    let section = SpectralSettings::default();
    for (name, lag) in [("clicks_lag20", 20.0), ("clicks_lag27", 27.0)] {
        let f = frame_features(&signal(name), &section);
        let tempo = descriptors::tempo(&f.onset, SR, HOP);
        let librosa = fixture(name)["tempo"].as_f64().unwrap() as f32;
        let truth = (60.0 * SR / (HOP as f64 * lag)) as f32;
        for (what, want) in [("librosa", librosa), ("click rate", truth)] {
            let err = (tempo.bpm - want).abs() / want;
            assert!(err < 0.02, "{name}: {} BPM vs {what} {want}", tempo.bpm);
        }
        assert!(
            tempo.pulse_clarity > 0.3,
            "{name}: pulse clarity {}",
            tempo.pulse_clarity
        );
    }
}

#[test]
fn key_is_found_on_triad_and_scale() {
    let section = SpectralSettings::default();
    for (name, tonic, major) in [("c_major_triad", 0, true), ("a_minor_scale", 9, false)] {
        let f = frame_features(&signal(name), &section);
        let key = descriptors::key(&mean_chroma(&f.chroma));
        assert_eq!((key.tonic, key.major), (tonic, major), "{name}: {key:?}");
        assert!(key.strength > 0.5, "{name}: {key:?}");
    }
}
