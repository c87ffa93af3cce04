//! `extractor = "minilm"`: its spec, a missing model failing before any work, and (with
//! `mer models fetch minilm`, under `--ignored`) token ids identical to the `tokenizers`
//! library's and song vectors at cosine >= 0.9999 to sentence-transformers' on generated
//! lyrics (`scripts/parity/minilm_reference.py`).

mod util;

use mer::features::SongExtractor;
use mer::features::lyrics::MinilmSettings;
use mer::features::lyrics::minilm::MiniLm;
use mer::models::ModelStore;
use util::{TestDir, fixture_json, models_root, output, run_without_models};

const SPEC: &str = r#"
[dataset]
layout = "mirex-like"
root = "data"

[modalities.lyrics]
extractor = "minilm"

[split]
test_fraction = 0.25
folds = 2

[schedule]
epochs = 2
"#;

#[test]
fn a_run_without_the_model_fails_before_any_work_naming_the_fetch_command() {
    let stderr = run_without_models(SPEC);
    assert!(
        stderr.contains("modalities.lyrics.model: model `minilm` is not installed")
            && stderr.contains("mer models fetch minilm"),
        "{stderr}"
    );
}

#[test]
fn the_section_has_its_defaults_and_checks_its_keys() {
    let dir = TestDir::new();
    let validate_with = |keys: &str| {
        let spec = SPEC.replace(
            "extractor = \"minilm\"",
            &format!("extractor = \"minilm\"\n{keys}"),
        );
        dir.write("exp.toml", spec);
        let (ok, _, stderr) = output(dir.mer().args(["validate", "exp.toml"]));
        assert!(!ok, "{keys} is refused");
        stderr
    };
    let stderr = validate_with("max_bytes = 0");
    assert!(
        stderr.contains("key `modalities.lyrics.max_bytes`: expected a positive integer"),
        "{stderr}"
    );
    let stderr = validate_with("hash_dims = 8");
    assert!(
        stderr.contains("a key of extractor = \"hashed-bow\""),
        "{stderr}"
    );
    assert_eq!(MinilmSettings::default().feature_names().len(), 384);
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * y).sum();
    let norm_a = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let norm_b = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    dot / (norm_a * norm_b)
}

#[test]
#[ignore = "needs `mer models fetch minilm`"]
fn ids_and_vectors_match_sentence_transformers() {
    ModelStore::set_current(models_root("minilm-0.1.0"));
    let model = MiniLm::shared().unwrap();
    let reference = fixture_json("minilm_reference.json");
    let dir = TestDir::new();
    for (name, song) in reference.as_object().unwrap() {
        let text = song["text"].as_str().unwrap();
        let want_ids: Vec<Vec<u32>> = serde_json::from_value(song["group_ids"].clone()).unwrap();
        assert_eq!(model.group_ids(text).unwrap(), want_ids, "{name}");
        // Through a file, saved with Windows line endings: the same text, the same vector.
        let path = dir.write(&format!("{name}.txt"), text.replace('\n', "\r\n"));
        let ours = MinilmSettings::default().extract(&path).unwrap();
        let want: Vec<f64> = serde_json::from_value(song["embedding"].clone()).unwrap();
        assert_eq!(ours.len(), 384);
        if want.iter().all(|v| *v == 0.0) {
            assert!(
                ours.iter().all(|v| *v == 0.0),
                "{name}: lyrics without words give zeros"
            );
            continue;
        }
        let similarity = cosine(&ours, &want);
        let worst = (ours.iter().zip(&want))
            .map(|(a, b)| (f64::from(*a) - b).abs())
            .fold(0.0, f64::max);
        println!("{name}: cosine {similarity:.8}, max abs difference {worst:e}");
        assert!(similarity >= 0.9999, "{name}: cosine {similarity}");
    }
}

#[test]
#[ignore = "needs `mer models fetch minilm`"]
fn damaged_weights_are_an_error_naming_the_file_and_the_fix() {
    let dir = TestDir::new();
    dir.write_demo(20, 2, 7);
    dir.write("exp.toml", SPEC);
    let installed = models_root("minilm-0.1.0").join("minilm-0.1.0");
    for entry in std::fs::read_dir(&installed).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let name = entry.file_name().into_string().unwrap();
            let kept = if name == "model.safetensors" {
                &bytes[..bytes.len() / 2]
            } else {
                &bytes[..]
            };
            dir.write(&format!("damaged/minilm-0.1.0/{name}"), kept);
        }
    }
    let (ok, _, stderr) = output(dir.mer().args(["run", "exp.toml", "--models", "damaged"]));
    assert!(!ok);
    assert!(
        stderr.contains("minilm-0.1.0/model.safetensors")
            && stderr.contains("the package is damaged: remove")
            && stderr.contains("and run `mer models fetch minilm`"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
