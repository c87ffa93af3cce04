//! Training step by step against PyTorch: from the same initial weights, over the same batch
//! orders, with every random augmentation off, mer's per-step losses and final weights match
//! those `scripts/parity/train_steps_reference.py` computed with `torch.optim.AdamW` and
//! `scripts/train_reference.py`'s network (fixture `tests/fixtures/model/train_steps.json`).
//! This pins the forward pass, the loss, the gradients, AdamW (epsilon placement, bias
//! correction, decay of every parameter), the warm-restart schedule per step and per epoch,
//! batch norm's running statistics, label smoothing and class weights at once.
//!
//! `MER_TRAIN_STEPS_FIXTURE=PATH` checks another file the script wrote (e.g. with more rows
//! and epochs, to look for drift over hundreds of steps).

use mer::modality::Modality;
use mer::model::{FoldData, ModalityInput, NamedTensor, NamedTensors, Targets, TrainSettings};
use mer::spec::{AugmentSection, ModelSection, ScheduleSection, TaskSection};
use serde::Deserialize;

/// Float32 training reproduces PyTorch's to rounding, which grows slowly over the steps (the
/// largest gaps seen on the committed fixture: see the asserts' messages); these bounds are
/// far below any real difference in the recipe, which shows in the second decimal of a loss.
const LOSS_TOLERANCE: f32 = 2e-5;
const WEIGHT_TOLERANCE: f32 = 2e-5;

#[derive(Deserialize)]
struct Fixture {
    data: Data,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Data {
    classes: usize,
    labels: Vec<usize>,
    train_rows: Vec<usize>,
    valid_rows: Vec<usize>,
    modalities: Vec<ModalityColumns>,
}

#[derive(Deserialize)]
struct ModalityColumns {
    name: Modality,
    width: usize,
    present: Vec<bool>,
    features: Vec<f32>,
}

#[derive(Deserialize)]
struct Settings {
    model: ModelSection,
    augment: AugmentSection,
    schedule: ScheduleSection,
}

#[derive(Deserialize)]
struct Tensor {
    name: String,
    shape: Vec<usize>,
    values: Vec<f32>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    seed: u64,
    settings: Settings,
    initial_weights: Vec<Tensor>,
    orders: Vec<Vec<usize>>,
    losses: Vec<f32>,
    final_weights: Vec<Tensor>,
}

fn fixture() -> Fixture {
    let path = std::env::var("MER_TRAIN_STEPS_FIXTURE").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/model/train_steps.json"
        )
        .into()
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run scripts/parity/train_steps_reference.py"));
    serde_json::from_str(&text).expect("the fixture is the script's JSON")
}

fn named(tensors: Vec<Tensor>) -> NamedTensors {
    NamedTensors(
        tensors
            .into_iter()
            .map(|t| NamedTensor {
                name: t.name,
                shape: t.shape,
                values: t.values,
            })
            .collect(),
    )
}

fn fold_data(data: &Data) -> FoldData {
    FoldData {
        targets: Targets::Classes {
            count: data.classes,
            labels: data.labels.clone(),
        },
        train_rows: data.train_rows.clone(),
        valid_rows: data.valid_rows.clone(),
        modalities: (data.modalities.iter())
            .map(|m| ModalityInput {
                modality: m.name,
                width: m.width,
                features: m.features.clone(),
                present: m.present.clone(),
            })
            .collect(),
    }
}

/// Largest absolute difference, relative to the larger magnitude where that exceeds 1.
fn largest_gap(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    (a.iter().zip(b))
        .map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()).max(1.0))
        .fold(0.0, f32::max)
}

#[test]
fn training_steps_match_pytorch() {
    let fixture = fixture();
    let data = fold_data(&fixture.data);
    assert!(!fixture.cases.is_empty());
    for case in fixture.cases {
        let settings = TrainSettings {
            model: &case.settings.model,
            augment: &case.settings.augment,
            schedule: &case.settings.schedule,
            task: &TaskSection::default(),
        };
        let initial = named(case.initial_weights);
        let (losses, weights) =
            mer::model::train_in_order(&data, &settings, case.seed, 0, &initial, &case.orders)
                .unwrap_or_else(|e| panic!("case {}: {e}", case.name));
        assert_eq!(losses.len(), case.losses.len(), "case {}", case.name);
        for (step, (ours, theirs)) in losses.iter().zip(&case.losses).enumerate() {
            assert!(
                largest_gap(&[*ours], &[*theirs]) <= LOSS_TOLERANCE,
                "case {}, step {step}: loss {ours} vs PyTorch {theirs}\nall: {losses:?}\nPyTorch: {:?}",
                case.name,
                case.losses
            );
        }
        let expected = named(case.final_weights);
        assert_eq!(weights.0.len(), expected.0.len(), "case {}", case.name);
        let mut worst = (0.0f32, String::new());
        for theirs in &expected.0 {
            let ours = weights
                .get(&theirs.name)
                .unwrap_or_else(|| panic!("case {}: no tensor {}", case.name, theirs.name));
            assert_eq!(ours.shape, theirs.shape, "{}", theirs.name);
            let gap = largest_gap(&ours.values, &theirs.values);
            if gap > worst.0 {
                worst = (gap, theirs.name.clone());
            }
        }
        eprintln!(
            "case {}: largest loss gap {:.2e}, largest weight gap {:.2e} ({})",
            case.name,
            largest_gap(&losses, &case.losses),
            worst.0,
            worst.1
        );
        assert!(
            worst.0 <= WEIGHT_TOLERANCE,
            "case {}: final weights differ from PyTorch's by {:.2e} in {}",
            case.name,
            worst.0,
            worst.1
        );
    }
}
