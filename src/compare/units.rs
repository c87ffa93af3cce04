//! The paired tests of one run against the baseline, per unit: the fold models by (seed,
//! fold), the chosen model by seed, and the chosen model's predictions by song (the paired
//! bootstrap); then Holm's correction over the compared runs, per unit and test.

use std::collections::BTreeMap;

use super::bootstrap::{BootstrapComparison, SeedSongs, SongScorer, paired_bootstrap};
use super::options::{Chosen, ComparisonError, scores};
use super::pairing::{Pairing, Unpaired, pair};
use super::runs::Run;
use super::stats::{CompareError, PairedComparison, holm, paired};
use crate::eval::Interval;
use crate::results::{Metric, Model, TaskKind};

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

/// A run and its label.
type Labelled<'a> = (&'a Run, &'a str);

pub(super) fn against(
    baseline: Labelled,
    other: Labelled,
    index: usize,
    options: &Chosen,
) -> Result<Versus, ComparisonError> {
    let pairing = pair(baseline.0, other.0);
    let units = match &pairing {
        Ok(pairing) => vec![
            fold_unit(baseline, other, pairing, options.metric)?,
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
    metric: Metric,
) -> Result<UnitResult, ComparisonError> {
    let mut pairs = Vec::new();
    for &seed in &pairing.seeds {
        for fold in 0..pairing.folds {
            let model = Model::Fold(fold);
            let score =
                |(run, label): Labelled| scores(run, label, &[seed], model, metric).map(|v| v[0]);
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
    options: &Chosen,
) -> Result<UnitResult, ComparisonError> {
    let (model, metric) = (options.model, options.metric);
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
        model: model.to_string(),
        outcome: paired_outcome(&pairs),
        pairs,
        holm: Adjusted::default(),
    })
}

fn song_unit(baseline: &Run, other: &Run, pairing: &Pairing, options: &Chosen) -> UnitResult {
    let mut result = UnitResult {
        unit: Unit::SongBootstrap,
        model: options.model.to_string(),
        pairs: Vec::new(),
        outcome: Err(String::new()),
        holm: Adjusted::default(),
    };
    let scorer = SongScorer {
        kind: options.kind,
        width: baseline.outputs.len(),
        metric: options.metric,
    };
    result.outcome = song_seeds(baseline, other, pairing, options.model).and_then(|seeds| {
        for s in &seeds {
            result.pairs.push(Pair {
                seed: s.seed,
                fold: None,
                baseline: scorer.score(&s.truth, &s.baseline, s.thresholds.0),
                other: scorer.score(&s.truth, &s.other, s.thresholds.1),
            });
        }
        paired_bootstrap(&seeds, scorer, options.resamples)
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
    model: Model,
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
    if baseline.outputs != other.outputs {
        let what = match baseline.kind {
            TaskKind::Classification => "classes",
            TaskKind::Regression => "targets",
            TaskKind::Multilabel => "tags",
        };
        return Err(format!("the runs' {what} differ"));
    }
    let mut seeds = Vec::new();
    for &seed in &pairing.seeds {
        let others: BTreeMap<&str, &[f32]> = other
            .seed_predictions(seed)
            .map(|p| (p.id.as_str(), p.outputs.as_slice()))
            .collect();
        let thresholds = match baseline.kind {
            TaskKind::Multilabel => {
                let threshold = |run: &Run| {
                    run.threshold(seed)
                        .ok_or_else(|| format!("metrics.csv has no F1 threshold for seed {seed}"))
                };
                (threshold(baseline)?, threshold(other)?)
            }
            _ => (0.5, 0.5),
        };
        let mut songs = SeedSongs {
            seed,
            truth: Vec::new(),
            baseline: Vec::new(),
            other: Vec::new(),
            thresholds,
        };
        for p in baseline.seed_predictions(seed) {
            // pairing checked that both runs predicted the same test songs.
            let Some(other_p) = others.get(p.id.as_str()) else {
                return Err(format!(
                    "song {} of seed {seed} is missing from this run's predictions",
                    p.id
                ));
            };
            songs.truth.extend_from_slice(&p.truth);
            songs.baseline.extend_from_slice(&p.outputs);
            songs.other.extend_from_slice(other_p);
        }
        seeds.push(songs);
    }
    Ok(seeds)
}

/// Holm's correction per unit and test over the runs that got that test.
pub(super) fn adjust(versus: &mut [Versus]) {
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
