//! Layering the spec sources with figment and turning its errors into [`SpecProblem`]s.
//!
//! Precedence, later wins: built-in defaults (serde defaults of each section), the TOML file,
//! `MER_SECTION__KEY` environment variables, `--set section.key=value` arguments.

use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};

use super::check::check;
use super::error::{ProblemKind, SpecError, SpecProblem};
use super::locate::line_col;
use super::sources::{ENV_PREFIX, LAYER_SOURCE, MemberLayer, Sources};
use super::{ExperimentSpec, RawSpec};
use crate::modality::Modality;

/// Top-level spec keys that are not sections, settable as `MER_SEED` etc.
const TOP_LEVEL_SCALARS: [&str; 3] = ["name", "seed", "seeds"];

/// Loads, layers and checks the spec at `path` with `--set` overrides `sets`.
pub fn load_spec(path: &Path, sets: &[String]) -> Result<ExperimentSpec, SpecError> {
    load_layered(path, sets, None)
}

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
