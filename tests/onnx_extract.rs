//! `extractor = "onnx"`: tiny models from `scripts/parity/onnx_models.py` run as onnxruntime
//! runs them, the whole extractor (waveform and log-mel inputs, patches, pooling) against the
//! script's librosa + onnxruntime numbers, spec errors that name the key, and the model file's
//! content in the stage key.

mod util;

use std::path::PathBuf;

use mer::features::SongExtractor;
use mer::features::audio::Pooling;
use mer::features::audio::onnx::{OnnxInput, OnnxNetwork, OnnxSettings};
use mer::spec::{AudioSettings, load_spec};
use util::{TestDir, fixture_json, output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/onnx")).join(name)
}

fn waveform_settings(output: &str) -> OnnxSettings {
    OnnxSettings {
        model: fixture("waveform.onnx"),
        input: OnnxInput::Waveform,
        patch_seconds: Some(0.5),
        patch_hop: Some(0.25),
        output: Some(output.to_string()),
        pooling: vec![Pooling::Mean, Pooling::Std],
        ..OnnxSettings::default()
    }
}

fn mel_settings() -> OnnxSettings {
    OnnxSettings {
        model: fixture("mel.onnx"),
        n_mels: 40,
        pooling: vec![Pooling::Mean, Pooling::Std],
        ..OnnxSettings::default()
    }
}

fn max_difference(ours: &[f32], reference: &serde_json::Value) -> f64 {
    let want: Vec<f64> = (reference.as_array().unwrap().iter())
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(ours.len(), want.len());
    (ours.iter().zip(&want))
        .map(|(a, b)| (f64::from(*a) - b).abs())
        .fold(0.0, f64::max)
}

#[test]
fn the_models_give_onnxruntimes_outputs() {
    let reference = fixture_json("onnx/reference.json");
    let waveform = OnnxNetwork::load(&OnnxSettings {
        patch_seconds: Some(1000.0 / 16_000.0),
        ..waveform_settings("logits")
    })
    .unwrap();
    assert_eq!((waveform.patch_steps, waveform.output_len), (1000, 3));
    let probe: Vec<f32> = (0..1000)
        .map(|i| (f64::from(i) * 0.01).sin() as f32)
        .collect();
    let worst = max_difference(
        &waveform.run(&probe).unwrap(),
        &reference["probe_waveform_logits"],
    );
    assert!(worst < 1e-5, "waveform model: {worst}");

    let mel = OnnxNetwork::load(&mel_settings()).unwrap();
    assert_eq!(
        (mel.patch_steps, mel.output.as_str(), mel.output_len),
        (32, "embedding", 5)
    );
    let probe: Vec<f32> = (0..32 * 40)
        .map(|i| (f64::from(i) * 0.003).cos() as f32)
        .collect();
    let worst = max_difference(&mel.run(&probe).unwrap(), &reference["probe_mel_embedding"]);
    assert!(worst < 1e-5, "mel model: {worst}");
}

#[test]
fn the_extractor_gives_librosa_and_onnxruntimes_pooled_outputs() {
    let reference = fixture_json("onnx/reference.json");
    let clip = fixture("clip.wav");
    for (settings, key) in [
        (
            waveform_settings("embedding"),
            "waveform_embedding_mean_std",
        ),
        (waveform_settings("logits"), "waveform_logits_mean_std"),
        (mel_settings(), "mel_embedding_mean_std"),
    ] {
        let ours = settings.extract(&clip).unwrap();
        assert_eq!(ours.len(), settings.feature_names().len());
        let worst = max_difference(&ours, &reference[key]);
        println!("{key}: max abs difference {worst:e}");
        assert!(worst < 1e-4, "{key}: {worst}");
    }
    let names = waveform_settings("logits").feature_names();
    assert_eq!(
        names[..3],
        ["logits.0.mean", "logits.0.std", "logits.1.mean"]
    );
}

#[test]
fn a_clip_shorter_than_a_patch_is_padded_or_skipped() {
    let dir = TestDir::new();
    let short = dir.write(
        "short.wav",
        util::wav_bytes(16_000, 1, &util::sine(440.0, 16_000, 0.6, 0.5)),
    );
    let settings = OnnxSettings {
        patch_seconds: Some(1.0),
        patch_hop: None,
        ..waveform_settings("embedding")
    };
    assert_eq!(settings.extract(&short).unwrap().len(), 12);
    let skip = OnnxSettings {
        short_clips: mer::features::audio::ShortClips::Skip,
        ..settings
    };
    let err = skip.extract(&short).unwrap_err().to_string();
    assert!(
        err.contains("shorter than one 1 s patch") && err.contains("short_clips"),
        "{err}"
    );
}

const SPEC: &str = r#"
[dataset]
layout = "mirex-like"
root = "data"

[modalities.audio]
extractor = "onnx"
model = "mel.onnx"

[split]
test_fraction = 0.25
folds = 2

[schedule]
epochs = 2
"#;

/// The spec with `keys` added to the audio table, checked, and its model loaded as a run
/// plans it.
fn planned(dir: &TestDir, keys: &str) -> Result<OnnxSettings, String> {
    let text = SPEC.replace("model = \"mel.onnx\"", keys);
    let path = dir.write("exp.toml", text);
    let spec = load_spec(&path, &[]).map_err(|e| e.to_string())?;
    let Some(AudioSettings::Onnx(settings)) =
        spec.modalities.audio.map(|a| a.extractors[0].clone())
    else {
        panic!("not onnx");
    };
    settings.key_files().map_err(|e| e.to_string())?;
    Ok(settings)
}

#[test]
fn a_model_that_does_not_fit_the_spec_is_an_error_naming_the_key() {
    let dir = TestDir::new();
    for name in ["mel.onnx", "waveform.onnx"] {
        std::fs::copy(fixture(name), dir.path(name)).unwrap();
    }
    let mel = "model = \"mel.onnx\"\nn_mels = 40";
    let settings = planned(&dir, mel).unwrap();
    assert_eq!(settings.model, dir.path("mel.onnx"), "relative to the spec");
    assert_eq!(settings.feature_names().len(), 5);

    let cases = [
        (
            "model = \"mel.onnx\"",
            "the model takes 40 mel bands but modalities.audio.n_mels = 96",
        ),
        (
            &format!("{mel}\noutput = \"logits\""),
            "no output named `logits`; the model's outputs are embedding",
        ),
        (
            &format!("{mel}\npatch_seconds = 3.0"),
            "the model takes 32 frames per patch but modalities.audio.patch_seconds = 3 gives 187",
        ),
        (
            &format!("{mel}\nlayout = \"mels_frames\""),
            "the model takes 32 mel bands",
        ),
        (
            "model = \"waveform.onnx\"\ninput = \"waveform\"",
            "input length is not fixed; set modalities.audio.patch_seconds",
        ),
        ("model = \"missing.onnx\"", "missing.onnx"),
        ("", "no model file given; set model = "),
    ];
    for (keys, message) in cases {
        let err = planned(&dir, keys).map(|_| ()).unwrap_err();
        assert!(err.starts_with("model: "), "{keys}: {err}");
        assert!(err.contains(message), "{keys}: {err}");
    }
    let err = planned(&dir, &format!("{mel}\npatch_hop = 0.0\nlog_gain = -1.0")).unwrap_err();
    assert!(
        err.contains("key `modalities.audio.patch_hop`: expected a positive number")
            && err.contains("key `modalities.audio.log_gain`: expected a positive number"),
        "{err}"
    );
}

#[test]
fn a_run_extracts_with_the_model_and_its_content_is_in_the_key() {
    let dir = TestDir::new();
    dir.write_demo(20, 4, 7);
    std::fs::copy(fixture("mel.onnx"), dir.path("mel.onnx")).unwrap();
    let spec = SPEC.replace("model = \"mel.onnx\"", "model = \"mel.onnx\"\nn_mels = 40");
    dir.write("exp.toml", &spec);
    let mer = |command: &str| {
        let (ok, stdout, stderr) = output(dir.mer().args([command, "exp.toml"]));
        assert!(ok, "{stderr}");
        stdout + &stderr
    };
    let extraction = |plan: &str| {
        let line = plan.lines().find(|l| l.starts_with("extract.audio"));
        line.unwrap_or_else(|| panic!("no extract.audio in {plan}"))
            .to_string()
    };
    mer("run");
    assert!(extraction(&mer("plan")).contains(" hit"));
    std::fs::create_dir(dir.path("moved")).unwrap();
    std::fs::rename(dir.path("mel.onnx"), dir.path("moved/mel.onnx")).unwrap();
    dir.write(
        "exp.toml",
        spec.replace("\"mel.onnx\"", "\"moved/mel.onnx\""),
    );
    assert!(
        extraction(&mer("plan")).contains(" hit"),
        "moving the model re-extracts"
    );
    std::fs::copy(fixture("mel_reseeded.onnx"), dir.path("moved/mel.onnx")).unwrap();
    assert!(
        extraction(&mer("plan")).contains(" miss"),
        "other weights, same key"
    );

    let mut damaged = std::fs::read(dir.path("moved/mel.onnx")).unwrap();
    damaged.truncate(damaged.len() / 2);
    std::fs::write(dir.path("moved/mel.onnx"), damaged).unwrap();
    let (ok, _, stderr) = output(dir.mer().args(["run", "exp.toml"]));
    assert!(
        !ok && stderr.contains("modalities.audio.model: ")
            && stderr.contains("moved/mel.onnx: cannot load the ONNX model"),
        "{stderr}"
    );
}
