//! `spec.toml`: the resolved spec the run ran, as `mer validate` prints it; `mer compare`
//! reads it back to show which keys differ between runs.

use std::path::Path;

use crate::report::{ReportError, write};

use super::{Exporter, ReportInput};

/// File name of the resolved spec inside a report folder.
pub const SPEC_TOML: &str = "spec.toml";

/// Writes `spec.toml` from the resolved spec's text.
pub struct SpecToml<'a>(pub &'a str);

impl Exporter for SpecToml<'_> {
    fn write(
        &self,
        folder: &Path,
        _: &ReportInput<'_>,
        _: &[String],
    ) -> Result<Vec<String>, ReportError> {
        write(folder, SPEC_TOML, self.0)?;
        Ok(vec![SPEC_TOML.to_string()])
    }
}
