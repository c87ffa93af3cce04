//! `extractor = "musicnn"`: its spec keys, a missing model failing before any work, and (with
//! `mer models fetch musicnn`, under `--ignored`) the whole extractor against TensorFlow's
//! numbers and the checkpoint's content in the stage key.

mod musicnn_support;
mod util;

use std::path::Path;

use mer::features::SongExtractor;
use mer::features::audio::Pooling;
use mer::features::audio::musicnn::{MusicnnLayer, MusicnnModel, MusicnnSettings, SAMPLE_RATE};
use mer::spec::{AudioSettings, load_spec};
use musicnn_support::chirp;
use util::{TestDir, fixture_json, models_root, output, run_without_models};

const DEMO_SPEC: &str = r#"
[dataset]
layout = "mirex-like"
root = "data"

[modalities.audio]
extractor = "musicnn"

[split]
test_fraction = 0.25
folds = 2

[schedule]
epochs = 2
"#;

fn musicnn_section(dir: &TestDir, keys: &str) -> Result<MusicnnSettings, String> {
    let text = DEMO_SPEC.replace(
        "extractor = \"musicnn\"",
        &format!("extractor = \"musicnn\"\n{keys}"),
    );
    let path = dir.write("exp.toml", text);
    let spec = load_spec(&path, &[]).map_err(|e| e.to_string())?;
    match spec.modalities.audio.map(|a| a.extractors[0].clone()) {
        Some(AudioSettings::Musicnn(settings)) => Ok(settings),
        other => panic!("not musicnn: {other:?}"),
    }
}

#[test]
fn the_section_reads_its_keys_and_names_bad_values() {
    let dir = TestDir::new();
    let defaults = musicnn_section(&dir, "").unwrap();
    assert_eq!(defaults, MusicnnSettings::default());
    assert_eq!(defaults.feature_names().len(), 200);
    let chosen = musicnn_section(
        &dir,
        "model = \"mtt\"\nlayers = [\"tags\", \"max_pool\"]\npooling = [\"mean\", \"std\"]\npatch_hop = 1.5",
    )
    .unwrap();
    assert_eq!(chosen.model, MusicnnModel::Mtt);
    assert_eq!(chosen.layers, [MusicnnLayer::Tags, MusicnnLayer::MaxPool]);
    assert_eq!(chosen.pooling, [Pooling::Mean, Pooling::Std]);
    let names = chosen.feature_names();
    assert_eq!(names.len(), (50 + 753) * 2);
    assert_eq!(names[..2], ["tag.guitar.mean", "tag.guitar.std"]);

    let err = musicnn_section(&dir, "layers = []\npatch_hop = 0.0").unwrap_err();
    assert!(
        err.contains("key `modalities.audio.layers`: expected at least one layer"),
        "{err}"
    );
    assert!(
        err.contains("key `modalities.audio.patch_hop`: expected a positive number"),
        "{err}"
    );
    let err = musicnn_section(&dir, "layers = [\"softmax\"]").unwrap_err();
    assert!(
        err.contains("modalities.audio.layers") && err.contains("softmax"),
        "{err}"
    );
    let err = musicnn_section(&dir, "n_mels = 64").unwrap_err();
    assert!(err.contains("a key of extractor = \"spectral\""), "{err}");
}

#[test]
fn a_run_without_the_model_fails_before_any_work_naming_the_fetch_command() {
    let stderr = run_without_models(DEMO_SPEC);
    assert!(
        stderr.contains("modalities.audio.model: model `musicnn` is not installed")
            && stderr.contains("mer models fetch musicnn"),
        "{stderr}"
    );
}

/// Writes the generated chirp as a float WAV at 16 kHz, so no resampling or quantizing
/// stands between it and the reference numbers.
fn write_chirp(path: &Path, seconds: usize) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for s in chirp(seconds) {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
}

#[test]
#[ignore = "needs `mer models fetch musicnn`"]
fn the_extractor_gives_tensorflows_layers_pooled_over_patches() {
    mer::models::ModelStore::set_current(models_root("musicnn-0.1.0"));
    let dir = TestDir::new();
    let clip = dir.path("chirp.wav");
    write_chirp(&clip, 7);
    let reference = fixture_json("musicnn_reference.json");
    for (model, folder) in [
        (MusicnnModel::Msd, "MSD_musicnn"),
        (MusicnnModel::Mtt, "MTT_musicnn"),
    ] {
        let settings = MusicnnSettings {
            model,
            layers: vec![MusicnnLayer::Tags, MusicnnLayer::Penultimate],
            pooling: vec![Pooling::Mean, Pooling::Std],
            ..MusicnnSettings::default()
        };
        let ours = settings.extract(&clip).unwrap();
        let mut want = Vec::new();
        for layer in ["taggram", "penultimate"] {
            let patches = reference[folder][layer].as_array().unwrap();
            for unit in 0..patches[0].as_array().unwrap().len() {
                let values: Vec<f64> = patches.iter().map(|p| p[unit].as_f64().unwrap()).collect();
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                let var =
                    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
                want.extend([mean, var.sqrt()]);
            }
        }
        assert_eq!(ours.len(), want.len());
        let worst = ours
            .iter()
            .zip(&want)
            .map(|(a, b)| (f64::from(*a) - b).abs())
            .fold(0.0, f64::max);
        println!(
            "{folder}: max abs difference {worst:e} over {} values",
            ours.len()
        );
        assert!(worst < 1e-3, "{folder}: {worst}");
    }
}

#[test]
#[ignore = "needs `mer models fetch musicnn`"]
fn the_checkpoints_content_is_in_the_key_and_its_folder_is_not() {
    let dir = TestDir::new();
    dir.write_demo(20, 4, 7);
    dir.write("exp.toml", DEMO_SPEC);
    let source = models_root("musicnn-0.1.0").join("musicnn-0.1.0");
    let copy = |to: &str| copy_folder(&source, &dir.path(&format!("{to}/musicnn-0.1.0")));
    copy("first");
    copy("moved");
    let mer = |command: &str, models: &str| {
        let (ok, stdout, stderr) =
            output(dir.mer().args([command, "exp.toml", "--models", models]));
        assert!(ok, "{stderr}");
        stdout + &stderr
    };
    let extraction = |plan: &str| {
        let line = plan.lines().find(|l| l.starts_with("extract.audio"));
        line.unwrap_or_else(|| panic!("no extract.audio in {plan}"))
            .to_string()
    };
    mer("run", "first");
    assert!(extraction(&mer("plan", "first")).contains(" hit"));
    assert!(
        extraction(&mer("plan", "moved")).contains(" hit"),
        "moving the folder re-extracts"
    );
    // The MTT checkpoint under the MSD network's name: other weights, the same shapes.
    copy("swapped");
    let swapped = dir.path("swapped/musicnn-0.1.0");
    for file in [".index", ".data-00000-of-00001"] {
        let mtt = swapped.join("MTT_musicnn").join(file);
        std::fs::copy(mtt, swapped.join("MSD_musicnn").join(file)).unwrap();
    }
    assert!(
        extraction(&mer("plan", "swapped")).contains(" miss"),
        "other weights, same key"
    );
}

fn copy_folder(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
#[ignore = "needs `mer models fetch musicnn`"]
fn a_damaged_checkpoint_is_an_error_naming_the_file_and_the_fix() {
    let dir = TestDir::new();
    dir.write_demo(20, 4, 7);
    dir.write("exp.toml", DEMO_SPEC);
    let damaged = dir.path("damaged/musicnn-0.1.0");
    copy_folder(
        &models_root("musicnn-0.1.0").join("musicnn-0.1.0"),
        &damaged,
    );
    let data = damaged.join("MSD_musicnn/.data-00000-of-00001");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[1000] ^= 0x10;
    std::fs::write(&data, bytes).unwrap();
    let (ok, _, stderr) = output(dir.mer().args(["run", "exp.toml", "--models", "damaged"]));
    assert!(!ok);
    assert!(
        stderr.contains("MSD_musicnn/.data-00000-of-00001")
            && stderr.contains("fails its checksum")
            && stderr.contains("the package is damaged: remove")
            && stderr.contains("damaged/musicnn-0.1.0 and run `mer models fetch musicnn`"),
        "{stderr}"
    );
}
