//! Spec loading: every bad input names the file, the key, what was expected and what was found;
//! sources layer as defaults < file < MER_* environment < --set.

mod util;

use mer::spec::{
    AudioSettings, ExperimentSpec, ExtractorSettings, Origin, ProblemKind, SpecError, load_spec,
};
use util::{TestDir, output};

const MINIMAL: &str = r#"
[dataset]
layout = "table"
root = "data"
paths = { audio = "audio/{id}.wav" }

[modalities.audio]
"#;

fn load(dir: &TestDir, text: &str, sets: &[&str]) -> Result<ExperimentSpec, SpecError> {
    let path = dir.write("exp.toml", text);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load_spec(&path, &sets)
}

fn only_problem(err: &SpecError) -> &mer::spec::SpecProblem {
    match err.problems() {
        [one] => one,
        other => panic!("expected one problem, got {other:?} from {err}"),
    }
}

#[test]
fn minimal_spec_gets_the_documented_defaults() {
    let dir = TestDir::new();
    let spec = load(&dir, MINIMAL, &[]).unwrap();
    assert_eq!(spec.name, "exp");
    assert_eq!(spec.seeds, vec![42]);
    assert_eq!(spec.split.folds, 5);
    assert_eq!(spec.split.test_fraction, 0.2);
    assert_eq!(spec.schedule.epochs, 60);
    assert_eq!(spec.augment.mixup_alpha, 0.4);
    let Some(AudioSettings::Spectral(audio)) =
        spec.modalities.audio.as_ref().map(|a| &a.extractors[0])
    else {
        panic!("the default audio extractor is spectral");
    };
    assert_eq!(audio.sample_rate, 22050);
    assert_eq!(audio.fmax, Some(11025.0), "fmax defaults to Nyquist");
    assert_eq!(
        spec.dataset.root,
        dir.path("data"),
        "root is relative to the spec file"
    );
    assert_eq!(spec.selected().to_string(), "audio");
}

#[test]
fn toml_syntax_error_gives_file_line_and_column() {
    let dir = TestDir::new();
    let err = load(&dir, "[dataset]\nlayout = \"table\"\nroot = \n", &[]).unwrap_err();
    let SpecError::Syntax { line, column, .. } = &err else {
        panic!("expected a syntax error, got {err}");
    };
    assert_eq!((*line, *column), (3, 8));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "{}:3:8: TOML syntax error",
            dir.path("exp.toml").display()
        )),
        "{message}"
    );
}

#[test]
fn unknown_key_is_an_error_with_a_suggestion() {
    let dir = TestDir::new();
    let err = load(&dir, &format!("{MINIMAL}\n[schedule]\nepoch = 10\n"), &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.kind, ProblemKind::UnknownKey);
    assert_eq!(problem.key, "schedule.epoch");
    assert_eq!(problem.hint.as_deref(), Some("did you mean `epochs`?"));
    let message = err.to_string();
    assert!(
        message.contains("exp.toml:10:1: unknown key `schedule.epoch`"),
        "{message}"
    );
    assert!(message.contains("expected one of `lr`"), "{message}");
}

#[test]
fn unknown_top_level_section_is_an_error() {
    let dir = TestDir::new();
    let err = load(&dir, &format!("{MINIMAL}\n[shedule]\nepochs = 10\n"), &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.key, "shedule");
    assert_eq!(problem.hint.as_deref(), Some("did you mean `schedule`?"));
}

#[test]
fn wrong_type_names_key_expected_and_found() {
    let dir = TestDir::new();
    let err = load(
        &dir,
        &format!("{MINIMAL}\n[schedule]\nepochs = \"ten\"\n"),
        &[],
    )
    .unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.kind, ProblemKind::WrongType);
    let message = err.to_string();
    assert!(
        message.contains("exp.toml:10:1: key `schedule.epochs`: expected a non-negative integer, found string \"ten\""),
        "{message}"
    );
}

#[test]
fn unknown_extractor_and_layout_names_are_rejected_with_suggestions() {
    let dir = TestDir::new();
    let text = MINIMAL.replace(
        "[modalities.audio]",
        "[modalities.audio]\nextractor = \"spectal\"",
    );
    let err = load(&dir, &text, &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.key, "modalities.audio.extractor");
    assert_eq!(
        problem.expected,
        "one of `spectral`, `musicnn`, `onnx`, `precomputed`"
    );
    assert_eq!(problem.hint.as_deref(), Some("did you mean `spectral`?"));

    let err = load(&dir, &MINIMAL.replace("\"table\"", "\"mirex\""), &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.key, "dataset.layout");
    assert!(problem.expected.contains("`mirex-like`"), "{err}");
}

#[test]
fn out_of_range_values_are_all_reported_with_their_lines() {
    let dir = TestDir::new();
    let text =
        format!("{MINIMAL}\n[split]\ntest_fraction = 1.5\nfolds = 1\n\n[schedule]\nlr = -0.1\n");
    let err = load(&dir, &text, &[]).unwrap_err();
    let message = err.to_string();
    assert_eq!(err.problems().len(), 3, "{message}");
    assert!(
        message.contains(
            "exp.toml:10:1: key `split.test_fraction`: expected a fraction in (0, 1), found 1.5"
        ),
        "{message}"
    );
    assert!(
        message.contains("exp.toml:11:1: key `split.folds`: expected an integer >= 2, found 1"),
        "{message}"
    );
    assert!(
        message
            .contains("exp.toml:14:1: key `schedule.lr`: expected a positive number, found -0.1"),
        "{message}"
    );
    assert!(
        err.problems()
            .iter()
            .all(|p| p.kind == ProblemKind::OutOfRange)
    );
}

#[test]
fn a_spec_without_modalities_is_an_error() {
    let dir = TestDir::new();
    let err = load(&dir, &MINIMAL.replace("[modalities.audio]", ""), &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.key, "modalities");
    assert_eq!(problem.kind, ProblemKind::MissingKey);
}

#[test]
fn a_missing_required_key_is_named() {
    let dir = TestDir::new();
    let err = load(
        &dir,
        "[dataset]\nlayout = \"mirex-like\"\n\n[modalities.audio]\n",
        &[],
    )
    .unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.kind, ProblemKind::MissingKey);
    assert_eq!(problem.key, "dataset.root");
    assert!(
        err.to_string().contains("missing key `dataset.root`"),
        "{err}"
    );
}

#[test]
fn a_missing_spec_file_is_an_error_not_an_empty_spec() {
    let dir = TestDir::new();
    let err = load_spec(&dir.path("nope.toml"), &[]).unwrap_err();
    assert!(matches!(err, SpecError::NotFound { .. }));
    assert!(err.to_string().contains("nope.toml' not found"), "{err}");
}

#[test]
fn table_keys_under_the_mirex_layout_are_rejected() {
    let dir = TestDir::new();
    let text = MINIMAL.replace("\"table\"", "\"mirex-like\"");
    let err = load(&dir, &text, &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.key, "dataset.paths");
    assert_eq!(problem.kind, ProblemKind::Conflict);
}

#[test]
fn set_overrides_the_file_and_is_named_in_errors() {
    let dir = TestDir::new();
    let text = format!("{MINIMAL}\n[schedule]\nepochs = 10\n");
    let spec = load(
        &dir,
        &text,
        &["schedule.epochs=30", "augment.mixup_alpha=0"],
    )
    .unwrap();
    assert_eq!(spec.schedule.epochs, 30);
    assert_eq!(spec.augment.mixup_alpha, 0.0);

    let err = load(&dir, &text, &["schedule.epochs=0"]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(
        problem.origin,
        Origin::Set {
            arg: "schedule.epochs=0".into()
        }
    );

    let err = load(&dir, &text, &["schedule.epochs"]).unwrap_err();
    assert!(matches!(err, SpecError::BadOverride { .. }), "{err}");
    assert!(
        err.to_string().contains("expected `section.key=value`"),
        "{err}"
    );
}

#[test]
fn resolved_spec_round_trips_through_its_toml() {
    let dir = TestDir::new();
    let text = format!("{MINIMAL}\nseeds = [1, 2, 3]\n[modalities.lyrics]\n[split]\nfolds = 3\n");
    // `seeds` must come before the tables in TOML; put it at the top.
    let text = format!(
        "seeds = [1, 2, 3]\n{}",
        text.replace("seeds = [1, 2, 3]\n", "")
    );
    let text = text.replace(
        "paths = { audio = \"audio/{id}.wav\" }",
        "paths = { audio = \"audio/{id}.wav\", lyrics = \"lyrics/{id}.txt\" }",
    );
    let spec = load(&dir, &text, &[]).unwrap();
    let resolved = dir.write("resolved.toml", spec.to_toml());
    let again = load_spec(&resolved, &[]).unwrap();
    assert_eq!(again, spec);
}

/// Environment variables are process-wide, so precedence with `MER_*` is checked through the
/// binary, where each run has its own environment.
#[test]
fn environment_sits_between_file_and_set() {
    let dir = TestDir::new();
    dir.write("exp.toml", format!("{MINIMAL}\n[schedule]\nepochs = 10\n"));
    let epochs = |env: Option<&str>, set: Option<&str>| {
        let mut cmd = dir.mer();
        cmd.args(["validate", "--spec-only", "exp.toml"]);
        if let Some(value) = env {
            cmd.env("MER_SCHEDULE__EPOCHS", value);
        }
        if let Some(arg) = set {
            cmd.args(["--set", arg]);
        }
        let (ok, stdout, stderr) = output(&mut cmd);
        assert!(ok, "{stderr}");
        let resolved: toml::Table = stdout.parse().expect("validate prints TOML");
        resolved["schedule"]["epochs"].as_integer().unwrap()
    };
    assert_eq!(epochs(None, None), 10);
    assert_eq!(epochs(Some("20"), None), 20);
    assert_eq!(epochs(Some("20"), Some("schedule.epochs=30")), 30);
}

#[test]
fn environment_errors_name_the_variable() {
    let dir = TestDir::new();
    dir.write("exp.toml", MINIMAL);
    let (ok, _, stderr) = output(
        dir.mer()
            .args(["validate", "--spec-only", "exp.toml"])
            .env("MER_SCHEDULE__EPOCHS", "many"),
    );
    assert!(!ok);
    assert!(
        stderr.contains("environment variable MER_SCHEDULE__EPOCHS: key `schedule.epochs`"),
        "{stderr}"
    );
    // Tool settings such as MER_CACHE are not spec keys.
    let (ok, _, stderr) = output(
        dir.mer()
            .args(["validate", "--spec-only", "exp.toml"])
            .env("MER_CACHE", "/tmp/x"),
    );
    assert!(ok, "{stderr}");
}

#[test]
fn a_key_of_another_extractor_names_the_key_its_extractor_and_the_line() {
    let dir = TestDir::new();
    let text = MINIMAL.replace(
        "[modalities.audio]",
        "[modalities.audio]\nextractor = \"precomputed\"\nn_mels = 64\nprecomputed = { path = \"e.csv\" }",
    );
    let err = load(&dir, &text, &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.kind, ProblemKind::UnknownKey);
    assert_eq!(problem.key, "modalities.audio.n_mels");
    let message = err.to_string();
    assert!(
        message.contains(
            "exp.toml:9:1: unknown key `modalities.audio.n_mels`: expected a key of extractor = \"precomputed\": one of `precomputed`, `on_error`, found `n_mels`, a key of extractor = \"spectral\" (remove it, or set extractor = \"spectral\")"
        ),
        "{message}"
    );

    let text = MINIMAL.replace(
        "[modalities.audio]",
        "[modalities.audio]\nn_mels = 64\nprecomputed = { path = \"e.csv\" }",
    );
    let err = load(&dir, &text, &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.kind, ProblemKind::UnknownKey);
    assert_eq!(problem.key, "modalities.audio.precomputed");
    assert!(
        problem
            .expected
            .starts_with("a key of extractor = \"spectral\": one of `sample_rate`"),
        "{err}"
    );
    assert_eq!(
        problem.found,
        "`precomputed`, a key of extractor = \"precomputed\""
    );
    assert!(err.to_string().contains("exp.toml:9:1"), "{err}");
}

#[test]
fn every_modality_rejects_keys_of_its_other_extractor_and_keeps_shared_ones() {
    let dir = TestDir::new();
    let text = format!(
        "{MINIMAL}on_error = \"fail\"\n[modalities.lyrics]\nextractor = \"precomputed\"\nhash_dims = 8\n\
         on_error = \"fail\"\nprecomputed = {{ path = \"l.csv\" }}\n[modalities.midi]\nmax_events = 10\n"
    )
    .replace("paths = { audio = \"audio/{id}.wav\" }", "paths = { audio = \"audio/{id}.wav\", midi = \"m/{id}.mid\" }");
    let err = load(&dir, &text, &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.key, "modalities.lyrics.hash_dims");
    assert_eq!(
        problem.found,
        "`hash_dims`, a key of extractor = \"hashed-bow\""
    );

    let spec = load(&dir, &text.replace("hash_dims = 8\n", ""), &[]).unwrap();
    let midi = spec.modalities.midi.as_ref().unwrap();
    assert_eq!(midi.extractors[0].name(), "symbolic");
    assert_eq!(
        spec.modalities.on_error(mer::modality::Modality::Lyrics),
        mer::spec::OnError::Fail
    );
    let toml = spec.to_toml();
    assert!(
        toml.contains("[modalities.lyrics]\nextractor = \"precomputed\"\non_error = \"fail\"\n"),
        "{toml}"
    );
    assert!(toml.contains("[modalities.midi]\nextractor = \"symbolic\"\nmax_bytes = 4194304\nmax_events = 10\non_error = \"skip\"\n"), "{toml}");
}

#[test]
fn an_unknown_or_mistyped_extractor_key_is_placed_in_the_file() {
    let dir = TestDir::new();
    let err = load(&dir, &format!("{MINIMAL}n_mel = 64\n"), &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.kind, ProblemKind::UnknownKey);
    assert_eq!(problem.key, "modalities.audio.n_mel");
    assert_eq!(problem.hint.as_deref(), Some("did you mean `n_mels`?"));
    assert!(err.to_string().contains("exp.toml:8:1:"), "{err}");

    let err = load(&dir, MINIMAL, &["modalities.audio.hop_length=\"x\""]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.kind, ProblemKind::WrongType);
    assert_eq!(problem.key, "modalities.audio.hop_length");
    assert_eq!(problem.expected, "a non-negative integer");
    assert!(
        err.to_string()
            .contains("--set modalities.audio.hop_length=\"x\": key `modalities.audio.hop_length`"),
        "{err}"
    );
}

#[test]
fn a_regression_task_names_its_targets_and_goes_without_label_smoothing() {
    let dir = TestDir::new();
    let regression = format!(
        "{MINIMAL}\n[task]\nkind = \"regression\"\ntargets = [\"valence\", \"arousal\"]\n\
         scales = {{ valence = [1, 9] }}\n"
    );
    let spec = load(&dir, &regression, &[]).unwrap();
    assert_eq!(spec.task.kind, mer::spec::TaskKind::Regression);
    assert_eq!(spec.task.target_scale("valence"), (1.0, 9.0));
    assert_eq!(spec.task.target_scale("arousal"), (-1.0, 1.0));
    assert_eq!(spec.augment.label_smoothing, 0.0, "off unless asked for");
    // Asked for, it is refused by key.
    let err = load(&dir, &regression, &["augment.label_smoothing=0.1"]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.key, "augment.label_smoothing");
    assert!(problem.expected.contains('0'), "{problem:?}");

    let without = format!("{MINIMAL}\n[task]\nkind = \"regression\"\n");
    let err = load(&dir, &without, &[]).unwrap_err();
    assert_eq!(only_problem(&err).key, "task.targets");

    let bad_scale = format!(
        "{MINIMAL}\n[task]\nkind = \"regression\"\ntargets = [\"valence\"]\n\
         scales = {{ valence = [9, 1], energy = [0, 1] }}\n"
    );
    let err = load(&dir, &bad_scale, &[]).unwrap_err();
    let keys: Vec<&str> = err.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["task.scales.energy", "task.scales.valence"]);
}

#[test]
fn task_keys_of_another_kind_are_refused_and_a_classification_keeps_its_hash() {
    let dir = TestDir::new();
    let plain = load(&dir, MINIMAL, &[]).unwrap();
    let explicit = load(
        &dir,
        &format!("{MINIMAL}\n[task]\nkind = \"classification\"\n"),
        &[],
    )
    .unwrap();
    assert_eq!(plain.hash(), explicit.hash());
    assert!(!plain.to_toml().contains("[task]"));
    let tags_on_regression = format!(
        "{MINIMAL}\n[task]\nkind = \"regression\"\ntargets = [\"v\"]\ntags_column = \"moods\"\n"
    );
    let err = load(&dir, &tags_on_regression, &[]).unwrap_err();
    let problem = only_problem(&err);
    assert_eq!(problem.key, "task.tags_column");
    assert!(problem.expected.contains("multilabel"), "{problem:?}");
    let loss_on_tags = format!("{MINIMAL}\n[task]\nkind = \"multilabel\"\nloss = \"ccc\"\n");
    assert_eq!(
        only_problem(&load(&dir, &loss_on_tags, &[]).unwrap_err()).key,
        "task.loss"
    );
}

#[test]
fn executor_settings_load_but_stay_out_of_the_experiments_identity() {
    let dir = TestDir::new();
    let plain = load(&dir, MINIMAL, &[]).unwrap();
    let with_executor = format!(
        "{MINIMAL}\n[executor]\nkind = \"slurm\"\n\n[executor.slurm]\npartition = \"cpu\"\n\
         max_parallel = 4\nsbatch = [\"--qos=short\"]\n"
    );
    let spec = load(&dir, &with_executor, &[]).unwrap();
    assert_eq!(spec.executor.kind, mer::spec::ExecutorKind::Slurm);
    assert_eq!(spec.executor.slurm.partition.as_deref(), Some("cpu"));
    assert_eq!(spec.executor.slurm.max_parallel, Some(4));
    assert_eq!(spec.executor.slurm.sbatch, ["--qos=short"]);
    assert!(!spec.to_toml().contains("executor"));
    assert_eq!(spec.hash(), plain.hash());

    let err = load(
        &dir,
        &format!("{MINIMAL}\n[executor.slurm]\nqueue = \"cpu\"\n"),
        &[],
    )
    .unwrap_err();
    assert!(err.to_string().contains("queue"), "{err}");
    let err = load(
        &dir,
        &format!("{MINIMAL}\n[executor.slurm]\nmax_parallel = 0\n"),
        &[],
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("executor.slurm.max_parallel"),
        "{err}"
    );
}
