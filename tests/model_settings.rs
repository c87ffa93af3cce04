//! Checked training settings: one table row per rule, each through both entry points (the spec
//! and `CheckedSettings::new`, which must agree), and the fold-data checks that stop training
//! before it starts.

mod model_support;
mod util;

use mer::model::{CheckedSettings, ModelError, SettingError, TrainSettings, train_fold};
use mer::spec::{
    AugmentSection, ModelSection, Origin, ProblemKind, ScheduleSection, SpecError, SpecProblem,
    TaskKind, TaskSection, load_spec,
};

use model_support::clusters;
use util::TestDir;

/// Each rule of the training settings, an override that breaks it, and the message it gives.
/// Both paths must agree on it: the spec (`mer validate`, `mer run`) and
/// `CheckedSettings::new` (every caller of `train_fold`).
const BROKEN: &[(&str, &str)] = &[
    (
        "model.encoder_layers=0",
        "key `model.encoder_layers`: expected a positive integer, found 0",
    ),
    (
        "model.encoder_width=0",
        "key `model.encoder_width`: expected a positive integer, found 0",
    ),
    (
        "model.head_width=0",
        "key `model.head_width`: expected a positive integer, found 0",
    ),
    (
        "model.dropout=1.0",
        "key `model.dropout`: expected a number in [0, 1), found 1",
    ),
    (
        "model.dropout=-0.1",
        "key `model.dropout`: expected a number in [0, 1), found -0.1",
    ),
    (
        "augment.mixup_alpha=-1.0",
        "key `augment.mixup_alpha`: expected a number >= 0, found -1",
    ),
    (
        "augment.label_smoothing=1.0",
        "key `augment.label_smoothing`: expected a number in [0, 1), found 1",
    ),
    (
        "augment.modality_dropout=1.0",
        "key `augment.modality_dropout`: expected a number in [0, 1), found 1",
    ),
    (
        "augment.feature_noise=nan",
        "key `augment.feature_noise`: expected a number >= 0, found NaN",
    ),
    (
        "augment.feature_noise=inf",
        "key `augment.feature_noise`: expected a number >= 0, found inf",
    ),
    (
        "schedule.lr=0.0",
        "key `schedule.lr`: expected a positive number, found 0",
    ),
    (
        "schedule.lr=inf",
        "key `schedule.lr`: expected a positive number, found inf",
    ),
    (
        "schedule.weight_decay=-1e-4",
        "key `schedule.weight_decay`: expected a number >= 0, found -0.0001",
    ),
    (
        "schedule.beta1=1.0",
        "key `schedule.beta1`: expected a number in [0, 1), found 1",
    ),
    (
        "schedule.beta2=1.5",
        "key `schedule.beta2`: expected a number in [0, 1), found 1.5",
    ),
    (
        "schedule.eps=0.0",
        "key `schedule.eps`: expected a positive number, found 0",
    ),
    (
        "schedule.batch_size=0",
        "key `schedule.batch_size`: expected a positive integer, found 0",
    ),
    (
        "schedule.epochs=0",
        "key `schedule.epochs`: expected a positive integer, found 0",
    ),
    (
        "schedule.t0=0",
        "key `schedule.t0`: expected a positive integer, found 0",
    ),
    (
        "schedule.t_mult=0",
        "key `schedule.t_mult`: expected a positive integer, found 0",
    ),
    (
        "schedule.eta_min=-1e-5",
        "key `schedule.eta_min`: expected a number >= 0, found -0.00001",
    ),
    (
        "schedule.eta_min=0.1",
        "key `schedule.eta_min`: expected at most schedule.lr (0.001), the top of the cosine schedule, found 0.1",
    ),
    (
        "schedule.patience=0",
        "key `schedule.patience`: expected a positive integer, found 0",
    ),
];

/// Overrides on the edge of a rule, which both paths accept.
const ACCEPTED: &[&str] = &[
    // A cosine schedule whose floor is its top is the constant rate lr, bit for bit.
    "schedule.eta_min=0.001",
    // A linear classifier on the fused embedding.
    "model.head_layers=0",
    "model.dropout=0.0",
    "augment.mixup_alpha=0.0",
    "augment.label_smoothing=0.0",
    "augment.modality_dropout=0.0",
    "augment.feature_noise=0.0",
    "schedule.weight_decay=0.0",
    "schedule.beta1=0.0",
    "schedule.eta_min=0.0",
    "schedule.patience=1",
];

const SPEC: &str = "[dataset]\nlayout = \"table\"\nroot = \"data\"\n\
                    paths = { audio = \"audio/{id}.wav\" }\n\n[modalities.audio]\n";

/// The training sections, defaults changed by the `section.key=value` overrides.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct Sections {
    model: ModelSection,
    augment: AugmentSection,
    schedule: ScheduleSection,
    task: TaskSection,
}

impl Sections {
    fn with(sets: &[&str]) -> Self {
        let mut doc = toml::Table::new();
        for set in sets {
            let (path, value) = set.split_once('=').unwrap();
            let value = format!("v = {value}").parse::<toml::Table>().unwrap()["v"].clone();
            let mut keys: Vec<&str> = path.split('.').collect();
            let key = keys.pop().unwrap();
            let mut table = &mut doc;
            for section in keys {
                table = (table.entry(section))
                    .or_insert_with(|| toml::Table::new().into())
                    .as_table_mut()
                    .unwrap();
            }
            table.insert(key.into(), value);
        }
        doc.try_into().unwrap_or_else(|e| panic!("{sets:?}: {e}"))
    }

    fn settings(&self) -> TrainSettings<'_> {
        TrainSettings {
            model: &self.model,
            augment: &self.augment,
            schedule: &self.schedule,
            task: &self.task,
        }
    }
}

/// The settings path: `CheckedSettings::new` on the default sections with `sets` applied.
fn settings_verdict(sets: &[&str]) -> Result<(), Vec<SettingError>> {
    match CheckedSettings::new(&Sections::with(sets).settings()) {
        Ok(_) => Ok(()),
        Err(ModelError::InvalidSettings(errors)) => {
            let error = ModelError::InvalidSettings(errors.clone());
            assert!(
                error.to_string().contains("change them in the spec"),
                "{error}"
            );
            Err(errors)
        }
        Err(other) => panic!("{sets:?}: expected InvalidSettings, got {other:?}"),
    }
}

/// The spec path: a minimal spec loaded with `sets` as `--set` arguments.
fn spec_verdict(dir: &TestDir, sets: &[&str]) -> Result<(), Vec<SpecProblem>> {
    let path = dir.write("exp.toml", SPEC);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match load_spec(&path, &sets) {
        Ok(_) => Ok(()),
        Err(err) => {
            assert!(matches!(err, SpecError::Invalid(_)), "{sets:?}: {err}");
            Err(err.problems().to_vec())
        }
    }
}

#[test]
fn every_rule_gives_the_same_verdict_and_message_through_spec_and_settings() {
    let dir = TestDir::new();
    for &(set, message) in BROKEN {
        let errors = settings_verdict(&[set]).expect_err(set);
        let [error] = errors.as_slice() else {
            panic!("{set}: expected one violation, got {errors:?}");
        };
        assert_eq!(error.to_string(), message, "{set}");
        assert_eq!(Some(error.key()), set.split('=').next(), "{set}");

        let problems = spec_verdict(&dir, &[set]).expect_err(set);
        let [problem] = problems.as_slice() else {
            panic!("{set}: expected one spec problem, got {problems:?}");
        };
        assert_eq!(problem.kind, ProblemKind::OutOfRange, "{set}");
        assert_eq!(problem.origin, Origin::Set { arg: set.into() });
        assert_eq!(problem.key, error.key(), "{set}");
        assert_eq!(problem.expected, error.expected(), "{set}");
        assert_eq!(problem.found, error.found(), "{set}");
        assert_eq!(problem.to_string(), format!("--set {set}: {message}"));
    }
}

#[test]
fn values_on_the_edge_of_a_rule_pass_both_paths() {
    let dir = TestDir::new();
    for &set in ACCEPTED {
        assert_eq!(settings_verdict(&[set]), Ok(()), "{set}");
        assert!(spec_verdict(&dir, &[set]).is_ok(), "{set}");
    }
    assert_eq!(settings_verdict(&[]), Ok(()));
    assert!(spec_verdict(&dir, &[]).is_ok());
}

/// Every rule broken at once: both paths report every violation, in the same order.
#[test]
fn all_violations_are_reported_by_both_paths_in_the_same_order() {
    let mut by_key = std::collections::BTreeMap::new();
    for &(set, _) in BROKEN {
        by_key.entry(set.split('=').next().unwrap()).or_insert(set);
    }
    // The first row of each key: one value cannot break two rules of its key, so the negative
    // eta_min stands for both of its rules here (the comparison has its own row above).
    let sets: Vec<&str> = by_key.into_values().collect();
    let errors = settings_verdict(&sets).unwrap_err();
    let dir = TestDir::new();
    let problems = spec_verdict(&dir, &sets).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let spec_messages: Vec<String> = (problems.iter())
        .map(|p| {
            format!(
                "key `{}`: expected {}, found {}",
                p.key, p.expected, p.found
            )
        })
        .collect();
    assert_eq!(spec_messages, messages);
    assert_eq!(errors.len(), sets.len(), "{messages:#?}");

    // An out-of-range lr is one problem, not also a broken comparison with eta_min.
    let errors = settings_verdict(&["schedule.lr=-1.0", "schedule.eta_min=0.5"]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// A linear model has no encoders to fuse: a fusion other than the default is refused by key,
/// through both paths; the linear model itself and the fusion choices pass.
#[test]
fn a_fusion_choice_on_a_linear_model_is_refused_by_key() {
    let linear = "model.kind=\"linear\"";
    let errors = settings_verdict(&[linear, "model.fusion=\"gated\""]).unwrap_err();
    assert_eq!(
        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        [
            "key `model.fusion`: has no meaning for model.kind = \"linear\", which has no encoders \
          to fuse (expected the key left out, found gated)"
        ]
    );
    let dir = TestDir::new();
    let problems = spec_verdict(&dir, &[linear, "model.fusion=\"late\""]).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].key, "model.fusion");
    assert_eq!(settings_verdict(&[linear]), Ok(()));
    for fusion in ["concat", "early", "late", "gated", "attention"] {
        let set = format!("model.fusion=\"{fusion}\"");
        assert_eq!(settings_verdict(&[&set]), Ok(()), "{set}");
    }
}

/// `model.late` belongs to late fusion: set on another fusion or on a linear model, each key
/// is refused by name, through both paths; on late fusion every choice passes.
#[test]
fn late_fusion_settings_on_another_model_are_refused_by_key() {
    let errors = settings_verdict(&["model.late.combine=\"stacking\""]).unwrap_err();
    assert_eq!(
        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        [
            "key `model.late.combine`: has no meaning for model.fusion = \"concat\", which has \
             no per-modality classifiers (expected the key left out, found stacking)"
        ]
    );
    let linear = ["model.kind=\"linear\"", "model.late.training=\"separate\""];
    let errors = settings_verdict(&linear).unwrap_err();
    assert_eq!(errors[0].key(), "model.late.training");
    assert!(errors[0].to_string().contains("model.kind = \"linear\""));
    let dir = TestDir::new();
    let gated = ["model.fusion=\"gated\"", "model.late.training=\"separate\""];
    let problems = spec_verdict(&dir, &gated).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].key, "model.late.training");
    for training in ["joint", "separate"] {
        for combine in ["average", "stacking"] {
            let set = [
                "model.fusion=\"late\"".to_string(),
                format!("model.late.training=\"{training}\""),
                format!("model.late.combine=\"{combine}\""),
            ];
            let set: Vec<&str> = set.iter().map(String::as_str).collect();
            assert_eq!(settings_verdict(&set), Ok(()), "{set:?}");
            assert!(spec_verdict(&dir, &set).is_ok(), "{set:?}");
        }
    }
}

/// Trains fold `fold` of `data` for one epoch with the default model.
/// Label smoothing and class weights mean nothing for numbers; each is refused by name, and
/// the regression defaults (no smoothing, no weights) pass, as do both for tags.
#[test]
fn settings_without_meaning_for_regression_are_refused_by_key() {
    let regression = "task.kind=\"regression\"";
    let errors = settings_verdict(&[regression, "schedule.class_weights=true"]).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(SettingError::key).collect();
    assert_eq!(keys, ["augment.label_smoothing", "schedule.class_weights"]);
    assert_eq!(
        errors[0].to_string(),
        "key `augment.label_smoothing`: has no meaning for task.kind = \"regression\" \
         (expected 0, found 0.1)"
    );
    assert_eq!(
        settings_verdict(&[regression, "augment.label_smoothing=0.0"]),
        Ok(())
    );
    let tags = "task.kind=\"multilabel\"";
    assert_eq!(
        settings_verdict(&[tags, "schedule.class_weights=true"]),
        Ok(())
    );
}

fn train_one_epoch(
    data: &mer::model::FoldData,
    fold: usize,
) -> Result<mer::model::TrainedFold, ModelError> {
    let (model, augment, schedule) = (
        ModelSection::default(),
        AugmentSection::default(),
        ScheduleSection {
            epochs: 1,
            ..ScheduleSection::default()
        },
    );
    let settings = TrainSettings {
        model: &model,
        augment: &augment,
        schedule: &schedule,
        task: &TaskSection::default(),
    };
    train_fold(data, &settings, 1, fold)
}

fn train_error(data: &mer::model::FoldData) -> ModelError {
    train_one_epoch(data, 3).expect_err("bad fold data")
}

#[test]
fn a_fold_without_validation_songs_is_refused_with_its_number() {
    let mut data = clusters(20, 2, 1.0, 1);
    data.valid_rows.clear();
    assert_eq!(
        train_error(&data),
        ModelError::EmptyFold {
            fold: 3,
            which: "validation"
        }
    );
}

#[test]
fn inconsistent_fold_data_is_refused_before_training() {
    let mut data = clusters(20, 2, 1.0, 1);
    model_support::labels_mut(&mut data)[4] = 2;
    assert!(matches!(train_error(&data), ModelError::InconsistentData(m) if m.contains("label 2")));

    let mut data = clusters(20, 2, 1.0, 1);
    data.modalities[0].features[5] = f32::NAN;
    assert!(matches!(train_error(&data), ModelError::InconsistentData(m) if m.contains("NaN")));

    let mut data = clusters(20, 2, 1.0, 1);
    data.modalities.swap(0, 1);
    assert!(matches!(train_error(&data), ModelError::InconsistentData(m) if m.contains("order")));

    let mut data = clusters(20, 2, 1.0, 1);
    data.modalities.clear();
    assert_eq!(train_error(&data), ModelError::NoModality);
}

#[test]
fn weights_from_another_model_are_refused_by_predict() {
    let data = clusters(20, 2, 1.0, 1);
    let fold = train_one_epoch(&data, 0).unwrap();
    let wider = ModelSection {
        encoder_width: 64,
        ..ModelSection::default()
    };
    let error = mer::model::predict(
        &fold.weights,
        (&wider, TaskKind::Classification),
        &data.modalities,
        &[0],
        None,
    )
    .unwrap_err();
    assert!(matches!(error, ModelError::WeightsMismatch(_)), "{error}");
    assert!(error.to_string().contains("retrain"));
}
