//! The musicnn network against TensorFlow (`scripts/parity/musicnn_reference.py`): the
//! penultimate layer and tags of both checkpoints on two patches of a generated chirp.
//!
//! The parity test needs musicnn's weights, which are not in the repository: it runs with
//! `mer models fetch musicnn && cargo test --test musicnn_network -- --ignored` (the models
//! folder is `MER_MODELS` or `models/`). CI does not fetch models yet (issue 17).

use std::path::PathBuf;

use mer::features::audio::musicnn::network::Musicnn;
use mer::features::audio::musicnn::{SAMPLE_RATE, log_mel, patch_frames, patches};
use mer::models::checkpoint::read_checkpoint;

/// The models folder with musicnn installed (`MER_MODELS`, default `models/`).
fn musicnn_folder() -> PathBuf {
    let root = std::env::var_os("MER_MODELS").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models")),
        PathBuf::from,
    );
    let folder = root.join("musicnn-0.1.0");
    assert!(
        folder.join("installed.json").is_file(),
        "musicnn is not installed in {}: run `mer models fetch musicnn` (or set MER_MODELS)",
        root.display()
    );
    folder
}

fn signal(seconds: usize) -> Vec<f32> {
    let sr = f64::from(SAMPLE_RATE);
    let (f0, f1, d) = (220.0f64, 1760.0f64, 4.0f64);
    let k = (f1 / f0).ln();
    (0..seconds * SAMPLE_RATE as usize)
        .map(|i| {
            let t = i as f64 / sr;
            let phase = 2.0 * std::f64::consts::PI * f0 * d / k * ((t / d * k).exp() - 1.0);
            let tone = (2.0 * std::f64::consts::PI * 3000.0 * t).sin();
            (0.8 * phase.sin() + 0.2 * tone) as f32
        })
        .collect()
}

#[test]
#[ignore = "needs `mer models fetch musicnn`"]
fn penultimate_and_tags_match_tensorflow() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/musicnn_reference.json"
    );
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rows = log_mel(&signal(7));
    let frames = patch_frames(3.0);
    let cut = patches(&rows, frames, frames);
    assert_eq!(cut.len(), 2);
    for model in ["MSD_musicnn", "MTT_musicnn"] {
        let weights = read_checkpoint(&musicnn_folder().join(format!("{model}/"))).unwrap();
        let network = Musicnn::new(&weights).unwrap();
        for (p, patch) in cut.iter().enumerate() {
            let out = network.forward(patch);
            for (layer, ours) in [("penultimate", &out.penultimate), ("taggram", &out.tags)] {
                let want = &reference[model][layer][p];
                let worst = (ours.iter().enumerate())
                    .map(|(i, v)| (v - want[i].as_f64().unwrap() as f32).abs())
                    .fold(0.0f32, f32::max);
                println!("{model} patch {p} {layer}: max abs difference {worst:e}");
                assert!(worst < 1e-3, "{model} patch {p} {layer}: {worst}");
            }
        }
    }
}

#[test]
fn weights_of_another_network_are_an_error_naming_the_variable() {
    let mut weights = std::collections::BTreeMap::new();
    let err = Musicnn::new(&weights).err().unwrap().to_string();
    assert_eq!(
        err,
        "musicnn checkpoint: variable `batch_normalization/gamma` is missing"
    );
    for part in ["gamma", "beta", "moving_mean", "moving_variance"] {
        let tensor = mer::models::checkpoint::Tensor {
            shape: vec![1],
            values: vec![1.0],
        };
        weights.insert(format!("batch_normalization/{part}"), tensor);
    }
    let kernel = mer::models::checkpoint::Tensor {
        shape: vec![7, 40, 1, 204],
        values: vec![0.0; 7 * 40 * 204],
    };
    weights.insert("conv2d/kernel".into(), kernel);
    let err = Musicnn::new(&weights).err().unwrap().to_string();
    assert_eq!(
        err,
        "musicnn checkpoint: variable `conv2d/kernel` has shape [7, 40, 1, 204], expected [7, 38, 1, 204]"
    );
}
