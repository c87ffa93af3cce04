//! The report's outputs, one [`Exporter`] per format (hyperfine's `export/` is the model):
//! [`toml`] (`spec.toml`), [`csv`] (the tables), [`figures`] (PNG and SVG), [`html`]
//! (`index.html`) and [`json`] (`run.json`), run in that order by [`whole_report`] into the
//! folder [`crate::report::ReportFolder`] builds; a new format is one new file here and one
//! entry in [`RESULTS`].

pub mod csv;
pub mod figures;
pub mod html;
pub mod json;
pub mod modality_weights;
pub mod targets;
pub mod toml;

use std::path::Path;

use crate::results::{RunRecord, RunResults, TargetRunResults};

use super::ReportError;

/// What a report is written from.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The run record: stage decisions, times, the error of a failed run.
    pub record: &'a RunRecord,
    /// A classification's results, when the run got that far.
    pub results: Option<&'a RunResults>,
    /// A regression or multi-label run's results, when the run got that far.
    pub targets: Option<&'a TargetRunResults>,
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
pub const RESULTS: [&dyn Exporter; 5] = [
    &csv::CsvTables,
    &figures::Figures,
    &targets::TargetReport,
    &modality_weights::ModalityWeights,
    &html::IndexPage,
];

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Decision, StageRecord};

    fn record() -> RunRecord {
        RunRecord {
            experiment: "exp".into(),
            spec_hash: "0123abcd".into(),
            mer_version: "0.1.0".into(),
            host: "test".into(),
            seeds: vec![1],
            started: "2026-11-24T00:00:00Z".into(),
            finished: "2026-11-24T00:00:01Z".into(),
            dry_run: false,
            stages: vec![StageRecord {
                instance: "split@1".into(),
                stage: "split".into(),
                key: crate::cache::StageKey([1; 32]),
                decision: Decision::Hit,
                reasons: Vec::new(),
                seconds: None,
            }],
            error: Some("train[0]@1 failed".into()),
        }
    }

    /// Writes nothing; returns what it saw before it and its own name.
    struct Seen(&'static str, std::cell::RefCell<Vec<String>>);

    impl Exporter for Seen {
        fn write(
            &self,
            _: &Path,
            _: &ReportInput<'_>,
            written: &[String],
        ) -> Result<Vec<String>, ReportError> {
            *self.1.borrow_mut() = written.to_vec();
            Ok(vec![self.0.to_string()])
        }
    }

    #[test]
    fn each_exporter_sees_the_files_of_those_before_it() {
        let folder = tempfile::tempdir().unwrap();
        let record = record();
        let input = ReportInput {
            record: &record,
            results: None,
            targets: None,
        };
        let (a, b) = (
            Seen("a.csv", Default::default()),
            Seen("b.svg", Default::default()),
        );
        let written = in_order(folder.path(), &input, &[&a, &b]).unwrap();
        assert_eq!(written, ["a.csv", "b.svg"]);
        assert!(a.1.borrow().is_empty());
        assert_eq!(*b.1.borrow(), ["a.csv"]);
    }

    #[test]
    fn a_failed_run_gets_its_spec_page_and_record_with_run_json_last() {
        let folder = tempfile::tempdir().unwrap();
        let record = record();
        let input = ReportInput {
            record: &record,
            results: None,
            targets: None,
        };
        let written = whole_report(folder.path(), "seeds = [1]\n", &input).unwrap();
        assert_eq!(written, ["spec.toml", "index.html", "run.json"]);
        let json = std::fs::read_to_string(folder.path().join("run.json")).unwrap();
        assert_eq!(json, serde_json::to_string_pretty(&record).unwrap());
    }
}
