//! `run.json`: the run record ([`crate::results::RunRecord`]), pretty-printed. It is written
//! last: a report folder with a `run.json` has every other file.

use std::path::Path;

use crate::report::{RUN_JSON, ReportError, write};

use super::{Exporter, ReportInput};

/// Writes `run.json`.
pub struct RunJson;

impl Exporter for RunJson {
    fn write(
        &self,
        folder: &Path,
        input: &ReportInput<'_>,
        _: &[String],
    ) -> Result<Vec<String>, ReportError> {
        let json = serde_json::to_string_pretty(input.record).expect("run records serialize");
        write(folder, RUN_JSON, &json)?;
        Ok(vec![RUN_JSON.to_string()])
    }
}
