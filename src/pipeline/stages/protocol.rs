//! What every stage shares: how it names its upstream, what it may read besides its typed
//! parameters, and how its parameters become its key.
//!
//! A stage's parameters are one serializable struct built from the spec by one function; that
//! struct flattened is its key's config slice ([`key_config`]) and it is the only spec input
//! its compute reads, so the key and the computation cannot drift apart.

use serde::Serialize;

use crate::cache::{Artifact, ConfigSlice, StageInputs, StageKey};
use crate::dataset::DatasetLoad;
use crate::dataset::targets::SongTargets;

use crate::pipeline::error::PipelineError;
use crate::pipeline::observer::RunObserver;
use crate::pipeline::stage_id::StageKind;

/// A stage instance: its key's inputs, the graph nodes it reads and its compute. Each stage
/// kind implements it in its own file, next to its name, version, parameters and artifact.
pub(crate) trait Stage: std::fmt::Debug + Send + Sync {
    /// Its name and, for a per-fold stage, its fold: the instance's id without the seed.
    fn kind(&self) -> StageKind;

    /// Everything its key is made of: its parameters flattened, and its upstream keys.
    fn inputs(&self) -> StageInputs;

    /// The graph indices of the stages it reads.
    fn upstream(&self) -> Vec<usize> {
        Vec::new()
    }

    /// Writes its artifact's arrays from its parameters and upstream artifacts.
    fn compute(
        &self,
        artifact: &mut Artifact,
        upstream: Artifacts<'_>,
        cx: &StageContext<'_>,
    ) -> Result<(), PipelineError>;
}

/// Whether train and evaluate compute for real or, for testing graph, cache and report logic
/// in milliseconds, produce artifacts of the right shape from the seed alone (modelled on
/// hyperfine's mock executor). Mock artifacts have their own keys (a `mock` value in the
/// key), so a real run never takes one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compute {
    /// Train and evaluate for real.
    #[default]
    Real,
    /// Deterministic stand-ins for train and evaluate.
    Mock,
}

impl Compute {
    /// The key's `mock` marker: present only in mock mode, so real keys are unchanged.
    pub(crate) fn is_mock(&self) -> bool {
        *self == Compute::Mock
    }
}

/// An upstream stage instance as its consumer sees it: where its artifact will be, its key and
/// its instance name (some stages name their upstream by role, others by instance).
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    /// Its index in the stage graph.
    pub(crate) index: usize,
    /// Its key.
    pub(crate) key: StageKey,
    /// Its instance name, e.g. `extract.audio` or `train[2]@42`.
    pub(crate) instance: String,
}

/// The artifacts of the graph's nodes resolved so far, by node index.
#[derive(Clone, Copy)]
pub(crate) struct Artifacts<'a>(pub(crate) &'a [Option<Artifact>]);

impl<'a> Artifacts<'a> {
    /// The artifact of `upstream`, which the executor resolves before its consumers.
    pub(crate) fn of(&self, upstream: &Upstream) -> &'a Artifact {
        self.0[upstream.index]
            .as_ref()
            .expect("upstream resolved first")
    }

    /// The artifact of `upstream`, if this run resolved it: a shard is left unresolved when
    /// its join was cached as the run began.
    pub(crate) fn get(&self, upstream: &Upstream) -> Option<&'a Artifact> {
        self.0[upstream.index].as_ref()
    }
}

/// Everything a stage may read besides its parameters and upstream artifacts: the songs
/// (their content enters the key through file hashes and manifest digests) and the observer.
pub(crate) struct StageContext<'a> {
    pub(crate) data: &'a DatasetLoad,
    pub(crate) observer: &'a dyn RunObserver,
}

impl StageContext<'_> {
    /// The number of classes of the experiment.
    pub(crate) fn classes(&self) -> usize {
        self.data.manifest.classes.len()
    }

    /// The model's outputs per song: classes, regression targets or tags.
    pub(crate) fn outputs(&self) -> usize {
        match &self.data.targets {
            SongTargets::Classes => self.classes(),
            other => other.outputs().len(),
        }
    }
}

/// `params` flattened into dotted config paths: a stage's key slice.
pub(crate) fn key_config(params: &impl Serialize) -> ConfigSlice {
    section("", params)
}

/// The spec section `prefix` flattened into dotted config paths.
pub(crate) fn section(prefix: &str, value: &impl Serialize) -> ConfigSlice {
    ConfigSlice::from_serialize(prefix, value)
        .expect("spec sections are plain data and always flatten")
}

/// Serde's `skip_serializing_if` for the `mock` marker.
pub(crate) fn is_real(mock: &bool) -> bool {
    !*mock
}
