//! The `train[k]@S` stage: the fusion model trained on fold k under seed S, from the split and
//! fold k's normalized features, and its artifact.
//!
//! Rows are the experiment's songs in split order. A modality a song lacks is a zero row with
//! its presence flag off, never a silent zero.
//!
//! | array                 | type, shape            | what                                        |
//! |-----------------------|------------------------|---------------------------------------------|
//! | `weight_names`        | `strings [tensors]`    | the kept weights' tensor names               |
//! | `weight.<name>`       | `f32 [tensor shape]`   | each tensor                                  |
//! | `history.epoch`       | `i64 [epochs]`         | 0-based epochs that ran                      |
//! | `history.<column>`    | `f64 [epochs]`         | [`HISTORY`]: losses, accuracy, macro-F1, lr  |
//! | `best_epoch`          | `i64 [1]`              | the epoch whose weights were kept            |
//! | `valid_ids`           | `strings [valid]`      | the fold's validation songs                  |
//! | `valid_probabilities` | `f32 [valid, outputs]` | their outputs under the kept weights         |

use serde::Serialize;

use crate::cache::{Artifact, StageInputs};
use crate::dataset::targets::SongTargets;
use crate::model::{
    EpochRecord, FoldData, ModalityInput, ModelError, NamedTensor, NamedTensors, Targets,
    TrainSettings, train_fold,
};
use crate::pipeline::error::PipelineError;
use crate::pipeline::stage_id::StageKind;
use crate::spec::{
    AugmentSection, ExperimentSpec, LateCombine, ModelSection, ScheduleSection, TaskSection,
};

use super::mock;
use super::normalize::{self, NormalizedView};
use super::protocol::{Artifacts, Compute, Stage, StageContext, Upstream, is_real, key_config};
use super::split::{self, SplitArtifact};
use super::view::{f32_array, f64_array, first, i64_array, missing, sized, strings};

/// The stage's name.
pub(crate) const NAME: &str = "train";
/// The fusion model trained on fold k (1 stored the fold's class counts as a placeholder).
pub(crate) const VERSION: u32 = 2;

/// Everything training reads: its key slice.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TrainParams {
    model: ModelSection,
    augment: AugmentSection,
    schedule: ScheduleSection,
    /// The task kind and loss; absent from the key for a classification (keys stay as they
    /// were).
    #[serde(skip_serializing_if = "TaskSection::is_default")]
    task: TaskSection,
    pub(crate) fold: usize,
    pub(crate) seed: u64,
    /// Mock mode ([`Compute::Mock`]); absent from real keys.
    #[serde(skip_serializing_if = "is_real")]
    mock: bool,
}

impl TrainParams {
    pub(crate) fn new(spec: &ExperimentSpec, fold: usize, seed: u64, compute: Compute) -> Self {
        // Late fusion's combination is chosen after training (by the evaluate stage), so
        // changing it retrains nothing.
        let mut model = spec.model.clone();
        model.late.combine = LateCombine::default();
        TrainParams {
            model,
            augment: spec.augment.clone(),
            schedule: spec.schedule.clone(),
            task: spec.task.clone(),
            fold,
            seed,
            mock: compute.is_mock(),
        }
    }
}

/// One fold's training.
#[derive(Debug, Clone)]
pub(crate) struct Train {
    pub(crate) params: TrainParams,
    /// Labels and which songs train and validate fold k.
    pub(crate) split: Upstream,
    /// Fold k's normalized features.
    pub(crate) normalize: Upstream,
}

impl Stage for Train {
    fn kind(&self) -> StageKind {
        StageKind::per_fold(NAME, self.params.fold)
    }

    fn inputs(&self) -> StageInputs {
        StageInputs::new(NAME, VERSION)
            .config(key_config(&self.params))
            .upstream(split::NAME, self.split.key)
            .upstream(normalize::NAME, self.normalize.key)
    }

    fn upstream(&self) -> Vec<usize> {
        vec![self.split.index, self.normalize.index]
    }

    /// Trains fold k under seed S (or, in mock mode, makes up its artifact).
    fn compute(
        &self,
        artifact: &mut Artifact,
        upstream: Artifacts<'_>,
        cx: &StageContext<'_>,
    ) -> Result<(), PipelineError> {
        let (classes, outputs) = (cx.classes(), cx.outputs());
        let TrainParams { fold, seed, .. } = self.params;
        let split = SplitArtifact::read(upstream.of(&self.split), classes)?;
        let data = FoldData {
            modalities: model_inputs(&split, upstream.of(&self.normalize))?,
            targets: fold_targets(&split, &cx.data.targets, classes)?,
            train_rows: split.training_rows(fold),
            valid_rows: split.validation_rows(fold),
        };
        let valid_ids = data.valid_rows.iter().map(|&r| split.ids[r].clone());
        let valid_ids: Vec<String> = valid_ids.collect();
        let trained = if self.params.mock {
            mock::train(seed, fold, valid_ids.len(), outputs)
        } else {
            let settings = TrainSettings {
                model: &self.params.model,
                augment: &self.params.augment,
                schedule: &self.params.schedule,
                task: &self.params.task,
            };
            train_fold(&data, &settings, seed, fold)?
        };
        TrainArtifact {
            weights: trained.weights,
            history: FoldHistory::of(&trained.history),
            best_epoch: trained.best_epoch as i64,
            valid_ids,
            valid_probabilities: trained.valid_probabilities,
        }
        .write(artifact, outputs);
        Ok(())
    }
}

/// What the model trains towards, row for row with the split: the split's labels for a
/// classification, else the experiment's targets or tags, which are in the same song order
/// (the split key holds their digest).
pub(crate) fn fold_targets(
    split: &SplitArtifact,
    targets: &SongTargets,
    classes: usize,
) -> Result<Targets, PipelineError> {
    let targets = match targets {
        SongTargets::Classes => Targets::Classes {
            count: classes,
            labels: split.labels.clone(),
        },
        SongTargets::Values { names, values } => Targets::Values {
            count: names.len(),
            values: values.clone(),
        },
        SongTargets::Tags(tags) => Targets::Tags {
            count: tags.vocabulary.len(),
            carried: tags.carried.clone(),
        },
    };
    if targets.rows() != split.ids.len() {
        return Err(PipelineError::Model(ModelError::InconsistentData(format!(
            "{} songs in the split, targets for {}",
            split.ids.len(),
            targets.rows()
        ))));
    }
    Ok(targets)
}

/// The selected modalities' normalized features of one fold, aligned to the split's rows.
pub(crate) fn model_inputs(
    split: &SplitArtifact,
    normalize: &Artifact,
) -> Result<Vec<ModalityInput>, PipelineError> {
    let row_of: std::collections::HashMap<&str, usize> = split
        .ids
        .iter()
        .enumerate()
        .map(|(r, id)| (id.as_str(), r))
        .collect();
    let views = NormalizedView::read_all(normalize)?;
    Ok(views
        .into_iter()
        .map(|view| {
            let width = view.width;
            let mut features = vec![0.0f32; split.ids.len() * width];
            let mut present = vec![false; split.ids.len()];
            for (i, id) in view.ids.iter().enumerate() {
                if let Some(&row) = row_of.get(id.as_str()) {
                    features[row * width..(row + 1) * width]
                        .copy_from_slice(&view.features[i * width..(i + 1) * width]);
                    present[row] = true;
                }
            }
            ModalityInput {
                modality: view.modality,
                width,
                features,
                present,
            }
        })
        .collect())
}

/// Columns of `history.*` arrays, besides `history.epoch`.
pub(crate) const HISTORY: [&str; 5] = [
    "train_loss",
    "valid_loss",
    "valid_accuracy",
    "valid_macro_f1",
    "learning_rate",
];

/// The artifact name of history column `column`, e.g. `history.train_loss`.
pub(crate) fn history_name(column: &str) -> String {
    format!("history.{column}")
}

pub(crate) const HISTORY_EPOCH: &str = "history.epoch";
pub(crate) const BEST_EPOCH: &str = "best_epoch";
const WEIGHT_NAMES: &str = "weight_names";
const VALID_IDS: &str = "valid_ids";
const VALID_PROBABILITIES: &str = "valid_probabilities";

/// The per-epoch history of one fold, by column.
#[derive(Debug, Clone, Default)]
pub(crate) struct FoldHistory {
    /// 0-based epochs.
    pub(crate) epoch: Vec<i64>,
    /// One column per [`HISTORY`] entry, one value per epoch.
    pub(crate) columns: [Vec<f64>; 5],
}

impl FoldHistory {
    fn of(records: &[EpochRecord]) -> Self {
        let column = |value: fn(&EpochRecord) -> f64| records.iter().map(value).collect();
        FoldHistory {
            epoch: records.iter().map(|e| e.epoch as i64).collect(),
            columns: [
                column(|e| e.train_loss),
                column(|e| e.valid_loss),
                column(|e| e.valid_accuracy),
                // The selection score, which for a classifier is the macro-F1.
                column(|e| e.valid_score),
                column(|e| e.learning_rate),
            ],
        }
    }

    fn valid_macro_f1(&self) -> &[f64] {
        &self.columns[3]
    }
}

/// The train artifact (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct TrainArtifact {
    pub(crate) weights: NamedTensors,
    pub(crate) history: FoldHistory,
    pub(crate) best_epoch: i64,
    pub(crate) valid_ids: Vec<String>,
    /// `valid_ids.len() x outputs`, row-major.
    pub(crate) valid_probabilities: Vec<f32>,
}

impl TrainArtifact {
    fn write(self, artifact: &mut Artifact, outputs: usize) {
        write_weights(artifact, self.weights);
        let epochs = self.history.epoch.len();
        artifact.put_i64(HISTORY_EPOCH, &[epochs], self.history.epoch);
        for (column, values) in HISTORY.iter().zip(self.history.columns) {
            artifact.put_f64(&history_name(column), &[epochs], values);
        }
        let rows = self.valid_ids.len();
        artifact
            .put_i64(BEST_EPOCH, &[1], vec![self.best_epoch])
            .put_strings(VALID_IDS, self.valid_ids)
            .put_f32(
                VALID_PROBABILITIES,
                &[rows, outputs],
                self.valid_probabilities,
            );
    }

    /// Every array, checked for size against each other and `outputs`.
    pub(crate) fn read(train: &Artifact, classes: usize) -> Result<Self, PipelineError> {
        let weights = read_weights(train)?;
        let best_epoch = first(train, BEST_EPOCH, i64_array(train, BEST_EPOCH)?)?;
        let epoch = i64_array(train, HISTORY_EPOCH)?.to_vec();
        let mut columns: [Vec<f64>; 5] = Default::default();
        for (column, out) in HISTORY.iter().zip(&mut columns) {
            let name = history_name(column);
            *out = sized(train, &name, f64_array(train, &name)?, epoch.len())?.to_vec();
        }
        let valid_ids = strings(train, VALID_IDS)?.to_vec();
        let valid_probabilities = sized(
            train,
            VALID_PROBABILITIES,
            f32_array(train, VALID_PROBABILITIES)?,
            valid_ids.len() * classes,
        )?
        .to_vec();
        Ok(TrainArtifact {
            weights,
            history: FoldHistory { epoch, columns },
            best_epoch,
            valid_ids,
            valid_probabilities,
        })
    }

    /// The fold's validation macro-F1 at its kept epoch.
    pub(crate) fn best_valid_macro_f1(&self) -> f64 {
        self.history
            .epoch
            .iter()
            .position(|&e| e == self.best_epoch)
            .map_or(0.0, |i| self.history.valid_macro_f1()[i])
    }
}

/// Writes `weights` as `weight_names` and one `weight.<name>` array per tensor: in the train
/// artifact and in model bundles alike.
pub(crate) fn write_weights(artifact: &mut Artifact, weights: NamedTensors) {
    let names: Vec<String> = weights.0.iter().map(|t| t.name.clone()).collect();
    for tensor in weights.0 {
        artifact.put_f32(
            &format!("weight.{}", tensor.name),
            &tensor.shape,
            tensor.values,
        );
    }
    artifact.put_strings(WEIGHT_NAMES, names);
}

/// The tensors [`write_weights`] wrote.
pub(crate) fn read_weights(train: &Artifact) -> Result<NamedTensors, PipelineError> {
    strings(train, WEIGHT_NAMES)?
        .iter()
        .map(|name| {
            let array_name = format!("weight.{name}");
            let array = train
                .array(&array_name)
                .ok_or_else(|| missing(train, &array_name))?;
            Ok(NamedTensor {
                name: name.clone(),
                shape: array.shape.clone(),
                values: array
                    .as_f32()
                    .ok_or_else(|| missing(train, &array_name))?
                    .to_vec(),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(NamedTensors)
}
