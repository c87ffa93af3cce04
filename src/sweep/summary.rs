//! The summary folder of a sweep, `<reports>/<spec>/sweep-<UTC time>/`:
//!
//! - `sweep.json`: the sweep, its times, whether it was interrupted, and per member its name,
//!   identity (`member_hash`, the `spec_hash` of its `run.json`), overrides (`set`), status,
//!   report folder (relative to the summary folder) and error; [`SweepSummary`] is its schema,
//!   which `mer compare` reads;
//! - `members.csv`: per member its status and headline test scores (the headline model's
//!   macro-F1 mean and sample std across seeds, accuracy mean; CCC and R^2 for regression,
//!   macro ROC-AUC and PR-AUC for multi-label; read from the member's `summary.csv`) and its
//!   report folder, and a `selected` row when the spec's `[sweep] select` chose by the
//!   headline metric;
//! - `selected.csv` (with `[sweep] select`): per seed the member chosen on cross-validation,
//!   its cross-validation score and its test score ([`super::select`]);
//! - `index.html`: the same table, linking each member's report, and the selection.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::clock::{compact, rfc3339};
use crate::report::html::{STYLE, escape};
use crate::report::{ReportError, io};
use crate::results::{Metric, Model, SongGroup, Split, SummaryRow, Table, TaskKind, spread_text};
use crate::spec::Sweep;

use super::select;
use super::{MemberOutcome, SweepRun, SweepRunError};
pub use crate::results::sweep::{
    MemberSummary, SELECTED, SELECTED_CSV, SWEEP_JSON, SelectedSeed, Selection, SweepSummary,
};
use tracing::warn;

/// The headline model's test scores on all songs, as a member's `summary.csv` states them:
/// its kind's headline metric (macro-F1, CCC, macro ROC-AUC) and a second one (accuracy,
/// R^2, macro PR-AUC).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headline {
    /// The headline metric.
    pub metric: Metric,
    /// Its mean across seeds.
    pub mean: f64,
    /// Its sample standard deviation across seeds (none for one seed).
    pub std: Option<f64>,
    /// The second metric.
    pub second: Metric,
    /// Its mean across seeds.
    pub second_mean: f64,
}

/// The headline and second metric of a task kind's runs.
fn headline_metrics(kind: TaskKind) -> (Metric, Metric) {
    (Metric::headline(kind), Metric::companion(kind))
}

/// Reads the headline row (model `ensemble+tta`, split `test`, group `all`) of the report
/// folder's `summary.csv`, whose columns tell the kind; `None` when there is none.
pub fn read_headline(report: &Path) -> Option<Headline> {
    let mut reader = csv::Reader::from_path(report.join(SummaryRow::FILE)).ok()?;
    let header = reader.headers().ok()?.clone();
    let column = |name: String| header.iter().position(|h| h == name);
    // Multi-label runs report macro_f1 too: look for the other kinds' own headlines first.
    let kind = [TaskKind::Regression, TaskKind::Multilabel]
        .into_iter()
        .find(|&kind| column(format!("{}_mean", headline_metrics(kind).0)).is_some())
        .unwrap_or(TaskKind::Classification);
    let (metric, second) = headline_metrics(kind);
    let (mean, std) = (
        column(format!("{metric}_mean"))?,
        column(format!("{metric}_std"))?,
    );
    let second_mean = column(format!("{second}_mean"))?;
    let headline = Model::HEADLINE.to_string();
    let (test, all) = (Split::Test.to_string(), SongGroup::All.to_string());
    let row = (reader.records().filter_map(Result::ok)).find(|row| {
        row.get(0) == Some(&headline) && row.get(1) == Some(&test) && row.get(2) == Some(&all)
    })?;
    let number = |i: usize| row.get(i).and_then(|v| v.parse::<f64>().ok());
    Some(Headline {
        metric,
        mean: number(mean)?,
        std: number(std),
        second,
        second_mean: number(second_mean)?,
    })
}

/// Writes the summary folder of a finished (or interrupted) sweep.
pub(super) fn write(
    sweep: &Sweep,
    reports_root: &Path,
    started: SystemTime,
    finished: SystemTime,
    interrupted: bool,
    members: Vec<MemberOutcome>,
) -> Result<SweepRun, SweepRunError> {
    let parent = reports_root.join(&sweep.base.name);
    let folder = create_folder(&parent, &format!("sweep-{}", compact(started)))?;
    write_into(
        folder,
        sweep,
        reports_root,
        (started, finished),
        interrupted,
        members,
    )
}

/// The summary files of a sweep in `folder`, which exists (a cluster sweep's folder, made
/// when it was submitted).
pub(super) fn write_into(
    folder: PathBuf,
    sweep: &Sweep,
    reports_root: &Path,
    (started, finished): (SystemTime, SystemTime),
    interrupted: bool,
    members: Vec<MemberOutcome>,
) -> Result<SweepRun, SweepRunError> {
    let parent = reports_root.join(&sweep.base.name);
    // Member reports live in `<reports>/<spec>/<member>/...`, beside the sweep folder.
    let relative = |report: &Path| {
        let inside = report.strip_prefix(&parent).unwrap_or(report);
        Path::new("..").join(inside).to_string_lossy().into_owned()
    };
    let selection = sweep.base.sweep.select.as_ref().and_then(|select| {
        let complete: Vec<(String, &Path)> = (members.iter())
            .filter(|m| m.status.is_complete())
            .filter_map(|m| Some((m.name.clone(), m.report.as_deref()?)))
            .collect();
        select::select(&complete, select)
            .inspect_err(|e| warn!("{}: no selected result: {e}", sweep.base.name))
            .ok()
    });
    let summary = SweepSummary {
        sweep: sweep.base.name.clone(),
        spec: sweep.path.to_string_lossy().into_owned(),
        started: rfc3339(started),
        finished: rfc3339(finished),
        interrupted,
        members: members
            .iter()
            .map(|m| MemberSummary {
                name: m.name.clone(),
                member_hash: m.hash.clone(),
                set: m.set.clone(),
                status: m.status,
                report: m.report.as_deref().map(relative),
                error: m.error.clone(),
            })
            .collect(),
        selection,
    };
    let json = serde_json::to_string_pretty(&summary).expect("sweep summaries serialize");
    write_file(&folder.join(SWEEP_JSON), json)?;
    let headlines: Vec<Option<Headline>> = members
        .iter()
        .map(|m| {
            m.report
                .as_deref()
                .filter(|_| m.status.is_complete())
                .and_then(read_headline)
        })
        .collect();
    write_members_csv(&folder.join("members.csv"), &summary, &headlines)?;
    if let Some(selection) = &summary.selection {
        write_selected_csv(&folder.join(SELECTED_CSV), selection)?;
    }
    write_file(&folder.join("index.html"), index_html(&summary, &headlines))?;
    Ok(SweepRun {
        folder,
        started: summary.started,
        finished: summary.finished,
        interrupted,
        members,
        selection: summary.selection,
    })
}

/// `parent/name`, or `name-2`, `name-3`, ... when a sweep started in the same second.
pub(super) fn create_folder(parent: &Path, name: &str) -> Result<PathBuf, ReportError> {
    std::fs::create_dir_all(parent).map_err(io("create", parent))?;
    for attempt in 1.. {
        let path = match attempt {
            1 => parent.join(name),
            n => parent.join(format!("{name}-{n}")),
        };
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(io("create", &path)(err)),
        }
    }
    unreachable!("some attempt creates a new folder")
}

fn write_file(path: &Path, contents: String) -> Result<(), ReportError> {
    std::fs::write(path, contents).map_err(io("write", path))
}

fn write_members_csv(
    path: &Path,
    summary: &SweepSummary,
    headlines: &[Option<Headline>],
) -> Result<(), ReportError> {
    let csv_error = |e: csv::Error| io("write", path)(std::io::Error::other(e));
    let mut out = csv::Writer::from_path(path).map_err(csv_error)?;
    let (metric, second) = sweep_metrics(headlines);
    out.write_record([
        "name".to_string(),
        "status".to_string(),
        format!("{metric}_mean"),
        format!("{metric}_std"),
        format!("{second}_mean"),
        "report".to_string(),
    ])
    .map_err(csv_error)?;
    for (member, headline) in summary.members.iter().zip(headlines) {
        let number = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
        out.write_record([
            member.name.clone(),
            member.status.label().to_string(),
            number(headline.map(|h| h.mean)),
            number(headline.and_then(|h| h.std)),
            number(headline.map(|h| h.second_mean)),
            member.report.clone().unwrap_or_default(),
        ])
        .map_err(csv_error)?;
    }
    if let Some(selection) = summary.selection.as_ref().filter(|s| s.metric == metric) {
        let number = |v: f64| format!("{v:.6}");
        out.write_record([
            SELECTED.to_string(),
            SELECTED.to_string(),
            number(selection.test_mean),
            selection.test_std.map(number).unwrap_or_default(),
            String::new(),
            SELECTED_CSV.to_string(),
        ])
        .map_err(csv_error)?;
    }
    out.flush().map_err(|e| io("write", path)(e))
}

/// `selected.csv`: per seed the member chosen, its cross-validation score that chose it and
/// its test score.
fn write_selected_csv(path: &Path, selection: &Selection) -> Result<(), ReportError> {
    let metric = selection.metric;
    let mut text = format!("seed,member,cv_{metric},test_{metric}\n");
    for s in &selection.seeds {
        let _ = writeln!(text, "{},{},{},{}", s.seed, s.member, s.cv, s.test);
    }
    write_file(path, text)
}

/// The headline and second metric of a sweep's members (all of one kind): those of the
/// first member with scores, a classification's when none has any.
fn sweep_metrics(headlines: &[Option<Headline>]) -> (Metric, Metric) {
    (headlines.iter().flatten().next()).map_or(headline_metrics(TaskKind::Classification), |h| {
        (h.metric, h.second)
    })
}

fn index_html(summary: &SweepSummary, headlines: &[Option<Headline>]) -> String {
    let mut page = String::new();
    let title = format!("mer sweep: {}", summary.sweep);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{0}</h1>\n",
        escape(&title)
    );
    let _ = writeln!(
        page,
        "<p>Spec <code>{}</code>, {} members, started {}, finished {}. Summary: \
         <a href=\"{SWEEP_JSON}\">{SWEEP_JSON}</a>, <a href=\"members.csv\">members.csv</a>. \
         Scores are the headline model's ({}) on the test set, all songs, \
         mean &plusmn; sample std across seeds.</p>",
        escape(&summary.spec),
        summary.members.len(),
        escape(&summary.started),
        escape(&summary.finished),
        Model::HEADLINE,
    );
    if summary.interrupted {
        page.push_str(
            "<div class=\"error\"><b>Interrupted:</b> the members not finished have no \
             complete report; running the same sweep again runs only them.</div>\n",
        );
    }
    let (metric, second) = sweep_metrics(headlines);
    let _ = writeln!(
        page,
        "<table><tr><th class=\"l\">member</th><th class=\"l\">status</th><th>{metric}</th>\
         <th>{second}</th><th class=\"l\">error</th></tr>"
    );
    for (member, headline) in summary.members.iter().zip(headlines) {
        let name = match &member.report {
            Some(report) => format!(
                "<a href=\"{}/index.html\">{}</a>",
                escape(report),
                escape(&member.name)
            ),
            None => escape(&member.name),
        };
        let (f1, accuracy) = match headline {
            Some(h) => (spread_text(h.mean, h.std), format!("{:.3}", h.second_mean)),
            None => (String::new(), String::new()),
        };
        let _ = writeln!(
            page,
            "<tr><td class=\"l\">{name}</td><td class=\"l\">{}</td><td>{f1}</td><td>{accuracy}</td>\
             <td class=\"l\">{}</td></tr>",
            member.status.label(),
            escape(member.error.as_deref().unwrap_or(""))
        );
    }
    page.push_str("</table>\n");
    if let Some(selection) = &summary.selection {
        selection_html(&mut page, selection);
    }
    page.push_str("</body></html>\n");
    page
}

/// The selected result: how it was chosen, and per seed the member and both scores.
fn selection_html(page: &mut String, selection: &Selection) {
    let metric = selection.metric;
    let spread = spread_text(selection.test_mean, selection.test_std);
    let _ = writeln!(
        page,
        "<h2>Selected: {metric} {spread}</h2>\n<p>Per seed, the member with the best \
         out-of-fold cross-validation {metric} (every non-test song, predicted by the fold \
         model that did not train on it) is selected, and its test {metric} is reported. The \
         test songs never choose: picking the member with the best test score reports the \
         largest of several noisy numbers, an optimistic one, and mer never does it. \
         <a href=\"{SELECTED_CSV}\">{SELECTED_CSV}</a>.</p>\n<table><tr><th>seed</th>\
         <th class=\"l\">member</th><th>cv {metric}</th><th>test {metric}</th></tr>"
    );
    for s in &selection.seeds {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"l\">{}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            s.seed,
            escape(&s.member),
            s.cv,
            s.test
        );
    }
    page.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_is_the_kinds_own() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join(SummaryRow::FILE), text).unwrap();
        write(
            "model,split,group,seeds,ccc_mean,ccc_std,r2_mean,r2_std\n\
             fold-0,test,all,2,0.1,0.01,0.2,0.02\n\
             ensemble+tta,test,all,2,0.7,0.05,0.55,0.03\n",
        );
        let headline = read_headline(dir.path()).unwrap();
        assert_eq!(
            (headline.metric, headline.mean, headline.std),
            (Metric::Ccc, 0.7, Some(0.05))
        );
        assert_eq!((headline.second, headline.second_mean), (Metric::R2, 0.55));
        // Multi-label runs report macro-F1 too; their headline is the macro ROC-AUC.
        write(
            "model,split,group,seeds,roc_auc_macro_mean,roc_auc_macro_std,pr_auc_macro_mean,\
             pr_auc_macro_std,macro_f1_mean,macro_f1_std\n\
             ensemble+tta,test,all,1,0.9,,0.8,,0.6,\n",
        );
        let headline = read_headline(dir.path()).unwrap();
        assert_eq!((headline.metric, headline.std), (Metric::RocAucMacro, None));
    }
}
