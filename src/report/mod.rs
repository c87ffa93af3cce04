//! The per-run report folder: `reports/<experiment>/<UTC time>-<spec hash>/` with the resolved
//! spec (`spec.toml`), the run record (`run.json`), the CSV tables ([`tables`]), the figures
//! ([`plots`]) and `index.html` ([`html`]), written from a run's [`results`].

mod glyphs;
pub mod html;
pub mod plots;
pub mod results;
pub mod tables;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::pipeline::RunRecord;
use crate::spec::ExperimentSpec;
use results::{RunResults, SongGroup};

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

    /// Writes the tables, figures and `index.html` (see [`write_results`]).
    pub fn write_results(
        &self,
        record: &RunRecord,
        results: Option<&RunResults>,
    ) -> Result<(), ReportError> {
        write_results(&self.path, record, results)
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
    let (mut figures, mut tables) = (Vec::new(), Vec::new());
    if let Some(results) = results {
        tables = tables::write_tables(folder, results)?;
        figures = write_figures(folder, results)?;
    }
    html::write_index(folder, record, results, &figures, &tables)
}

/// Per seed: learning curves, the headline model's confusion matrix and calibration, and
/// per-class F1 of each fold model against the ensembles, all on the test set.
fn write_figures(folder: &Path, results: &RunResults) -> Result<Vec<String>, ReportError> {
    let mut written = Vec::new();
    let mut keep = |paths: [PathBuf; 2]| {
        let svg = &paths[1];
        written.push(
            svg.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
    };
    for seed in &results.seeds {
        let stem = |name: &str| folder.join(format!("{name}-seed{}", seed.seed));
        keep(plots::learning_curves(
            &stem("learning_curves"),
            &seed.curves,
        )?);
        if let Some(headline) = seed.score(&seed.headline, "test") {
            keep(plots::confusion_heatmap(
                &stem("confusion"),
                &headline.metrics.confusion,
                &results.classes,
            )?);
            let truth: Vec<usize> = seed.predictions.iter().map(|p| p.truth).collect();
            let probabilities: Vec<f32> = seed
                .predictions
                .iter()
                .flat_map(|p| p.probabilities.iter().copied())
                .collect();
            let bins = crate::eval::reliability(&truth, &probabilities, results.classes.len());
            keep(plots::calibration_curve(
                &stem("calibration"),
                &bins,
                headline.metrics.ece,
            )?);
        }
        let models: Vec<(String, Vec<f64>)> = seed
            .scores
            .iter()
            .filter(|s| s.split == "test" && s.group == SongGroup::All)
            .map(|s| {
                let f1 = s.metrics.per_class.iter().map(|c| c.f1).collect();
                (s.model.clone(), f1)
            })
            .collect();
        keep(plots::per_class_f1(
            &stem("per_class_f1"),
            &results.classes,
            &models,
        )?);
    }
    Ok(written)
}
