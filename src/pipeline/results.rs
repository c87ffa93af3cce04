//! A run's results for the report, read from its `evaluate` artifacts (one per seed): every
//! model scored on the test set (all songs, and for the headline model songs with every
//! selected modality, with some, and with none), with bootstrap intervals; each fold model on its own
//! validation fold; the pooled out-of-fold (`cv`) predictions; the training curves.

use crate::cache::{Artifact, ArtifactStore};
use crate::eval::{Metrics, bootstrap_intervals, score};
use crate::modality::{Modality, ModalityMask};
use crate::results::{
    EpochPoint, FoldCurve, Model, ModelScore, Prediction, RunResults, SeedResults, SongGroup, Split,
};
use crate::rng::RandomStream;
use crate::spec::ExperimentSpec;

use super::error::PipelineError;
use super::graph::StageGraph;
use super::stages::evaluate::{self, EvaluateArtifact, OutOfFold, PooledHistory, TestPredictions};

/// Reads the evaluate artifact of every seed of `graph` from `store` (after a successful run)
/// and builds the report's results.
pub fn collect_results(
    spec: &ExperimentSpec,
    classes: &[String],
    graph: &StageGraph,
    store: &ArtifactStore,
) -> Result<RunResults, PipelineError> {
    run_results(spec, classes, &evaluations(graph, store)?)
}

/// The evaluate artifact of every seed of `graph`, from `store`, as `(seed, artifact)`.
pub(super) fn evaluations(
    graph: &StageGraph,
    store: &ArtifactStore,
) -> Result<Vec<(u64, Artifact)>, PipelineError> {
    let mut evaluations = Vec::new();
    for node in graph
        .nodes
        .iter()
        .filter(|n| n.id.kind.name == evaluate::NAME)
    {
        let artifact = store
            .get(&node.key)?
            .hit()
            .ok_or_else(|| PipelineError::MissingArray {
                stage: node.id.to_string(),
                key: node.key.short(),
                array: "(the whole entry)".into(),
            })?;
        evaluations.push((node.id.seed_value().unwrap_or_default(), artifact));
    }
    Ok(evaluations)
}

/// Builds the report's results from `(seed, evaluate artifact)` pairs in the spec's seed order.
pub fn run_results(
    spec: &ExperimentSpec,
    classes: &[String],
    evaluations: &[(u64, Artifact)],
) -> Result<RunResults, PipelineError> {
    let seeds = evaluations
        .iter()
        .map(|(seed, artifact)| seed_results(spec, classes.len(), *seed, artifact))
        .collect::<Result<_, _>>()?;
    Ok(RunResults {
        classes: classes.to_vec(),
        modalities: spec.selected(),
        seeds,
    })
}

fn seed_results(
    spec: &ExperimentSpec,
    classes: usize,
    seed: u64,
    evaluation: &Artifact,
) -> Result<SeedResults, PipelineError> {
    let EvaluateArtifact {
        test, oof, history, ..
    } = EvaluateArtifact::read(evaluation, (classes, classes))?;
    let (truth, n) = (&test.labels, test.labels.len());
    let (models, probabilities, ids) = (&test.models, &test.probabilities, &test.ids);
    let masks = presence(&test.modalities, &test.present, n);
    let selected = spec.selected();
    let mut scores = Vec::new();
    let mut predictions = Vec::new();
    for (m, &model) in models.iter().enumerate() {
        let p = &probabilities[m * n * classes..(m + 1) * n * classes];
        let mut stream = RandomStream::new(seed, &format!("evaluate/bootstrap/{model}"));
        scores.push(ModelScore {
            model,
            split: Split::Test,
            group: SongGroup::All,
            metrics: score(truth, p, classes),
            intervals: Some(bootstrap_intervals(
                truth,
                p,
                classes,
                spec.eval.bootstrap,
                &mut stream,
            )),
        });
        if model == Model::HEADLINE {
            scores.extend(availability_groups(
                model, truth, p, classes, &masks, selected,
            ));
            predictions = (0..n)
                .map(|i| Prediction {
                    id: ids[i].clone(),
                    truth: truth[i],
                    probabilities: p[i * classes..(i + 1) * classes].to_vec(),
                    modalities: masks[i],
                })
                .collect();
        }
    }
    scores.extend(validation_scores(&oof, classes));
    Ok(SeedResults {
        seed,
        scores,
        curves: curves(&history),
        headline: Model::HEADLINE,
        predictions,
        modality_weights: mean_modality_weights(&test),
    })
}

/// The fusion's mean weight per modality over the test songs that have every selected
/// modality (where the modalities compete), or over all test songs when none has them all.
pub(super) fn mean_modality_weights(test: &TestPredictions) -> Option<Vec<f64>> {
    let weights = test.modality_weights.as_ref()?;
    let count = test.modalities.len();
    let songs: Vec<usize> = (0..test.ids.len()).collect();
    let complete: Vec<usize> = (songs.iter().copied())
        .filter(|&i| {
            test.present[i * count..(i + 1) * count]
                .iter()
                .all(|&p| p != 0)
        })
        .collect();
    let songs = if complete.is_empty() { songs } else { complete };
    Some(
        (0..count)
            .map(|m| {
                let total: f64 = songs
                    .iter()
                    .map(|&i| f64::from(weights[i * count + m]))
                    .sum();
                total / songs.len().max(1) as f64
            })
            .collect(),
    )
}

/// Each test song's modalities, from `present` [songs, modalities] over `names`.
pub(super) fn presence(names: &[String], flags: &[u8], n: usize) -> Vec<ModalityMask> {
    let modalities: Vec<Option<Modality>> = names
        .iter()
        .map(|name| Modality::ALL.into_iter().find(|m| m.name() == name))
        .collect();
    (0..n)
        .map(|i| {
            modalities
                .iter()
                .enumerate()
                .filter(|&(j, _)| flags[i * names.len() + j] != 0)
                .filter_map(|(_, m)| *m)
                .collect()
        })
        .collect()
}

/// The headline model on songs with every selected modality, with some of them, and with
/// none (see [`SongGroup`]); a group without songs is left out.
fn availability_groups(
    model: Model,
    truth: &[usize],
    probabilities: &[f32],
    classes: usize,
    masks: &[ModalityMask],
    selected: ModalityMask,
) -> Vec<ModelScore> {
    let group_of = |mask: ModalityMask| availability_group(mask, selected);
    [
        SongGroup::AllModalities,
        SongGroup::Partial,
        SongGroup::NoModality,
    ]
    .into_iter()
    .filter_map(|group| {
        let rows: Vec<usize> = (0..truth.len())
            .filter(|&i| group_of(masks[i]) == group)
            .collect();
        if rows.is_empty() {
            return None;
        }
        Some(ModelScore {
            model,
            split: Split::Test,
            group,
            metrics: score_rows(truth, probabilities, classes, &rows),
            intervals: None,
        })
    })
    .collect()
}

/// The song group of a song with `mask` of the `selected` modalities.
pub(super) fn availability_group(mask: ModalityMask, selected: ModalityMask) -> SongGroup {
    if mask == selected {
        SongGroup::AllModalities
    } else if mask.is_empty() {
        SongGroup::NoModality
    } else {
        SongGroup::Partial
    }
}

/// Scores only `rows` of `truth` and `probabilities` (songs x `classes`).
fn score_rows(truth: &[usize], probabilities: &[f32], classes: usize, rows: &[usize]) -> Metrics {
    let t: Vec<usize> = rows.iter().map(|&i| truth[i]).collect();
    let p: Vec<f32> = rows
        .iter()
        .flat_map(|&i| {
            probabilities[i * classes..(i + 1) * classes]
                .iter()
                .copied()
        })
        .collect();
    score(&t, &p, classes)
}

/// Each fold model on its validation fold, and all folds' validation predictions pooled
/// (`out-of-fold` on split `cv`).
fn validation_scores(oof: &OutOfFold, classes: usize) -> Vec<ModelScore> {
    let (labels, folds, probabilities) = (&oof.labels, &oof.fold, &oof.probabilities);
    let fold_count = folds.iter().max().map_or(0, |&f| f as usize + 1);
    let mut scores = Vec::new();
    for fold in 0..fold_count {
        let rows: Vec<usize> = (0..labels.len())
            .filter(|&i| folds[i] == fold as i64)
            .collect();
        scores.push(ModelScore {
            model: Model::Fold(fold),
            split: Split::Validation,
            group: SongGroup::All,
            metrics: score_rows(labels, probabilities, classes, &rows),
            intervals: None,
        });
    }
    scores.push(ModelScore {
        model: Model::OutOfFold,
        split: Split::Cv,
        group: SongGroup::All,
        metrics: score(labels, probabilities, classes),
        intervals: None,
    });
    scores
}

pub(super) fn curves(history: &PooledHistory) -> Vec<FoldCurve> {
    let (fold, epochs) = (&history.fold, &history.epochs);
    let [train_loss, valid_loss, valid_accuracy, valid_macro_f1, lr] = &epochs.columns;
    history
        .best_epoch
        .iter()
        .enumerate()
        .map(|(k, &best_epoch)| FoldCurve {
            fold: k,
            // Epochs are 0-based in training records, 1-based in reports.
            best_epoch: best_epoch + 1,
            epochs: (0..fold.len())
                .filter(|&i| fold[i] == k as i64)
                .map(|i| EpochPoint {
                    epoch: epochs.epoch[i] as usize + 1,
                    train_loss: train_loss[i],
                    valid_loss: valid_loss[i],
                    valid_accuracy: valid_accuracy[i],
                    valid_macro_f1: valid_macro_f1[i],
                    lr: lr[i],
                })
                .collect(),
        })
        .collect()
}
