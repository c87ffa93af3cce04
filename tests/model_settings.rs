//! Checked training settings: one test per rule, each through the public entry point, and the
//! fold-data checks that stop training before it starts.

mod model_support;

use mer::model::{ModelError, TrainSettings, train_fold};
use mer::spec::{AugmentSection, ModelSection, ScheduleSection};

use model_support::clusters;

/// The error `train_fold` gives with the default sections changed by `edit`.
fn error_with(
    edit: impl FnOnce(&mut ModelSection, &mut AugmentSection, &mut ScheduleSection),
) -> ModelError {
    let (mut model, mut augment, mut schedule) = (
        ModelSection::default(),
        AugmentSection::default(),
        ScheduleSection::default(),
    );
    edit(&mut model, &mut augment, &mut schedule);
    let settings = TrainSettings {
        model: &model,
        augment: &augment,
        schedule: &schedule,
    };
    settings.check().expect_err("the edit breaks a rule")
}

fn assert_out_of_range(error: ModelError, expected_key: &str) {
    match &error {
        ModelError::OutOfRange { key, .. } => assert_eq!(*key, expected_key),
        other => panic!("expected OutOfRange for {expected_key}, got {other:?}"),
    }
    // The message names the key and says to change it in the spec.
    let message = error.to_string();
    assert!(
        message.contains(expected_key) && message.contains("change it in the spec"),
        "{message}"
    );
}

macro_rules! rule {
    ($name:ident, $key:literal, |$m:ident, $a:ident, $s:ident| $edit:expr) => {
        #[test]
        fn $name() {
            #[allow(unused_variables)]
            let error = error_with(|$m, $a, $s| {
                $edit;
            });
            assert_out_of_range(error, $key);
        }
    };
}

rule!(
    encoder_layers_must_be_at_least_one,
    "model.encoder_layers",
    |m, a, s| m.encoder_layers = 0
);
rule!(
    encoder_width_must_be_at_least_one,
    "model.encoder_width",
    |m, a, s| m.encoder_width = 0
);
rule!(
    head_width_must_be_at_least_one,
    "model.head_width",
    |m, a, s| m.head_width = 0
);
rule!(dropout_must_be_below_one, "model.dropout", |m, a, s| m
    .dropout =
    1.0);
rule!(dropout_must_not_be_negative, "model.dropout", |m, a, s| m
    .dropout =
    -0.1);
rule!(
    mixup_alpha_must_not_be_negative,
    "augment.mixup_alpha",
    |m, a, s| a.mixup_alpha = -1.0
);
rule!(
    label_smoothing_must_be_below_one,
    "augment.label_smoothing",
    |m, a, s| a.label_smoothing = 1.0
);
rule!(
    modality_dropout_must_be_below_one,
    "augment.modality_dropout",
    |m, a, s| a.modality_dropout = 1.0
);
rule!(
    feature_noise_must_be_finite,
    "augment.feature_noise",
    |m, a, s| a.feature_noise = f64::NAN
);
rule!(lr_must_be_positive, "schedule.lr", |m, a, s| s.lr = 0.0);
rule!(
    weight_decay_must_not_be_negative,
    "schedule.weight_decay",
    |m, a, s| s.weight_decay = -1e-4
);
rule!(beta1_must_be_below_one, "schedule.beta1", |m, a, s| s
    .beta1 =
    1.0);
rule!(beta2_must_be_below_one, "schedule.beta2", |m, a, s| s
    .beta2 =
    1.5);
rule!(eps_must_be_positive, "schedule.eps", |m, a, s| s.eps = 0.0);
rule!(
    batch_size_must_be_at_least_one,
    "schedule.batch_size",
    |m, a, s| s.batch_size = 0
);
rule!(epochs_must_be_at_least_one, "schedule.epochs", |m, a, s| {
    s.epochs = 0
});
rule!(t0_must_be_at_least_one, "schedule.t0", |m, a, s| s.t0 = 0);
rule!(t_mult_must_be_at_least_one, "schedule.t_mult", |m, a, s| {
    s.t_mult = 0
});
rule!(eta_min_must_not_exceed_lr, "schedule.eta_min", |m, a, s| {
    s.eta_min = 0.1
});
rule!(
    patience_must_be_at_least_one,
    "schedule.patience",
    |m, a, s| s.patience = Some(0)
);

#[test]
fn the_defaults_pass_and_a_linear_head_is_allowed() {
    let model = ModelSection {
        head_layers: 0,
        ..ModelSection::default()
    };
    let (augment, schedule) = (AugmentSection::default(), ScheduleSection::default());
    let settings = TrainSettings {
        model: &model,
        augment: &augment,
        schedule: &schedule,
    };
    assert!(settings.check().is_ok());
}

/// Trains fold `fold` of `data` for one epoch with the default model.
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
    data.labels[4] = 2;
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
    let error =
        mer::model::predict(&fold.weights, &wider, &data.modalities, &[0], None).unwrap_err();
    assert!(matches!(error, ModelError::WeightsMismatch(_)), "{error}");
    assert!(error.to_string().contains("retrain"));
}
