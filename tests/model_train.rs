//! Training a fold end to end on tiny synthetic data: it learns (classes, regression targets
//! and tags), it is reproducible whatever the thread count, it keeps the best epoch's weights,
//! and masks carry missing modalities.

mod model_support;

use mer::eval::multilabel::roc_auc;
use mer::eval::regression::score_targets;
use mer::model::schedule::LearningRate;
use mer::model::{BranchPredictions, LATE_WEIGHTS, NamedTensor, branch_outputs};
use mer::model::{FoldData, TrainSettings, TrainedFold, predict, train_fold, train_folds};
use mer::model::{ModelError, Targets};
use mer::spec::{
    AugmentSection, Fusion, LateSection, LateTraining, ModelKind, ModelSection, NormLayer,
    RegressionLoss, ScheduleSection, TaskKind, TaskSection,
};

use model_support::{clusters, labels, labels_mut, tagged, valence_arousal};

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

fn train(
    data: &FoldData,
    model: &ModelSection,
    schedule: &ScheduleSection,
    seed: u64,
) -> TrainedFold {
    let augment = AugmentSection::default();
    let settings = TrainSettings {
        model,
        augment: &augment,
        schedule,
        task: &TaskSection::default(),
    };
    train_fold(data, &settings, seed, 0).unwrap()
}

/// Macro-F1 of the validation songs from class probabilities (argmax), as scikit-learn.
fn macro_f1_of(data: &FoldData, probabilities: &[f32]) -> f64 {
    let k = data.targets.width();
    let predicted: Vec<usize> = (probabilities.chunks(k))
        .map(|p| (0..k).fold(0, |b, c| if p[c] > p[b] { c } else { b }))
        .collect();
    let truth: Vec<usize> = data.valid_rows.iter().map(|&r| labels(data)[r]).collect();
    let scores: Vec<f64> = (0..k)
        .filter_map(|c| {
            let tp = (truth.iter().zip(&predicted))
                .filter(|(t, p)| **t == c && **p == c)
                .count();
            let n = truth.iter().filter(|t| **t == c).count()
                + predicted.iter().filter(|p| **p == c).count();
            (n > 0).then(|| 2.0 * tp as f64 / n as f64)
        })
        .collect();
    scores.iter().sum::<f64>() / scores.len() as f64
}

#[test]
fn a_tiny_separable_problem_is_learned_perfectly() {
    let data = clusters(100, 4, 0.3, 1);
    let model = small_model();
    let fold = train(&data, &model, &schedule(30), 7);
    let best = &fold.history[fold.best_epoch];
    assert_eq!(best.valid_accuracy, 1.0, "{:#?}", fold.history);
    assert_eq!(best.valid_score, 1.0);
    let probabilities = predict(
        &fold.weights,
        (&model, TaskKind::Classification),
        &data.modalities,
        &data.valid_rows,
        None,
    )
    .unwrap();
    assert_eq!(probabilities, fold.valid_probabilities);
    for row in probabilities.chunks(4) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
    }
}

#[test]
fn one_seed_gives_bit_identical_weights_and_history() {
    let data = clusters(60, 3, 1.0, 2);
    let (model, schedule) = (small_model(), schedule(6));
    let first = train(&data, &model, &schedule, 11);
    let second = train(&data, &model, &schedule, 11);
    assert_eq!(first, second);
    let other_seed = train(&data, &model, &schedule, 12);
    assert_ne!(first.weights, other_seed.weights);
}

#[test]
fn parallel_folds_do_not_depend_on_the_thread_count() {
    let folds: Vec<FoldData> = (0..3)
        .map(|k| {
            let mut data = clusters(60, 3, 1.0, 3);
            // Rotate the validation songs so each fold differs.
            data.valid_rows = (0..60).filter(|i| i % 3 == k).collect();
            data.train_rows = (0..60).filter(|i| i % 3 != k).collect();
            data
        })
        .collect();
    let (model, augment, schedule) = (small_model(), AugmentSection::default(), schedule(4));
    let settings = TrainSettings {
        model: &model,
        augment: &augment,
        schedule: &schedule,
        task: &TaskSection::default(),
    };
    let with_threads = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| train_folds(&folds, &settings, 5)).unwrap()
    };
    let one = with_threads(1);
    assert_eq!(one, with_threads(2));
    assert_eq!(one, with_threads(3));
    // In fold order: fold k is what training fold k alone gives.
    for (k, trained) in one.iter().enumerate() {
        assert_eq!(trained, &train_fold(&folds[k], &settings, 5, k).unwrap());
    }
}

/// A learning rate low enough that the first epochs still predict partly at random.
fn slow_schedule(epochs: usize) -> ScheduleSection {
    ScheduleSection {
        lr: 1e-3,
        ..schedule(epochs)
    }
}

/// Validation labels contradict the training labels, so validation is best before training
/// has learned much and gets worse after.
fn validation_peaks_early() -> FoldData {
    let mut data = clusters(100, 4, 0.3, 4);
    for row in data.valid_rows.clone() {
        labels_mut(&mut data)[row] = (labels(&data)[row] + 1) % 4;
    }
    data
}

#[test]
fn the_best_epochs_weights_are_kept_not_the_last_ones() {
    let data = validation_peaks_early();
    let model = small_model();
    let fold = train(&data, &model, &slow_schedule(20), 8);
    let last = fold.history.last().unwrap();
    let best = &fold.history[fold.best_epoch];
    assert!(best.valid_score > last.valid_score, "{:#?}", fold.history);

    // The stored weights reproduce the best epoch's validation predictions, not the last's.
    let probabilities = predict(
        &fold.weights,
        (&model, TaskKind::Classification),
        &data.modalities,
        &data.valid_rows,
        None,
    )
    .unwrap();
    assert_eq!(probabilities, fold.valid_probabilities);
    assert_eq!(macro_f1_of(&data, &probabilities), best.valid_score);
    // And they are exactly the weights of a run that stops at the best epoch.
    let stopped = train(&data, &model, &slow_schedule(fold.best_epoch + 1), 8);
    assert_eq!(stopped.weights, fold.weights);
}

#[test]
fn early_stopping_waits_patience_epochs_after_the_best() {
    let data = validation_peaks_early();
    let schedule = ScheduleSection {
        patience: Some(3),
        ..slow_schedule(40)
    };
    let fold = train(&data, &small_model(), &schedule, 8);
    assert_eq!(
        fold.history.len(),
        fold.best_epoch + 4,
        "{:#?}",
        fold.history
    );
}

/// Every `model.fusion` choice and the linear model, small.
fn every_design() -> Vec<ModelSection> {
    let mut designs: Vec<ModelSection> = [
        Fusion::Concat,
        Fusion::Early,
        Fusion::Late,
        Fusion::Gated,
        Fusion::Attention,
    ]
    .into_iter()
    .map(|fusion| ModelSection {
        fusion,
        ..small_model()
    })
    .collect();
    designs.push(ModelSection {
        fusion: Fusion::Late,
        late: LateSection {
            training: LateTraining::Separate,
            ..LateSection::default()
        },
        ..small_model()
    });
    designs.push(ModelSection {
        kind: ModelKind::Linear,
        ..small_model()
    });
    designs
}

fn design_name(model: &ModelSection) -> String {
    format!(
        "{:?}/{:?}/{:?}",
        model.kind, model.fusion, model.late.training
    )
}

#[test]
fn a_missing_modality_is_read_from_its_mask_never_from_stored_values() {
    let data = clusters(60, 3, 1.0, 5);
    let lyrics = 1;
    let song = (0..60)
        .find(|&r| data.modalities[lyrics].present[r])
        .unwrap();
    let rows = [song];
    for model in every_design() {
        let name = design_name(&model);
        let fold = train(&data, &model, &schedule(5), 9);
        let classify = |inputs: &[mer::model::ModalityInput]| {
            predict(
                &fold.weights,
                (&model, TaskKind::Classification),
                inputs,
                &rows,
                None,
            )
            .unwrap()
        };
        let base = classify(&data.modalities);
        // Present lyrics count: other values change the prediction ...
        let mut changed = data.modalities.clone();
        let width = changed[lyrics].width;
        changed[lyrics].features[song * width..][..width].fill(3.0);
        assert_ne!(classify(&changed), base, "{name}");
        // ... marked missing, the prediction changes (the mask reaches the net) ...
        let mut missing = data.modalities.clone();
        missing[lyrics].present[song] = false;
        let without = classify(&missing);
        assert_ne!(base, without, "{name}");
        // ... and whatever is stored in the missing row is ignored.
        missing[lyrics].features[song * width..][..width].fill(1e6);
        assert_eq!(classify(&missing), without, "{name}");
    }
}

/// Gated and attention fusions report each song's weight per modality: shares of one that
/// give a missing modality nothing; the other designs learn no such weight.
#[test]
fn gated_and_attention_fusions_report_weights_per_modality() {
    let data = clusters(60, 3, 1.0, 5);
    let rows: Vec<usize> = (0..60).collect();
    for model in every_design() {
        let name = design_name(&model);
        let fold = train(&data, &model, &schedule(3), 9);
        let weights = mer::model::modality_weights(
            &fold.weights,
            (&model, TaskKind::Classification),
            &data.modalities,
            &rows,
        )
        .unwrap();
        let Some(weights) = weights else {
            assert!(
                !matches!(model.fusion, Fusion::Gated | Fusion::Attention)
                    || model.kind == ModelKind::Linear,
                "{name}"
            );
            continue;
        };
        assert!(
            matches!(model.fusion, Fusion::Gated | Fusion::Attention),
            "{name}"
        );
        assert_eq!(weights.len(), 60 * 2);
        for (row, song) in weights.chunks(2).enumerate() {
            assert!(
                (song.iter().sum::<f32>() - 1.0).abs() < 1e-4,
                "{name}: {song:?}"
            );
            if !data.modalities[1].present[row] {
                assert_eq!(song, [1.0, 0.0], "{name}: lyrics missing from song {row}");
            }
        }
    }
}

#[test]
fn every_fusion_and_the_linear_model_learn_a_separable_problem() {
    let data = clusters(100, 4, 0.3, 1);
    for model in every_design() {
        let fold = train(&data, &model, &schedule(30), 7);
        let best = &fold.history[fold.best_epoch];
        assert!(best.valid_score > 0.9, "{}: {best:?}", design_name(&model));
        let probabilities = predict(
            &fold.weights,
            (&model, TaskKind::Classification),
            &data.modalities,
            &data.valid_rows,
            None,
        )
        .unwrap();
        assert_eq!(probabilities, fold.valid_probabilities);
        for row in probabilities.chunks(4) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        }
    }
}

/// A modality ablation keeps songs that have none of a member's modalities: they train and
/// predict with every presence flag off, under modality dropout, mixup and test-time
/// augmentation, and all get the one prediction the head makes from absent flags alone.
#[test]
fn songs_without_any_modality_train_and_all_get_the_same_prediction() {
    let mut data = clusters(60, 3, 1.0, 5);
    let nothing: Vec<usize> = (0..60).filter(|r| r % 3 == 2).collect();
    for input in &mut data.modalities {
        let width = input.width;
        for &r in &nothing {
            input.present[r] = false;
            input.features[r * width..][..width].fill(7.0);
        }
    }
    let model = small_model();
    let augment = AugmentSection {
        modality_dropout: 0.9,
        ..AugmentSection::default()
    };
    let settings = TrainSettings {
        model: &model,
        augment: &augment,
        schedule: &schedule(8),
        task: &TaskSection::default(),
    };
    let fold = train_fold(&data, &settings, 3, 0).unwrap();
    assert!(fold.history.iter().all(|e| e.train_loss.is_finite()));
    let mut rng = mer::rng::RandomStream::new(3, "test/tta");
    let perturbation = mer::model::Perturbation {
        feature_noise: 0.5,
        modality_dropout: 0.5,
        rng: &mut rng,
    };
    let p = predict(
        &fold.weights,
        (&model, TaskKind::Classification),
        &data.modalities,
        &nothing,
        Some(perturbation),
    )
    .unwrap();
    let first = &p[..3];
    assert!(first.iter().all(|v| v.is_finite()));
    for song in p.chunks(3) {
        assert_eq!(
            song, first,
            "nothing differs between songs without modalities"
        );
    }
    let with = predict(
        &fold.weights,
        (&model, TaskKind::Classification),
        &data.modalities,
        &[0, 1],
        None,
    )
    .unwrap();
    assert_ne!(&with[..3], first, "songs with modalities are told apart");
}

#[test]
fn batch_norm_with_a_last_batch_of_one_song_trains_without_nan() {
    // 40 songs, 8 validation: 32 training songs in batches of 31 leave a last batch of 1.
    let data = clusters(40, 2, 0.5, 6);
    assert_eq!(data.train_rows.len(), 32);
    let model = ModelSection {
        norm: NormLayer::Batch,
        ..small_model()
    };
    let schedule = ScheduleSection {
        batch_size: 31,
        ..schedule(5)
    };
    let fold = train(&data, &model, &schedule, 10);
    assert!(
        fold.history
            .iter()
            .all(|e| e.train_loss.is_finite() && e.valid_loss.is_finite())
    );
    assert!(
        fold.weights
            .0
            .iter()
            .all(|t| t.values.iter().all(|v| v.is_finite()))
    );
    assert!(
        fold.weights
            .get("encoder.audio.0.norm.running_var")
            .is_some()
    );
}

#[test]
fn the_recorded_learning_rate_follows_warm_restarts() {
    let data = clusters(40, 2, 0.5, 7);
    let schedule = ScheduleSection {
        t0: 2,
        t_mult: 2,
        eta_min: 1e-4,
        ..schedule(8)
    };
    let fold = train(&data, &small_model(), &schedule, 1);
    let expected = LearningRate::new(&schedule);
    for record in &fold.history {
        assert_eq!(record.learning_rate, expected.at(record.epoch as f64));
    }
    // Restarts at epochs 2 and 6 return to the full rate.
    assert_eq!(fold.history[2].learning_rate, 1e-2);
    assert_eq!(fold.history[6].learning_rate, 1e-2);
    assert!(fold.history[5].learning_rate < fold.history[4].learning_rate);
}

/// Trains `data` for `task` with no label smoothing (regression refuses it) and a mixup that
/// blends targets of every kind.
fn train_task(data: &FoldData, task: &TaskSection, seed: u64) -> TrainedFold {
    train_unsmoothed(data, (&small_model(), task), 40, seed)
}

/// Trains `data` with `model` for `task` and `epochs`, without label smoothing.
fn train_unsmoothed(
    data: &FoldData,
    (model, task): (&ModelSection, &TaskSection),
    epochs: usize,
    seed: u64,
) -> TrainedFold {
    let augment = AugmentSection {
        label_smoothing: 0.0,
        ..AugmentSection::default()
    };
    let settings = TrainSettings {
        model,
        augment: &augment,
        schedule: &schedule(epochs),
        task,
    };
    train_fold(data, &settings, seed, 0).unwrap()
}

fn regression(loss: RegressionLoss) -> TaskSection {
    TaskSection {
        kind: TaskKind::Regression,
        loss,
        ..TaskSection::default()
    }
}

#[test]
fn regression_learns_continuous_targets_with_either_loss() {
    let data = valence_arousal(200, 2);
    let Targets::Values { values, .. } = &data.targets else {
        unreachable!()
    };
    let truth: Vec<f64> = (data.valid_rows.iter())
        .flat_map(|&r| [values[2 * r], values[2 * r + 1]])
        .map(f64::from)
        .collect();
    for loss in [RegressionLoss::Mse, RegressionLoss::Ccc] {
        let fold = train_task(&data, &regression(loss), 3);
        let predicted: Vec<f64> = fold
            .valid_probabilities
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let scores = score_targets(&truth, &predicted, 2);
        for (target, s) in scores.iter().enumerate() {
            assert!(s.ccc > 0.8, "{loss:?}, target {target}: {s:?}");
        }
        // The kept epoch's score is the mean CCC of what predict gives for the same songs.
        let best = &fold.history[fold.best_epoch];
        let mean = (scores[0].ccc + scores[1].ccc) / 2.0;
        assert!(
            (best.valid_score - mean).abs() < 1e-9,
            "{} vs {mean}",
            best.valid_score
        );
        assert!(best.valid_accuracy.is_nan());
        let again = predict(
            &fold.weights,
            (&small_model(), TaskKind::Regression),
            &data.modalities,
            &data.valid_rows,
            None,
        )
        .unwrap();
        assert_eq!(again, fold.valid_probabilities);
    }
}

#[test]
fn multilabel_learns_several_tags_per_song() {
    let data = tagged(200, 4);
    let task = TaskSection {
        kind: TaskKind::Multilabel,
        ..TaskSection::default()
    };
    let fold = train_task(&data, &task, 5);
    let Targets::Tags { carried, .. } = &data.targets else {
        unreachable!()
    };
    for tag in 0..3 {
        let truth: Vec<bool> = data
            .valid_rows
            .iter()
            .map(|&r| carried[3 * r + tag])
            .collect();
        let scores: Vec<f32> = fold
            .valid_probabilities
            .iter()
            .skip(tag)
            .step_by(3)
            .copied()
            .collect();
        assert!(scores.iter().all(|p| (0.0..=1.0).contains(p)));
        let auc = roc_auc(&truth, &scores);
        assert!(auc > 0.95, "tag {tag}: ROC-AUC {auc}");
    }
    // Tags are independent sigmoids, not a distribution: a song of class 1 carries two.
    let class_one = data
        .valid_rows
        .iter()
        .position(|&r| labels_of_tagged(r) == 1)
        .unwrap();
    let row = &fold.valid_probabilities[3 * class_one..][..3];
    assert!(row[0] > 0.5 && row[1] > 0.5 && row[2] < 0.5, "{row:?}");
}

/// The class `tagged` built song `row`'s tags from (its rows cycle through the 4 classes).
fn labels_of_tagged(row: usize) -> usize {
    row % 4
}

#[test]
fn targets_of_another_kind_than_the_task_are_refused() {
    let data = valence_arousal(40, 1);
    let model = small_model();
    let augment = AugmentSection::default();
    let settings = TrainSettings {
        model: &model,
        augment: &augment,
        schedule: &schedule(2),
        task: &TaskSection::default(),
    };
    let error = train_fold(&data, &settings, 1, 0).unwrap_err();
    assert!(
        matches!(&error, ModelError::InconsistentData(m) if m.contains("Regression targets")),
        "{error}"
    );
}

/// The audio branch's tensors after `epochs` passes from `initial`, late fusion trained as
/// `training`, on `data`.
fn audio_branch_after(
    data: &FoldData,
    (model, initial): (&ModelSection, &mer::model::NamedTensors),
    epochs: usize,
) -> Vec<NamedTensor> {
    let (augment, schedule) = (AugmentSection::default(), schedule(epochs));
    let settings = TrainSettings {
        model,
        augment: &augment,
        schedule: &schedule,
        task: &TaskSection::default(),
    };
    let orders = vec![data.train_rows.clone(); epochs];
    let (_, weights) = mer::model::train_in_order(data, &settings, 5, 0, initial, &orders).unwrap();
    (weights.0.into_iter())
        .filter(|t| t.name.split('.').nth(1) == Some("audio"))
        .collect()
}

#[test]
fn separately_trained_late_branches_learn_from_their_own_modality_alone() {
    let data = clusters(60, 3, 1.0, 13);
    let mut scrambled = data.clone();
    let lyrics = &mut scrambled.modalities[1];
    lyrics
        .features
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = (i % 7) as f32 - 3.0);
    for (training, independent) in [(LateTraining::Separate, true), (LateTraining::Joint, false)] {
        let model = ModelSection {
            fusion: Fusion::Late,
            late: LateSection {
                training,
                ..LateSection::default()
            },
            ..small_model()
        };
        let initial = train(&data, &model, &schedule(1), 9).weights;
        let audio = audio_branch_after(&data, (&model, &initial), 3);
        assert!(!audio.is_empty());
        let with_other_lyrics = audio_branch_after(&scrambled, (&model, &initial), 3);
        // Trained separately, the audio branch never sees the lyrics (augmentation draws do
        // not depend on values); trained jointly, it learns around them.
        assert_eq!(audio == with_other_lyrics, independent, "{training:?}");
    }
}

/// A late model with stacking weights among its tensors predicts what `model::stacking`
/// computes from the branches' own outputs, for every kind; a song's missing modality plays no
/// part.
#[test]
fn stacked_late_predictions_are_the_stacking_combination_of_the_branches() {
    let model = ModelSection {
        fusion: Fusion::Late,
        ..small_model()
    };
    let cases = [
        (clusters(60, 3, 1.0, 21), TaskSection::default()),
        (valence_arousal(80, 22), regression(RegressionLoss::Mse)),
        (
            tagged(80, 23),
            TaskSection {
                kind: TaskKind::Multilabel,
                ..TaskSection::default()
            },
        ),
    ];
    for (data, task) in cases {
        let fold = train_unsmoothed(&data, (&model, &task), 3, 4);
        let rows = &data.valid_rows;
        let kind = (&model, task.kind);
        let branches = branch_outputs(&fold.weights, kind, &data.modalities, rows)
            .unwrap()
            .expect("a late model has branches");
        let weights: Vec<f64> = (0..branches.len()).map(|m| 0.4 + 0.5 * m as f64).collect();
        let present: Vec<Vec<f32>> = (data.modalities.iter())
            .map(|m| {
                rows.iter()
                    .map(|&r| f32::from(u8::from(m.present[r])))
                    .collect()
            })
            .collect();
        let width = data.targets.width();
        let targets = vec![0.0; rows.len() * width];
        let expected = BranchPredictions {
            outputs: &branches,
            present: &present,
            targets: &targets,
            width,
            task: task.kind,
        }
        .combine(&weights);
        let mut stacked = fold.weights.clone();
        stacked.0.push(NamedTensor {
            name: LATE_WEIGHTS.into(),
            shape: vec![weights.len()],
            values: weights.iter().map(|&w| w as f32).collect(),
        });
        let predicted = predict(&stacked, kind, &data.modalities, rows, None).unwrap();
        assert_eq!(predicted.len(), expected.len());
        for (p, e) in predicted.iter().zip(&expected) {
            assert!((p - e).abs() < 1e-5, "{:?}: {p} vs {e}", task.kind);
        }
        // Without the weights, the same model averages: a different prediction.
        let plain = predict(&fold.weights, kind, &data.modalities, rows, None).unwrap();
        assert_ne!(plain, predicted, "{:?}", task.kind);
        // Whatever a missing modality's row holds changes nothing.
        let mut missing = data.modalities.clone();
        let (song, width) = (rows[0], missing[1].width);
        missing[1].present[song] = false;
        let without = predict(&stacked, kind, &missing, rows, None).unwrap();
        assert_ne!(without, predicted, "{:?}", task.kind);
        missing[1].features[song * width..][..width].fill(1e6);
        let filled = predict(&stacked, kind, &missing, rows, None).unwrap();
        assert_eq!(filled, without, "{:?}", task.kind);
    }
}
