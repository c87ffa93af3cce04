//! The musicnn input against librosa (`scripts/parity/musicnn_input.py`): the log-mel
//! spectrogram of a generated loud chirp, frame by frame, and the 3 s patch length.

mod musicnn_support;
mod util;

use mer::features::audio::musicnn::{N_MELS, log_mel, patch_frames, patches};
use musicnn_support::chirp;
use util::fixture_json;

fn floats(value: &serde_json::Value) -> Vec<f32> {
    let list = value.as_array().unwrap();
    list.iter().map(|v| v.as_f64().unwrap() as f32).collect()
}

#[test]
fn log_mel_patches_match_librosa_with_float32_scaling() {
    let expected = fixture_json("musicnn_input.json");
    let rows = log_mel(&chirp(4));
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
