//! Where each value of a spec came from: the layered sources (defaults, the file, `MER_*`
//! variables, `--set`, a sweep member's overrides) that errors point back into, and the
//! words those errors use.

use std::path::{Path, PathBuf};

use figment::{Figment, Metadata, Source};

use super::error::{Origin, ProblemKind, SpecProblem};
use super::locate::key_position;
use crate::modality::ModalityMask;

/// Prefix of environment variables that set spec keys: `MER_SCHEDULE__EPOCHS=10` sets
/// `schedule.epochs`. Other `MER_*` variables (`MER_CACHE`, `MER_REPORTS`, `MER_LOG`) are
/// settings of the command line tool, not of the spec, and are never read as keys.
pub const ENV_PREFIX: &str = "MER_";

/// What one sweep member changes on top of the spec's own sources: values that win over the
/// file, the environment and `--set`, the `[modalities.*]` tables it keeps, and its name.
/// The member's spec never carries the `[sweep]` section.
#[derive(Debug, Clone)]
pub(crate) struct MemberLayer {
    /// The member spec's `name` (`<spec>/<member>`).
    pub(crate) name: String,
    /// Its overrides, in the order they are applied.
    pub(crate) values: Vec<LayerValue>,
    /// The modalities whose tables it keeps (`None`: all of them).
    pub(crate) modalities: Option<ModalityMask>,
}

/// One override of a sweep member.
#[derive(Debug, Clone)]
pub(crate) struct LayerValue {
    /// Dotted key path, e.g. `augment.mixup_alpha`.
    pub(crate) key: String,
    /// The value it takes.
    pub(crate) value: toml::Value,
    /// Where the spec file writes it (`sweep.grid.<key>`), so errors point there.
    pub(crate) written_at: Vec<String>,
}

/// Metadata name of a member override; the index finds it again in [`Sources::origin`].
pub(crate) const LAYER_SOURCE: &str = "[sweep] override #";

/// The layered sources, for attributing a key's value to where it came from.
pub(crate) struct Sources<'a> {
    pub(crate) figment: &'a Figment,
    pub(crate) path: &'a Path,
    pub(crate) text: &'a str,
    pub(crate) layer: Option<&'a MemberLayer>,
}

impl Sources<'_> {
    /// Where the current value of `key` (dotted) came from.
    pub(crate) fn origin_of(&self, key: &str) -> Origin {
        let path: Vec<String> = key.split('.').map(String::from).collect();
        self.origin(self.figment.find_metadata(key), &path)
    }

    fn origin(&self, metadata: Option<&Metadata>, path: &[String]) -> Origin {
        let Some(metadata) = metadata else {
            return Origin::Default;
        };
        if let Some(Source::File(_)) = &metadata.source {
            return Origin::File {
                path: self.path.to_path_buf(),
                position: key_position(self.text, path),
            };
        }
        let name = metadata.name.as_ref();
        if let Some(index) = name
            .strip_prefix("--set ")
            .and_then(|arg| arg.strip_prefix(LAYER_SOURCE))
            .and_then(|i| i.parse().ok())
        {
            return self.layer_origin(index);
        }
        if let Some(arg) = name.strip_prefix("--set ") {
            return Origin::Set {
                arg: arg.to_string(),
            };
        }
        if name.contains("environment") {
            let var = format!("{ENV_PREFIX}{}", path.join("__").to_uppercase());
            return Origin::Env { var };
        }
        Origin::Default
    }

    /// Where the sweep member override number `index` is written in the spec file.
    pub(crate) fn layer_origin(&self, index: usize) -> Origin {
        let written_at = self
            .layer
            .and_then(|layer| layer.values.get(index))
            .map(|value| value.written_at.as_slice())
            .unwrap_or_default();
        Origin::Sweep {
            path: self.path.to_path_buf(),
            position: key_position(self.text, written_at),
        }
    }

    /// Turns one figment extraction error into a problem report.
    pub(crate) fn problem(&self, err: figment::Error) -> SpecProblem {
        use figment::error::Kind;
        let mut path = err.path.clone();
        let (kind, expected, found, hint) = match &err.kind {
            // figment's path already ends with the unknown field.
            Kind::UnknownField(field, known) => (
                ProblemKind::UnknownKey,
                one_of(known),
                format!("`{field}`"),
                did_you_mean(field, known),
            ),
            Kind::UnknownVariant(variant, known) => (
                ProblemKind::WrongType,
                one_of(known),
                format!("\"{variant}\""),
                did_you_mean(variant, known),
            ),
            Kind::MissingField(field) => {
                path.push(field.to_string());
                (
                    ProblemKind::MissingKey,
                    "a value".to_string(),
                    "nothing".to_string(),
                    None,
                )
            }
            Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => (
                ProblemKind::WrongType,
                plain_type(expected),
                actual.to_string(),
                None,
            ),
            Kind::InvalidLength(len, expected) => (
                ProblemKind::WrongType,
                expected.clone(),
                format!("{len} elements"),
                None,
            ),
            Kind::USizeOutOfRange(v) => (
                ProblemKind::OutOfRange,
                "a smaller number".to_string(),
                v.to_string(),
                None,
            ),
            Kind::ISizeOutOfRange(v) => (
                ProblemKind::OutOfRange,
                "a non-negative integer".to_string(),
                v.to_string(),
                None,
            ),
            other => (
                ProblemKind::WrongType,
                "a valid value".to_string(),
                other.to_string(),
                None,
            ),
        };
        let origin = match &err.metadata {
            Some(metadata) => self.origin(Some(metadata), &path),
            // A missing key has no provider: point at the file, where it belongs.
            None => Origin::File {
                path: self.path.to_path_buf(),
                position: key_position(self.text, &path),
            },
        };
        SpecProblem {
            kind,
            origin,
            key: path.join("."),
            expected,
            found,
            hint,
        }
    }
}

fn one_of(known: &[&str]) -> String {
    match known {
        [] => "no key here".to_string(),
        [one] => format!("`{one}`"),
        _ => {
            let names: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            format!("one of {}", names.join(", "))
        }
    }
}

/// The closest known name, when it is close enough to be a typo.
pub(crate) fn did_you_mean(found: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(found, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!("did you mean `{k}`?"))
}

/// serde's type names in words a spec author reads.
pub(crate) fn plain_type(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer".to_string(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        other => other.to_string(),
    }
}

/// The spec file's folder, against which relative paths in the spec are resolved.
pub(crate) fn spec_dir(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}
