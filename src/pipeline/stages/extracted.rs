//! The arrays of an extraction's artifact, which every extraction-like stage writes (an
//! extraction, a shard, the join of several extractors or of shards) and normalization,
//! joins and prediction read: one definition for the writers and the readers.
//!
//! | array             | type, shape          | what                                          |
//! |-------------------|----------------------|-----------------------------------------------|
//! | `ids`             | `strings [rows]`     | songs with features                           |
//! | `features`        | `f32 [rows, features]` | their features, rows in `ids` order           |
//! | `feature_names`   | `strings [features]` | the columns' names                            |
//! | `skipped_ids`     | `strings [skipped]`  | songs whose features could not be had         |
//! | `skipped_reasons` | `strings [skipped]`  | why, in `skipped_ids` order                   |
//! | `unknown_ids`     | `strings [unknown]`  | precomputed only: rows of no listed song      |

use crate::cache::Artifact;
use crate::pipeline::error::PipelineError;

use super::view::{f32_array, sized, strings};

/// What an extraction artifact holds, as written.
#[derive(Debug, Default)]
pub(crate) struct ExtractedRows {
    pub(crate) ids: Vec<String>,
    pub(crate) names: Vec<String>,
    /// `ids.len() x names.len()`, row-major.
    pub(crate) features: Vec<f32>,
    pub(crate) skipped_ids: Vec<String>,
    pub(crate) skipped_reasons: Vec<String>,
}

impl ExtractedRows {
    /// Writes the rows into `artifact`, the artifact of `stage`.
    pub(crate) fn store(self, artifact: &mut Artifact, stage: &str) {
        let rows = self.ids.len();
        tracing::info!(
            "{stage}: {rows} songs x {} features, {} skipped",
            self.names.len(),
            self.skipped_ids.len()
        );
        artifact
            .put_strings(IDS, self.ids)
            .put_f32(FEATURES, &[rows, self.names.len()], self.features)
            .put_strings(FEATURE_NAMES, self.names)
            .put_strings(SKIPPED_IDS, self.skipped_ids)
            .put_strings(SKIPPED_REASONS, self.skipped_reasons);
    }
}

const IDS: &str = "ids";
const FEATURES: &str = "features";
const FEATURE_NAMES: &str = "feature_names";
const SKIPPED_IDS: &str = "skipped_ids";
const SKIPPED_REASONS: &str = "skipped_reasons";
/// Precomputed features only: the matrix rows of no listed song.
pub(crate) const UNKNOWN_IDS: &str = "unknown_ids";

/// The features of an extract artifact, as normalization and the join read them.
pub(crate) struct ExtractView<'a> {
    pub(crate) ids: &'a [String],
    pub(crate) names: &'a [String],
    /// `ids.len() x names.len()`, row-major.
    pub(crate) features: &'a [f32],
}

/// The songs an extract artifact skipped, and why.
pub(crate) fn skipped(extract: &Artifact) -> Result<(&[String], &[String]), PipelineError> {
    Ok((
        strings(extract, SKIPPED_IDS)?,
        strings(extract, SKIPPED_REASONS)?,
    ))
}

impl<'a> ExtractView<'a> {
    pub(crate) fn read(extract: &'a Artifact) -> Result<Self, PipelineError> {
        let ids = strings(extract, IDS)?;
        let names = strings(extract, FEATURE_NAMES)?;
        let features = sized(
            extract,
            FEATURES,
            f32_array(extract, FEATURES)?,
            ids.len() * names.len(),
        )?;
        Ok(ExtractView {
            ids,
            names,
            features,
        })
    }
}
