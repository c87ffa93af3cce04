//! Training a fold end to end on tiny synthetic data: it learns, it is reproducible, and it
//! keeps the best epoch's weights.

mod model_support;

use mer::model::{TrainSettings, predict, train_fold};
use mer::spec::{AugmentSection, ModelSection, ScheduleSection};

use model_support::clusters;

fn small_model() -> ModelSection {
    ModelSection {
        encoder_width: 16,
        head_width: 16,
        ..ModelSection::default()
    }
}

fn schedule(epochs: usize) -> ScheduleSection {
    ScheduleSection {
        epochs,
        batch_size: 16,
        lr: 1e-2,
        ..ScheduleSection::default()
    }
}

#[test]
fn a_tiny_separable_problem_is_learned_perfectly() {
    let data = clusters(100, 4, 0.3, 1);
    let (model, augment, schedule) = (small_model(), AugmentSection::default(), schedule(30));
    let settings = TrainSettings {
        model: &model,
        augment: &augment,
        schedule: &schedule,
    };
    let fold = train_fold(&data, &settings, 7, 0).unwrap();
    let best = &fold.history[fold.best_epoch];
    assert_eq!(best.valid_accuracy, 1.0, "{:#?}", fold.history);
    assert_eq!(best.valid_macro_f1, 1.0);
    let probabilities = predict(
        &fold.weights,
        &model,
        &data.modalities,
        &data.valid_rows,
        None,
    )
    .unwrap();
    assert_eq!(probabilities, fold.valid_probabilities);
}
