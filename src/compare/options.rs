//! What a comparison is asked for and why it cannot be made: the user's options, resolved
//! against the runs into the metric and model every unit compares, and the errors of both.

use thiserror::Error;

use super::bootstrap::DEFAULT_RESAMPLES;
use super::read_error::ReadError;
use super::runs::Run;
use crate::results::{Metric, Model, TaskKind};

/// What to compare, in the user's words (checked against the runs by [`super::compare`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// The metric (a `metrics.csv` column). Default: the runs' headline metric (macro-F1,
    /// CCC, macro ROC-AUC).
    pub metric: Option<String>,
    /// The model whose test scores are compared per seed and by song. Default `ensemble+tta`.
    pub model: String,
    /// The baseline: a run's label or its report folder. Default: the first run.
    pub baseline: Option<String>,
    /// Sort the table by this metric's mean, best first. Default: the order given.
    pub sort: Option<String>,
    /// Resamples of the song bootstrap; 0 turns it off. Default [`DEFAULT_RESAMPLES`].
    pub resamples: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            metric: None,
            model: Model::HEADLINE.to_string(),
            baseline: None,
            sort: None,
            resamples: DEFAULT_RESAMPLES,
        }
    }
}

/// Why runs cannot be compared at all.
#[derive(Debug, Error)]
pub enum ComparisonError {
    /// A report or sweep folder could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Fewer than two runs.
    #[error(
        "{found} run(s) to compare{left_out}: give at least two report folders, a glob matching them, or a sweep folder with two finished members"
    )]
    TooFewRuns {
        /// Runs found.
        found: usize,
        /// Sweep members without a report, as a parenthesis, or empty.
        left_out: String,
    },
    /// Runs of different task kinds: their metrics differ.
    #[error(
        "{run} is a {kind} run and {first} a {first_kind} one: mer compare compares runs of one task kind (task.kind), whose metrics are the same"
    )]
    MixedKinds {
        /// The first run's label.
        first: String,
        /// Its kind.
        first_kind: &'static str,
        /// The first run of another kind.
        run: String,
        /// Its kind.
        kind: &'static str,
    },
    /// A metric some run's `metrics.csv` does not have.
    #[error("metric `{metric}` is not in {run}'s metrics.csv; available: {}", available.join(", "))]
    UnknownMetric {
        /// The metric asked for.
        metric: String,
        /// The run's label.
        run: String,
        /// The metrics it has.
        available: Vec<String>,
    },
    /// A model some run has no test scores for.
    #[error("model `{model}` has no test scores in {run}'s metrics.csv; available: {}", available.join(", "))]
    UnknownModel {
        /// The model asked for.
        model: String,
        /// The run's label.
        run: String,
        /// The models it has.
        available: Vec<String>,
    },
    /// `--baseline` names no run.
    #[error("baseline `{given}` is neither the label nor the report folder of a run being compared; labels: {}", labels.join(", "))]
    UnknownBaseline {
        /// What was given.
        given: String,
        /// The runs' labels.
        labels: Vec<String>,
    },
    /// A score a complete report has, missing.
    #[error(
        "{run}: metrics.csv has no test `{metric}` of `{model}` for seed {seed}; the report is incomplete"
    )]
    MissingScore {
        /// The run's label.
        run: String,
        /// The model.
        model: Model,
        /// The metric.
        metric: Metric,
        /// The seed.
        seed: u64,
    },
}

/// The options, resolved: metrics and a model every run has test scores of.
pub(super) struct Chosen {
    /// The runs' task kind.
    pub kind: TaskKind,
    /// The metric compared.
    pub metric: Metric,
    /// The model compared per seed and by song.
    pub model: Model,
    /// The metric the table is sorted by.
    pub sort: Option<Metric>,
    /// Resamples of the song bootstrap.
    pub resamples: usize,
}

/// Resolves `options` against the runs: all of one task kind; a metric must be one that kind's
/// reports score (`songs` is a count), the model one every run has test scores of.
pub(super) fn choose(
    runs: &[Run],
    labels: &[String],
    options: &CompareOptions,
) -> Result<Chosen, ComparisonError> {
    let kind = runs[0].kind;
    if let Some((run, label)) = runs.iter().zip(labels).find(|(r, _)| r.kind != kind) {
        return Err(ComparisonError::MixedKinds {
            first: labels[0].clone(),
            first_kind: kind.name(),
            run: label.clone(),
            kind: run.kind.name(),
        });
    }
    let unknown_metric = |metric: &str| ComparisonError::UnknownMetric {
        metric: metric.to_string(),
        run: labels[0].clone(),
        available: Metric::scores_of(kind).map(|m| m.to_string()).collect(),
    };
    let metric = |name: &str| {
        name.parse::<Metric>()
            .ok()
            .filter(|m| m.direction().is_some() && m.scores_task(kind))
            .ok_or_else(|| unknown_metric(name))
    };
    let (metric, sort) = (
        match &options.metric {
            Some(name) => metric(name)?,
            None => Metric::headline(kind),
        },
        options.sort.as_deref().map(metric).transpose()?,
    );
    let unknown_model = |run: &Run, label: &str| ComparisonError::UnknownModel {
        model: options.model.clone(),
        run: label.to_string(),
        available: run.test_models().iter().map(Model::to_string).collect(),
    };
    let model =
        (options.model.parse::<Model>()).map_err(|_| unknown_model(&runs[0], &labels[0]))?;
    let lacking = runs
        .iter()
        .zip(labels)
        .find(|(run, _)| !run.test_models().contains(&model));
    if let Some((run, label)) = lacking {
        return Err(unknown_model(run, label));
    }
    Ok(Chosen {
        kind,
        metric,
        model,
        sort,
        resamples: options.resamples,
    })
}

/// `metric` of `model` on the test set for each of `seeds`.
pub(super) fn scores(
    run: &Run,
    label: &str,
    seeds: &[u64],
    model: Model,
    metric: Metric,
) -> Result<Vec<f64>, ComparisonError> {
    seeds
        .iter()
        .map(|&seed| {
            run.test_score(seed, model, metric)
                .ok_or_else(|| ComparisonError::MissingScore {
                    run: label.to_string(),
                    model,
                    metric,
                    seed,
                })
        })
        .collect()
}
