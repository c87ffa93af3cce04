//! The stage protocol ([`Stage`]): one file per stage kind, each holding in one place its
//! name and version, its typed parameters (built from the spec by one function, flattened into
//! its key, and the only spec input its compute reads), its upstream inputs by role, its
//! compute and its artifact's arrays (one definition shared by the writer and every reader).
//! Each stage names its own [`super::StageKind`] ([`Stage::kind`]), so a new stage kind is a
//! new file here (with its `mod` line below) and its wiring line in `graph.rs`.
//!
//! Each stage's version constant is bumped whenever its output would change, which
//! invalidates exactly its artifacts and everything downstream.

pub(crate) mod evaluate;
pub(crate) mod extract;
pub(crate) mod extracted;
pub(crate) mod join;
mod mock;
pub(crate) mod normalize;
mod protocol;
pub(crate) mod shard;
pub(crate) mod split;
pub(crate) mod train;
pub(crate) mod view;

pub use protocol::Compute;
pub(crate) use protocol::{Artifacts, Stage, StageContext, Upstream};
