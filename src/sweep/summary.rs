//! The summary folder of a sweep, `<reports>/<spec>/sweep-<UTC time>/`:
//!
//! - `sweep.json`: the sweep, its times, whether it was interrupted, and per member its name,
//!   identity (`member_hash`, the `spec_hash` of its `run.json`), overrides (`set`), status,
//!   report folder (relative to the summary folder) and error; [`SweepSummary`] is its schema,
//!   which `mer compare` reads;
//! - `members.csv`: per member its status and headline test scores (the headline model's
//!   macro-F1 mean and sample std across seeds, accuracy mean; read from the member's
//!   `summary.csv`) and its report folder;
//! - `index.html`: the same table, linking each member's report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::clock::{compact, rfc3339};
use crate::report::html::{STYLE, escape};
use crate::report::{ReportError, io};
use crate::results::{Model, SongGroup, Split, SummaryRow, Table};
use crate::spec::Sweep;

use super::{MemberOutcome, MemberStatus, SweepRun, SweepRunError};

/// File name of the summary inside a sweep folder.
pub const SWEEP_JSON: &str = "sweep.json";

/// The content of `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// The spec's name.
    pub sweep: String,
    /// The spec path as given on the command line.
    pub spec: String,
    /// Start time, RFC 3339.
    pub started: String,
    /// End time, RFC 3339.
    pub finished: String,
    /// Whether Ctrl-C stopped the sweep.
    pub interrupted: bool,
    /// Every member, in expansion order.
    pub members: Vec<MemberSummary>,
}

/// One member in `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberSummary {
    /// The member's name.
    pub name: String,
    /// The `spec_hash` its `run.json` carries: the hash of its resolved spec.
    pub member_hash: String,
    /// Its overrides, key path to value (`modalities` lists the kept modalities).
    pub set: BTreeMap<String, toml::Value>,
    /// `finished`, `reused`, `failed`, `interrupted` or `not-run`.
    pub status: MemberStatus,
    /// Its report folder relative to the sweep folder, e.g. `../audio+lyrics/<time>-<hash>`.
    pub report: Option<String>,
    /// Why it failed or stopped.
    pub error: Option<String>,
}

/// The headline model's test scores on all songs, as a member's `summary.csv` states them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headline {
    /// Macro-F1, mean across seeds.
    pub macro_f1_mean: f64,
    /// Macro-F1, sample standard deviation across seeds (none for one seed).
    pub macro_f1_std: Option<f64>,
    /// Accuracy, mean across seeds.
    pub accuracy_mean: f64,
}

/// Reads the headline row (model `ensemble+tta`, split `test`, group `all`) of the report
/// folder's `summary.csv`; `None` when there is none.
pub fn read_headline(report: &Path) -> Option<Headline> {
    let mut reader = csv::Reader::from_path(report.join(SummaryRow::FILE)).ok()?;
    let row = reader
        .deserialize::<SummaryRow>()
        .filter_map(Result::ok)
        .find(|row| {
            row.model == Model::HEADLINE && row.split == Split::Test && row.group == SongGroup::All
        })?;
    Some(Headline {
        macro_f1_mean: row.macro_f1_mean,
        macro_f1_std: row.macro_f1_std,
        accuracy_mean: row.accuracy_mean,
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
    // Member reports live in `<reports>/<spec>/<member>/...`, beside the sweep folder.
    let relative = |report: &Path| {
        let inside = report.strip_prefix(&parent).unwrap_or(report);
        Path::new("..").join(inside).to_string_lossy().into_owned()
    };
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
    write_file(&folder.join("index.html"), index_html(&summary, &headlines))?;
    Ok(SweepRun {
        folder,
        started: summary.started,
        finished: summary.finished,
        interrupted,
        members,
    })
}

/// `parent/name`, or `name-2`, `name-3`, ... when a sweep started in the same second.
fn create_folder(parent: &Path, name: &str) -> Result<PathBuf, ReportError> {
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
    out.write_record([
        "name",
        "status",
        "macro_f1_mean",
        "macro_f1_std",
        "accuracy_mean",
        "report",
    ])
    .map_err(csv_error)?;
    for (member, headline) in summary.members.iter().zip(headlines) {
        let number = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
        out.write_record([
            member.name.clone(),
            member.status.label().to_string(),
            number(headline.map(|h| h.macro_f1_mean)),
            number(headline.and_then(|h| h.macro_f1_std)),
            number(headline.map(|h| h.accuracy_mean)),
            member.report.clone().unwrap_or_default(),
        ])
        .map_err(csv_error)?;
    }
    out.flush().map_err(|e| io("write", path)(e))
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
    page.push_str(
        "<table><tr><th class=\"l\">member</th><th class=\"l\">status</th><th>macro-F1</th>\
         <th>accuracy</th><th class=\"l\">error</th></tr>\n",
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
            Some(h) => (
                match h.macro_f1_std {
                    Some(std) => format!("{:.3} &plusmn; {std:.3}", h.macro_f1_mean),
                    None => format!("{:.3}", h.macro_f1_mean),
                },
                format!("{:.3}", h.accuracy_mean),
            ),
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
    page.push_str("</table>\n</body></html>\n");
    page
}
