//! The musicnn input against librosa (`scripts/parity/musicnn_input.py`): the log-mel
//! spectrogram of a generated loud chirp, frame by frame, and the 3 s patch length.

use mer::features::audio::musicnn::{N_MELS, SAMPLE_RATE, log_mel, patch_frames, patches};

/// The script's signal: 4 s of a 220 -> 1760 Hz exponential chirp plus a 3 kHz tone.
fn signal() -> Vec<f32> {
    let sr = f64::from(SAMPLE_RATE);
    let (f0, f1, d) = (220.0f64, 1760.0f64, 4.0f64);
    let k = (f1 / f0).ln();
    (0..4 * SAMPLE_RATE as usize)
        .map(|i| {
            let t = i as f64 / sr;
            let phase = 2.0 * std::f64::consts::PI * f0 * d / k * ((t / d * k).exp() - 1.0);
            let tone = (2.0 * std::f64::consts::PI * 3000.0 * t).sin();
            (0.8 * phase.sin() + 0.2 * tone) as f32
        })
        .collect()
}

fn reference() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/musicnn_input.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    let list = value.as_array().unwrap();
    list.iter().map(|v| v.as_f64().unwrap() as f32).collect()
}

#[test]
fn log_mel_patches_match_librosa_with_float32_scaling() {
    let expected = reference();
    let rows = log_mel(&signal());
    assert_eq!(rows.len(), expected["frames"].as_u64().unwrap() as usize);
    let frames = patch_frames(3.0);
    assert_eq!(frames, expected["patch_frames"].as_u64().unwrap() as usize);
    // Loud enough that musicnn's float16 cast would overflow; float32 keeps every value finite.
    assert!(expected["float16_would_overflow"].as_bool().unwrap());
    assert!(rows.iter().flatten().all(|v| v.is_finite()));

    for (t, (row, sum)) in rows.iter().zip(floats(&expected["frame_sums"])).enumerate() {
        let ours: f32 = row.iter().sum();
        assert!(
            (ours - sum).abs() <= 1e-5 * sum.abs().max(1.0),
            "frame {t}: {ours} vs {sum}"
        );
    }
    let patch = patches(&rows, frames, frames)[0];
    for (m, want) in floats(&expected["patch_row_40"]).into_iter().enumerate() {
        assert!((patch[40][m] - want).abs() < 1e-4, "row 40, mel {m}");
    }
    for (t, want) in floats(&expected["patch_column_10"]).into_iter().enumerate() {
        assert!((patch[t][10] - want).abs() < 1e-4, "frame {t}, mel 10");
    }
    assert_eq!(patch[0].len(), N_MELS);
}
