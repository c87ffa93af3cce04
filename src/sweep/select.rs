//! The sweep's `selected` result (`[sweep] select = { metric, on = "cv" }`): per seed, the
//! member whose out-of-fold cross-validation score is best, and that member's test score.
//!
//! Only the cross-validation songs choose. Choosing the member with the best test score would
//! report the maximum of several noisy test scores, an optimistic number; the selected result
//! is what a researcher who tunes on cross-validation alone would report, so the test songs
//! stay unseen by the choice. Ties go to the member that comes first in the sweep.

use std::path::Path;

use crate::compare::runs::Run;
use crate::results::sweep::{SelectedSeed, Selection};
use crate::results::{Metric, Model, mean_std};
use crate::spec::{SweepSelect, TaskKind};

/// Why there is no selection.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The metric is not one that the task kind's reports score.
    #[error(
        "key `sweep.select.metric`: expected a metric of task.kind = \"{}\" ({}), found {found:?}",
        kind.name(),
        Metric::scores_of(*kind).map(|m| m.to_string()).collect::<Vec<_>>().join(", ")
    )]
    UnknownMetric {
        /// The value found.
        found: String,
        /// The spec's task kind.
        kind: TaskKind,
    },
    /// No member has a complete report to choose from.
    #[error("no member has a complete report to choose from")]
    NoMembers,
}

/// The metric `select` names, if the reports of `kind` score it: checked before a sweep runs.
pub fn metric_of(select: &SweepSelect, kind: TaskKind) -> Result<Metric, SelectError> {
    (select.metric.parse::<Metric>().ok())
        .filter(|m| m.direction().is_some() && m.scores_task(kind))
        .ok_or_else(|| SelectError::UnknownMetric {
            found: select.metric.clone(),
            kind,
        })
}

/// Chooses per seed among `members` (name and report folder, complete ones, in sweep order)
/// as `select` says. Members whose report cannot be read are left out of the choice.
pub fn select(members: &[(String, &Path)], select: &SweepSelect) -> Result<Selection, SelectError> {
    let runs: Vec<(String, Run)> = (members.iter())
        .filter_map(|(name, folder)| Some((name.clone(), Run::read(folder, None).ok()?)))
        .collect();
    let first = runs.first().ok_or(SelectError::NoMembers)?;
    let metric = metric_of(select, first.1.kind)?;
    let seeds = (first.1.record.seeds.iter())
        .filter_map(|&seed| choose(&runs, seed, metric))
        .collect::<Vec<_>>();
    let tests: Vec<f64> = seeds.iter().map(|s| s.test).collect();
    let (test_mean, test_std) = mean_std(&tests);
    Ok(Selection {
        metric,
        on: select.on,
        seeds,
        test_mean,
        test_std,
    })
}

/// The member with the best cross-validation `metric` for `seed` (the first on ties), with
/// its test score; `None` when no member has both.
fn choose(runs: &[(String, Run)], seed: u64, metric: Metric) -> Option<SelectedSeed> {
    let better = |a: f64, b: f64| {
        if metric.lower_is_better() {
            a < b
        } else {
            a > b
        }
    };
    let mut best: Option<SelectedSeed> = None;
    for (name, run) in runs {
        let scores = run
            .cv_score(seed, metric)
            .zip(run.test_score(seed, Model::HEADLINE, metric));
        let Some((cv, test)) = scores else { continue };
        if best.as_ref().is_none_or(|b| better(cv, b.cv)) {
            best = Some(SelectedSeed {
                seed,
                member: name.clone(),
                cv,
                test,
            });
        }
    }
    best
}
