//! `.npy` matrices and `.npz` archives (a zip of `.npy` files, as `numpy.savez` and
//! `numpy.savez_compressed` write them), through `npyz`.

use std::io::Read;
use std::path::Path;

use npyz::{DType, NpyFile, Order, TypeChar};

use super::PrecomputedSection;
use super::{IdColumn, Matrix, PrecomputedError, data_key, id_key, io_error, transpose};

/// The matrix of a `.npy` file.
pub(super) fn read_npy(path: &Path) -> Result<Matrix, PrecomputedError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    matrix(path, "array", &bytes)
}

/// The matrix and ids of a `.npz` archive (no ids when an `ids` file replaces them).
pub(super) fn read_npz(
    path: &Path,
    section: &PrecomputedSection,
) -> Result<(Matrix, Option<IdColumn>), PrecomputedError> {
    let mut archive = Archive::open(path)?;
    let data = archive.array(data_key(section), "data_key")?;
    let matrix = matrix(path, data_key(section), &data)?;
    let ids = match section.ids {
        Some(_) => None,
        None => Some(ids(
            path,
            id_key(section),
            &archive.array(id_key(section), "id_key")?,
        )?),
    };
    Ok((matrix, ids))
}

/// Only the ids of a `.npz` archive.
pub(super) fn read_npz_ids(
    path: &Path,
    section: &PrecomputedSection,
) -> Result<IdColumn, PrecomputedError> {
    let mut archive = Archive::open(path)?;
    ids(
        path,
        id_key(section),
        &archive.array(id_key(section), "id_key")?,
    )
}

struct Archive<'p> {
    path: &'p Path,
    zip: zip::ZipArchive<std::fs::File>,
}

impl<'p> Archive<'p> {
    fn open(path: &'p Path) -> Result<Self, PrecomputedError> {
        let file = std::fs::File::open(path).map_err(io_error(path))?;
        let zip = zip::ZipArchive::new(file).map_err(|e| malformed(path, "npz", e))?;
        Ok(Archive { path, zip })
    }

    /// The bytes of the array `name` (stored as `name.npy`).
    fn array(&mut self, name: &str, field: &'static str) -> Result<Vec<u8>, PrecomputedError> {
        let entry = format!("{name}.npy");
        let available: Vec<String> = self
            .zip
            .file_names()
            .filter_map(Result::ok)
            .filter_map(|n| n.strip_suffix(".npy").map(str::to_string))
            .collect();
        let mut file = match self.zip.by_name(&entry) {
            Ok(file) => file,
            Err(zip::result::ZipError::FileNotFound) => {
                let mut available = available;
                available.sort();
                return Err(PrecomputedError::MissingKey {
                    path: self.path.to_path_buf(),
                    what: "array",
                    key: name.to_string(),
                    field,
                    available,
                });
            }
            Err(e) => return Err(malformed(self.path, "npz", e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| malformed(self.path, "npz", e))?;
        Ok(bytes)
    }
}

fn malformed(path: &Path, format: &'static str, e: impl std::fmt::Display) -> PrecomputedError {
    PrecomputedError::Malformed {
        path: path.to_path_buf(),
        format,
        message: e.to_string(),
    }
}

fn unexpected(path: &Path, key: &str, expected: &str, found: String) -> PrecomputedError {
    PrecomputedError::Unexpected {
        path: path.to_path_buf(),
        key: key.to_string(),
        expected: expected.to_string(),
        found,
    }
}

fn describe(dtype: &DType) -> String {
    match dtype {
        DType::Plain(ts) => format!("dtype {ts}"),
        other => format!("dtype {}", other.descr()),
    }
}

/// A 2-D (or 1-D: one feature per row) float32/float64 array, in row-major order.
fn matrix(path: &Path, key: &str, bytes: &[u8]) -> Result<Matrix, PrecomputedError> {
    let npy = NpyFile::new(bytes).map_err(|e| malformed(path, "npy", e))?;
    let (rows, cols) = match *npy.shape() {
        [rows] => (rows as usize, 1),
        [rows, cols] => (rows as usize, cols as usize),
        ref other => {
            return Err(unexpected(
                path,
                key,
                "a 2-D matrix (songs x features)",
                format!("shape {other:?}"),
            ));
        }
    };
    let order = npy.order();
    let dtype = npy.dtype();
    let values: Vec<f32> = match &dtype {
        DType::Plain(ts) if ts.type_char() == TypeChar::Float && ts.size_field() == 4 => npy
            .into_vec::<f32>()
            .map_err(|e| malformed(path, "npy", e))?,
        DType::Plain(ts) if ts.type_char() == TypeChar::Float && ts.size_field() == 8 => npy
            .into_vec::<f64>()
            .map_err(|e| malformed(path, "npy", e))?
            .into_iter()
            // Values beyond f32's range become infinite and mark their row as unusable.
            .map(|v| v as f32)
            .collect(),
        other => {
            return Err(unexpected(
                path,
                key,
                "float32 or float64 values",
                describe(other),
            ));
        }
    };
    let values = match order {
        Order::Fortran if cols > 1 => transpose(&values, rows, cols),
        _ => values,
    };
    Ok(Matrix {
        rows,
        cols,
        values,
        names: None,
    })
}

/// A 1-D array of strings (`<U..`, `|S..`) or integers.
fn ids(path: &Path, key: &str, bytes: &[u8]) -> Result<IdColumn, PrecomputedError> {
    let npy = NpyFile::new(bytes).map_err(|e| malformed(path, "npy", e))?;
    if npy.shape().len() != 1 {
        return Err(unexpected(
            path,
            key,
            "a 1-D array of ids",
            format!("shape {:?}", npy.shape()),
        ));
    }
    let dtype = npy.dtype();
    let DType::Plain(ts) = &dtype else {
        return Err(unexpected(
            path,
            key,
            "string or integer ids",
            describe(&dtype),
        ));
    };
    let read = |e: std::io::Error| malformed(path, "npy", e);
    let column = match (ts.type_char(), ts.size_field()) {
        (TypeChar::UnicodeStr | TypeChar::ByteStr, _) => IdColumn::Text(
            npy.into_vec::<String>()
                .map_err(read)?
                .into_iter()
                .map(|s| s.trim().to_string())
                .collect(),
        ),
        (TypeChar::Int, 1) => ints(npy.into_vec::<i8>().map_err(read)?),
        (TypeChar::Int, 2) => ints(npy.into_vec::<i16>().map_err(read)?),
        (TypeChar::Int, 4) => ints(npy.into_vec::<i32>().map_err(read)?),
        (TypeChar::Int, 8) => ints(npy.into_vec::<i64>().map_err(read)?),
        (TypeChar::Uint, 1) => ints(npy.into_vec::<u8>().map_err(read)?),
        (TypeChar::Uint, 2) => ints(npy.into_vec::<u16>().map_err(read)?),
        (TypeChar::Uint, 4) => ints(npy.into_vec::<u32>().map_err(read)?),
        (TypeChar::Uint, 8) => IdColumn::Integers(
            npy.into_vec::<u64>()
                .map_err(read)?
                .into_iter()
                .map(|v| i64::try_from(v).unwrap_or(i64::MAX))
                .collect(),
        ),
        _ => {
            return Err(unexpected(
                path,
                key,
                "string (<U.., |S..) or integer ids",
                describe(&dtype),
            ));
        }
    };
    Ok(column)
}

fn ints<T: Into<i64>>(values: Vec<T>) -> IdColumn {
    IdColumn::Integers(values.into_iter().map(Into::into).collect())
}
