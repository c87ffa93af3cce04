//! A modality's flat TOML table (`[modalities.audio] n_mels = 64`) and its resolution into
//! one variant of the modality's extractor enum.
//!
//! Every modality's enum is declared by `extractors!`, one line per extractor, from which
//! the enum, the values its `extractor` key takes, its dispatch to the extractor's
//! implementation ([`FeatureSource`]) and its flat-table reading and writing are generated.
//! An extractor's settings struct and its `SongExtractor` implementation live in its own file
//! under `features/`, so a new extractor is that file plus one line here.
//!
//! The table keeps `extractor`, `on_error` and the `precomputed` table typed, so figment
//! reports them with their file position; the extractors' own keys are resolved here: a key of
//! another extractor of the modality is named with its owner, an unknown key gets a suggestion,
//! and a value of the wrong type is reported under its key (the spec's check adds the origin).
//! A section serializes back to the flat table with its keys in the settings struct's order, so
//! resolved specs, their hashes and the extraction stage keys stay as they were.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::sources::{did_you_mean, plain_type};
use crate::features::FeatureSource;
use crate::features::precomputed::PrecomputedSection;

/// The name of the extractor that reads a matrix computed elsewhere, in every modality.
pub const PRECOMPUTED: &str = crate::features::precomputed::EXTRACTOR;

/// Keys every extractor of a modality reads, besides `extractor` itself.
const SHARED_KEYS: [&str; 1] = ["on_error"];

/// One modality's section: the keys every extractor shares, and the chosen extractors.
#[derive(Debug, Clone, PartialEq)]
pub struct ModalitySection<E> {
    /// `extractor = "..."` with that extractor's own keys, or, for `extractor = [...]`, each
    /// listed extractor with the keys of its own table; never empty, names never repeated.
    pub extractors: Vec<E>,
    /// What to do when one song's features cannot be had. Default `skip`.
    pub on_error: OnError,
}

impl<E: Default> Default for ModalitySection<E> {
    fn default() -> Self {
        ModalitySection {
            extractors: vec![E::default()],
            on_error: OnError::default(),
        }
    }
}

/// The value of `extractor`: one name, or a list whose extractors' features are joined.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtractorChoice<N> {
    /// `extractor = "spectral"`: its keys sit in the modality's table.
    One(N),
    /// `extractor = ["spectral", "musicnn"]`: each one's keys sit in its own table,
    /// `[modalities.audio.spectral]`.
    Several(Vec<N>),
}

impl<N: Serialize> Serialize for ExtractorChoice<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ExtractorChoice::One(name) => name.serialize(serializer),
            ExtractorChoice::Several(names) => names.serialize(serializer),
        }
    }
}

impl<'de, N: DeserializeOwned> Deserialize<'de> for ExtractorChoice<N> {
    /// A string is read as one name, a list as several; a misspelt name keeps the enum's own
    /// error (the names it accepts), which the spec's check turns into a suggestion.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Choice<N>(std::marker::PhantomData<N>);
        impl<'de, N: DeserializeOwned> serde::de::Visitor<'de> for Choice<N> {
            type Value = ExtractorChoice<N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an extractor name or a list of extractor names")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Self::Value, E> {
                use serde::de::IntoDeserializer;
                N::deserialize(name.into_deserializer()).map(ExtractorChoice::One)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                let names =
                    Vec::<N>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(ExtractorChoice::Several(names))
            }
        }
        deserializer.deserialize_any(Choice(std::marker::PhantomData))
    }
}

/// What to do when one song's file of a modality cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Report the file and treat the modality as missing for that song.
    #[default]
    Skip,
    /// Stop the run.
    Fail,
}

/// The extractor enum of one modality, as `extractors!` generates it: one variant per
/// extractor, each with its own settings, plus `precomputed`.
pub trait ExtractorSettings: Sized + Default {
    /// The values of the modality's `extractor` key, typed so that a misspelt name is an error
    /// listing the others.
    type Name: Serialize + DeserializeOwned + Copy + fmt::Debug + PartialEq;

    /// The extractor's name in specs, the value of `extractor`.
    fn name(&self) -> &'static str;

    /// Where its features come from: the extractor's implementation, or the matrix table.
    fn source(&self) -> FeatureSource<'_>;

    /// Fills in what its settings derive from other values (defaults that depend on other
    /// keys) and makes the paths they name absolute with `absolute`.
    fn resolve(&mut self, absolute: &dyn Fn(&Path) -> PathBuf);

    /// Every extractor of the modality, with the keys it reads.
    fn extractors() -> Vec<(&'static str, &'static [&'static str])>;

    /// The settings of extractor `name` from the table's keys that it reads.
    fn from_keys(name: &str, table: toml::Table) -> Result<Self, KeyProblem>;

    /// Writes the flat table: `extractor`, its keys in their struct's order, `on_error`.
    fn serialize_flat<S: Serializer>(
        &self,
        on_error: OnError,
        serializer: S,
    ) -> Result<S::Ok, S::Error>;
}

/// Declares one modality's extractor enum (`$settings`), the values of its `extractor` key
/// (`$names`), and their dispatch, from one line per extractor: its variant, its name in specs
/// and its settings struct (which implements `SongExtractor`). The first is the default; every
/// modality also gets `Precomputed`.
macro_rules! extractors {
    (
        $(#[$meta:meta])*
        pub enum $settings:ident, names $names:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident($name:literal, $payload:ty)
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $settings {
            $( $(#[$variant_meta])* $variant($payload), )+
            /// `extractor = "precomputed"`: rows of the modality's `precomputed` table.
            Precomputed($crate::features::precomputed::PrecomputedSection),
        }

        #[doc = concat!("The values of `extractor` for [`", stringify!($settings), "`].")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub enum $names {
            $(
                #[doc = concat!("`", $name, "`")]
                #[serde(rename = $name)]
                $variant,
            )+
            /// `precomputed`
            #[serde(rename = "precomputed")]
            Precomputed,
        }

        impl Default for $settings {
            fn default() -> Self {
                let names: &[&str] = &[$($name),+];
                Self::from_keys(names[0], toml::Table::new())
                    .expect("every extractor's settings have defaults")
            }
        }

        impl $crate::spec::modality_keys::ExtractorSettings for $settings {
            type Name = $names;

            fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $name, )+
                    Self::Precomputed(_) => $crate::spec::modality_keys::PRECOMPUTED,
                }
            }

            fn source(&self) -> $crate::features::FeatureSource<'_> {
                match self {
                    $( Self::$variant(settings) => $crate::features::FeatureSource::Extractor(settings), )+
                    Self::Precomputed(table) => $crate::features::FeatureSource::Precomputed(table),
                }
            }

            fn resolve(&mut self, absolute: &dyn Fn(&std::path::Path) -> std::path::PathBuf) {
                match self {
                    $( Self::$variant(settings) => {
                        $crate::features::SongExtractor::resolve(settings, absolute)
                    } )+
                    Self::Precomputed(table) => table.resolve(absolute),
                }
            }

            fn extractors() -> Vec<(&'static str, &'static [&'static str])> {
                vec![
                    $( ($name, $crate::spec::modality_keys::fields_of::<$payload>()), )+
                    (
                        $crate::spec::modality_keys::PRECOMPUTED,
                        &[$crate::spec::modality_keys::PRECOMPUTED],
                    ),
                ]
            }

            fn from_keys(
                name: &str,
                table: toml::Table,
            ) -> Result<Self, $crate::spec::modality_keys::KeyProblem> {
                use $crate::spec::modality_keys::{from_table, precomputed};
                match name {
                    $( $name => from_table(table).map(Self::$variant), )+
                    _ => precomputed(table).map(Self::Precomputed),
                }
            }

            fn serialize_flat<S: serde::Serializer>(
                &self,
                on_error: $crate::spec::modality_keys::OnError,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                use $crate::spec::modality_keys::{FlatOut, PrecomputedOnly};
                use serde::Serialize;
                match self {
                    $( Self::$variant(settings) => FlatOut {
                        extractor: $name,
                        settings,
                        on_error,
                    }
                    .serialize(serializer), )+
                    Self::Precomputed(table) => FlatOut {
                        extractor: $crate::spec::modality_keys::PRECOMPUTED,
                        settings: &PrecomputedOnly { precomputed: table },
                        on_error,
                    }
                    .serialize(serializer),
                }
            }
        }
    };
}

pub(crate) use extractors;

/// A modality's table as written: the typed keys every extractor shares, and the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "N: Serialize + DeserializeOwned")]
pub struct FlatKeys<N> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extractor: Option<ExtractorChoice<N>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on_error: Option<OnError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    precomputed: Option<PrecomputedSection>,
    /// The extractors' own keys, resolved against the chosen extractor.
    #[serde(flatten)]
    keys: toml::Table,
}

impl<N> Default for FlatKeys<N> {
    fn default() -> Self {
        FlatKeys {
            extractor: None,
            on_error: None,
            precomputed: None,
            keys: toml::Table::new(),
        }
    }
}

/// The flat table a section writes: `extractor`, the settings' keys, `on_error`.
#[doc(hidden)]
#[derive(Serialize)]
pub struct FlatOut<'a, S: Serialize> {
    pub extractor: &'static str,
    #[serde(flatten)]
    pub settings: &'a S,
    pub on_error: OnError,
}

/// The `precomputed` extractor's one key.
#[doc(hidden)]
#[derive(Serialize)]
pub struct PrecomputedOnly<'a> {
    pub precomputed: &'a PrecomputedSection,
}

/// Why a modality's table does not resolve into one extractor's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// A key that another extractor of the modality reads.
    Foreign {
        /// The key, within the modality's table.
        key: String,
        /// The chosen extractor.
        extractor: &'static str,
        /// The keys the chosen extractor and every extractor read.
        expected: Vec<&'static str>,
        /// The extractor that reads the key.
        owner: &'static str,
    },
    /// A key no extractor of the modality reads.
    Unknown {
        /// The key, within the modality's table.
        key: String,
        /// The keys the chosen extractor and every extractor read.
        expected: Vec<&'static str>,
    },
    /// A value of the wrong type for its key.
    WrongType {
        /// The key, within the modality's table.
        key: String,
        /// What the key holds, in words.
        expected: String,
        /// What was found.
        found: String,
    },
    /// `extractor = "precomputed"` without its `precomputed` table.
    MissingTable,
    /// With several extractors, a key outside their tables.
    Misplaced {
        /// The key, within the modality's table.
        key: String,
        /// The listed extractors.
        listed: Vec<&'static str>,
        /// The listed extractor that reads the key, if one does.
        owner: Option<&'static str>,
    },
    /// A list of extractors that cannot be joined (empty, a name twice, `precomputed`).
    BadList {
        /// What is wrong, in words.
        found: String,
    },
}

impl KeyProblem {
    /// The key the problem is about, within the modality's table.
    pub fn key(&self) -> &str {
        match self {
            KeyProblem::Foreign { key, .. }
            | KeyProblem::Unknown { key, .. }
            | KeyProblem::WrongType { key, .. }
            | KeyProblem::Misplaced { key, .. } => key,
            KeyProblem::MissingTable => PRECOMPUTED,
            KeyProblem::BadList { .. } => "extractor",
        }
    }

    /// The same problem with its key inside the extractor's own table (`musicnn.layers`).
    fn within(self, extractor: &str) -> KeyProblem {
        let nest = |key: String| format!("{extractor}.{key}");
        match self {
            KeyProblem::Foreign {
                key,
                extractor: chosen,
                expected,
                owner,
            } => KeyProblem::Foreign {
                key: nest(key),
                extractor: chosen,
                expected,
                owner,
            },
            KeyProblem::Unknown { key, expected } => KeyProblem::Unknown {
                key: nest(key),
                expected,
            },
            KeyProblem::WrongType {
                key,
                expected,
                found,
            } => KeyProblem::WrongType {
                key: nest(key),
                expected,
                found,
            },
            other => other,
        }
    }

    /// What the key should be, in a spec author's words.
    pub fn expected(&self) -> String {
        match self {
            KeyProblem::Foreign {
                extractor,
                expected,
                ..
            } => format!(
                "a key of extractor = \"{extractor}\": one of {}",
                quoted(expected)
            ),
            KeyProblem::Unknown { expected, .. } => format!("one of {}", quoted(expected)),
            KeyProblem::WrongType { expected, .. } => expected.clone(),
            KeyProblem::MissingTable => {
                "a table with `path` to the feature matrix (extractor is \"precomputed\")"
                    .to_string()
            }
            KeyProblem::Misplaced { listed, .. } => format!(
                "with several extractors, only `extractor`, `on_error` and one table per extractor ({})",
                quoted(listed)
            ),
            KeyProblem::BadList { .. } => {
                "one or more distinct extractor names, without \"precomputed\"".to_string()
            }
        }
    }

    /// What was found.
    pub fn found(&self) -> String {
        match self {
            KeyProblem::Foreign { key, owner, .. } => {
                format!("`{key}`, a key of extractor = \"{owner}\"")
            }
            KeyProblem::Unknown { key, .. } => format!("`{key}`"),
            KeyProblem::WrongType { found, .. } | KeyProblem::BadList { found } => found.clone(),
            KeyProblem::MissingTable => "nothing".to_string(),
            KeyProblem::Misplaced { key, .. } => format!("`{key}`"),
        }
    }

    /// A likely fix, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            KeyProblem::Foreign { owner, .. } => {
                Some(format!("remove it, or set extractor = \"{owner}\""))
            }
            KeyProblem::Unknown { key, expected } => did_you_mean(key, expected),
            KeyProblem::Misplaced {
                key,
                owner: Some(owner),
                ..
            } => Some(format!("move it into the extractor's table: {owner}.{key}")),
            KeyProblem::BadList { found } if found.contains(PRECOMPUTED) => Some(
                "a precomputed matrix cannot be joined with extracted features; use one extractor"
                    .to_string(),
            ),
            KeyProblem::WrongType { .. }
            | KeyProblem::MissingTable
            | KeyProblem::Misplaced { .. }
            | KeyProblem::BadList { .. } => None,
        }
    }
}

fn quoted(keys: &[&str]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    keys.join(", ")
}

/// Resolves a modality's flat table into its section: the chosen extractor (the modality's
/// default when `extractor` is absent) with the keys it reads, defaults for the rest; or, for
/// a list, each extractor from its own table. Every key of another extractor, unknown key,
/// misplaced key and mistyped value is a problem.
pub fn resolve<E: ExtractorSettings>(
    keys: &FlatKeys<E::Name>,
) -> Result<ModalitySection<E>, Vec<KeyProblem>> {
    let on_error = keys.on_error.unwrap_or_default();
    let names = match &keys.extractor {
        Some(ExtractorChoice::Several(names)) => names,
        Some(ExtractorChoice::One(name)) => {
            let extractor = resolve_one(&name_of(name), table_with_precomputed(keys))?;
            return Ok(ModalitySection {
                extractors: vec![extractor],
                on_error,
            });
        }
        None => {
            let extractor = resolve_one(E::default().name(), table_with_precomputed(keys))?;
            return Ok(ModalitySection {
                extractors: vec![extractor],
                on_error,
            });
        }
    };
    let names: Vec<String> = names.iter().map(name_of).collect();
    let extractors = E::extractors();
    let listed: Vec<&'static str> = (names.iter())
        .filter_map(|n| extractors.iter().find(|(e, _)| e == n).map(|(e, _)| *e))
        .collect();
    let repeated = (1..names.len()).find(|&i| names[..i].contains(&names[i]));
    if names.is_empty() || repeated.is_some() || names.iter().any(|n| n == PRECOMPUTED) {
        return Err(vec![KeyProblem::BadList {
            found: format!(
                "[{}]",
                names
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }]);
    }
    let mut problems: Vec<KeyProblem> = table_with_precomputed(keys)
        .iter()
        .filter(|(key, value)| !(names.contains(key) && value.is_table()))
        .map(|(key, _)| KeyProblem::Misplaced {
            key: key.clone(),
            listed: listed.clone(),
            owner: (extractors.iter())
                .find(|(e, own)| names.iter().any(|n| n == e) && own.contains(&key.as_str()))
                .map(|(e, _)| *e),
        })
        .collect();
    let mut resolved = Vec::new();
    for name in &names {
        let table = match keys.keys.get(name) {
            Some(toml::Value::Table(table)) => table.clone(),
            _ => toml::Table::new(),
        };
        match resolve_one::<E>(name, table) {
            Ok(extractor) => resolved.push(extractor),
            Err(found) => problems.extend(found.into_iter().map(|p| p.within(name))),
        }
    }
    if problems.is_empty() {
        Ok(ModalitySection {
            extractors: resolved,
            on_error,
        })
    } else {
        Err(problems)
    }
}

/// An extractor's name as written in specs.
fn name_of(name: &impl Serialize) -> String {
    match to_value(name) {
        toml::Value::String(name) => name,
        _ => unreachable!("extractor names serialize to strings"),
    }
}

/// The table's extractor keys, with the typed `precomputed` table back among them.
fn table_with_precomputed<N>(keys: &FlatKeys<N>) -> toml::Table {
    let mut table = keys.keys.clone();
    if let Some(precomputed) = &keys.precomputed {
        table.insert(PRECOMPUTED.to_string(), to_value(precomputed));
    }
    table
}

/// Extractor `name`'s settings from `table`, which must hold only keys it reads.
fn resolve_one<E: ExtractorSettings>(name: &str, table: toml::Table) -> Result<E, Vec<KeyProblem>> {
    let extractors = E::extractors();
    let (chosen, own) = extractors
        .iter()
        .find(|(n, _)| *n == name)
        .copied()
        .expect("extractor names were typed when read");
    let expected: Vec<&'static str> = own.iter().chain(&SHARED_KEYS).copied().collect();
    let problems: Vec<KeyProblem> = table
        .keys()
        .filter(|key| !own.contains(&key.as_str()))
        .map(|key| {
            let owner = extractors
                .iter()
                .find(|(_, keys)| keys.contains(&key.as_str()))
                .map(|(n, _)| *n);
            match owner {
                Some(owner) => KeyProblem::Foreign {
                    key: key.clone(),
                    extractor: chosen,
                    expected: expected.clone(),
                    owner,
                },
                None => KeyProblem::Unknown {
                    key: key.clone(),
                    expected: expected.clone(),
                },
            }
        })
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    E::from_keys(chosen, table).map_err(|problem| vec![problem])
}

impl<E: ExtractorSettings> Serialize for ModalitySection<E> {
    /// One extractor: the flat table as it was always written. Several: `extractor = [...]`,
    /// `on_error`, and each extractor's keys in its own table.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap};
        if let [extractor] = &self.extractors[..] {
            return extractor.serialize_flat(self.on_error, serializer);
        }
        let names: Vec<&str> = self.extractors.iter().map(E::name).collect();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("extractor", &names)?;
        map.serialize_entry("on_error", &self.on_error)?;
        for extractor in &self.extractors {
            let mut table = match toml::Value::try_from(FlatSection(extractor, self.on_error)) {
                Ok(toml::Value::Table(table)) => table,
                Ok(_) => unreachable!("a section serializes to a table"),
                Err(e) => return Err(S::Error::custom(e)),
            };
            table.remove("extractor");
            table.remove("on_error");
            map.serialize_entry(extractor.name(), &table)?;
        }
        map.end()
    }
}

/// One extractor's flat table, for writing it into its own table.
struct FlatSection<'a, E>(&'a E, OnError);

impl<E: ExtractorSettings> Serialize for FlatSection<'_, E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_flat(self.1, serializer)
    }
}

impl<'de, E: ExtractorSettings> Deserialize<'de> for ModalitySection<E> {
    /// A resolved spec loads back the same way (`mer validate` prints it); a key of another
    /// extractor is an error naming the key.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let keys = FlatKeys::<E::Name>::deserialize(deserializer)?;
        resolve(&keys).map_err(|problems| {
            let problem = &problems[0];
            D::Error::custom(format!(
                "key `{}`: expected {}, found {}",
                problem.key(),
                problem.expected(),
                problem.found()
            ))
        })
    }
}

/// The `precomputed` table, which the flat table typed when it was read.
#[doc(hidden)]
pub fn precomputed(mut table: toml::Table) -> Result<PrecomputedSection, KeyProblem> {
    let value = table.remove(PRECOMPUTED).ok_or(KeyProblem::MissingTable)?;
    Ok(value
        .try_into()
        .expect("the precomputed table was typed when read"))
}

fn to_value(value: &impl Serialize) -> toml::Value {
    toml::Value::try_from(value).expect("spec values are plain data")
}

/// Settings of one extractor from the keys it reads; its defaults fill the rest. A value of
/// the wrong type is reported under its key.
#[doc(hidden)]
pub fn from_table<T: DeserializeOwned>(table: toml::Table) -> Result<T, KeyProblem> {
    let parse = |table: toml::Table| toml::Value::Table(table).try_into::<T>();
    parse(table.clone()).map_err(|error| {
        // Each key alone, against the defaults of the rest, finds the one that is wrong.
        let culprit = table.iter().find_map(|(key, value)| {
            let alone = toml::Table::from_iter([(key.clone(), value.clone())]);
            parse(alone).err().map(|e| (key.clone(), e))
        });
        let (key, error) = culprit.unwrap_or_else(|| {
            let key = table.keys().next().cloned().unwrap_or_default();
            (key, error)
        });
        wrong_type(key, &error.to_string())
    })
}

/// serde's "invalid type: string \"x\", expected usize" in the spec's words.
fn wrong_type(key: String, message: &str) -> KeyProblem {
    let message = message.lines().next().unwrap_or_default();
    let described = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "));
    let (found, expected) = match described {
        Some((found, expected)) => (found.to_string(), plain_type(expected)),
        None => (message.to_string(), "a valid value".to_string()),
    };
    KeyProblem::WrongType {
        key,
        expected,
        found,
    }
}

/// The keys a settings struct reads: serde's own field list, so the list cannot drift from
/// the struct.
#[doc(hidden)]
pub fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Fields(Option<&'static [&'static str]>);
    impl<'de> Deserializer<'de> for &mut Fields {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(Self::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields = Fields(None);
    let _ = T::deserialize(&mut fields);
    fields.0.expect("extractor settings are structs")
}
