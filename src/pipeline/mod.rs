//! The stage graph of an experiment and its execution against the artifact cache.
//!
//! ```text
//! extract.audio ─┐
//! extract.lyrics ├─> split@S ─> normalize[k]@S ─> train[k]@S ─┐
//! extract.midi  ─┘                                            ├─> evaluate@S
//!                                        (k = 1..folds) ──────┘   (S = each seed)
//! ```
//!
//! Keys are computed top down from inputs alone (see [`crate::cache`]), so the whole plan, with
//! every hit and miss and the reason for each miss, is known before anything runs. Extraction
//! covers every listed song with a file (or, for precomputed features, a row), whatever
//! modalities are selected, so runs that select different modalities share it.

mod error;
mod estimate;
mod executor;
mod graph;
mod lineage;
mod observer;
pub mod results;
mod stage_id;
mod stages;
pub mod target_results;
pub mod trained;

pub use error::PipelineError;
pub use estimate::{DurationHistory, Estimate};
pub use executor::{Pipeline, RunOptions};
pub use graph::{StageGraph, StageNode};
pub use observer::RunObserver;
pub use results::{collect_results, run_results};
pub use stage_id::{SeedTag, StageId, StageIdError, StageKind, StageSelector};
pub use stages::Compute;
pub(crate) use stages::extract::EXTRACTOR_VERSION;
pub use target_results::collect_target_results;
pub use trained::{ExtractedFeatures, TrainedSeed, model_stage_versions};
