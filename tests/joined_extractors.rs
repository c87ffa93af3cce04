//! Several extractors per modality (`extractor = ["spectral", "onnx"]`): each its own cached
//! stage (shared with a run that uses it alone), joined into one matrix with prefixed names;
//! each extractor's keys in its own table, with errors that say where a key belongs.

mod util;

use mer::features::SongExtractor;
use mer::spec::{AudioSection, AudioSettings, load_spec};
use util::{TestDir, output};

const SPEC: &str = r#"
[dataset]
layout = "mirex-like"
root = "data"

[modalities.audio]
extractor = ["spectral", "onnx"]

[modalities.audio.spectral]
n_mels = 64
pooling = ["mean"]

[modalities.audio.onnx]
model = "mel.onnx"
n_mels = 40

[split]
test_fraction = 0.25
folds = 2

[schedule]
epochs = 2
"#;

const SPECTRAL_ALONE: &str = r#"
[dataset]
layout = "mirex-like"
root = "data"

[modalities.audio]
extractor = "spectral"
n_mels = 64
pooling = ["mean"]

[split]
test_fraction = 0.25
folds = 2

[schedule]
epochs = 2
"#;

fn project() -> TestDir {
    let dir = TestDir::new();
    dir.write_demo(20, 4, 7);
    dir.copy_mel_onnx();
    dir
}

/// `mer plan SPEC`'s line for `stage`.
fn planned(dir: &TestDir, spec: &str, stage: &str) -> String {
    let (ok, stdout, stderr) = output(dir.mer().args(["plan", spec]));
    assert!(ok, "{stderr}");
    let plan = stdout + &stderr;
    let line = plan
        .lines()
        .find(|l| l.split_whitespace().next() == Some(stage));
    line.unwrap_or_else(|| panic!("no {stage} in {plan}"))
        .to_string()
}

#[test]
fn each_extractor_is_its_own_stage_shared_with_a_run_that_uses_it_alone() {
    let dir = project();
    dir.write("joined.toml", SPEC);
    dir.write("alone.toml", SPECTRAL_ALONE);
    let (ok, _, stderr) = output(dir.mer().args(["run", "joined.toml"]));
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("extract.audio: 20 songs x ")
            && stderr.contains("extract.audio.onnx: 20 songs x 5 features"),
        "{stderr}"
    );
    for stage in [
        "extract.audio.spectral",
        "extract.audio.onnx",
        "extract.audio",
    ] {
        assert!(
            planned(&dir, "joined.toml", stage).contains(" hit"),
            "{stage}"
        );
    }
    assert!(
        planned(&dir, "alone.toml", "extract.audio").contains(" hit"),
        "spectral alone reuses the joined run's spectral features"
    );

    // Another onnx setting reruns the onnx extraction and the join, not the spectral one.
    dir.write(
        "joined.toml",
        SPEC.replace("n_mels = 40", "n_mels = 40\npooling = [\"mean\", \"std\"]"),
    );
    assert!(planned(&dir, "joined.toml", "extract.audio.spectral").contains(" hit"));
    assert!(planned(&dir, "joined.toml", "extract.audio.onnx").contains(" miss"));
    assert!(planned(&dir, "joined.toml", "extract.audio").contains(" miss"));
}

fn section(dir: &TestDir, text: &str) -> Result<AudioSection, String> {
    let path = dir.write("exp.toml", text);
    let spec = load_spec(&path, &[]).map_err(|e| e.to_string())?;
    Ok(spec.modalities.audio.unwrap())
}

#[test]
fn each_extractor_reads_its_own_table_and_the_section_writes_back_the_same() {
    let dir = project();
    let audio = section(&dir, SPEC).unwrap();
    let [AudioSettings::Spectral(spectral), AudioSettings::Onnx(onnx)] = &audio.extractors[..]
    else {
        panic!("{audio:?}");
    };
    assert_eq!((spectral.n_mels, onnx.n_mels), (64, 40));
    assert_eq!(onnx.model, dir.path("mel.onnx"));
    assert_eq!(onnx.feature_names()[0], "embedding.0.mean");
    let written = toml::to_string(&audio).unwrap();
    assert!(
        written.starts_with("extractor = [\"spectral\", \"onnx\"]"),
        "{written}"
    );
    assert_eq!(toml::from_str::<AudioSection>(&written).unwrap(), audio);
}

#[test]
fn a_key_outside_the_extractors_tables_or_a_bad_list_is_an_error_saying_where_it_belongs() {
    let dir = project();
    let err = section(
        &dir,
        &SPEC.replace(
            "[modalities.audio.spectral]",
            "n_mfcc = 13\n[modalities.audio.spectral]",
        ),
    )
    .unwrap_err();
    assert!(
        err.contains("key `modalities.audio.n_mfcc`: expected with several extractors, only `extractor`, `on_error` and one table per extractor (`spectral`, `onnx`)")
            && err.contains("move it into the extractor's table: spectral.n_mfcc"),
        "{err}"
    );
    let err = section(
        &dir,
        &SPEC.replace("n_mels = 40", "n_mels = 40\nn_mfcc = 13"),
    )
    .unwrap_err();
    assert!(
        err.contains("key `modalities.audio.onnx.n_mfcc`")
            && err.contains("a key of extractor = \"spectral\""),
        "{err}"
    );
    let err = section(
        &dir,
        &SPEC.replace("n_mels = 40", "n_mels = 40\npatch_hop = -1.0"),
    )
    .unwrap_err();
    assert!(
        err.contains("key `modalities.audio.onnx.patch_hop`: expected a positive number"),
        "{err}"
    );
    for list in [
        "[\"spectral\", \"spectral\"]",
        "[]",
        "[\"spectral\", \"precomputed\"]",
    ] {
        let text = SPEC.replace("[\"spectral\", \"onnx\"]", list);
        let err = section(&dir, &text).unwrap_err();
        assert!(
            err.contains(
                "key `modalities.audio.extractor`: expected one or more distinct extractor names"
            ),
            "{list}: {err}"
        );
    }
    let err = section(&dir, &SPEC.replace("\"onnx\"]", "\"onx\"]")).unwrap_err();
    assert!(err.contains("did you mean `onnx`?"), "{err}");
}

#[test]
fn a_model_error_names_the_extractors_table() {
    let dir = project();
    dir.write("exp.toml", SPEC.replace("\"mel.onnx\"", "\"gone.onnx\""));
    let (ok, _, stderr) = output(dir.mer().args(["run", "exp.toml"]));
    assert!(!ok);
    assert!(stderr.contains("modalities.audio.onnx.model: "), "{stderr}");
}
