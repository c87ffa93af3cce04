//! Reading a TensorFlow 1 checkpoint (a tensor bundle) without TensorFlow: the `.index` file
//! is a LevelDB-format table mapping each variable's name to a `BundleEntryProto` (dtype,
//! shape, shard, offset, size, crc32c), and `.data-00000-of-00001` holds the raw
//! little-endian tensors. Only what musicnn's checkpoints use is supported: one shard,
//! uncompressed blocks, `float32` tensors; anything else is an error naming the file.
//!
//! Every block's and every tensor's crc32c is checked, so a truncated or damaged weight file
//! is an error, never a wrong number.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The magic number that ends a LevelDB table.
const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// The footer: two block handles padded to 40 bytes, then the magic.
const FOOTER_LEN: usize = 48;
/// `DT_FLOAT` in TensorFlow's `DataType` enum.
const DT_FLOAT: u64 = 1;

/// One variable of a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Its shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// Its values in row-major order.
    pub values: Vec<f32>,
}

/// Why a checkpoint cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not what a TensorFlow checkpoint holds there.
    #[error("{}: {problem}; the file is damaged or not a TensorFlow 1 checkpoint", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

impl CheckpointError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            CheckpointError::Io { path, .. } | CheckpointError::Malformed { path, .. } => path,
        }
    }
}

/// Reads every tensor of the checkpoint whose files are `<prefix>.index` and
/// `<prefix>.data-00000-of-00001` (musicnn's prefix is the folder plus an empty name).
pub fn read_checkpoint(prefix: &Path) -> Result<BTreeMap<String, Tensor>, CheckpointError> {
    let index_path = with_suffix(prefix, ".index");
    let data_path = with_suffix(prefix, ".data-00000-of-00001");
    let index = read(&index_path)?;
    let data = read(&data_path)?;
    let entries = Table::new(&index_path, &index).entries()?;
    let mut tensors = BTreeMap::new();
    for (name, value) in entries {
        if name.is_empty() {
            continue; // The bundle header.
        }
        let bad = |problem: String| malformed(&index_path, format!("`{name}`: {problem}"));
        let entry = Entry::parse(&value).map_err(bad)?;
        let tensor = entry
            .tensor(&data)
            .map_err(|problem| malformed(&data_path, format!("`{name}`: {problem}")))?;
        tensors.insert(name, tensor);
    }
    Ok(tensors)
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn read(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    std::fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn malformed(path: &Path, problem: impl Into<String>) -> CheckpointError {
    CheckpointError::Malformed {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

/// The (key, value) entries of a table block.
type BlockEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// A byte cursor over protobuf-style varints.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, at: 0 }
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at).ok_or("varint runs past the end")?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or("a length runs past the end")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn fixed32(&mut self) -> Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("4 bytes")))
    }
}

/// The `.index` file: a LevelDB table.
struct Table<'a> {
    path: &'a Path,
    bytes: &'a [u8],
}

impl<'a> Table<'a> {
    fn new(path: &'a Path, bytes: &'a [u8]) -> Self {
        Table { path, bytes }
    }

    /// Every (key, value) of the data blocks, in key order.
    fn entries(&self) -> Result<Vec<(String, Vec<u8>)>, CheckpointError> {
        let bad = |problem: String| malformed(self.path, problem);
        if self.bytes.len() < FOOTER_LEN {
            return Err(bad(format!(
                "{} bytes, shorter than a table's footer",
                self.bytes.len()
            )));
        }
        let footer = &self.bytes[self.bytes.len() - FOOTER_LEN..];
        let magic = u64::from_le_bytes(footer[40..].try_into().expect("8 bytes"));
        if magic != TABLE_MAGIC {
            return Err(bad("no table magic number at the end".into()));
        }
        let mut cursor = Cursor::new(&footer[..40]);
        let _metaindex = (cursor.varint().map_err(bad)?, cursor.varint().map_err(bad)?);
        let index = (cursor.varint().map_err(bad)?, cursor.varint().map_err(bad)?);
        let mut entries = Vec::new();
        for (_, handle) in self.block(index)? {
            let mut cursor = Cursor::new(&handle);
            let data = (cursor.varint().map_err(bad)?, cursor.varint().map_err(bad)?);
            for (key, value) in self.block(data)? {
                let key = String::from_utf8(key).map_err(|_| bad("a name is not UTF-8".into()))?;
                entries.push((key, value));
            }
        }
        Ok(entries)
    }

    /// The entries of the block at `(offset, size)`, after checking its trailer.
    fn block(&self, (offset, size): (u64, u64)) -> Result<BlockEntries, CheckpointError> {
        let bad = |problem: String| malformed(self.path, problem);
        let (start, len) = (offset as usize, size as usize);
        let end = start
            .checked_add(len + 5)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| bad(format!("block at {offset} runs past the end")))?;
        let block = &self.bytes[start..start + len];
        let (kind, stored) = (self.bytes[start + len], &self.bytes[start + len + 1..end]);
        if kind != 0 {
            return Err(bad(format!(
                "block at {offset} is compressed (type {kind})"
            )));
        }
        let crc = crc32c::crc32c_append(crc32c::crc32c(block), &[kind]);
        let stored = unmask(u32::from_le_bytes(stored.try_into().expect("4 bytes")));
        if crc != stored {
            return Err(bad(format!("block at {offset} fails its checksum")));
        }
        parse_block(block).map_err(|p| bad(format!("block at {offset}: {p}")))
    }
}

/// LevelDB's masked crc32c, undone.
fn unmask(masked: u32) -> u32 {
    let rot = masked.wrapping_sub(0xa282_ead8);
    rot.rotate_left(15)
}

/// A block's entries: keys share prefixes with the previous key; restart points end it.
fn parse_block(block: &[u8]) -> Result<BlockEntries, String> {
    if block.len() < 4 {
        return Err("shorter than its restart count".into());
    }
    let restarts = u32::from_le_bytes(block[block.len() - 4..].try_into().expect("4 bytes"));
    let entries_end = (block.len() - 4)
        .checked_sub(4 * restarts as usize)
        .ok_or("more restart points than bytes")?;
    let mut cursor = Cursor::new(&block[..entries_end]);
    let mut key: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    while !cursor.done() {
        let shared = cursor.varint()? as usize;
        let unshared = cursor.varint()? as usize;
        let value_len = cursor.varint()? as usize;
        if shared > key.len() {
            return Err("a key shares more than the previous key has".into());
        }
        key.truncate(shared);
        key.extend_from_slice(cursor.take(unshared)?);
        out.push((key.clone(), cursor.take(value_len)?.to_vec()));
    }
    Ok(out)
}

/// The fields of a `BundleEntryProto` that locate a one-shard tensor.
#[derive(Debug, Default)]
struct Entry {
    dtype: u64,
    shape: Vec<usize>,
    shard: u64,
    offset: u64,
    size: u64,
    crc32c: Option<u32>,
    sliced: bool,
}

impl Entry {
    fn parse(bytes: &[u8]) -> Result<Entry, String> {
        let mut entry = Entry::default();
        let mut cursor = Cursor::new(bytes);
        while !cursor.done() {
            let tag = cursor.varint()?;
            match (tag >> 3, tag & 7) {
                (1, 0) => entry.dtype = cursor.varint()?,
                (2, 2) => {
                    let len = cursor.varint()? as usize;
                    entry.shape = parse_shape(cursor.take(len)?)?;
                }
                (3, 0) => entry.shard = cursor.varint()?,
                (4, 0) => entry.offset = cursor.varint()?,
                (5, 0) => entry.size = cursor.varint()?,
                (6, 5) => entry.crc32c = Some(cursor.fixed32()?),
                (7, 2) => {
                    let len = cursor.varint()? as usize;
                    cursor.take(len)?;
                    entry.sliced = true;
                }
                (_, 0) => drop(cursor.varint()?),
                (_, 2) => {
                    let len = cursor.varint()? as usize;
                    cursor.take(len)?;
                }
                (_, 5) => drop(cursor.fixed32()?),
                (field, wire) => return Err(format!("field {field} of wire type {wire}")),
            }
        }
        Ok(entry)
    }

    fn tensor(&self, data: &[u8]) -> Result<Tensor, String> {
        if self.dtype != DT_FLOAT {
            return Err(format!("dtype {} is not float32", self.dtype));
        }
        if self.shard != 0 || self.sliced {
            return Err("a sharded or sliced tensor".into());
        }
        let count: usize = self.shape.iter().product();
        if self.size as usize != 4 * count {
            return Err(format!("{} bytes for shape {:?}", self.size, self.shape));
        }
        let start = self.offset as usize;
        let bytes = start
            .checked_add(self.size as usize)
            .and_then(|end| data.get(start..end))
            .ok_or_else(|| format!("bytes {start}.. run past the end ({} bytes)", data.len()))?;
        if let Some(stored) = self.crc32c
            && unmask(stored) != crc32c::crc32c(bytes)
        {
            return Err("fails its checksum".into());
        }
        let values = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        Ok(Tensor {
            shape: self.shape.clone(),
            values,
        })
    }
}

/// A `TensorShapeProto`: repeated `dim { size }`.
fn parse_shape(bytes: &[u8]) -> Result<Vec<usize>, String> {
    let mut shape = Vec::new();
    let mut cursor = Cursor::new(bytes);
    while !cursor.done() {
        let tag = cursor.varint()?;
        match (tag >> 3, tag & 7) {
            (2, 2) => {
                let len = cursor.varint()? as usize;
                let mut dim = Cursor::new(cursor.take(len)?);
                let mut size = 0;
                while !dim.done() {
                    let tag = dim.varint()?;
                    match (tag >> 3, tag & 7) {
                        (1, 0) => size = dim.varint()? as usize,
                        (_, 2) => {
                            let len = dim.varint()? as usize;
                            dim.take(len)?;
                        }
                        (_, 0) => drop(dim.varint()?),
                        (field, wire) => return Err(format!("dim field {field} type {wire}")),
                    }
                }
                shape.push(size);
            }
            (_, 0) => drop(cursor.varint()?),
            (field, wire) => return Err(format!("shape field {field} type {wire}")),
        }
    }
    Ok(shape)
}
