//! The stage protocol: one file per stage kind, each holding in one place its name and
//! version, its typed parameters (built from the spec by one function, flattened into its
//! key, and the only spec input its compute reads), its upstream inputs by role, its compute
//! and its artifact's arrays (one definition shared by the writer and every reader).
//!
//! Each stage's version constant is bumped whenever its output would change, which
//! invalidates exactly its artifacts and everything downstream.

pub(crate) mod evaluate;
pub(crate) mod extract;
mod mock;
pub(crate) mod normalize;
mod protocol;
pub(crate) mod split;
pub(crate) mod train;
mod view;

use crate::cache::{Artifact, StageInputs};

use super::error::PipelineError;

pub use protocol::Compute;
pub(crate) use protocol::{Artifacts, StageContext, Upstream};

/// What a stage instance computes, with its parameters and upstream.
#[derive(Debug, Clone)]
pub(crate) enum Stage {
    Extract(Box<extract::Extract>),
    Split(split::Split),
    Normalize(normalize::Normalize),
    Train(Box<train::Train>),
    Evaluate(Box<evaluate::Evaluate>),
}

impl Stage {
    /// Everything its key is made of.
    pub(crate) fn inputs(&self) -> StageInputs {
        match self {
            Stage::Extract(stage) => stage.inputs(),
            Stage::Split(stage) => stage.inputs(),
            Stage::Normalize(stage) => stage.inputs(),
            Stage::Train(stage) => stage.inputs(),
            Stage::Evaluate(stage) => stage.inputs(),
        }
    }

    /// The graph indices of the stages it reads.
    pub(crate) fn upstream(&self) -> Vec<usize> {
        match self {
            Stage::Extract(_) | Stage::Split(_) => Vec::new(),
            Stage::Normalize(stage) => stage.upstream(),
            Stage::Train(stage) => stage.upstream(),
            Stage::Evaluate(stage) => stage.upstream(),
        }
    }

    /// Computes its artifact, keyed by `inputs` (its [`Stage::inputs`]), from its upstream
    /// artifacts.
    pub(crate) fn compute(
        &self,
        inputs: &StageInputs,
        upstream: Artifacts<'_>,
        cx: &StageContext<'_>,
    ) -> Result<Artifact, PipelineError> {
        let mut artifact = Artifact::new(inputs);
        match self {
            Stage::Extract(stage) => stage.compute(&mut artifact, cx)?,
            Stage::Split(stage) => stage.compute(&mut artifact, cx)?,
            Stage::Normalize(stage) => stage.compute(&mut artifact, upstream, cx)?,
            Stage::Train(stage) => stage.compute(&mut artifact, upstream, cx)?,
            Stage::Evaluate(stage) => stage.compute(&mut artifact, upstream, cx)?,
        }
        Ok(artifact)
    }
}
