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

use super::stages::{
    f32_array, f64_array, i64_array, indices_below, malformed, missing, sized, strings,
};
use super::{PipelineError, StageGraph, StageKind};

/// Reads the evaluate artifact of every seed of `graph` from `store` (after a successful run)
/// and builds the report's results.
pub fn collect_results(
    spec: &ExperimentSpec,
    classes: &[String],
    graph: &StageGraph,
    store: &ArtifactStore,
) -> Result<RunResults, PipelineError> {
    let mut evaluations = Vec::new();
    for node in graph.nodes.iter().filter(|n| n.kind == StageKind::Evaluate) {
        let artifact = store
            .get(&node.key)?
            .hit()
            .ok_or_else(|| PipelineError::MissingArray {
                stage: node.instance.clone(),
                key: node.key.short(),
                array: "(the whole entry)".into(),
            })?;
        evaluations.push((node.seed.unwrap_or_default(), artifact));
    }
    run_results(spec, classes, &evaluations)
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
    let truth = indices_below(
        evaluation,
        "test_labels",
        i64_array(evaluation, "test_labels")?,
        classes,
    )?;
    let n = truth.len();
    let models = models(evaluation)?;
    let probabilities = sized(
        evaluation,
        "test_probabilities",
        f32_array(evaluation, "test_probabilities")?,
        models.len() * n * classes,
    )?;
    let ids = sized(evaluation, "test_ids", strings(evaluation, "test_ids")?, n)?;
    let masks = presence(evaluation, n)?;
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
            metrics: score(&truth, p, classes),
            intervals: Some(bootstrap_intervals(
                &truth,
                p,
                classes,
                spec.eval.bootstrap,
                &mut stream,
            )),
        });
        if model == Model::HEADLINE {
            scores.extend(availability_groups(
                model, &truth, p, classes, &masks, selected,
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
    scores.extend(validation_scores(evaluation, classes)?);
    Ok(SeedResults {
        seed,
        scores,
        curves: curves(evaluation)?,
        headline: Model::HEADLINE,
        predictions,
    })
}

/// The models the evaluate stage scored, in the order of its `test_probabilities`.
fn models(evaluation: &Artifact) -> Result<Vec<Model>, PipelineError> {
    strings(evaluation, "models")?
        .iter()
        .map(|name| {
            name.parse().map_err(|e: crate::results::UnknownName| {
                malformed(evaluation, format!("array `models`: {e}"))
            })
        })
        .collect()
}

/// Each test song's modalities, from `test_present` [songs, modalities].
fn presence(evaluation: &Artifact, n: usize) -> Result<Vec<ModalityMask>, PipelineError> {
    let names = strings(evaluation, "modalities")?;
    let flags = evaluation
        .array("test_present")
        .and_then(|a| a.as_u8())
        .ok_or_else(|| missing(evaluation, "test_present"))?;
    let flags = sized(evaluation, "test_present", flags, n * names.len())?;
    let modalities: Vec<Option<Modality>> = names
        .iter()
        .map(|name| Modality::ALL.into_iter().find(|m| m.name() == name))
        .collect();
    Ok((0..n)
        .map(|i| {
            modalities
                .iter()
                .enumerate()
                .filter(|&(j, _)| flags[i * names.len() + j] != 0)
                .filter_map(|(_, m)| *m)
                .collect()
        })
        .collect())
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
    let group_of = |mask: ModalityMask| {
        if mask == selected {
            SongGroup::AllModalities
        } else if mask.is_empty() {
            SongGroup::NoModality
        } else {
            SongGroup::Partial
        }
    };
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
fn validation_scores(
    evaluation: &Artifact,
    classes: usize,
) -> Result<Vec<ModelScore>, PipelineError> {
    let labels = indices_below(
        evaluation,
        "oof_labels",
        i64_array(evaluation, "oof_labels")?,
        classes,
    )?;
    let folds = sized(
        evaluation,
        "oof_fold",
        i64_array(evaluation, "oof_fold")?,
        labels.len(),
    )?;
    let probabilities = sized(
        evaluation,
        "oof_probabilities",
        f32_array(evaluation, "oof_probabilities")?,
        labels.len() * classes,
    )?;
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
            metrics: score_rows(&labels, probabilities, classes, &rows),
            intervals: None,
        });
    }
    scores.push(ModelScore {
        model: Model::OutOfFold,
        split: Split::Cv,
        group: SongGroup::All,
        metrics: score(&labels, probabilities, classes),
        intervals: None,
    });
    Ok(scores)
}

fn curves(evaluation: &Artifact) -> Result<Vec<FoldCurve>, PipelineError> {
    let fold = i64_array(evaluation, "history.fold")?;
    let rows = fold.len();
    let epoch = sized(
        evaluation,
        "history.epoch",
        i64_array(evaluation, "history.epoch")?,
        rows,
    )?;
    let epoch = indices_below(evaluation, "history.epoch", epoch, usize::MAX)?;
    let column = |name: &str| {
        let name = format!("history.{name}");
        sized(evaluation, &name, f64_array(evaluation, &name)?, rows)
    };
    let (train_loss, valid_loss) = (column("train_loss")?, column("valid_loss")?);
    let (valid_accuracy, valid_macro_f1) = (column("valid_accuracy")?, column("valid_macro_f1")?);
    let lr = column("learning_rate")?;
    let best = i64_array(evaluation, "best_epoch")?;
    let best = indices_below(evaluation, "best_epoch", best, usize::MAX)?;
    Ok(best
        .iter()
        .enumerate()
        .map(|(k, &best_epoch)| FoldCurve {
            fold: k,
            // Epochs are 0-based in training records, 1-based in reports.
            best_epoch: best_epoch + 1,
            epochs: (0..rows)
                .filter(|&i| fold[i] == k as i64)
                .map(|i| EpochPoint {
                    epoch: epoch[i] + 1,
                    train_loss: train_loss[i],
                    valid_loss: valid_loss[i],
                    valid_accuracy: valid_accuracy[i],
                    valid_macro_f1: valid_macro_f1[i],
                    lr: lr[i],
                })
                .collect(),
        })
        .collect())
}
