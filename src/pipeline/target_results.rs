//! A regression or multi-label run's results for the report, read from its `evaluate`
//! artifacts (one per seed) and the experiment's targets: every model scored on the test set
//! (all songs, and for the headline model the availability groups), with bootstrap intervals
//! for all songs; each fold model on its validation fold; the pooled out-of-fold predictions;
//! the training curves. A multi-label F1 threshold is chosen on the out-of-fold predictions,
//! never on test songs.

use std::collections::HashMap;

use crate::cache::{Artifact, ArtifactStore};
use crate::dataset::DatasetLoad;
use crate::dataset::targets::SongTargets;
use crate::eval::multilabel::{self, choose_threshold, score_multilabel};
use crate::eval::regression::{self, quadrant, score_targets};
use crate::eval::{Metrics, score};
use crate::results::targets::{QUADRANTS, valence_arousal};
use crate::results::{
    Metric, Model, SongGroup, Split, TargetPrediction, TargetRunResults, TargetScore,
    TargetSeedResults, TaskKind,
};
use crate::rng::RandomStream;
use crate::spec::ExperimentSpec;

use super::error::PipelineError;
use super::graph::StageGraph;
use super::results::{availability_group, curves, evaluations, mean_modality_weights, presence};
use super::stages::evaluate::EvaluateArtifact;

/// Every song's true outputs, by id.
struct Truth<'a> {
    kind: TaskKind,
    width: usize,
    row_of: HashMap<&'a str, usize>,
    values: Vec<f32>,
}

impl<'a> Truth<'a> {
    fn new(data: &'a DatasetLoad) -> Option<Truth<'a>> {
        let (kind, values) = match &data.targets {
            SongTargets::Classes => return None,
            SongTargets::Values { values, .. } => (TaskKind::Regression, values.clone()),
            SongTargets::Tags(tags) => (
                TaskKind::Multilabel,
                tags.carried
                    .iter()
                    .map(|&c| f32::from(u8::from(c)))
                    .collect(),
            ),
        };
        let width = data.targets.outputs().len();
        let row_of = (data.manifest.songs.iter().enumerate())
            .map(|(row, song)| (song.id.as_str(), row))
            .collect();
        Some(Truth {
            kind,
            width,
            row_of,
            values,
        })
    }

    /// The true outputs of songs `ids`, row-major.
    fn of(&self, ids: &[String]) -> Result<Vec<f32>, PipelineError> {
        let mut out = Vec::with_capacity(ids.len() * self.width);
        for id in ids {
            let row = *self.row_of.get(id.as_str()).ok_or_else(|| {
                PipelineError::Model(crate::model::ModelError::InconsistentData(format!(
                    "song `{id}` was evaluated but has no targets"
                )))
            })?;
            out.extend_from_slice(&self.values[row * self.width..][..self.width]);
        }
        Ok(out)
    }
}

/// How one set of outputs is scored: the kind, the width, the multi-label threshold, and the
/// valence and arousal outputs of a regression that has both (the quadrant view).
#[derive(Clone, Copy)]
struct Scorer {
    kind: TaskKind,
    width: usize,
    threshold: f64,
    valence_arousal: Option<(usize, usize)>,
}

impl Scorer {
    /// The kind's metric values (in [`Metric::columns`] order) and per-output scores.
    fn score(&self, truth: &[f32], outputs: &[f32]) -> (Vec<f64>, Vec<Vec<f64>>) {
        let songs = truth.len() / self.width;
        let columns = Metric::columns(self.kind);
        match self.kind {
            TaskKind::Regression => {
                let scores = score_targets(&widen(truth), &widen(outputs), self.width);
                let values = columns.iter().map(|m| m.regression_value(&scores, songs));
                let per_output = (scores.iter())
                    .map(|s| vec![s.r2, s.rmse, s.mae, s.pearson, s.ccc])
                    .collect();
                (values.collect(), per_output)
            }
            _ => {
                let metrics =
                    score_multilabel(&carried(truth), outputs, self.width, self.threshold);
                let values = columns.iter().map(|m| m.multilabel_value(&metrics));
                let per_output = (metrics.per_tag.iter())
                    .map(|t| vec![t.roc_auc, t.pr_auc, t.f1, t.support as f64])
                    .collect();
                (values.collect(), per_output)
            }
        }
    }

    fn model_score(
        &self,
        (model, split, group): (Model, Split, SongGroup),
        truth: &[f32],
        outputs: &[f32],
    ) -> TargetScore {
        let (values, per_output) = self.score(truth, outputs);
        TargetScore {
            model,
            split,
            group,
            values,
            per_output,
            intervals: None,
            quadrants: self.quadrants(truth, outputs),
        }
    }

    /// True and predicted quadrants scored as a four-class classification (the prediction a
    /// one-hot row), when there are valence and arousal outputs.
    fn quadrants(&self, truth: &[f32], outputs: &[f32]) -> Option<Metrics> {
        let (v, a) = self.valence_arousal?;
        let place = |row: &[f32]| quadrant(f64::from(row[v]), f64::from(row[a]));
        let labels: Vec<usize> = truth.chunks_exact(self.width).map(place).collect();
        let one_hot: Vec<f32> = (outputs.chunks_exact(self.width))
            .flat_map(|row| {
                let q = place(row);
                (0..QUADRANTS.len()).map(move |k| f32::from(u8::from(k == q)))
            })
            .collect();
        Some(score(&labels, &one_hot, QUADRANTS.len()))
    }

    /// Bootstrap intervals of the kind's metrics (`results::targets::interval_metrics`).
    fn intervals(
        &self,
        truth: &[f32],
        outputs: &[f32],
        resamples: usize,
        stream: &mut RandomStream,
    ) -> Vec<crate::eval::Interval> {
        match self.kind {
            TaskKind::Regression => regression::bootstrap_intervals(
                &widen(truth),
                &widen(outputs),
                self.width,
                resamples,
                stream,
            )
            .to_vec(),
            _ => {
                let tags = (self.width, self.threshold);
                multilabel::bootstrap_intervals(&carried(truth), outputs, tags, resamples, stream)
                    .to_vec()
            }
        }
    }
}

/// Target values in f64, as `eval::regression` takes them.
fn widen(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v)).collect()
}

/// Tag flags from their 1 and 0 outputs (see [`Truth`]).
fn carried(values: &[f32]) -> Vec<bool> {
    values.iter().map(|&t| t > 0.5).collect()
}

/// Rows `rows` of a row-major matrix of rows of `width`.
fn pick(values: &[f32], width: usize, rows: &[usize]) -> Vec<f32> {
    rows.iter()
        .flat_map(|&r| &values[r * width..][..width])
        .copied()
        .collect()
}

/// Reads the evaluate artifact of every seed of `graph` from `store` and scores it against
/// `data`'s targets; `None` for a classification (see `collect_results`).
pub fn collect_target_results(
    spec: &ExperimentSpec,
    data: &DatasetLoad,
    graph: &StageGraph,
    store: &ArtifactStore,
) -> Result<Option<TargetRunResults>, PipelineError> {
    let Some(truth) = Truth::new(data) else {
        return Ok(None);
    };
    let outputs = data.targets.outputs().to_vec();
    let seeds = (evaluations(graph, store)?.iter())
        .map(|(seed, artifact)| seed_results(spec, data, (&truth, &outputs), *seed, artifact))
        .collect::<Result<_, _>>()?;
    Ok(Some(TargetRunResults {
        kind: truth.kind,
        outputs,
        modalities: spec.selected(),
        seeds,
    }))
}

fn seed_results(
    spec: &ExperimentSpec,
    data: &DatasetLoad,
    (truth, outputs): (&Truth<'_>, &[String]),
    seed: u64,
    evaluation: &Artifact,
) -> Result<TargetSeedResults, PipelineError> {
    let width = truth.width;
    let classes = data.manifest.classes.len();
    let EvaluateArtifact {
        test, oof, history, ..
    } = EvaluateArtifact::read(evaluation, (classes, width))?;
    let oof_truth = truth.of(&oof.ids)?;
    let threshold = (truth.kind == TaskKind::Multilabel)
        .then(|| choose_threshold(&carried(&oof_truth), &oof.probabilities, width));
    let scorer = Scorer {
        kind: truth.kind,
        width,
        threshold: threshold.unwrap_or(0.5),
        valence_arousal: valence_arousal(truth.kind, outputs),
    };
    let test_truth = truth.of(&test.ids)?;
    let n = test.ids.len();
    let masks = presence(&test.modalities, &test.present, n);
    let selected = spec.selected();
    let mut scores = Vec::new();
    let mut predictions = Vec::new();
    for (m, &model) in test.models.iter().enumerate() {
        let outputs = &test.probabilities[m * n * width..(m + 1) * n * width];
        let mut score =
            scorer.model_score((model, Split::Test, SongGroup::All), &test_truth, outputs);
        let mut stream = RandomStream::new(seed, &format!("evaluate/bootstrap/{model}"));
        score.intervals =
            Some(scorer.intervals(&test_truth, outputs, spec.eval.bootstrap, &mut stream));
        scores.push(score);
        if model != Model::HEADLINE {
            continue;
        }
        for group in [
            SongGroup::AllModalities,
            SongGroup::Partial,
            SongGroup::NoModality,
        ] {
            let rows: Vec<usize> = (0..n)
                .filter(|&i| availability_group(masks[i], selected) == group)
                .collect();
            if !rows.is_empty() {
                let (t, o) = (pick(&test_truth, width, &rows), pick(outputs, width, &rows));
                scores.push(scorer.model_score((model, Split::Test, group), &t, &o));
            }
        }
        predictions = (0..n)
            .map(|i| TargetPrediction {
                id: test.ids[i].clone(),
                truth: test_truth[i * width..][..width].to_vec(),
                outputs: outputs[i * width..][..width].to_vec(),
                modalities: masks[i],
            })
            .collect();
    }
    let folds = oof.fold.iter().max().map_or(0, |&f| f as usize + 1);
    for fold in 0..folds {
        let rows: Vec<usize> = (0..oof.ids.len())
            .filter(|&i| oof.fold[i] == fold as i64)
            .collect();
        let (t, o) = (
            pick(&oof_truth, width, &rows),
            pick(&oof.probabilities, width, &rows),
        );
        scores.push(scorer.model_score(
            (Model::Fold(fold), Split::Validation, SongGroup::All),
            &t,
            &o,
        ));
    }
    scores.push(scorer.model_score(
        (Model::OutOfFold, Split::Cv, SongGroup::All),
        &oof_truth,
        &oof.probabilities,
    ));
    Ok(TargetSeedResults {
        seed,
        scores,
        curves: curves(&history),
        predictions,
        threshold,
        modality_weights: mean_modality_weights(&test),
    })
}
