//! A sweep's `selected` result as one run to compare: per seed, the rows of the member that
//! the sweep's selection chose for that seed (`sweep.json`'s `selection`, chosen on
//! cross-validation only; see `sweep::select`). Its spec is the first chosen member's, with a
//! `sweep.selected` entry naming the choice per seed, so the table shows what was selected.

use std::path::Path;

use super::read_error::ReadError;
use super::runs::Run;
use crate::results::sweep::{SELECTED, SWEEP_JSON, Selection};

/// The selected result of the sweep `sweep` (its name) in `folder`, from its members' runs
/// (name and run, as read).
pub(super) fn selected_run(
    folder: &Path,
    sweep: &str,
    selection: &Selection,
    members: &[(String, Run)],
) -> Result<Run, ReadError> {
    let member_of = |name: &str| -> Result<&Run, ReadError> {
        (members.iter().find(|(n, _)| n == name).map(|(_, run)| run)).ok_or_else(|| {
            ReadError::Malformed {
                path: folder.join(SWEEP_JSON),
                message: format!("the selection names member `{name}`, which has no report"),
            }
        })
    };
    let first = selection
        .seeds
        .first()
        .ok_or_else(|| ReadError::Malformed {
            path: folder.join(SWEEP_JSON),
            message: "the selection chose no member for any seed".to_string(),
        })?;
    let mut run = member_of(&first.member)?.clone();
    run.folder = folder.to_path_buf();
    run.member = Some(format!("{sweep}:{SELECTED}"));
    run.record.seeds = selection.seeds.iter().map(|s| s.seed).collect();
    run.record.stages.clear();
    run.metrics.clear();
    run.output_scores.clear();
    run.history.clear();
    run.predictions.clear();
    let choice: Vec<String> = (selection.seeds.iter())
        .map(|s| format!("{}@{}", s.member, s.seed))
        .collect();
    let sweep_table = run
        .spec
        .entry("sweep")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(table) = sweep_table {
        table.insert("selected".into(), toml::Value::String(choice.join(", ")));
    }
    for chosen in &selection.seeds {
        let member = member_of(&chosen.member)?;
        let seed = chosen.seed;
        let suffix = format!("@{seed}");
        (run.record.stages).extend(
            (member.record.stages.iter())
                .filter(|s| s.instance.ends_with(&suffix))
                .cloned(),
        );
        (run.metrics).extend(member.metrics.iter().filter(|r| r.seed == seed).cloned());
        (run.output_scores).extend(
            member
                .output_scores
                .iter()
                .filter(|r| r.seed == seed)
                .cloned(),
        );
        (run.history).extend(member.history.iter().filter(|r| r.seed == seed).cloned());
        (run.predictions).extend(member.seed_predictions(seed).cloned());
    }
    Ok(run)
}
