//! Stage keys and the canonical encoding they are hashed from.
//!
//! The encoding is a byte stream fed to blake3 in derive-key mode. Every value starts with a
//! one-byte type tag, strings and collections carry their length (u64, little endian) before
//! their contents, integers are fixed-width little endian, maps are ordered (`BTreeMap`), and
//! floats are their IEEE-754 bit pattern after canonicalization (`-0.0` becomes `0.0`, every NaN
//! becomes one NaN). Two different inputs therefore never share an encoding, and the same
//! inputs give the same bytes on every machine, Rust release and map insertion order.
//!
//! The golden tests at the bottom pin key values: if one fails, the encoding changed, and every
//! cache in the world is invalidated. Do that only on purpose, by bumping [`KEY_CONTEXT`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::CacheError;
use super::digest::hex_digest;

/// Domain separation for stage keys; bump to invalidate every cached artifact deliberately.
pub const KEY_CONTEXT: &str = "mer 2026-11 stage key v1";

/// Type tags of the canonical encoding. Never renumber: the values are part of every key.
mod tag {
    pub const NULL: u8 = 0;
    pub const BOOL: u8 = 1;
    pub const INT: u8 = 2;
    pub const FLOAT: u8 = 3;
    pub const STR: u8 = 4;
    pub const LIST: u8 = 5;
    pub const MAP: u8 = 6;
    pub const DIGEST: u8 = 7;
    pub const U32: u8 = 8;
}

/// The bit pattern every NaN is encoded as (the quiet NaN Rust's `f64::NAN` has).
const CANONICAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0000;

/// The content address of one stage's output: blake3 over the canonical encoding of
/// [`StageInputs`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StageKey(pub [u8; 32]);

hex_digest!(StageKey, "stage key");

/// One configuration value as a stage reads it. Maps are ordered so that the order in which a
/// spec or a struct lists its fields never reaches a key.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ConfigValue {
    /// An absent optional value.
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer; one variant for all widths so `20_i64` and `20_usize` are the same value.
    Int(i128),
    /// A float, compared and hashed by its canonical bit pattern.
    Float(f64),
    /// A string.
    Str(String),
    /// A list, in order.
    List(Vec<ConfigValue>),
    /// A map inside a list (maps outside lists are flattened into dotted paths).
    Map(BTreeMap<String, ConfigValue>),
}

impl fmt::Display for ConfigValue {
    /// The value as JSON, for "n_mels changed (64 => 128)" messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(self) {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "{self:?}"),
        }
    }
}

impl From<bool> for ConfigValue {
    fn from(v: bool) -> Self {
        ConfigValue::Bool(v)
    }
}
impl From<i64> for ConfigValue {
    fn from(v: i64) -> Self {
        ConfigValue::Int(v.into())
    }
}
impl From<u64> for ConfigValue {
    fn from(v: u64) -> Self {
        ConfigValue::Int(v.into())
    }
}
impl From<f64> for ConfigValue {
    fn from(v: f64) -> Self {
        ConfigValue::Float(v)
    }
}
impl From<&str> for ConfigValue {
    fn from(v: &str) -> Self {
        ConfigValue::Str(v.to_owned())
    }
}
impl From<String> for ConfigValue {
    fn from(v: String) -> Self {
        ConfigValue::Str(v)
    }
}

impl ConfigValue {
    /// Converts a JSON value; objects become [`ConfigValue::Map`].
    pub fn from_json(value: &serde_json::Value) -> Self {
        use serde_json::Value;
        match value {
            Value::Null => ConfigValue::Null,
            Value::Bool(b) => ConfigValue::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => ConfigValue::Int(i.into()),
                (_, Some(u), _) => ConfigValue::Int(u.into()),
                (_, _, Some(x)) => ConfigValue::Float(x),
                // Unreachable without serde_json's arbitrary_precision feature.
                _ => ConfigValue::Str(n.to_string()),
            },
            Value::String(s) => ConfigValue::Str(s.clone()),
            Value::Array(items) => ConfigValue::List(items.iter().map(Self::from_json).collect()),
            Value::Object(map) => ConfigValue::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Self::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// The configuration values one stage reads, by dotted path (`extract.audio.n_mels`).
///
/// Only what the stage reads belongs here: a stage that takes the whole spec would be
/// recomputed whenever anything in the spec changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigSlice(BTreeMap<String, ConfigValue>);

impl ConfigSlice {
    /// An empty slice.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) one value; returns `self` for chaining.
    pub fn with(mut self, path: impl Into<String>, value: impl Into<ConfigValue>) -> Self {
        self.insert(path, value);
        self
    }

    /// Adds (or replaces) one value.
    pub fn insert(&mut self, path: impl Into<String>, value: impl Into<ConfigValue>) {
        self.0.insert(path.into(), value.into());
    }

    /// Flattens a serializable config section into dotted paths under `prefix`
    /// (`prefix.field.subfield`); lists stay single values.
    ///
    /// Goes through `serde_json`, which writes non-finite floats as `null`: the spec checks
    /// reject NaN and infinities before any key is built, so no two real configs collide.
    pub fn from_serialize(prefix: &str, section: &impl Serialize) -> Result<Self, CacheError> {
        let value = serde_json::to_value(section).map_err(|source| CacheError::Config {
            prefix: prefix.to_owned(),
            source,
        })?;
        let mut slice = ConfigSlice::new();
        slice.flatten(prefix.to_owned(), &value);
        Ok(slice)
    }

    fn flatten(&mut self, path: String, value: &serde_json::Value) {
        match value {
            // An empty map is kept as a value so that `{}` and "absent" stay distinct.
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (name, child) in map {
                    let child_path = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    self.flatten(child_path, child);
                }
            }
            other => {
                self.0.insert(path, ConfigValue::from_json(other));
            }
        }
    }

    /// Adds every value of `other`, replacing values at the same paths.
    pub fn extend(&mut self, other: ConfigSlice) {
        self.0.extend(other.0);
    }

    /// The values in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The value at `path`, if the slice has one.
    pub fn get(&self, path: &str) -> Option<&ConfigValue> {
        self.0.get(path)
    }

    /// The slice as one JSON object, as stored in an artifact's attributes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("config values always serialize")
    }
}

/// Everything a stage key is computed from; see the table in the [module docs](super).
#[derive(Debug, Clone, PartialEq)]
pub struct StageInputs {
    /// Stage name, e.g. `extract.audio` or `train[3]`.
    pub stage: String,
    /// The stage's implementation version: a constant it bumps when its output would change.
    pub version: u32,
    /// The configuration values the stage reads.
    pub config: ConfigSlice,
    /// Keys of the artifacts the stage consumes, by role (`extract.audio`).
    pub upstream: BTreeMap<String, StageKey>,
    /// For extraction stages: content hashes of input files by song id, never by path, so
    /// that moving or renaming the dataset folder keeps every key.
    pub files: BTreeMap<String, super::files::FileHash>,
}

impl StageInputs {
    /// Inputs with no config, upstream artifacts or files yet.
    pub fn new(stage: impl Into<String>, version: u32) -> Self {
        StageInputs {
            stage: stage.into(),
            version,
            config: ConfigSlice::new(),
            upstream: BTreeMap::new(),
            files: BTreeMap::new(),
        }
    }

    /// Sets the config slice.
    pub fn config(mut self, config: ConfigSlice) -> Self {
        self.config = config;
        self
    }

    /// Adds one upstream artifact's key under `role`.
    pub fn upstream(mut self, role: impl Into<String>, key: StageKey) -> Self {
        self.upstream.insert(role.into(), key);
        self
    }

    /// Adds one input file's content hash under `song_id`.
    pub fn file(mut self, song_id: impl Into<String>, hash: super::files::FileHash) -> Self {
        self.files.insert(song_id.into(), hash);
        self
    }

    /// The stage key: blake3 over the canonical encoding, fields in a fixed order.
    pub fn key(&self) -> StageKey {
        let mut enc = KeyEncoder::new();
        enc.str(&self.stage);
        enc.u32(self.version);
        enc.map_len(self.config.0.len());
        for (path, value) in &self.config.0 {
            enc.str(path);
            enc.value(value);
        }
        enc.map_len(self.upstream.len());
        for (role, key) in &self.upstream {
            enc.str(role);
            enc.digest(key.as_bytes());
        }
        enc.map_len(self.files.len());
        for (song, hash) in &self.files {
            enc.str(song);
            enc.digest(hash.as_bytes());
        }
        StageKey(enc.finish())
    }
}

/// Writes the canonical encoding into a blake3 hasher. Each method writes one tagged value.
pub struct KeyEncoder(blake3::Hasher);

impl Default for KeyEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyEncoder {
    /// An encoder for stage keys (domain [`KEY_CONTEXT`]).
    pub fn new() -> Self {
        KeyEncoder(blake3::Hasher::new_derive_key(KEY_CONTEXT))
    }

    /// An encoder for another purpose (e.g. artifact checksums), kept apart from keys.
    pub fn with_context(context: &str) -> Self {
        KeyEncoder(blake3::Hasher::new_derive_key(context))
    }

    fn len(&mut self, n: usize) {
        self.0.update(&(n as u64).to_le_bytes());
    }

    /// A bare u32 (tagged), e.g. a stage version.
    pub fn u32(&mut self, v: u32) {
        self.0.update(&[tag::U32]);
        self.0.update(&v.to_le_bytes());
    }

    /// An integer, always 16 bytes so that the width of the source type never matters.
    pub fn int(&mut self, v: i128) {
        self.0.update(&[tag::INT]);
        self.0.update(&v.to_le_bytes());
    }

    /// A float by its canonical bit pattern.
    pub fn float(&mut self, v: f64) {
        self.0.update(&[tag::FLOAT]);
        self.0.update(&canonical_f64_bits(v).to_le_bytes());
    }

    /// A string: length, then UTF-8 bytes.
    pub fn str(&mut self, s: &str) {
        self.0.update(&[tag::STR]);
        self.len(s.len());
        self.0.update(s.as_bytes());
    }

    /// A 32-byte digest (a stage key or a file hash).
    pub fn digest(&mut self, bytes: &[u8; 32]) {
        self.0.update(&[tag::DIGEST]);
        self.0.update(bytes);
    }

    /// The header of a list of `n` values.
    pub fn list_len(&mut self, n: usize) {
        self.0.update(&[tag::LIST]);
        self.len(n);
    }

    /// The header of a map of `n` entries; each entry follows as a string key and a value.
    pub fn map_len(&mut self, n: usize) {
        self.0.update(&[tag::MAP]);
        self.len(n);
    }

    /// Raw bytes with their length but no tag, for callers that tag their own data.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.len(bytes.len());
        self.0.update(bytes);
    }

    /// Any config value, recursively.
    pub fn value(&mut self, value: &ConfigValue) {
        match value {
            ConfigValue::Null => {
                self.0.update(&[tag::NULL]);
            }
            ConfigValue::Bool(b) => {
                self.0.update(&[tag::BOOL, u8::from(*b)]);
            }
            ConfigValue::Int(i) => self.int(*i),
            ConfigValue::Float(x) => self.float(*x),
            ConfigValue::Str(s) => self.str(s),
            ConfigValue::List(items) => {
                self.list_len(items.len());
                for item in items {
                    self.value(item);
                }
            }
            ConfigValue::Map(map) => {
                self.map_len(map.len());
                for (k, v) in map {
                    self.str(k);
                    self.value(v);
                }
            }
        }
    }

    /// The 32-byte hash of everything written.
    pub fn finish(&self) -> [u8; 32] {
        *self.0.finalize().as_bytes()
    }
}

/// The bit pattern a float is keyed by: `-0.0` as `0.0`, every NaN as one NaN.
pub fn canonical_f64_bits(v: f64) -> u64 {
    if v.is_nan() {
        CANONICAL_NAN_BITS
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

impl FromStr for ConfigValue {
    type Err = serde_json::Error;

    /// Parses a JSON literal, e.g. `64`, `"mel"` or `[1, 2]`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        serde_json::from_str::<serde_json::Value>(text).map(|v| Self::from_json(&v))
    }
}
