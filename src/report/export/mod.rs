//! The report's outputs, one [`Exporter`] per format (hyperfine's `export/` is the model):
//! [`toml`] (`spec.toml`), [`csv`] (the tables), [`figures`] (PNG and SVG), [`html`]
//! (`index.html`) and [`json`] (`run.json`), run in that order by [`whole_report`] into the
//! folder [`crate::report::ReportFolder`] builds; a new format is one new file here and one
//! entry in [`RESULTS`].

pub mod csv;
pub mod figures;
pub mod html;
pub mod json;
pub mod toml;

use std::path::Path;

use crate::results::{RunRecord, RunResults};

use super::ReportError;

/// What a report is written from.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The run record: stage decisions, times, the error of a failed run.
    pub record: &'a RunRecord,
    /// The results, when the run got that far.
    pub results: Option<&'a RunResults>,
}

/// One format of the report's outputs.
pub trait Exporter {
    /// Writes this format's files of `input` into `folder`, where the exporters before it
    /// wrote `written` (file names, in order); returns the names of the files it wrote.
    fn write(
        &self,
        folder: &Path,
        input: &ReportInput<'_>,
        written: &[String],
    ) -> Result<Vec<String>, ReportError>;
}

/// The exporters of a run's results, in order: the tables and figures, then the page that
/// shows them.
pub const RESULTS: [&dyn Exporter; 3] = [&csv::CsvTables, &figures::Figures, &html::IndexPage];

/// Runs `exporters` in order into `folder`; returns every file written, in order.
pub fn in_order(
    folder: &Path,
    input: &ReportInput<'_>,
    exporters: &[&dyn Exporter],
) -> Result<Vec<String>, ReportError> {
    let mut written = Vec::new();
    for exporter in exporters {
        let files = exporter.write(folder, input, &written)?;
        written.extend(files);
    }
    Ok(written)
}

/// Writes a whole report into `folder`: `spec.toml` from the resolved spec's text `spec`, the
/// [`RESULTS`], then `run.json`, last, so a folder with a `run.json` has every other file.
pub fn whole_report(
    folder: &Path,
    spec: &str,
    input: &ReportInput<'_>,
) -> Result<Vec<String>, ReportError> {
    let spec = toml::SpecToml(spec);
    let exporters: Vec<&dyn Exporter> = std::iter::once(&spec as &dyn Exporter)
        .chain(RESULTS)
        .chain([&json::RunJson as &dyn Exporter])
        .collect();
    in_order(folder, input, &exporters)
}
