//! End-to-end audio extraction: decoding and resampling, robustness on degenerate signals,
//! errors on corrupt files, and a sample of the real MIREX dev clips.

use std::path::{Path, PathBuf};

mod util;

use util::sine;

use mer::features::audio::{self, AudioError, decode};
use mer::spec::{Pooling, SpectralSettings};

/// Writes 16-bit PCM WAV with `channels` interleaved channels.
fn write_wav(path: &Path, sample_rate: u32, channels: u16, interleaved: &[f32]) {
    std::fs::write(path, util::wav_bytes(sample_rate, channels, interleaved)).unwrap();
}

fn all_poolings() -> SpectralSettings {
    SpectralSettings {
        pooling: vec![
            Pooling::Mean,
            Pooling::Std,
            Pooling::Percentiles,
            Pooling::Skew,
            Pooling::Kurtosis,
        ],
        ..SpectralSettings::default()
    }
}

#[test]
fn resampling_keeps_a_sines_frequency_and_amplitude() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sine.wav");
    let mono = sine(1000.0, 44_100, 2.0, 0.5);
    let stereo: Vec<f32> = mono.iter().flat_map(|&v| [v, v]).collect();
    write_wav(&path, 44_100, 2, &stereo);
    let out = decode::load(&path, 22_050, 0.0, None).unwrap();
    assert_eq!(out.sample_rate, 22_050);
    assert!(
        (out.samples.len() as i64 - 44_100).abs() <= 1,
        "{}",
        out.samples.len()
    );
    // Away from the edges: amplitude from the RMS, frequency from positive-going crossings.
    let mid = &out.samples[2_000..out.samples.len() - 2_000];
    let rms = (mid.iter().map(|v| v * v).sum::<f32>() / mid.len() as f32).sqrt();
    let amp = rms * 2f32.sqrt();
    assert!((amp - 0.5).abs() < 0.005, "amplitude {amp}");
    let ups = mid.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
    let freq = ups as f64 * 22_050.0 / mid.len() as f64;
    assert!((freq - 1000.0).abs() < 2.0, "frequency {freq}");
}

#[test]
fn offset_and_duration_cut_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    write_wav(&path, 22_050, 1, &sine(440.0, 22_050, 3.0, 0.3));
    let out = decode::load(&path, 22_050, 1.0, Some(0.5)).unwrap();
    assert_eq!(out.samples.len(), 11_025);
    let err = decode::load(&path, 22_050, 10.0, None).unwrap_err();
    assert!(matches!(err, AudioError::Empty { .. }), "{err}");
}

#[test]
fn degenerate_signals_give_finite_vectors() {
    let section = all_poolings();
    let n = audio::feature_names(&section).len();
    let sr = 22_050;
    let cases: Vec<(&str, Vec<f32>)> = vec![
        ("silence", vec![0.0; sr * 2]),
        (
            "clipping",
            sine(220.0, 22_050, 2.0, 4.0)
                .iter()
                .map(|v| v.clamp(-1.0, 1.0))
                .collect(),
        ),
        ("dc offset", vec![0.5; sr * 2]),
        ("half second", sine(440.0, 22_050, 0.5, 0.3)),
        ("one sample", vec![0.1]),
    ];
    for (name, y) in cases {
        let v = audio::extract_samples(&y, &section);
        assert_eq!(v.len(), n, "{name}");
        assert!(v.iter().all(|x| x.is_finite()), "{name}: {v:?}");
    }
}

#[test]
fn a_half_second_file_extracts_and_a_shorter_one_is_too_short() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.wav");
    write_wav(&path, 44_100, 1, &sine(440.0, 44_100, 0.5, 0.3));
    let section = SpectralSettings::default();
    let v = audio::extract(&path, &section).unwrap();
    assert_eq!(v.len(), audio::feature_names(&section).len());
    assert!(v.iter().all(|x| x.is_finite()));
    // Under the default min_seconds (0.5), and whole: too short, but not truncated.
    let shorter = dir.path().join("shorter.wav");
    write_wav(&shorter, 44_100, 1, &sine(440.0, 44_100, 0.4, 0.3));
    let err = audio::extract(&shorter, &section).unwrap_err();
    assert!(
        matches!(
            err,
            AudioError::TooShort {
                declared_seconds: None,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn corrupt_and_missing_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.mp3");
    let mut state: u32 = 7;
    let bytes: Vec<u8> = (0..50_000)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let err = audio::extract(&path, &SpectralSettings::default()).unwrap_err();
    assert!(err.to_string().contains("corrupt.mp3"), "{err}");
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    assert!(audio::extract(&empty, &SpectralSettings::default()).is_err());
    let missing = dir.path().join("missing.flac");
    let err = audio::extract(&missing, &SpectralSettings::default()).unwrap_err();
    assert!(matches!(err, AudioError::Open { .. }), "{err}");
}

#[test]
fn names_are_unique_and_readable() {
    let names = audio::feature_names(&all_poolings());
    let set: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(set.len(), names.len());
    for want in [
        "mfcc.3.mean",
        "chroma.C#.std",
        "mfcc_delta.0.p90",
        "tempo.bpm",
        "key.strength",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing");
    }
}

/// The dev set folder: `MER_MIREX_DEV`, else `../shared/datasets/mirex-dev`.
fn mirex_dev() -> PathBuf {
    let dir = std::env::var_os("MER_MIREX_DEV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/mirex-dev")
        });
    assert!(
        dir.join("Audio").is_dir(),
        "MIREX dev set not found at {}: set MER_MIREX_DEV to the folder holding Audio/",
        dir.display()
    );
    dir
}

/// Every dev clip extracts to a finite vector with a plausible tempo (in parallel, as the
/// pipeline runs it: about 4 s for the 200 clips in the test profile on 2 cores).
#[test]
fn mirex_dev_clips_all_give_finite_vectors() {
    use rayon::prelude::*;
    let mut clips: Vec<PathBuf> = std::fs::read_dir(mirex_dev().join("Audio"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mp3"))
        .collect();
    clips.sort();
    assert!(clips.len() >= 200, "only {} clips", clips.len());
    let section = SpectralSettings::default();
    let n = audio::feature_names(&section).len();
    clips.par_iter().for_each(|clip| {
        let v = audio::extract(clip, &section).unwrap();
        assert_eq!(v.len(), n, "{}", clip.display());
        assert!(v.iter().all(|x| x.is_finite()), "{}", clip.display());
        let bpm = v[n - 7];
        assert!(
            (30.0..320.0).contains(&bpm),
            "{}: {bpm} BPM",
            clip.display()
        );
    });
}
