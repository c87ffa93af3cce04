//! The entry file format, and writing, sealing, verifying and reading one entry; the store
//! decides where entries live and what a failed check means.
//!
//! Everything an entry holds is checksummed: each file starts with a 512-byte header (an HDF5
//! "user block", which libhdf5 skips) holding the blake3 of every byte after it, attributes
//! and datasets alike. The header is checked before libhdf5 parses a byte, because libhdf5
//! trusts its own metadata: a flipped bit there can crash the process (SIGSEGV, SIGABRT), not
//! just fail a read. All HDF5 I/O happens once per artifact, in `write_h5` and
//! `read_h5`: libhdf5 has one global lock, so per-element calls would serialize every thread.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;
use std::str::FromStr;

use hdf5::types::VarLenUnicode;

use super::artifact::{Array, ArrayData, Artifact, ArtifactMeta};
use super::{CacheError, StageKey};

/// Version of the file layout (header, attribute names, dataset types); stored in every
/// entry. Format 1 had no header and checksummed only the datasets; its entries are
/// quarantined once and recomputed.
const FORMAT_VERSION: u32 = 2;

/// Length of the header before the HDF5 data: the smallest user block libhdf5 allows.
const HEADER_LEN: usize = 512;

/// How the header starts; the blake3 (hex) of the rest of the file and a newline follow, then
/// zeros.
const HEADER_MAGIC: &[u8] = b"mer artifact v2\n";

/// How every HDF5 file starts (format 1 entries start with it: they have no header).
const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

/// Writes `artifact` to `tmp`, seals it, renames it to `target` and records its checksum;
/// on failure removes `tmp` and says what failed.
pub(super) fn write_sealed_entry(
    tmp: &Path,
    target: &Path,
    artifact: &mut Artifact,
) -> Result<(), String> {
    let written = write_h5(tmp, artifact)
        .map_err(|e| super::disk::hdf5_cause(&e.to_string()))
        .and_then(|()| seal(tmp).map_err(|e| format!("write the header: {e}")))
        .and_then(|checksum| super::disk::persist(tmp, target).map(|()| checksum));
    match written {
        Ok(checksum) => {
            artifact.meta.checksum = checksum;
            Ok(())
        }
        Err(cause) => {
            let _ = fs::remove_file(tmp);
            Err(cause)
        }
    }
}

/// Writes every dataset and attribute in one go, after an empty header; the file is closed
/// when this returns.
pub(super) fn write_h5(path: &Path, artifact: &Artifact) -> hdf5::Result<()> {
    let file = hdf5::File::with_options()
        .with_fcpl(|p| p.userblock(HEADER_LEN as u64))
        .with_fapl(|p| p.file_locking(false))
        .create(path)?;
    for (name, array) in &artifact.arrays {
        match &array.data {
            ArrayData::F32(v) => write_dataset(&file, name, &array.shape, v)?,
            ArrayData::F64(v) => write_dataset(&file, name, &array.shape, v)?,
            ArrayData::I64(v) => write_dataset(&file, name, &array.shape, v)?,
            ArrayData::U8(v) => write_dataset(&file, name, &array.shape, v)?,
            ArrayData::Str(v) => {
                let values = v
                    .iter()
                    .map(|s| VarLenUnicode::from_str(s))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| hdf5::Error::from(e.to_string()))?;
                write_dataset(&file, name, &array.shape, &values)?;
            }
        }
    }
    let m = &artifact.meta;
    write_attr(&file, "format", &FORMAT_VERSION)?;
    write_str_attr(&file, "key", &m.key.to_string())?;
    write_str_attr(&file, "stage", &m.stage)?;
    write_attr(&file, "version", &m.version)?;
    write_str_attr(&file, "config", &m.config_json)?;
    write_str_attr(&file, "upstream", &to_json(&m.upstream))?;
    write_str_attr(&file, "files", &to_json(&m.files))?;
    write_str_attr(&file, "created", &m.created)?;
    write_attr(&file, "duration_s", &m.duration_s)?;
    write_str_attr(&file, "mer_version", &m.mer_version)?;
    file.flush()?;
    file.close()
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("maps of digests always serialize")
}

fn write_dataset<T: hdf5::H5Type>(
    file: &hdf5::File,
    name: &str,
    shape: &[usize],
    values: &[T],
) -> hdf5::Result<()> {
    let builder = file.new_dataset::<T>();
    let dataset = if shape.is_empty() {
        builder.shape(()).create(name)?
    } else {
        builder.shape(shape.to_vec()).create(name)?
    };
    if !values.is_empty() {
        dataset.write_raw(values)?;
    }
    Ok(())
}

fn write_attr<T: hdf5::H5Type>(file: &hdf5::File, name: &str, value: &T) -> hdf5::Result<()> {
    file.new_attr::<T>()
        .shape(())
        .create(name)?
        .write_scalar(value)
}

fn write_str_attr(file: &hdf5::File, name: &str, value: &str) -> hdf5::Result<()> {
    let value = VarLenUnicode::from_str(value).map_err(|e| hdf5::Error::from(e.to_string()))?;
    write_attr(file, name, &value)
}

fn read_str_attr(file: &hdf5::File, name: &str) -> hdf5::Result<String> {
    Ok(file
        .attr(name)?
        .read_scalar::<VarLenUnicode>()?
        .as_str()
        .to_owned())
}

/// Fills in the header of the HDF5 file at `path` (written with an empty user block): the
/// blake3 of everything after it. Returns that checksum (hex).
pub(super) fn seal(path: &Path) -> io::Result<String> {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = fs::OpenOptions::new().read(true).write(true).open(path)?;
    file.seek(SeekFrom::Start(HEADER_LEN as u64))?;
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(&mut file)?;
    let checksum = hasher.finalize().to_hex().to_string();
    let mut header = [0u8; HEADER_LEN];
    let text = [HEADER_MAGIC, checksum.as_bytes(), b"\n"].concat();
    header[..text.len()].copy_from_slice(&text);
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header)?;
    Ok(checksum)
}

/// Checks an entry file's header against the rest of it, with std I/O only, so that libhdf5
/// never parses a changed byte. Returns the checksum; the error is the reason to quarantine.
pub(super) fn verify_file(path: &Path) -> Result<String, String> {
    let bytes = fs::read(path).map_err(|e| format!("could not read it: {e}"))?;
    if bytes.starts_with(HDF5_SIGNATURE) {
        return Err(
            "written by an older mer in entry format 1, whose checksum left the attributes \
             unchecked; recomputed once in format 2"
                .to_owned(),
        );
    }
    let Some(header) = bytes
        .get(..HEADER_LEN)
        .filter(|h| h.starts_with(HEADER_MAGIC))
    else {
        return Err("not a mer artifact (no header)".to_owned());
    };
    let stored = &header[HEADER_MAGIC.len()..HEADER_MAGIC.len() + 64];
    let actual = blake3::hash(&bytes[HEADER_LEN..]).to_hex();
    if stored != actual.as_bytes() {
        return Err(format!(
            "checksum mismatch (stored {}, computed {actual})",
            String::from_utf8_lossy(stored)
        ));
    }
    Ok(actual.to_string())
}

/// Opens an entry for reading without libhdf5's own file lock. Entries are immutable once
/// renamed into place and the store has its own lock files, so that lock protects nothing
/// here; it fails on filesystems without `flock` (NFS: ENOLCK) and whenever another process
/// holds the file, and a failed open would be taken for corruption and quarantined.
fn open_h5(path: &Path) -> hdf5::Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fapl(|p| p.file_locking(false))
        .open(path)
}

/// An entry's attributes if the entry passes its checksum; its datasets are not parsed.
pub(super) fn read_verified_meta(path: &Path) -> Option<ArtifactMeta> {
    let checksum = verify_file(path).ok()?;
    let file = open_h5(path).ok()?;
    let mut meta = read_meta(&file).ok()?;
    meta.checksum = checksum;
    Some(meta)
}

/// Reads a whole entry whose file passed its `checksum`; the error is the reason to quarantine
/// it.
pub(super) fn read_h5(path: &Path, checksum: String) -> Result<Artifact, String> {
    let file = open_h5(path).map_err(|e| format!("not a readable HDF5 file: {e}"))?;
    let mut meta = read_meta(&file).map_err(|e| format!("bad metadata: {e}"))?;
    meta.checksum = checksum;
    let mut arrays = BTreeMap::new();
    let names = file.member_names().map_err(|e| e.to_string())?;
    for name in names {
        let array = read_array(&file, &name).map_err(|e| format!("dataset '{name}': {e}"))?;
        arrays.insert(name, array);
    }
    Ok(Artifact { meta, arrays })
}

fn read_meta(file: &hdf5::File) -> Result<ArtifactMeta, String> {
    let format: u32 = file
        .attr("format")
        .and_then(|a| a.read_scalar())
        .map_err(|e| e.to_string())?;
    if format != FORMAT_VERSION {
        return Err(format!(
            "file format {format}, this mer reads {FORMAT_VERSION}"
        ));
    }
    let text = |name: &str| read_str_attr(file, name).map_err(|e| format!("'{name}': {e}"));
    let json_err = |e: serde_json::Error| e.to_string();
    Ok(ArtifactMeta {
        key: text("key")?
            .parse()
            .map_err(|e: CacheError| e.to_string())?,
        stage: text("stage")?,
        version: file
            .attr("version")
            .and_then(|a| a.read_scalar())
            .map_err(|e| e.to_string())?,
        config_json: text("config")?,
        upstream: serde_json::from_str(&text("upstream")?).map_err(json_err)?,
        files: serde_json::from_str(&text("files")?).map_err(json_err)?,
        created: text("created")?,
        duration_s: file
            .attr("duration_s")
            .and_then(|a| a.read_scalar())
            .map_err(|e| e.to_string())?,
        mer_version: text("mer_version")?,
        checksum: String::new(),
    })
}

fn read_array(file: &hdf5::File, name: &str) -> hdf5::Result<Array> {
    let dataset = file.dataset(name)?;
    let shape = dataset.shape();
    let dtype = dataset.dtype()?;
    let empty = shape.contains(&0);
    // Empty datasets have no storage; reading them is an error in some libhdf5 releases.
    let data = if dtype.is::<f32>() {
        ArrayData::F32(if empty { vec![] } else { dataset.read_raw()? })
    } else if dtype.is::<f64>() {
        ArrayData::F64(if empty { vec![] } else { dataset.read_raw()? })
    } else if dtype.is::<i64>() {
        ArrayData::I64(if empty { vec![] } else { dataset.read_raw()? })
    } else if dtype.is::<u8>() {
        ArrayData::U8(if empty { vec![] } else { dataset.read_raw()? })
    } else if dtype.is::<VarLenUnicode>() {
        let values: Vec<VarLenUnicode> = if empty { vec![] } else { dataset.read_raw()? };
        ArrayData::Str(values.iter().map(|s| s.as_str().to_owned()).collect())
    } else {
        return Err(hdf5::Error::from(format!("unsupported type {dtype:?}")));
    };
    Ok(Array { shape, data })
}

/// The entry must be the one its file name promises.
pub(super) fn check(key: &StageKey, artifact: Artifact) -> Result<Artifact, String> {
    if artifact.meta.key != *key {
        return Err(format!("file holds key {}, not {key}", artifact.meta.key));
    }
    Ok(artifact)
}
