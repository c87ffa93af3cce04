//! Feature extractors: one submodule per modality, each turning one song's file into a fixed
//! vector of `f32` with stable, documented names (`feature_names`), so reports and
//! `mer data inspect` can say what dimension 37 is.
//!
//! Every extractor has the same two entry points, which the `extract.*` pipeline stages call
//! per song, in parallel:
//! - `feature_names(section) -> Vec<String>`: the names, in order; depends only on the spec;
//! - `extract(path, section) -> Result<Vec<f32>, Error>`: one song's vector, same length.
//!
//! A per-song error is the stage's business (`on_error = "skip" | "fail"`), never a panic.

pub mod lyrics;
pub mod midi;
