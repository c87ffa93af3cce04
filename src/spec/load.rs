//! Layering the spec sources with figment and turning its errors into [`SpecProblem`]s.
//!
//! Precedence, later wins: built-in defaults (serde defaults of each section), the TOML file,
//! `MER_SECTION__KEY` environment variables, `--set section.key=value` arguments.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::check::check;
use super::error::{Origin, ProblemKind, SpecError, SpecProblem};
use super::locate::{key_position, line_col};
use super::{ExperimentSpec, RawSpec};
use crate::modality::{Modality, ModalityMask};

/// Prefix of environment variables that set spec keys: `MER_SCHEDULE__EPOCHS=10` sets
/// `schedule.epochs`. Other `MER_*` variables (`MER_CACHE`, `MER_REPORTS`, `MER_LOG`) are
/// settings of the command line tool, not of the spec, and are never read as keys.
pub const ENV_PREFIX: &str = "MER_";

/// Top-level spec keys that are not sections, settable as `MER_SEED` etc.
const TOP_LEVEL_SCALARS: [&str; 3] = ["name", "seed", "seeds"];

/// Loads, layers and checks the spec at `path` with `--set` overrides `sets`.
pub fn load_spec(path: &Path, sets: &[String]) -> Result<ExperimentSpec, SpecError> {
    load_layered(path, sets, None)
}

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
const LAYER_SOURCE: &str = "[sweep] override #";

/// [`load_spec`] with a sweep member's layer on top.
pub(crate) fn load_layered(
    path: &Path,
    sets: &[String],
    layer: Option<&MemberLayer>,
) -> Result<ExperimentSpec, SpecError> {
    let text = read_spec_file(path)?;
    let file = parse_file(path, &text)?;
    let mut figment = Figment::new()
        .merge(Toml::file_exact(path))
        .merge(spec_env());
    for arg in sets {
        figment = figment.merge(SetOverride::parse(arg)?);
    }
    let mut bad_keys = Vec::new();
    for (index, value) in layer.iter().flat_map(|l| l.values.iter().enumerate()) {
        if valid_key_path(&value.key) {
            figment = figment.merge(SetOverride {
                arg: format!("{LAYER_SOURCE}{index}"),
                key: value.key.clone(),
                value: value.value.clone(),
            });
        } else {
            bad_keys.push(index);
        }
    }
    let sources = Sources {
        figment: &figment,
        path,
        text: &text,
        layer,
    };
    if let Some(layer) = layer.filter(|_| !bad_keys.is_empty()) {
        let problems = bad_keys
            .into_iter()
            .map(|index| SpecProblem {
                kind: ProblemKind::UnknownKey,
                origin: sources.layer_origin(index),
                key: layer.values[index].key.clone(),
                expected: "a dotted key path such as `schedule.epochs`".to_string(),
                found: format!("`{}`", layer.values[index].key),
                hint: None,
            })
            .collect();
        return Err(SpecError::Invalid(problems));
    }
    let mut raw: RawSpec = figment
        .extract()
        .map_err(|err| SpecError::Invalid(err.into_iter().map(|e| sources.problem(e)).collect()))?;
    if let Some(layer) = layer {
        apply_layer(&mut raw, layer);
    }
    for modality in modalities_added_by_overrides(&file, &raw) {
        tracing::warn!(
            "{}: no [modalities.{modality}] table in the file, but an override (--set, a MER_ \
             variable or a sweep member) sets a key in it, which adds the {modality} modality \
             with default settings for the rest",
            path.display()
        );
    }
    check(raw, &sources)
}

/// Modalities the layered sources switch on although the file has no table for them: setting
/// one key such as `modalities.lyrics.hash_dims` creates the whole table, so a run meant to
/// tune an absent modality silently gains it.
fn modalities_added_by_overrides(file: &toml::Table, raw: &RawSpec) -> Vec<Modality> {
    let in_file = |m: Modality| {
        file.get("modalities")
            .and_then(|t| t.get(m.name()))
            .is_some()
    };
    Modality::ALL
        .into_iter()
        .filter(|&m| raw.modalities.is_selected(m) && !in_file(m))
        .collect()
}

/// What a layer does beyond values: the member's name, no `[sweep]`, only its modalities.
fn apply_layer(raw: &mut RawSpec, layer: &MemberLayer) {
    raw.name = Some(layer.name.clone());
    raw.sweep = Default::default();
    if let Some(keep) = layer.modalities {
        for modality in Modality::ALL.into_iter().filter(|m| !keep.contains(*m)) {
            raw.modalities.remove(modality);
        }
    }
}

fn read_spec_file(path: &Path) -> Result<String, SpecError> {
    if !path.is_file() {
        return Err(SpecError::NotFound {
            path: path.to_path_buf(),
        });
    }
    std::fs::read_to_string(path).map_err(|source| SpecError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The file as a TOML table, or its first syntax error with line and column.
fn parse_file(path: &Path, text: &str) -> Result<toml::Table, SpecError> {
    let err = match text.parse::<toml::Table>() {
        Ok(table) => return Ok(table),
        Err(err) => err,
    };
    let (line, column) = line_col(text, err.span().map_or(0, |s| s.start));
    Err(SpecError::Syntax {
        path: path.to_path_buf(),
        line,
        column,
        message: err.message().trim().to_string(),
    })
}

fn spec_env() -> Env {
    Env::prefixed(ENV_PREFIX)
        .filter(|key| {
            let key = key.as_str();
            key.contains("__") || TOP_LEVEL_SCALARS.contains(&key)
        })
        .split("__")
}

/// One `--set key.path=value` argument as a figment provider, named after the argument so
/// errors and explanations can point at it.
struct SetOverride {
    arg: String,
    key: String,
    value: toml::Value,
}

impl SetOverride {
    fn parse(arg: &str) -> Result<Self, SpecError> {
        let bad = |reason: &str| SpecError::BadOverride {
            arg: arg.to_string(),
            reason: reason.to_string(),
        };
        let (key, raw_value) = arg.split_once('=').ok_or_else(|| bad("found no `=`"))?;
        let key = key.trim();
        if !valid_key_path(key) {
            return Err(bad(&format!("found key `{key}`")));
        }
        Ok(SetOverride {
            arg: arg.to_string(),
            key: key.to_string(),
            value: parse_value(raw_value.trim()),
        })
    }
}

/// `section.key`: dot-separated, non-empty parts of letters, digits, `_` and `-`.
fn valid_key_path(key: &str) -> bool {
    !key.is_empty()
        && key.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// A `--set` value read as TOML (`10`, `0.5`, `true`, `[1, 2]`, `"text"`), or else as a bare
/// string, so `--set dataset.layout=table` needs no quotes.
pub(crate) fn parse_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

impl Provider for SetOverride {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("--set {}", self.arg))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::default(&self.key, &self.value).data()
    }
}

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
    fn layer_origin(&self, index: usize) -> Origin {
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
    fn problem(&self, err: figment::Error) -> SpecProblem {
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
fn plain_type(expected: &str) -> String {
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
