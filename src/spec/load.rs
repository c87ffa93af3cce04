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

/// Prefix of environment variables that set spec keys: `MER_SCHEDULE__EPOCHS=10` sets
/// `schedule.epochs`. Other `MER_*` variables (`MER_CACHE`, `MER_REPORTS`, `MER_LOG`) are
/// settings of the command line tool, not of the spec, and are never read as keys.
pub const ENV_PREFIX: &str = "MER_";

/// Top-level spec keys that are not sections, settable as `MER_SEED` etc.
const TOP_LEVEL_SCALARS: [&str; 3] = ["name", "seed", "seeds"];

/// Loads, layers and checks the spec at `path` with `--set` overrides `sets`.
pub fn load_spec(path: &Path, sets: &[String]) -> Result<ExperimentSpec, SpecError> {
    let text = read_spec_file(path)?;
    check_syntax(path, &text)?;
    let mut figment = Figment::new()
        .merge(Toml::file_exact(path))
        .merge(spec_env());
    for arg in sets {
        figment = figment.merge(SetOverride::parse(arg)?);
    }
    let sources = Sources {
        figment: &figment,
        path,
        text: &text,
    };
    let raw: RawSpec = figment
        .extract()
        .map_err(|err| SpecError::Invalid(err.into_iter().map(|e| sources.problem(e)).collect()))?;
    check(raw, &sources)
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

fn check_syntax(path: &Path, text: &str) -> Result<(), SpecError> {
    let Err(err) = text.parse::<toml::Table>() else {
        return Ok(());
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
        let key_ok = !key.is_empty()
            && key.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !key_ok {
            return Err(bad(&format!("found key `{key}`")));
        }
        Ok(SetOverride {
            arg: arg.to_string(),
            key: key.to_string(),
            value: parse_value(raw_value.trim()),
        })
    }
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
