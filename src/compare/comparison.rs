//! A comparison of runs: per run the spec differences and the chosen metric's spread (the
//! table), and for each run against the baseline the paired statistics, in three units:
//! - `seed-fold`: the fold models' test scores, one pair per shared (seed, fold);
//! - `seed`: the chosen model's test score, one pair per shared seed (no test for one seed);
//! - `song-bootstrap`: the chosen model's test predictions, resampled by song
//!   ([`super::bootstrap`]).
//!
//! Holm's correction runs over the compared runs, separately per unit and test. Runs whose
//! splits do not match the baseline's are refused ([`super::pairing`]) and left out of it.
//!
//! A caution the output repeats: the (seed, fold) pairs share their test songs and most of
//! their training songs, so they are not independent, and a t-test over them understates the
//! variance (Dietterich 1998; Nadeau & Bengio 2003). Read them with the seed and song units.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::diff::{SpecDifference, differences};
use super::inputs::{Inputs, LeftOut, labels};
use super::options::{Chosen, CompareOptions, ComparisonError, choose, scores};
use super::runs::Run;
use super::stats::mean_interval;
use super::units::{Versus, adjust, against};
use crate::eval::Interval;
use crate::results::{Metric, Model, SongGroup, Split, TaskKind, mean_std};

/// Values, their mean and sample standard deviation (none for one value).
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    /// The values.
    pub values: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation.
    pub std: Option<f64>,
}

impl Spread {
    fn of(values: Vec<f64>) -> Spread {
        let (mean, std) = mean_std(&values);
        Spread { values, mean, std }
    }
}

/// One run's row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The chosen metric of the chosen model per seed (in the run's seed order).
    pub metric: Spread,
    /// 95 % t interval of the mean over seeds (two or more seeds).
    pub interval: Option<Interval>,
    /// The chosen metric of every fold model, all seeds and folds: its std is the fold spread.
    pub folds: Spread,
    /// The kind's companion metric ([`Metric::companion`]: accuracy, R², macro PR-AUC) of
    /// the chosen model per seed.
    pub companion: Spread,
    /// Mean of the `--sort` metric, when sorting.
    pub sort_value: Option<f64>,
    /// Test songs per seed.
    pub test_songs: Vec<usize>,
    /// Mean score per output over seeds (F1 per class, CCC per target, ROC-AUC per tag; the
    /// comparison's output order), when the runs' outputs agree.
    pub per_output: Option<Vec<f64>>,
    /// Mean validation score (the kind's headline metric) per epoch over seeds and folds:
    /// (epoch, mean).
    pub curve: Vec<(usize, f64)>,
}

/// Everything `mer compare` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
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
    /// The runs, in the order given.
    pub runs: Vec<Run>,
    /// Their labels.
    pub labels: Vec<String>,
    /// Index of the baseline.
    pub baseline: usize,
    /// Run indices in table order.
    pub order: Vec<usize>,
    /// Spec keys that differ (values by run index).
    pub differences: Vec<SpecDifference>,
    /// Per run index.
    pub summaries: Vec<RunSummary>,
    /// Every other run against the baseline, in table order.
    pub versus: Vec<Versus>,
    /// The outputs (classes, targets, tags), when every run has the same.
    pub outputs: Option<Vec<String>>,
    /// Sweep members without a report.
    pub left_out: Vec<LeftOut>,
    /// Sweeps that were interrupted.
    pub interrupted_sweeps: Vec<PathBuf>,
}

/// Compares `inputs` as `options` ask.
pub fn compare(inputs: Inputs, options: &CompareOptions) -> Result<Comparison, ComparisonError> {
    let Inputs {
        runs,
        left_out,
        interrupted_sweeps,
    } = inputs;
    if runs.len() < 2 {
        let left_out = if left_out.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = left_out
                .iter()
                .map(|m| format!("{} {}", m.name, m.status))
                .collect();
            format!(" (sweep members without a report: {})", names.join(", "))
        };
        return Err(ComparisonError::TooFewRuns {
            found: runs.len(),
            left_out,
        });
    }
    let labels = labels(&runs);
    let chosen = choose(&runs, &labels, options)?;
    let baseline = find_baseline(&runs, &labels, options.baseline.as_deref())?;
    let outputs = runs
        .iter()
        .all(|r| r.outputs == runs[0].outputs)
        .then(|| runs[0].outputs.clone());
    let summaries = runs
        .iter()
        .zip(&labels)
        .map(|(run, label)| summarize(run, label, &chosen, outputs.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut order: Vec<usize> = (0..runs.len()).collect();
    if let Some(sort) = chosen.sort {
        let descending = !sort.lower_is_better();
        order.sort_by(|&a, &b| {
            let (x, y) = (summaries[a].sort_value, summaries[b].sort_value);
            let ordering = x.unwrap_or(f64::NAN).total_cmp(&y.unwrap_or(f64::NAN));
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
    }
    let mut versus = order
        .iter()
        .filter(|&&i| i != baseline)
        .map(|&i| {
            let base = (&runs[baseline], labels[baseline].as_str());
            against(base, (&runs[i], labels[i].as_str()), i, &chosen)
        })
        .collect::<Result<Vec<_>, _>>()?;
    adjust(&mut versus);
    let specs: Vec<&toml::Table> = runs.iter().map(|r| &r.spec).collect();
    Ok(Comparison {
        kind: chosen.kind,
        metric: chosen.metric,
        model: chosen.model,
        sort: chosen.sort,
        resamples: chosen.resamples,
        differences: differences(&specs),
        runs,
        labels,
        baseline,
        order,
        summaries,
        versus,
        outputs,
        left_out,
        interrupted_sweeps,
    })
}

fn find_baseline(
    runs: &[Run],
    labels: &[String],
    given: Option<&str>,
) -> Result<usize, ComparisonError> {
    let Some(given) = given else {
        return Ok(0);
    };
    if let Some(i) = labels.iter().position(|l| l == given) {
        return Ok(i);
    }
    let folder = Path::new(given).canonicalize().ok();
    folder
        .and_then(|f| {
            runs.iter()
                .position(|r| r.folder.canonicalize().ok().as_ref() == Some(&f))
        })
        .ok_or_else(|| ComparisonError::UnknownBaseline {
            given: given.to_string(),
            labels: labels.to_vec(),
        })
}

fn summarize(
    run: &Run,
    label: &str,
    options: &Chosen,
    outputs: Option<&[String]>,
) -> Result<RunSummary, ComparisonError> {
    let seeds = &run.record.seeds;
    let metric = scores(run, label, seeds, options.model, options.metric)?;
    let mut folds = Vec::new();
    for fold in 0..run.folds() {
        folds.extend(scores(
            run,
            label,
            seeds,
            Model::Fold(fold),
            options.metric,
        )?);
    }
    let sort_value = match options.sort {
        Some(sort) => Some(Spread::of(scores(run, label, seeds, options.model, sort)?).mean),
        None => None,
    };
    let test_songs = scores(run, label, seeds, options.model, Metric::Songs)
        .unwrap_or_default()
        .into_iter()
        .map(|n| n as usize)
        .collect();
    Ok(RunSummary {
        interval: mean_interval(&metric),
        metric: Spread::of(metric),
        folds: Spread::of(folds),
        companion: Spread::of(scores(
            run,
            label,
            seeds,
            options.model,
            Metric::companion(options.kind),
        )?),
        sort_value,
        test_songs,
        per_output: outputs.map(|o| per_output(run, options.model, o)),
        curve: mean_curve(run),
    })
}

/// Mean test score per output of `model` over the run's seeds (undefined scores, such as a
/// tag's ROC-AUC on a seed whose test songs lack it, left out).
fn per_output(run: &Run, model: Model, outputs: &[String]) -> Vec<f64> {
    outputs
        .iter()
        .map(|output| {
            let values: Vec<f64> = (run.output_scores.iter())
                .filter(|r| {
                    r.model == model
                        && r.split == Split::Test
                        && r.group == SongGroup::All
                        && &r.output == output
                        && !r.value.is_nan()
                })
                .map(|r| r.value)
                .collect();
            mean_std(&values).0
        })
        .collect()
}

/// Mean validation score per epoch over every seed and fold that reached the epoch.
fn mean_curve(run: &Run) -> Vec<(usize, f64)> {
    let mut by_epoch: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for point in &run.history {
        by_epoch.entry(point.epoch).or_default().push(point.score);
    }
    by_epoch
        .into_iter()
        .map(|(epoch, values)| (epoch, mean_std(&values).0))
        .collect()
}
