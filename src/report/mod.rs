//! The per-run report folder: `reports/<experiment>/<UTC time>-<spec hash>/` with the resolved
//! spec and `run.json`. Metrics, plots and `index.html` join it with evaluation.

pub mod plots;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::pipeline::RunRecord;
use crate::spec::ExperimentSpec;

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
    blake3::hash(spec.to_toml().as_bytes()).to_hex()[..8].to_string()
}

/// A report folder being written.
#[derive(Debug, Clone)]
pub struct ReportFolder {
    path: PathBuf,
}

impl ReportFolder {
    /// Creates `reports_root/<experiment>/<UTC time>-<spec hash>/` holding `spec.toml`; runs
    /// started in the same second get `-2`, `-3`, ... so no run overwrites another.
    pub fn create(reports_root: &Path, spec: &ExperimentSpec) -> Result<Self, ReportError> {
        let parent = reports_root.join(&spec.name);
        std::fs::create_dir_all(&parent).map_err(io("create", &parent))?;
        let base = format!(
            "{}-{}",
            crate::clock::compact(SystemTime::now()),
            spec_hash(spec)
        );
        let mut attempt = 1;
        let path = loop {
            let name = match attempt {
                1 => base.clone(),
                n => format!("{base}-{n}"),
            };
            let path = parent.join(name);
            // create_dir fails on an existing folder, so concurrent runs never share one.
            match std::fs::create_dir(&path) {
                Ok(()) => break path,
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => attempt += 1,
                Err(err) => return Err(io("create", &path)(err)),
            }
        };
        let folder = ReportFolder { path };
        folder.write("spec.toml", spec.to_toml())?;
        Ok(folder)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `run.json`.
    pub fn write_run(&self, record: &RunRecord) -> Result<(), ReportError> {
        let json = serde_json::to_string_pretty(record).expect("run records serialize");
        self.write(RUN_JSON, json)
    }

    fn write(&self, name: &str, contents: String) -> Result<(), ReportError> {
        let path = self.path.join(name);
        std::fs::write(&path, contents).map_err(io("write", &path))
    }
}

/// Reads the run record of the report folder `folder`.
pub fn read_run(folder: &Path) -> Result<RunRecord, ReportError> {
    let path = folder.join(RUN_JSON);
    let text = std::fs::read_to_string(&path).map_err(io("read", &path))?;
    serde_json::from_str(&text).map_err(|source| ReportError::BadRecord { path, source })
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ReportError {
    let path = path.to_path_buf();
    move |source| ReportError::Io {
        action,
        path,
        source,
    }
}
