//! Why a stage's key changed, compared with an earlier entry of the same stage (cargo's
//! `DirtyReason`): `[DIRTY] extract.audio: extract.audio.n_mels changed (64 => 128)`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{ArtifactMeta, ConfigValue, StageInputs, StageKey};

/// One difference between the inputs of an earlier entry and the current inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum DirtyReason {
    /// The stage's implementation version was bumped.
    Version {
        /// Version of the earlier entry.
        old: u32,
        /// Current version.
        new: u32,
    },
    /// A config value changed, appeared (`old: None`) or disappeared (`new: None`).
    Config {
        /// Dotted config path.
        path: String,
        /// Earlier value.
        old: Option<ConfigValue>,
        /// Current value.
        new: Option<ConfigValue>,
    },
    /// An upstream artifact changed.
    Upstream {
        /// The upstream role (`extract.audio`).
        role: String,
        /// Earlier key.
        old: Option<StageKey>,
        /// Current key.
        new: Option<StageKey>,
    },
    /// Input files changed (song ids).
    Files {
        /// Songs with no file before.
        added: Vec<String>,
        /// Songs whose file is gone.
        removed: Vec<String>,
        /// Songs whose file content changed.
        modified: Vec<String>,
    },
}

fn show<T: fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "unset".to_owned(), T::to_string)
}

impl fmt::Display for DirtyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirtyReason::Version { old, new } => {
                write!(f, "stage implementation changed (version {old} => {new})")
            }
            DirtyReason::Config { path, old, new } => {
                write!(f, "{path} changed ({} => {})", show(old), show(new))
            }
            DirtyReason::Upstream { role, old, new } => {
                let short = |k: &Option<StageKey>| k.map_or_else(|| "none".into(), |k| k.short());
                write!(
                    f,
                    "upstream {role} changed ({} => {})",
                    short(old),
                    short(new)
                )
            }
            DirtyReason::Files {
                added,
                removed,
                modified,
            } => write!(
                f,
                "input files changed ({} new, {} removed, {} modified{})",
                added.len(),
                removed.len(),
                modified.len(),
                examples(added, removed, modified)
            ),
        }
    }
}

/// A few song ids so the message points somewhere concrete.
fn examples(added: &[String], removed: &[String], modified: &[String]) -> String {
    let ids: Vec<&str> = added
        .iter()
        .chain(removed)
        .chain(modified)
        .take(3)
        .map(String::as_str)
        .collect();
    if ids.is_empty() {
        String::new()
    } else {
        format!(", e.g. {}", ids.join(", "))
    }
}

/// The differences between an earlier entry's recorded inputs and `current`, in a fixed
/// order (version, config paths, upstream roles, files). Empty means same inputs.
pub fn dirty_reasons(old: &ArtifactMeta, current: &StageInputs) -> Vec<DirtyReason> {
    let mut reasons = Vec::new();
    if old.version != current.version {
        reasons.push(DirtyReason::Version {
            old: old.version,
            new: current.version,
        });
    }
    let old_config: BTreeMap<String, ConfigValue> =
        match serde_json::from_str::<serde_json::Value>(&old.config_json) {
            Ok(serde_json::Value::Object(map)) => map
                .iter()
                .map(|(k, v)| (k.clone(), ConfigValue::from_json(v)))
                .collect(),
            _ => BTreeMap::new(),
        };
    let new_config: BTreeMap<String, ConfigValue> = current
        .config
        .iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect();
    for (path, old, new) in changed(&old_config, &new_config) {
        reasons.push(DirtyReason::Config { path, old, new });
    }
    for (role, old, new) in changed(&old.upstream, &current.upstream) {
        reasons.push(DirtyReason::Upstream { role, old, new });
    }
    let (mut added, mut removed, mut modified) = (vec![], vec![], vec![]);
    for (song, before, after) in changed(&old.files, &current.files) {
        match (before, after) {
            (None, _) => added.push(song),
            (_, None) => removed.push(song),
            _ => modified.push(song),
        }
    }
    if !(added.is_empty() && removed.is_empty() && modified.is_empty()) {
        reasons.push(DirtyReason::Files {
            added,
            removed,
            modified,
        });
    }
    reasons
}

/// Keys whose values differ between two maps, in key order.
fn changed<V: Clone + PartialEq>(
    old: &BTreeMap<String, V>,
    new: &BTreeMap<String, V>,
) -> Vec<(String, Option<V>, Option<V>)> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (a, b) = (old.get(k), new.get(k));
            (a != b).then(|| (k.clone(), a.cloned(), b.cloned()))
        })
        .collect()
}
