//! Why a fold could not be trained or a trained net could not be rebuilt; each message says
//! what to change.

use crate::modality::Modality;

use crate::spec::SettingError;

/// A training or prediction failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The training settings break one or more rules (every violation, in key order).
    #[error("{}; change them in the spec", settings_list(.0))]
    InvalidSettings(Vec<SettingError>),
    /// A spec value names something this build does not implement.
    #[error("{key} = \"{value}\" is not supported by the model yet; use {supported}")]
    Unsupported {
        /// Spec key path.
        key: &'static str,
        /// The value found.
        value: String,
        /// What works instead.
        supported: &'static str,
    },
    /// The fold's data does not fit together (a bug upstream, not in the spec).
    #[error(
        "inconsistent fold data: {0}; rebuild the normalize stage's artifact (`mer cache gc`) and report it if it persists"
    )]
    InconsistentData(String),
    /// The fold has no training or no validation songs.
    #[error("fold {fold} has no {which} songs; lower split.folds or add songs")]
    EmptyFold {
        /// 0-based fold index.
        fold: usize,
        /// `training` or `validation`.
        which: &'static str,
    },
    /// No modality selected.
    #[error("the model needs at least one modality; select one under [modalities]")]
    NoModality,
    /// Stored weights do not match the network the spec describes.
    #[error(
        "stored weights do not fit the model: {0}; the [model] section or the features changed since training, so retrain (drop the train artifacts with `mer cache gc`)"
    )]
    WeightsMismatch(String),
    /// Training diverged.
    #[error(
        "training diverged in fold {fold}, epoch {epoch} (loss is not finite); lower schedule.lr or check the features for extreme values"
    )]
    Diverged {
        /// 0-based fold index.
        fold: usize,
        /// 0-based epoch.
        epoch: usize,
    },
    /// A modality given for prediction is not among the modalities the net was trained on.
    #[error(
        "modality {0} was not in the trained model; predict with the modalities it was trained on"
    )]
    UnknownModality(Modality),
    /// dfdx reported a failure (allocation).
    #[error("tensor backend failed: {0}; lower model widths or schedule.batch_size")]
    Backend(String),
}

/// `invalid training settings: key `a`: ..., key `b`: ...`.
fn settings_list(errors: &[SettingError]) -> String {
    let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!("invalid training settings: {}", listed.join("; "))
}
