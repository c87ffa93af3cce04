//! One artifact in a file of its own, outside the store (a model bundle): the entry format
//! (a header holding the blake3 of the rest, then HDF5), written under a temporary name beside
//! its target and renamed into place, and verified before libhdf5 reads a byte of it.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::clock::rfc3339;

use super::CacheError;
use super::artifact::Artifact;
use super::disk::temp_path_in;
use super::entry::{read_h5, verify_file, write_sealed_entry};

/// Writes `artifact` to `path`, whole or not at all; returns it with its checksum.
pub fn write_sealed(path: &Path, mut artifact: Artifact) -> Result<Artifact, CacheError> {
    artifact.validate()?;
    artifact.meta.created = rfc3339(SystemTime::now());
    artifact.meta.duration_s = Duration::ZERO.as_secs_f64();
    let folder = path.parent().unwrap_or(Path::new(""));
    let name = path
        .file_name()
        .map_or("bundle".into(), |n| n.to_string_lossy());
    let tmp = temp_path_in(folder, &name);
    match write_sealed_entry(&tmp, path, &mut artifact) {
        Ok(()) => Ok(artifact),
        Err(cause) => Err(CacheError::NotWritten {
            path: path.to_path_buf(),
            cause,
        }),
    }
}

/// Reads what [`write_sealed`] wrote, refusing a file whose checksum does not hold.
pub fn read_sealed(path: &Path) -> Result<Artifact, CacheError> {
    if let Err(source) = fs::metadata(path) {
        return Err(CacheError::io("read", path, source));
    }
    verify_file(path)
        .and_then(|checksum| read_h5(path, checksum))
        .map_err(|reason| CacheError::NotIntact {
            path: path.to_path_buf(),
            reason,
        })
}
