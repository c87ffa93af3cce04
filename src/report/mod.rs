//! The per-run report folder: `reports/<experiment>/<UTC time>-<spec hash>/` with the resolved
//! spec (`spec.toml`), the CSV tables, the figures ([`plots`]; [`target_plots`] for
//! regression and multi-label runs), `index.html` and, written
//! last, the run record (`run.json`), from a run's [`crate::results`], one [`export`]er per
//! format. A folder is built under a hidden temporary name and renamed into place when whole
//! ([`ReportFolder`]), so readers ([`finished_reports`], `mer compare`) never take a report
//! cut short by a crash or a full disk for a finished one ([`check_complete`]).

pub mod export;
mod glyphs;
pub mod html;
pub mod plots;
pub mod target_plots;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::results::{
    HistoryRow, MetricsRow, PerClassRow, PredictionRow, RunRecord, RunResults, Table,
    TargetRunResults,
};
use crate::spec::ExperimentSpec;
use export::ReportInput;
use export::toml::SPEC_TOML;

/// File name of the run record inside a report folder.
pub const RUN_JSON: &str = "run.json";

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written or read.
    #[error("could not {action} '{}'", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A figure could not be drawn.
    #[error(transparent)]
    Plot(#[from] plots::PlotError),
    /// The report of a finished (or failed) run could not be written; nothing of it is kept.
    #[error(
        "the report of this run could not be written, so none was kept (its stages are cached: running the same command again only writes the report)"
    )]
    NotWritten(#[source] Box<ReportError>),
    /// `run.json` does not parse.
    #[error("'{}' is not a mer run record", path.display())]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// Short hash of the resolved spec: the report folder's suffix, and a run's identity.
pub fn spec_hash(spec: &ExperimentSpec) -> String {
    spec.hash()
}

/// A report folder to be written when its run ends: it is built under a hidden temporary
/// name beside its final one (`.<name>.partial`) and renamed into place by
/// [`ReportFolder::finish`] after `run.json`, so a folder under a report's name is always
/// whole. A run killed while its report is written leaves only the hidden folder, which
/// nothing reads as a run and a later run removes.
#[derive(Debug)]
pub struct ReportFolder {
    parent: PathBuf,
    name: String,
    spec: String,
}

/// What marks a report folder still being written (or abandoned by a killed run).
const PARTIAL_SUFFIX: &str = ".partial";

/// A hidden partial folder untouched this long belongs to a run that died while writing its
/// report (writing one takes seconds).
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// Files every report holds once written; a run that completed also has [`RESULT_FILES`].
const REPORT_FILES: [&str; 2] = [SPEC_TOML, RUN_JSON];

/// Files of a completed run's report that its readers (`mer compare`, sweep reuse) read; of
/// each inner list one is enough (a classification's per-class table, a regression's
/// per-target one, a multi-label run's per-tag one).
const RESULT_FILES: [&[&str]; 4] = [
    &[MetricsRow::FILE],
    &[PerClassRow::FILE, "per_target.csv", "per_tag.csv"],
    &[HistoryRow::FILE],
    &[PredictionRow::FILE],
];

impl ReportFolder {
    /// The report of a run of `spec` starting now: `reports_root/<experiment>/<UTC
    /// time>-<spec hash>/`. Only the experiment's folder is created now (so an unwritable
    /// reports folder fails before anything runs); the report itself when the run ends.
    pub fn create(reports_root: &Path, spec: &ExperimentSpec) -> Result<Self, ReportError> {
        let parent = reports_root.join(&spec.name);
        std::fs::create_dir_all(&parent).map_err(io("create", &parent))?;
        let name = format!(
            "{}-{}",
            crate::clock::compact(SystemTime::now()),
            spec_hash(spec)
        );
        Ok(ReportFolder {
            parent,
            name,
            spec: spec.to_toml(),
        })
    }

    /// Writes `spec.toml`, the tables, figures and `index.html` (see [`write_results`]), then
    /// `run.json` ([`export::whole_report`]), under the temporary name, and renames the folder
    /// into place (runs started in the same second get `-2`, `-3`, ...); returns its final
    /// path. On failure (a full
    /// disk) the partial folder is removed: a report is whole or absent.
    pub fn finish(
        self,
        record: &RunRecord,
        (results, targets): (Option<&RunResults>, Option<&TargetRunResults>),
    ) -> Result<PathBuf, ReportError> {
        remove_abandoned(&self.parent);
        let partial = self.create_partial()?;
        let input = ReportInput {
            record,
            results,
            targets,
        };
        let written = export::whole_report(&partial, &self.spec, &input)
            .and_then(|_| self.rename_into_place(&partial));
        written.map_err(|error| {
            let _ = std::fs::remove_dir_all(&partial);
            ReportError::NotWritten(Box::new(error))
        })
    }

    /// A new hidden folder no other run writes to.
    fn create_partial(&self) -> Result<PathBuf, ReportError> {
        for attempt in 1.. {
            let partial = self
                .parent
                .join(partial_name(&numbered(&self.name, attempt)));
            // create_dir fails on an existing folder, so concurrent runs never share one.
            match std::fs::create_dir(&partial) {
                Ok(()) => return Ok(partial),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(io("create", &partial)(err)),
            }
        }
        unreachable!("some numbered name is free")
    }

    /// Renames the finished folder to its name, or to the next free `-<n>` name when another
    /// run started in the same second took it.
    fn rename_into_place(&self, partial: &Path) -> Result<PathBuf, ReportError> {
        for attempt in 1.. {
            let target = self.parent.join(numbered(&self.name, attempt));
            if target.exists() {
                continue;
            }
            match std::fs::rename(partial, &target) {
                Ok(()) => return Ok(target),
                Err(err)
                    if matches!(
                        err.kind(),
                        std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::DirectoryNotEmpty
                    ) => {}
                Err(err) => return Err(io("rename", partial)(err)),
            }
        }
        unreachable!("some numbered name is free")
    }
}

fn write(folder: &Path, name: &str, contents: &str) -> Result<(), ReportError> {
    let path = folder.join(name);
    std::fs::write(&path, contents).map_err(io("write", &path))
}

/// Removes the hidden folders of reports whose run died while writing them.
fn remove_abandoned(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let age = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok());
        if is_partial(&path) && age.is_some_and(|age| age > ABANDONED_AFTER) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Sorts report folders by when their run started, oldest first: by the UTC time in the name,
/// then by the `-<n>` that runs started in the same second got (`-10` after `-9`).
pub fn sort_oldest_first(folders: &mut [PathBuf]) {
    folders.sort_by_cached_key(|folder| {
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // `<time>-<hash>` or `<time>-<hash>-<n>`: the hash is hex, `<n>` a number from 2.
        let mut parts = name.splitn(3, '-');
        let time = parts.next().unwrap_or_default().to_string();
        let hash = parts.next().unwrap_or_default().to_string();
        let n = parts
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(1);
        (time, n, hash, name)
    });
}

fn numbered(base: &str, attempt: usize) -> String {
    match attempt {
        1 => base.to_string(),
        n => format!("{base}-{n}"),
    }
}

fn partial_name(name: &str) -> String {
    format!(".{name}{PARTIAL_SUFFIX}")
}

/// Whether `folder` is a report still being written, or left behind by a run killed while
/// writing it.
pub fn is_partial(folder: &Path) -> bool {
    folder
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.ends_with(PARTIAL_SUFFIX))
}

/// Why a folder is not the whole report of a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Incomplete {
    /// The hidden folder of a report being written or abandoned.
    #[error(
        "mer stopped while writing this report (killed, crashed or out of disk space); only its finished folder, without the leading '.' and '{PARTIAL_SUFFIX}', is a report"
    )]
    BeingWritten,
    /// A file every report of its kind has is missing (a report written by an earlier mer
    /// that was killed while writing it, or a file removed since).
    #[error(
        "its report is missing {0} (the run stopped while writing it, or the file was removed)"
    )]
    Missing(&'static str),
}

/// Checks that `folder`, whose run record is `record`, holds a whole report.
pub fn check_complete(folder: &Path, record: &RunRecord) -> Result<(), Incomplete> {
    if is_partial(folder) {
        return Err(Incomplete::BeingWritten);
    }
    if let Some(missing) = REPORT_FILES
        .iter()
        .find(|name| !folder.join(name).is_file())
    {
        return Err(Incomplete::Missing(missing));
    }
    if record.error.is_some() || record.dry_run {
        return Ok(());
    }
    match RESULT_FILES
        .iter()
        .find(|any_of| !any_of.iter().any(|name| folder.join(name).is_file()))
    {
        Some(missing) => Err(Incomplete::Missing(missing[0])),
        None => Ok(()),
    }
}

/// Reads the run record of the report folder `folder`.
pub fn read_run(folder: &Path) -> Result<RunRecord, ReportError> {
    let path = folder.join(RUN_JSON);
    let text = std::fs::read_to_string(&path).map_err(io("read", &path))?;
    serde_json::from_str(&text).map_err(|source| ReportError::BadRecord { path, source })
}

/// The whole reports of finished runs (no error, not a dry run) of the resolved spec whose
/// hash is `hash`, under `reports_root/<experiment>/`, newest first, with their run records.
pub fn finished_reports(
    reports_root: &Path,
    experiment: &str,
    hash: &str,
) -> impl Iterator<Item = (PathBuf, RunRecord)> {
    let suffix = format!("-{hash}");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(reports_root.join(experiment))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            !is_partial(path)
                && path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains(&suffix))
        })
        .collect();
    sort_oldest_first(&mut folders);
    let hash = hash.to_string();
    folders.into_iter().rev().filter_map(move |folder| {
        let record = read_run(&folder).ok()?;
        let finished = record.spec_hash == hash && !record.dry_run && record.error.is_none();
        (finished && check_complete(&folder, &record).is_ok()).then_some((folder, record))
    })
}

/// Turns an I/O error while `action`ing `path` into a [`ReportError`] naming both.
pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ReportError {
    let path = path.to_path_buf();
    move |source| ReportError::Io {
        action,
        path,
        source,
    }
}

/// Writes into `folder` the tables and figures of `results` (when the run got that far) and
/// `index.html`, which also shows `record`'s stage decisions and error.
pub fn write_results(
    folder: &Path,
    record: &RunRecord,
    results: Option<&RunResults>,
) -> Result<(), ReportError> {
    let input = ReportInput {
        record,
        results,
        targets: None,
    };
    export::in_order(folder, &input, &export::RESULTS).map(drop)
}
