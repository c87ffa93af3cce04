//! Experiment specs: the TOML a researcher writes, layered with defaults, `MER_*` environment
//! variables and `--set` overrides, then checked into an [`ExperimentSpec`].
//!
//! Two levels, as in ripgrep's flags: [`RawSpec`] is what the sources said (serde defaults
//! applied), [`ExperimentSpec`] is checked, with paths made absolute. Only the checked form
//! reaches the pipeline.

mod check;
mod error;
pub mod executor;
mod load;
mod locate;
pub mod modalities;
pub mod modality_keys;
pub mod sections;
mod sources;
pub mod sweep;
mod training;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use error::{Origin, ProblemKind, SpecError, SpecProblem};
pub use executor::{ExecutorKind, ExecutorSection, SlurmSettings};
pub use load::load_spec;
pub use modalities::*;
pub use modality_keys::KeyProblem;
pub use sections::*;
pub use sources::ENV_PREFIX;
pub use sweep::{Sweep, SweepError, SweepMember, expand_sweep};
pub use training::{SettingError, TrainSettings};

use crate::modality::{Modality, ModalityMask};

/// The seed used when a spec names none.
pub const DEFAULT_SEED: u64 = 42;

/// A spec as its sources wrote it, with serde defaults filled in; not yet checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    /// Experiment name; default: the spec file's stem.
    #[serde(default)]
    pub name: Option<String>,
    /// One seed (exclusive with `seeds`).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Several seeds: the whole protocol runs once per seed.
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
    /// `[dataset]`.
    pub dataset: DatasetSection,
    /// `[modalities.*]`, as written (resolved into their extractors by the checks).
    #[serde(default)]
    pub modalities: ModalityTables,
    /// `[normalize]`.
    #[serde(default)]
    pub normalize: NormalizeSection,
    /// `[model]`.
    #[serde(default)]
    pub model: ModelSection,
    /// `[augment]`.
    #[serde(default)]
    pub augment: AugmentSection,
    /// `[schedule]`.
    #[serde(default)]
    pub schedule: ScheduleSection,
    /// `[split]`.
    #[serde(default)]
    pub split: SplitSection,
    /// `[eval]`.
    #[serde(default)]
    pub eval: EvalSection,
    /// `[sweep]`.
    #[serde(default)]
    pub sweep: SweepSection,
    /// `[task]`.
    #[serde(default)]
    pub task: TaskSection,
    /// `[executor]`.
    #[serde(default)]
    pub executor: ExecutorSection,
}

/// A checked spec: every rule holds, defaults are explicit and paths are absolute.
///
/// Serializes to the TOML that `mer validate` prints, which loads back to the same spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Experiment name (report folder name).
    pub name: String,
    /// Seeds, one full protocol run each; never empty, no repeats.
    pub seeds: Vec<u64>,
    /// `[dataset]`, with `root` absolute.
    pub dataset: DatasetSection,
    /// `[modalities.*]`, at least one present.
    pub modalities: ModalitySections,
    /// `[normalize]`.
    pub normalize: NormalizeSection,
    /// `[model]`.
    pub model: ModelSection,
    /// `[augment]`.
    pub augment: AugmentSection,
    /// `[schedule]`.
    pub schedule: ScheduleSection,
    /// `[split]`.
    pub split: SplitSection,
    /// `[eval]`.
    pub eval: EvalSection,
    /// `[sweep]`; left out of the TOML when empty (a plain spec, or a sweep's member).
    #[serde(default, skip_serializing_if = "SweepSection::is_empty")]
    pub sweep: SweepSection,
    /// `[task]`; left out of the TOML for a classification (so its hash stays as it was).
    #[serde(default, skip_serializing_if = "TaskSection::is_default")]
    pub task: TaskSection,
    /// `[executor]`: where the members of its sweep run; not part of the experiment (left
    /// out of the resolved TOML, so of its hash and keys).
    #[serde(default, skip_serializing)]
    pub executor: ExecutorSection,
}

impl ExperimentSpec {
    /// The modalities this experiment uses.
    pub fn selected(&self) -> ModalityMask {
        Modality::ALL
            .into_iter()
            .filter(|m| self.modalities.is_selected(*m))
            .collect()
    }

    /// The resolved spec as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a checked spec always serializes to TOML")
    }

    /// Short hash of the resolved spec: a run's identity, and its report folder's suffix.
    pub fn hash(&self) -> String {
        blake3::hash(self.to_toml().as_bytes()).to_hex()[..8].to_string()
    }

    /// The modalities that keep a song in the experiment (`dataset.songs_with`, which the
    /// loader always resolves; the selected modalities when it is somehow absent).
    pub fn songs_with(&self) -> ModalityMask {
        self.dataset
            .songs_with
            .as_ref()
            .map_or_else(|| self.selected(), |list| list.iter().copied().collect())
    }
}

impl NormalizeSection {
    /// The scaling of `modality`: its own override, else `method`.
    pub fn scaling(&self, modality: Modality) -> Scaling {
        let own = match modality {
            Modality::Audio => self.audio,
            Modality::Lyrics => self.lyrics,
            Modality::Midi => self.midi,
        };
        own.unwrap_or(self.method)
    }
}

/// Makes `path` absolute against `base` (the spec file's folder) and removes `.` and `..`
/// lexically, so resolved specs and reports show readable paths. Symlinks are left alone.
fn absolutize(base: &Path, path: &Path) -> PathBuf {
    lexically_normal(&base.join(path))
}

/// `path` with `.` and `..` resolved by name, without looking at the disk (so it works for
/// paths that do not exist yet, and never follows a link).
pub fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
