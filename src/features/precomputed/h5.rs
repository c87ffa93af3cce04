//! `.h5` matrices: a float or integer dataset `data_key` (default `features`) and a dataset
//! `id_key` (default `ids`) of strings (variable or fixed length) or integers.

use std::path::Path;

use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};

use super::PrecomputedSection;
use super::{IdColumn, Matrix, PrecomputedError, data_key, id_key, io_error};

/// Longest fixed-length string id read (HDF5 pads shorter ones).
const MAX_FIXED_ID: usize = 256;

/// The matrix, and its ids unless an `ids` file replaces them.
pub(super) fn read(
    path: &Path,
    section: &PrecomputedSection,
) -> Result<(Matrix, Option<IdColumn>), PrecomputedError> {
    let file = open(path)?;
    let matrix = matrix(path, &dataset(path, &file, data_key(section), "data_key")?)?;
    let ids = match section.ids {
        Some(_) => None,
        None => Some(ids(
            path,
            &dataset(path, &file, id_key(section), "id_key")?,
        )?),
    };
    Ok((matrix, ids))
}

/// Only the ids.
pub(super) fn read_ids(
    path: &Path,
    section: &PrecomputedSection,
) -> Result<IdColumn, PrecomputedError> {
    let file = open(path)?;
    ids(path, &dataset(path, &file, id_key(section), "id_key")?)
}

fn open(path: &Path) -> Result<hdf5::File, PrecomputedError> {
    // libhdf5's own message for a missing file is long and unclear; say it plainly first.
    std::fs::metadata(path).map_err(io_error(path))?;
    // Without libhdf5's file lock: a read-only open needs none, and taking it fails on NFS and
    // while another program (h5py writing the file) holds it.
    hdf5::File::with_options()
        .with_fapl(|p| p.file_locking(false))
        .open(path)
        .map_err(|e| malformed(path, e))
}

fn dataset(
    path: &Path,
    file: &hdf5::File,
    name: &str,
    field: &'static str,
) -> Result<hdf5::Dataset, PrecomputedError> {
    if file.link_exists(name)
        && let Ok(dataset) = file.dataset(name)
    {
        return Ok(dataset);
    }
    let mut available = file.member_names().map_err(|e| malformed(path, e))?;
    available.sort();
    Err(PrecomputedError::MissingKey {
        path: path.to_path_buf(),
        what: "dataset",
        key: name.to_string(),
        field,
        available,
    })
}

fn malformed(path: &Path, e: impl std::fmt::Display) -> PrecomputedError {
    PrecomputedError::Malformed {
        path: path.to_path_buf(),
        format: "HDF5",
        message: e.to_string(),
    }
}

fn descriptor(path: &Path, dataset: &hdf5::Dataset) -> Result<TypeDescriptor, PrecomputedError> {
    dataset
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| malformed(path, e))
}

fn unexpected(
    dataset: &hdf5::Dataset,
    path: &Path,
    expected: &str,
    found: String,
) -> PrecomputedError {
    PrecomputedError::Unexpected {
        path: path.to_path_buf(),
        key: dataset.name().trim_start_matches('/').to_string(),
        expected: expected.to_string(),
        found,
    }
}

fn matrix(path: &Path, dataset: &hdf5::Dataset) -> Result<Matrix, PrecomputedError> {
    let (rows, cols) = match dataset.shape()[..] {
        [rows] => (rows, 1),
        [rows, cols] => (rows, cols),
        ref other => {
            return Err(unexpected(
                dataset,
                path,
                "a 2-D matrix (songs x features)",
                format!("shape {other:?}"),
            ));
        }
    };
    match descriptor(path, dataset)? {
        TypeDescriptor::Float(_) | TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {}
        other => {
            return Err(unexpected(
                dataset,
                path,
                "numbers",
                format!("type {other}"),
            ));
        }
    }
    // libhdf5 converts every numeric type to f64 on reading; empty datasets have no storage.
    let values: Vec<f64> = if rows * cols == 0 {
        Vec::new()
    } else {
        dataset.read_raw().map_err(|e| malformed(path, e))?
    };
    Ok(Matrix {
        rows,
        cols,
        // Values beyond f32's range become infinite and mark their row as unusable.
        values: values.into_iter().map(|v| v as f32).collect(),
        names: None,
    })
}

fn ids(path: &Path, dataset: &hdf5::Dataset) -> Result<IdColumn, PrecomputedError> {
    if dataset.ndim() != 1 {
        return Err(unexpected(
            dataset,
            path,
            "a 1-D dataset of ids",
            format!("shape {:?}", dataset.shape()),
        ));
    }
    if dataset.size() == 0 {
        return Ok(IdColumn::Text(Vec::new()));
    }
    let read = |e: hdf5::Error| malformed(path, e);
    let text =
        |ids: Vec<String>| IdColumn::Text(ids.iter().map(|s| s.trim().to_string()).collect());
    Ok(match descriptor(path, dataset)? {
        TypeDescriptor::VarLenUnicode => text(
            dataset
                .read_raw::<VarLenUnicode>()
                .map_err(read)?
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
        ),
        TypeDescriptor::VarLenAscii => text(
            dataset
                .read_raw::<VarLenAscii>()
                .map_err(read)?
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
        ),
        TypeDescriptor::FixedAscii(n) if n <= MAX_FIXED_ID => text(
            dataset
                .read_raw::<FixedAscii<MAX_FIXED_ID>>()
                .map_err(read)?
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
        ),
        TypeDescriptor::FixedUnicode(n) if n <= MAX_FIXED_ID => text(
            dataset
                .read_raw::<FixedUnicode<MAX_FIXED_ID>>()
                .map_err(read)?
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
        ),
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
            IdColumn::Integers(dataset.read_raw::<i64>().map_err(read)?)
        }
        other => {
            return Err(unexpected(
                dataset,
                path,
                &format!("string (up to {MAX_FIXED_ID} bytes) or integer ids"),
                format!("type {other}"),
            ));
        }
    })
}
