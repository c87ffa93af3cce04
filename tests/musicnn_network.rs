//! The musicnn network against TensorFlow (`scripts/parity/musicnn_reference.py`): the
//! penultimate layer and tags of both checkpoints on two patches of a generated chirp.
//!
//! The parity test needs musicnn's weights, which are not in the repository: it runs with
//! `mer models fetch musicnn && cargo test --test musicnn_network -- --ignored` (the models
//! folder is `MER_MODELS` or `models/`). CI does not fetch models yet (issue 17).

mod musicnn_support;
mod util;

use std::path::PathBuf;

use mer::features::audio::musicnn::network::Musicnn;
use mer::features::audio::musicnn::{log_mel, patch_frames, patches};
use mer::models::checkpoint::read_checkpoint;
use musicnn_support::chirp;
use util::{fixture_json, models_root};

fn musicnn_folder() -> PathBuf {
    models_root("musicnn-0.1.0").join("musicnn-0.1.0")
}

#[test]
#[ignore = "needs `mer models fetch musicnn`"]
fn penultimate_and_tags_match_tensorflow() {
    let reference = fixture_json("musicnn_reference.json");
    let rows = log_mel(&chirp(7));
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
