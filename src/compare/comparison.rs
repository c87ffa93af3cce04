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

use thiserror::Error;

use super::bootstrap::{BootstrapComparison, DEFAULT_RESAMPLES, SeedSongs, paired_bootstrap};
use super::diff::{SpecDifference, differences};
use super::inputs::{Inputs, LeftOut, labels};
use super::pairing::{Pairing, Unpaired, pair};
use super::runs::{ALL_SONGS, ReadError, Run, TEST_SPLIT};
use super::stats::{CompareError, PairedComparison, holm, mean_interval, paired};
use crate::eval::Interval;
use crate::report::tables::{METRIC_COLUMNS, mean_std};

/// Metrics where a lower value is better; every other metric is better higher.
const LOWER_IS_BETTER: [&str; 3] = ["log_loss", "brier", "ece"];

/// Whether a lower value of `metric` is better.
pub fn lower_is_better(metric: &str) -> bool {
    LOWER_IS_BETTER.contains(&metric)
}

/// What to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// The metric (a `metrics.csv` column). Default `macro_f1`.
    pub metric: String,
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
            metric: "macro_f1".to_string(),
            model: "ensemble+tta".to_string(),
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
        model: String,
        /// The metric.
        metric: String,
        /// The seed.
        seed: u64,
    },
}

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
    /// Accuracy of the chosen model per seed.
    pub accuracy: Spread,
    /// Mean of the `--sort` metric, when sorting.
    pub sort_value: Option<f64>,
    /// Test songs per seed.
    pub test_songs: Vec<usize>,
    /// Mean F1 per class over seeds (the comparison's class order), when classes agree.
    pub per_class_f1: Option<Vec<f64>>,
    /// Mean validation macro-F1 per epoch over seeds and folds: (epoch, mean).
    pub curve: Vec<(usize, f64)>,
}

/// The unit a paired test runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Fold models' test scores paired by (seed, fold).
    SeedFold,
    /// The chosen model's test score paired by seed.
    Seed,
    /// The chosen model's predictions paired by song, bootstrapped.
    SongBootstrap,
}

impl Unit {
    /// The name in tables and CSV files.
    pub fn name(self) -> &'static str {
        match self {
            Unit::SeedFold => "seed-fold",
            Unit::Seed => "seed",
            Unit::SongBootstrap => "song-bootstrap",
        }
    }
}

/// One pair of scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// The seed.
    pub seed: u64,
    /// The fold (fold models only).
    pub fold: Option<usize>,
    /// The baseline's score.
    pub baseline: f64,
    /// The other run's score.
    pub other: f64,
}

/// The test a unit got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Test {
    /// t-test, interval and Wilcoxon over the pairs.
    Paired(PairedComparison),
    /// Song bootstrap.
    Bootstrap(BootstrapComparison),
}

impl Test {
    /// Mean difference and its 95 % interval.
    pub fn difference(&self) -> Interval {
        match self {
            Test::Paired(p) => Interval {
                estimate: p.mean_difference,
                low: p.ci_low,
                high: p.ci_high,
            },
            Test::Bootstrap(b) => b.difference,
        }
    }
}

/// Holm-adjusted p-values of one unit's tests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Adjusted {
    /// Of the t-test.
    pub t: Option<f64>,
    /// Of the Wilcoxon test.
    pub wilcoxon: Option<f64>,
    /// Of the bootstrap.
    pub bootstrap: Option<f64>,
}

/// One unit's paired result.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitResult {
    /// The unit.
    pub unit: Unit,
    /// The model(s) scored: `fold-k` or the chosen model.
    pub model: String,
    /// The pairs (for the bootstrap: per seed, the metric on all its test songs).
    pub pairs: Vec<Pair>,
    /// The test, or why there is none.
    pub outcome: Result<Test, String>,
    /// Holm-adjusted p-values across the compared runs.
    pub holm: Adjusted,
}

/// One run against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Versus {
    /// Index of the run.
    pub run: usize,
    /// How it pairs with the baseline, or why it does not.
    pub pairing: Result<Pairing, Unpaired>,
    /// Results per unit (empty when refused).
    pub units: Vec<UnitResult>,
}

/// Everything `mer compare` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The metric compared.
    pub metric: String,
    /// The model compared per seed and by song.
    pub model: String,
    /// The metric the table is sorted by.
    pub sort: Option<String>,
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
    /// Class names, when every run has the same classes.
    pub classes: Option<Vec<String>>,
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
    let metrics: Vec<&str> = std::iter::once(options.metric.as_str())
        .chain(options.sort.as_deref())
        .chain(["accuracy"])
        .collect();
    for (run, label) in runs.iter().zip(&labels) {
        check_available(run, label, &metrics, &options.model)?;
    }
    let baseline = find_baseline(&runs, &labels, options.baseline.as_deref())?;
    let classes = runs
        .iter()
        .all(|r| r.classes == runs[0].classes)
        .then(|| runs[0].classes.clone());
    let summaries = runs
        .iter()
        .zip(&labels)
        .map(|(run, label)| summarize(run, label, options, classes.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut order: Vec<usize> = (0..runs.len()).collect();
    if options.sort.is_some() {
        let descending = !options.sort.as_deref().is_some_and(lower_is_better);
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
            against(base, (&runs[i], labels[i].as_str()), i, options)
        })
        .collect::<Result<Vec<_>, _>>()?;
    adjust(&mut versus);
    let specs: Vec<&toml::Table> = runs.iter().map(|r| &r.spec).collect();
    Ok(Comparison {
        metric: options.metric.clone(),
        model: options.model.clone(),
        sort: options.sort.clone(),
        resamples: options.resamples,
        differences: differences(&specs),
        runs,
        labels,
        baseline,
        order,
        summaries,
        versus,
        classes,
        left_out,
        interrupted_sweeps,
    })
}

fn check_available(
    run: &Run,
    label: &str,
    metrics: &[&str],
    model: &str,
) -> Result<(), ComparisonError> {
    let available = run.metric_names();
    if let Some(missing) = metrics.iter().find(|m| !available.contains(m)) {
        return Err(ComparisonError::UnknownMetric {
            metric: missing.to_string(),
            run: label.to_string(),
            available: available.iter().map(|m| m.to_string()).collect(),
        });
    }
    let models = run.test_models();
    if !models.contains(&model) {
        return Err(ComparisonError::UnknownModel {
            model: model.to_string(),
            run: label.to_string(),
            available: models.iter().map(|m| m.to_string()).collect(),
        });
    }
    Ok(())
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

/// `metric` of `model` on the test set for each of `seeds`.
fn scores(
    run: &Run,
    label: &str,
    seeds: &[u64],
    model: &str,
    metric: &str,
) -> Result<Vec<f64>, ComparisonError> {
    seeds
        .iter()
        .map(|&seed| {
            run.test_score(seed, model, metric)
                .ok_or_else(|| ComparisonError::MissingScore {
                    run: label.to_string(),
                    model: model.to_string(),
                    metric: metric.to_string(),
                    seed,
                })
        })
        .collect()
}

fn fold_model(fold: usize) -> String {
    format!("fold-{fold}")
}

fn summarize(
    run: &Run,
    label: &str,
    options: &CompareOptions,
    classes: Option<&[String]>,
) -> Result<RunSummary, ComparisonError> {
    let seeds = &run.record.seeds;
    let metric = scores(run, label, seeds, &options.model, &options.metric)?;
    let mut folds = Vec::new();
    for fold in 0..run.folds() {
        folds.extend(scores(
            run,
            label,
            seeds,
            &fold_model(fold),
            &options.metric,
        )?);
    }
    let sort_value = match &options.sort {
        Some(sort) => Some(Spread::of(scores(run, label, seeds, &options.model, sort)?).mean),
        None => None,
    };
    let test_songs = scores(run, label, seeds, &options.model, "songs")
        .unwrap_or_default()
        .into_iter()
        .map(|n| n as usize)
        .collect();
    Ok(RunSummary {
        interval: mean_interval(&metric),
        metric: Spread::of(metric),
        folds: Spread::of(folds),
        accuracy: Spread::of(scores(run, label, seeds, &options.model, "accuracy")?),
        sort_value,
        test_songs,
        per_class_f1: classes.map(|c| per_class_f1(run, &options.model, c)),
        curve: mean_curve(run),
    })
}

/// Mean test F1 per class of `model` over the run's seeds.
fn per_class_f1(run: &Run, model: &str, classes: &[String]) -> Vec<f64> {
    classes
        .iter()
        .map(|class| {
            let values: Vec<f64> = run
                .per_class
                .iter()
                .filter(|r| {
                    r.model == model
                        && r.split == TEST_SPLIT
                        && r.group == ALL_SONGS
                        && &r.class == class
                })
                .map(|r| r.f1)
                .collect();
            mean_std(&values).0
        })
        .collect()
}

/// Mean validation macro-F1 per epoch over every seed and fold that reached the epoch.
fn mean_curve(run: &Run) -> Vec<(usize, f64)> {
    let mut by_epoch: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for row in &run.history {
        by_epoch
            .entry(row.epoch)
            .or_default()
            .push(row.valid_macro_f1);
    }
    by_epoch
        .into_iter()
        .map(|(epoch, values)| (epoch, mean_std(&values).0))
        .collect()
}

/// A run and its label.
type Labelled<'a> = (&'a Run, &'a str);

fn against(
    baseline: Labelled,
    other: Labelled,
    index: usize,
    options: &CompareOptions,
) -> Result<Versus, ComparisonError> {
    let pairing = pair(baseline.0, other.0);
    let units = match &pairing {
        Ok(pairing) => vec![
            fold_unit(baseline, other, pairing, &options.metric)?,
            seed_unit(baseline, other, pairing, options)?,
            song_unit(baseline.0, other.0, pairing, options),
        ],
        Err(_) => Vec::new(),
    };
    Ok(Versus {
        run: index,
        pairing,
        units,
    })
}

fn paired_outcome(pairs: &[Pair]) -> Result<Test, String> {
    let (baseline, other): (Vec<f64>, Vec<f64>) =
        pairs.iter().map(|p| (p.baseline, p.other)).unzip();
    paired(&baseline, &other)
        .map(Test::Paired)
        .map_err(|e| match e {
            CompareError::TooFewPairs { pairs } => format!(
                "not possible with {pairs} pair(s): a paired test needs at least 2; run more seeds, or read the song bootstrap"
            ),
            other => other.to_string(),
        })
}

fn fold_unit(
    baseline: Labelled,
    other: Labelled,
    pairing: &Pairing,
    metric: &str,
) -> Result<UnitResult, ComparisonError> {
    let mut pairs = Vec::new();
    for &seed in &pairing.seeds {
        for fold in 0..pairing.folds {
            let model = fold_model(fold);
            let score =
                |(run, label): Labelled| scores(run, label, &[seed], &model, metric).map(|v| v[0]);
            pairs.push(Pair {
                seed,
                fold: Some(fold),
                baseline: score(baseline)?,
                other: score(other)?,
            });
        }
    }
    Ok(UnitResult {
        unit: Unit::SeedFold,
        model: "fold-k".to_string(),
        outcome: paired_outcome(&pairs),
        pairs,
        holm: Adjusted::default(),
    })
}

fn seed_unit(
    (baseline, base_label): Labelled,
    (other, label): Labelled,
    pairing: &Pairing,
    options: &CompareOptions,
) -> Result<UnitResult, ComparisonError> {
    let (model, metric) = (&options.model, &options.metric);
    let base = scores(baseline, base_label, &pairing.seeds, model, metric)?;
    let others = scores(other, label, &pairing.seeds, model, metric)?;
    let pairs: Vec<Pair> = pairing
        .seeds
        .iter()
        .zip(base.iter().zip(&others))
        .map(|(&seed, (&baseline, &other))| Pair {
            seed,
            fold: None,
            baseline,
            other,
        })
        .collect();
    Ok(UnitResult {
        unit: Unit::Seed,
        model: model.clone(),
        outcome: paired_outcome(&pairs),
        pairs,
        holm: Adjusted::default(),
    })
}

fn song_unit(
    baseline: &Run,
    other: &Run,
    pairing: &Pairing,
    options: &CompareOptions,
) -> UnitResult {
    let mut result = UnitResult {
        unit: Unit::SongBootstrap,
        model: options.model.clone(),
        pairs: Vec::new(),
        outcome: Err(String::new()),
        holm: Adjusted::default(),
    };
    // Only the report's own metrics can be recomputed from predictions; a column a hand
    // added to metrics.csv cannot.
    let recomputable: Vec<&str> = METRIC_COLUMNS
        .into_iter()
        .filter(|c| *c != "songs")
        .collect();
    if !recomputable.contains(&options.metric.as_str()) {
        result.outcome = Err(format!(
            "`{}` cannot be recomputed from predictions.csv; compare one of {}",
            options.metric,
            recomputable.join(", ")
        ));
        return result;
    }
    result.outcome = song_seeds(baseline, other, pairing, &options.model).and_then(|seeds| {
        let classes = baseline.classes.len();
        for s in &seeds {
            let value = |probabilities: &[f32]| {
                crate::report::tables::metric_value(
                    &crate::eval::score(&s.truth, probabilities, classes),
                    &options.metric,
                )
            };
            result.pairs.push(Pair {
                seed: s.seed,
                fold: None,
                baseline: value(&s.baseline),
                other: value(&s.other),
            });
        }
        paired_bootstrap(&seeds, classes, &options.metric, options.resamples)
            .map(Test::Bootstrap)
            .map_err(|e| e.to_string())
    });
    result
}

/// Both runs' test predictions per shared seed, the other run's rows in the baseline's song
/// order.
fn song_seeds(
    baseline: &Run,
    other: &Run,
    pairing: &Pairing,
    model: &str,
) -> Result<Vec<SeedSongs>, String> {
    for run in [baseline, other] {
        match run.predicted_model() {
            Some(m) if m == model => {}
            Some(m) => {
                return Err(format!(
                    "predictions.csv holds `{m}`'s predictions, not `{model}`'s"
                ));
            }
            None => return Err("predictions.csv is empty".to_string()),
        }
    }
    if baseline.classes != other.classes {
        return Err("the runs' classes differ".to_string());
    }
    let mut seeds = Vec::new();
    for &seed in &pairing.seeds {
        let others: BTreeMap<&str, &[f32]> = other
            .seed_predictions(seed)
            .map(|p| (p.id.as_str(), p.probabilities.as_slice()))
            .collect();
        let mut songs = SeedSongs {
            seed,
            truth: Vec::new(),
            baseline: Vec::new(),
            other: Vec::new(),
        };
        for p in baseline.seed_predictions(seed) {
            // pairing checked that both runs predicted the same test songs.
            let Some(other_p) = others.get(p.id.as_str()) else {
                return Err(format!(
                    "song {} of seed {seed} is missing from this run's predictions",
                    p.id
                ));
            };
            songs.truth.push(p.truth);
            songs.baseline.extend_from_slice(&p.probabilities);
            songs.other.extend_from_slice(other_p);
        }
        seeds.push(songs);
    }
    Ok(seeds)
}

/// Holm's correction per unit and test over the runs that got that test.
fn adjust(versus: &mut [Versus]) {
    for unit in [Unit::SeedFold, Unit::Seed, Unit::SongBootstrap] {
        type Pick = fn(&Test) -> Option<f64>;
        type Store = fn(&mut Adjusted, f64);
        let families: [(Pick, Store); 3] = [
            (
                |t| match t {
                    Test::Paired(p) => Some(p.t_p_value),
                    Test::Bootstrap(_) => None,
                },
                |a, p| a.t = Some(p),
            ),
            (
                |t| match t {
                    Test::Paired(p) => Some(p.wilcoxon_p_value),
                    Test::Bootstrap(_) => None,
                },
                |a, p| a.wilcoxon = Some(p),
            ),
            (
                |t| match t {
                    Test::Bootstrap(b) => Some(b.p_value),
                    Test::Paired(_) => None,
                },
                |a, p| a.bootstrap = Some(p),
            ),
        ];
        for (pick, store) in families {
            let mut members: Vec<&mut UnitResult> = versus
                .iter_mut()
                .flat_map(|v| v.units.iter_mut())
                .filter(|u| u.unit == unit && u.outcome.as_ref().ok().and_then(pick).is_some())
                .collect();
            let p_values: Vec<f64> = members
                .iter()
                .map(|u| u.outcome.as_ref().ok().and_then(pick).unwrap_or(1.0))
                .collect();
            match holm(&p_values) {
                Ok(adjusted) => {
                    for (member, adjusted) in members.iter_mut().zip(adjusted) {
                        store(&mut member.holm, adjusted);
                    }
                }
                // A test that gave no probability is no test: none of the family is adjusted,
                // and each member says why instead of showing a number.
                Err(error) => {
                    for member in members {
                        member.outcome = Err(format!("Holm's correction failed: {error}"));
                    }
                }
            }
        }
    }
}
