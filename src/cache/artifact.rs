//! What a stage stores: named, typed arrays with their shapes, and the provenance that says
//! which inputs made them. In memory only; `entry.rs` writes and reads it on disk.

use std::collections::BTreeMap;

use super::{CacheError, FileHash, StageInputs, StageKey};

/// The values of one array.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    /// 32-bit floats (features, weights).
    F32(Vec<f32>),
    /// 64-bit floats (statistics).
    F64(Vec<f64>),
    /// 64-bit integers (indices, labels).
    I64(Vec<i64>),
    /// Bytes (masks, serialized blobs).
    U8(Vec<u8>),
    /// Strings, e.g. song ids; always one-dimensional.
    Str(Vec<String>),
}

impl ArrayData {
    fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::I64(v) => v.len(),
            ArrayData::U8(v) => v.len(),
            ArrayData::Str(v) => v.len(),
        }
    }
}

/// A named array in row-major order with its shape (`[]` is a scalar).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The values; their count is the product of `shape`.
    pub data: ArrayData,
}

impl Array {
    /// The values if they are f32.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            ArrayData::F32(v) => Some(v),
            _ => None,
        }
    }
    /// The values if they are f64.
    pub fn as_f64(&self) -> Option<&[f64]> {
        match &self.data {
            ArrayData::F64(v) => Some(v),
            _ => None,
        }
    }
    /// The values if they are i64.
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.data {
            ArrayData::I64(v) => Some(v),
            _ => None,
        }
    }
    /// The values if they are bytes.
    pub fn as_u8(&self) -> Option<&[u8]> {
        match &self.data {
            ArrayData::U8(v) => Some(v),
            _ => None,
        }
    }
    /// The values if they are strings.
    pub fn as_str(&self) -> Option<&[String]> {
        match &self.data {
            ArrayData::Str(v) => Some(v),
            _ => None,
        }
    }
}

/// What an entry records about how it was made; stored as HDF5 attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactMeta {
    /// The entry's key (checked against the file name on read).
    pub key: StageKey,
    /// Stage name.
    pub stage: String,
    /// Stage implementation version.
    pub version: u32,
    /// The config slice as a JSON object of dotted paths.
    pub config_json: String,
    /// Upstream keys by role.
    pub upstream: BTreeMap<String, StageKey>,
    /// Input file hashes by song id (extraction stages).
    pub files: BTreeMap<String, FileHash>,
    /// When it was written, RFC 3339 UTC; empty until stored.
    pub created: String,
    /// How long the stage took to compute it.
    pub duration_s: f64,
    /// The `mer` release that wrote it.
    pub mer_version: String,
    /// blake3 (hex) of the entry file after its header: every attribute and dataset, so one
    /// changed byte anywhere fails it. Set when the entry is stored, checked when it is read.
    pub checksum: String,
}

/// One stage's output: named arrays plus [`ArtifactMeta`].
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// Provenance and checksum.
    pub meta: ArtifactMeta,
    pub(super) arrays: BTreeMap<String, Array>,
}

impl Artifact {
    /// An empty artifact for the stage described by `inputs`, keyed by `inputs.key()`.
    pub fn new(inputs: &StageInputs) -> Self {
        Artifact {
            meta: ArtifactMeta {
                key: inputs.key(),
                stage: inputs.stage.clone(),
                version: inputs.version,
                config_json: inputs.config.to_json(),
                upstream: inputs.upstream.clone(),
                files: inputs.files.clone(),
                created: String::new(),
                duration_s: 0.0,
                mer_version: env!("CARGO_PKG_VERSION").to_owned(),
                checksum: String::new(),
            },
            arrays: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) an array. Shapes are checked when the artifact is stored.
    pub fn insert(&mut self, name: impl Into<String>, shape: Vec<usize>, data: ArrayData) {
        self.arrays.insert(name.into(), Array { shape, data });
    }

    /// Adds an f32 array.
    pub fn put_f32(&mut self, name: &str, shape: &[usize], data: Vec<f32>) -> &mut Self {
        self.insert(name, shape.to_vec(), ArrayData::F32(data));
        self
    }
    /// Adds an f64 array.
    pub fn put_f64(&mut self, name: &str, shape: &[usize], data: Vec<f64>) -> &mut Self {
        self.insert(name, shape.to_vec(), ArrayData::F64(data));
        self
    }
    /// Adds an i64 array.
    pub fn put_i64(&mut self, name: &str, shape: &[usize], data: Vec<i64>) -> &mut Self {
        self.insert(name, shape.to_vec(), ArrayData::I64(data));
        self
    }
    /// Adds a byte array.
    pub fn put_u8(&mut self, name: &str, shape: &[usize], data: Vec<u8>) -> &mut Self {
        self.insert(name, shape.to_vec(), ArrayData::U8(data));
        self
    }
    /// Adds a list of strings.
    pub fn put_strings(&mut self, name: &str, data: Vec<String>) -> &mut Self {
        self.insert(name, vec![data.len()], ArrayData::Str(data));
        self
    }

    /// The array called `name`.
    pub fn array(&self, name: &str) -> Option<&Array> {
        self.arrays.get(name)
    }

    /// All arrays in name order.
    pub fn arrays(&self) -> impl Iterator<Item = (&str, &Array)> {
        self.arrays.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub(super) fn validate(&self) -> Result<(), CacheError> {
        let bad = |problem: String| CacheError::BadArtifact {
            stage: self.meta.stage.clone(),
            problem,
        };
        for (name, array) in &self.arrays {
            if name.is_empty() || name.contains('/') || name.starts_with('.') {
                return Err(bad(format!(
                    "array name '{name}' must be non-empty, without '/' or a leading '.'"
                )));
            }
            let expected: usize = array.shape.iter().product();
            if expected != array.data.len() {
                return Err(bad(format!(
                    "array '{name}' has shape {:?} ({expected} values) but {} values",
                    array.shape,
                    array.data.len()
                )));
            }
            if let ArrayData::Str(items) = &array.data {
                if array.shape.len() != 1 {
                    return Err(bad(format!(
                        "string array '{name}' must be one-dimensional"
                    )));
                }
                if items.iter().any(|s| s.contains('\0')) {
                    return Err(bad(format!(
                        "string array '{name}' contains a NUL character"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Bytes of array data (strings by their UTF-8 length): about what storing it takes.
    pub(super) fn data_bytes(&self) -> u64 {
        self.arrays
            .values()
            .map(|array| match &array.data {
                ArrayData::F32(v) => 4 * v.len(),
                ArrayData::F64(v) => 8 * v.len(),
                ArrayData::I64(v) => 8 * v.len(),
                ArrayData::U8(v) => v.len(),
                ArrayData::Str(v) => v.iter().map(String::len).sum(),
            } as u64)
            .sum()
    }
}
