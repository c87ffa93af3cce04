//! Every supported format decodes to the same samples: one synthetic stereo signal stored as
//! WAV (written here), FLAC, Ogg Vorbis and MP3 (`tests/fixtures/audio/formats/`, written by
//! `scripts/parity/audio_formats.py` with libsndfile), decoded to mono at the native rate and
//! compared with the signal itself and with what `librosa.load` decoded from the same files.

use std::path::{Path, PathBuf};

use mer::features::audio::decode;
use serde_json::Value;

mod util;

const SR: u32 = 44_100;

fn formats_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio/formats")
}

fn reference() -> Value {
    let path = formats_dir().join("formats.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("formats.json")).unwrap()
}

/// The 16-bit stereo signal of the script: per-channel tones under a 3 Hz tremolo.
fn signal_i16() -> Vec<[i16; 2]> {
    let channel = |tones: &[(f64, f64)], t: f64| {
        let tremolo = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
        tremolo
            * tones
                .iter()
                .map(|&(f, a)| a * (2.0 * std::f64::consts::PI * f * t).sin())
                .sum::<f64>()
    };
    (0..SR)
        .map(|i| {
            let t = f64::from(i) / f64::from(SR);
            let l = channel(&[(440.0, 0.4), (1234.0, 0.2)], t);
            let r = channel(&[(660.0, 0.3), (3000.0, 0.1)], t);
            [(l * 32767.0).round() as i16, (r * 32767.0).round() as i16]
        })
        .collect()
}

/// The signal's channel mean as decoders scale 16-bit PCM (`/ 32768`).
fn signal_mono() -> Vec<f32> {
    signal_i16()
        .iter()
        .map(|&[l, r]| (f32::from(l) / 32768.0 + f32::from(r) / 32768.0) / 2.0)
        .collect()
}

fn write_wav(dir: &Path) -> PathBuf {
    let interleaved: Vec<f32> = signal_i16()
        .iter()
        .flat_map(|&[l, r]| [f32::from(l) / 32767.0, f32::from(r) / 32767.0])
        .collect();
    let path = dir.join("signal.wav");
    std::fs::write(&path, util::wav_bytes(SR, 2, &interleaved)).unwrap();
    path
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Signal-to-noise ratio of `decoded` against `truth`, dB.
fn snr_db(truth: &[f32], decoded: &[f32]) -> f64 {
    let signal: f64 = truth.iter().map(|&v| f64::from(v).powi(2)).sum();
    let noise: f64 = truth
        .iter()
        .zip(decoded)
        .map(|(&a, &b)| f64::from(a - b).powi(2))
        .sum();
    10.0 * (signal / noise).log10()
}

fn fixture(name: &str) -> PathBuf {
    formats_dir().join(name)
}

fn decode_all(path: &Path) -> Vec<f32> {
    let out = decode::decode_mono(path, 0.0, None).unwrap();
    assert_eq!(out.sample_rate, SR, "{}", path.display());
    out.samples
}

/// Every 32nd sample of what `librosa.load(sr=None, mono=True)` decoded from `name`.
fn librosa_mono(name: &str) -> (usize, Vec<f32>) {
    let reference = reference();
    assert_eq!(reference["step"], 32);
    let file = &reference["files"][name];
    let samples = file["librosa_mono"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    (file["frames"].as_u64().unwrap() as usize, samples)
}

#[test]
fn every_format_decodes_to_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    let truth = signal_mono();
    let lossless = [write_wav(dir.path()), fixture("signal.flac")];
    for path in &lossless {
        let y = decode_all(path);
        assert_eq!(y.len(), truth.len(), "{}", path.display());
        let err = max_abs_diff(&y, &truth);
        assert!(err <= 1e-6, "{}: max error {err}", path.display());
    }
    // The lossy copies measured 39.5 (Vorbis) and 38.8 dB (MP3). An encoder delay left in the
    // mp3 (LAME's 1105 samples) would change the length, and the shifted signal scores -1 dB.
    for name in ["signal.ogg", "signal.mp3"] {
        let y = decode_all(&fixture(name));
        assert_eq!(
            y.len(),
            truth.len(),
            "{name}: encoder delay or padding left in"
        );
        let snr = snr_db(&truth, &y);
        assert!(snr >= 30.0, "{name}: SNR {snr:.1} dB");
    }
}

#[test]
fn decoding_matches_librosas_loader() {
    for name in ["signal.flac", "signal.ogg", "signal.mp3"] {
        let y = decode_all(&fixture(name));
        let (frames, want) = librosa_mono(name);
        assert_eq!(y.len(), frames, "{name}");
        let ours: Vec<f32> = y.iter().step_by(32).copied().collect();
        // Measured at most 3.2e-7 (the fixture keeps 7 decimals).
        let err = max_abs_diff(&ours, &want);
        assert!(err <= 2e-6, "{name}: max difference from librosa {err}");
    }
}

#[test]
fn an_mp3_window_is_the_same_samples_as_in_the_whole_decode() {
    let whole = decode_all(&fixture("signal.mp3"));
    let window = decode::decode_mono(&fixture("signal.mp3"), 0.25, Some(0.5)).unwrap();
    let start = (0.25 * f64::from(SR)).round() as usize;
    let len = (0.5 * f64::from(SR)).round() as usize;
    assert_eq!(window.samples, whole[start..start + len]);
}

#[test]
fn mp3_extension_is_matched_without_case_and_a_misnamed_file_still_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let upper = dir.path().join("SIGNAL.MP3");
    std::fs::copy(fixture("signal.mp3"), &upper).unwrap();
    assert_eq!(decode_all(&upper), decode_all(&fixture("signal.mp3")));
    // FLAC bytes under an .mp3 name: no MPEG frames, so the content decides the codec.
    let misnamed = dir.path().join("flac.mp3");
    std::fs::copy(fixture("signal.flac"), &misnamed).unwrap();
    assert_eq!(decode_all(&misnamed), decode_all(&fixture("signal.flac")));
}

#[test]
fn a_truncated_mp3_keeps_what_was_decoded_and_an_empty_one_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("signal.mp3")).unwrap();
    let cut = dir.path().join("cut.mp3");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let whole = decode_all(&fixture("signal.mp3"));
    let part = decode_all(&cut);
    assert!(
        part.len() > whole.len() / 3 && part.len() < whole.len(),
        "{} of {} samples",
        part.len(),
        whole.len()
    );
    assert_eq!(
        part,
        whole[..part.len()],
        "the kept part is the start of the stream"
    );
    for name in ["empty.mp3", "tag-only.mp3"] {
        let path = dir.path().join(name);
        let contents: &[u8] = if name == "empty.mp3" {
            b""
        } else {
            b"ID3\x04\x00\x00\x00\x00\x00\x00"
        };
        std::fs::write(&path, contents).unwrap();
        let err = decode::decode_mono(&path, 0.0, None).unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn a_truncated_file_decodes_as_far_as_it_goes_and_keeps_its_declared_length() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = util::wav_bytes(22_050, 1, &util::sine(440.0, 22_050, 2.0, 0.3));
    // The header still declares 2 s; half a second of samples follows it.
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..44 + 2 * 11_025]).unwrap();
    let decoded = decode::decode_window(&cut, 0.0, None).unwrap();
    assert_eq!(decoded.audio.samples.len(), 11_025);
    assert_eq!(decoded.declared_frames, Some(44_100));
    assert_eq!(decoded.declared_seconds(0.0, None), Some(2.0));
    assert!(decoded.looks_truncated(0.0, None));
    assert!(
        !decoded.looks_truncated(0.0, Some(0.5)),
        "a window inside what is there is whole"
    );
    // An mp3 whose Xing/LAME header declares its length: cut, it says so too.
    let mp3 = std::fs::read(fixture("signal.mp3")).unwrap();
    let cut_mp3 = dir.path().join("cut.mp3");
    std::fs::write(&cut_mp3, &mp3[..mp3.len() * 6 / 10]).unwrap();
    let whole = decode::decode_window(&fixture("signal.mp3"), 0.0, None).unwrap();
    let part = decode::decode_window(&cut_mp3, 0.0, None).unwrap();
    assert!(!whole.looks_truncated(0.0, None));
    assert_eq!(part.declared_frames, whole.declared_frames);
    assert!(part.looks_truncated(0.0, None));
}

#[test]
fn an_empty_file_is_named_empty_not_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["empty.wav", "empty.mp3", "empty.flac"] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"").unwrap();
        let err = decode::decode_mono(&path, 0.0, None).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, mer::features::audio::AudioError::EmptyFile { .. }),
            "{message}"
        );
        assert!(
            message.contains(name) && message.contains("is empty (0 bytes)"),
            "{message}"
        );
    }
}
