//! Precomputed features: a matrix computed elsewhere (PANNs CNN14 audio embeddings, BERT
//! lyrics embeddings, ...) with one row per song, read once per extraction stage.
//!
//! # Formats
//!
//! The file's extension picks the reader:
//!
//! | file        | matrix                                   | ids (unless `ids` names a text file)     |
//! |-------------|------------------------------------------|------------------------------------------|
//! | `.npy`      | the array (f32 or f64, C or Fortran order) | none: `ids` is required                |
//! | `.npz`      | array `data_key` (default `features`)    | array `id_key` (default `ids`)           |
//! | `.csv`      | every column but the id column           | column `id_key` (default `id`)           |
//! | `.h5`       | dataset `data_key` (default `features`)  | dataset `id_key` (default `ids`)         |
//!
//! An `ids` text file holds one id per line, in row order; it replaces the ids of any format
//! (for `.csv`, every column is then a feature). Ids may be strings (numpy `<U..`/`|S..`, HDF5
//! strings) or integers; integer ids match numeric song ids by value, so `7` matches song
//! `007`. A 1-D matrix is one feature per song.
//!
//! # Names
//!
//! Feature names are the CSV headers, else `<modality>_emb_<i>` (`audio_emb_0`, ...).
//!
//! # Matching rows to songs
//!
//! [`FeatureTable::row`] looks a song up by id. A song without a row, or whose row holds a NaN
//! or an infinity, gets a [`RowError`]: the extraction stage records it as skipped, like an
//! unreadable media file. Ids the dataset does not list are [`FeatureTable::unknown_ids`].
//! Two rows with one id are an error for the whole file: which one is meant cannot be known.

mod csv;
mod h5;
mod npy;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::modality::Modality;
use serde::{Deserialize, Serialize};

/// Features computed elsewhere (CNN14, BERT, ...) read from a matrix file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecomputedSection {
    /// `.npy`, `.npz`, `.csv` or `.h5` matrix, one row per song; relative to the spec's folder.
    pub path: PathBuf,
    /// A text file with one id per line, in row order: required for `.npy`, and replaces the
    /// ids of the other formats when given. Relative to the spec's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<PathBuf>,
    /// The id column (`.csv`, default `id`) or array/dataset name (`.npz`, `.h5`, default
    /// `ids`) holding the ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_key: Option<String>,
    /// The array/dataset name holding the matrix (`.npz`, `.h5`; default `features`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_key: Option<String>,
}

impl PrecomputedSection {
    /// Makes its files absolute with `absolute` (against the spec's folder).
    pub fn resolve(&mut self, absolute: &dyn Fn(&Path) -> PathBuf) {
        self.path = absolute(&self.path);
        if let Some(ids) = &mut self.ids {
            *ids = absolute(ids);
        }
    }
}

/// Version of the precomputed reader's output: bump it when the same file would give other
/// rows, names or values, so cached `extract.*` artifacts are recomputed.
pub const VERSION: u32 = 1;

/// The extractor's name in specs, in every modality: `extractor = "precomputed"`.
pub const EXTRACTOR: &str = "precomputed";

/// Default array/dataset name of the matrix in `.npz` and `.h5` files.
pub const DEFAULT_DATA_KEY: &str = "features";
/// Default array/dataset name of the ids in `.npz` and `.h5` files.
pub const DEFAULT_ID_KEY: &str = "ids";
/// Default id column of `.csv` files.
pub const DEFAULT_ID_COLUMN: &str = "id";

/// A precomputed feature file could not be used; every message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PrecomputedError {
    /// The file could not be opened or read.
    #[error(
        "cannot read '{}': {source}; check the path (relative paths start at the spec's folder)",
        path.display()
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The extension names no supported format.
    #[error(
        "'{}': expected a .npy, .npz, .csv or .h5 file, found extension `{found}`; save the matrix in one of those formats",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// Its extension.
        found: String,
    },
    /// A `.npy` matrix without an ids file.
    #[error(
        "'{}' is a .npy matrix, which carries no ids; set `ids` to a text file with one id per line, in row order",
        path.display()
    )]
    IdsRequired {
        /// The matrix file.
        path: PathBuf,
    },
    /// A named array, dataset or column is not in the file.
    #[error(
        "'{}' has no {what} `{key}`; it has {}; set `{field}` to one of them",
        path.display(),
        list(available)
    )]
    MissingKey {
        /// The file.
        path: PathBuf,
        /// `array`, `dataset` or `column`.
        what: &'static str,
        /// The name looked for.
        key: String,
        /// The spec field that names it (`data_key`, `id_key`).
        field: &'static str,
        /// The names the file has.
        available: Vec<String>,
    },
    /// An array or dataset has the wrong element type or shape.
    #[error("'{}', `{key}`: expected {expected}, found {found}", path.display())]
    Unexpected {
        /// The file.
        path: PathBuf,
        /// The array, dataset or column.
        key: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// The ids and the matrix disagree on the number of rows.
    #[error(
        "'{}' has {rows} rows but its ids ({ids_source}) number {ids}; there must be one id per row, in row order",
        path.display()
    )]
    RowCount {
        /// The matrix file.
        path: PathBuf,
        /// Matrix rows.
        rows: usize,
        /// Ids found.
        ids: usize,
        /// Where the ids came from.
        ids_source: String,
    },
    /// One id names two rows.
    #[error(
        "id `{id}` has two rows in '{}' (rows {first} and {second}, counting from 0); keep one row per song",
        path.display()
    )]
    DuplicateId {
        /// The file with the ids.
        path: PathBuf,
        /// The repeated id.
        id: String,
        /// Its first row.
        first: usize,
        /// Its second row.
        second: usize,
    },
    /// An id is empty.
    #[error(
        "row {row} of '{}' has an empty id (counting from 0); every row needs its song's id",
        path.display()
    )]
    EmptyId {
        /// The file with the ids.
        path: PathBuf,
        /// The row.
        row: usize,
    },
    /// A CSV cell is not a number.
    #[error(
        "'{}' line {line}, column `{column}`: expected a number (empty or `nan` mark a missing value), found `{found}`",
        path.display()
    )]
    NotANumber {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The column's header.
        column: String,
        /// The cell.
        found: String,
    },
    /// The file is not valid in its format (truncated `.npy`, broken zip, malformed CSV, HDF5
    /// error).
    #[error("'{}' is not a valid {format} file: {message}; re-export it", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The format.
        format: &'static str,
        /// What the parser said.
        message: String,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why one song has no precomputed features.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    /// The file has no row for the song.
    #[error("no row in '{}'", path.display())]
    Missing {
        /// The matrix file.
        path: PathBuf,
    },
    /// The song's row holds NaN or infinite values.
    #[error(
        "row {row} of '{}' has NaN or infinite values; treated as missing",
        path.display()
    )]
    NotFinite {
        /// The matrix file.
        path: PathBuf,
        /// The row, counting from 0.
        row: usize,
    },
}

/// Ids as a file stores them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IdColumn {
    /// Text ids.
    Text(Vec<String>),
    /// Integer ids, which match numeric song ids by value.
    Integers(Vec<i64>),
}

impl IdColumn {
    fn len(&self) -> usize {
        match self {
            IdColumn::Text(ids) => ids.len(),
            IdColumn::Integers(ids) => ids.len(),
        }
    }
}

/// A matrix as a reader returns it, before ids are checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matrix {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row-major values.
    pub values: Vec<f32>,
    /// Column names, where the format has them (CSV headers).
    pub names: Option<Vec<String>>,
}

/// The row ids of a precomputed feature file, indexed for lookups by song id.
#[derive(Debug, Clone)]
pub struct RowIds {
    ids: Vec<String>,
    numeric: bool,
    index: HashMap<String, usize>,
}

impl RowIds {
    /// Reads only the ids `section` points at (cheap: the matrix itself is not parsed,
    /// except for `.csv`, whose ids sit among the values).
    pub fn read(section: &PrecomputedSection) -> Result<RowIds, PrecomputedError> {
        let (source, ids) = read_id_column(section)?;
        RowIds::new(source, ids)
    }

    /// `source` is the file the ids come from, for error messages.
    fn new(source: PathBuf, column: IdColumn) -> Result<RowIds, PrecomputedError> {
        let (ids, numeric) = match column {
            IdColumn::Text(ids) => (ids, false),
            IdColumn::Integers(ids) => (ids.iter().map(i64::to_string).collect(), true),
        };
        let mut index = HashMap::with_capacity(ids.len());
        for (row, id) in ids.iter().enumerate() {
            if id.is_empty() {
                return Err(PrecomputedError::EmptyId { path: source, row });
            }
            if let Some(first) = index.insert(id.clone(), row) {
                return Err(PrecomputedError::DuplicateId {
                    path: source,
                    id: id.clone(),
                    first,
                    second: row,
                });
            }
        }
        Ok(RowIds {
            ids,
            numeric,
            index,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the file has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The row of the song `id`, if the file has one.
    pub fn row_of(&self, id: &str) -> Option<usize> {
        self.index.get(self.key(id).as_ref()).copied()
    }

    /// The ids, as the file stores them, that match none of `song_ids`, in row order.
    pub fn unknown_ids<'a>(&self, song_ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut matched = vec![false; self.ids.len()];
        for id in song_ids {
            if let Some(row) = self.row_of(id) {
                matched[row] = true;
            }
        }
        self.ids
            .iter()
            .zip(matched)
            .filter(|(_, m)| !m)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// How a song id is looked up: integer ids match digit strings by value (`007` is 7).
    fn key<'a>(&self, id: &'a str) -> std::borrow::Cow<'a, str> {
        if self.numeric && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            let trimmed = id.trim_start_matches('0');
            return if trimmed.is_empty() { "0" } else { trimmed }.into();
        }
        id.into()
    }
}

/// A precomputed feature matrix with its ids and feature names.
#[derive(Debug, Clone)]
pub struct FeatureTable {
    /// The matrix file.
    pub path: PathBuf,
    /// The row ids.
    pub ids: RowIds,
    /// The feature names, one per column.
    pub names: Vec<String>,
    values: Vec<f32>,
}

impl FeatureTable {
    /// Reads the matrix and ids `section` points at; features of `modality` are named
    /// `<modality>_emb_<i>` unless the file names its columns.
    pub fn read(
        section: &PrecomputedSection,
        modality: Modality,
    ) -> Result<FeatureTable, PrecomputedError> {
        let path = section.path.clone();
        // Readers leave the ids out (`None`) when an `ids` file replaces them.
        let (matrix, ids) = match format_of(&path)? {
            Format::Npy if section.ids.is_none() => {
                return Err(PrecomputedError::IdsRequired { path });
            }
            Format::Npy => (npy::read_npy(&path)?, None),
            Format::Npz => npy::read_npz(&path, section)?,
            Format::Csv => csv::read(&path, section)?,
            Format::H5 => h5::read(&path, section)?,
        };
        let (ids_source, ids) = match (&section.ids, ids) {
            (Some(file), _) => (file.clone(), read_ids_file(file)?),
            (None, Some(ids)) => (path.clone(), ids),
            (None, None) => unreachable!("readers return ids unless an ids file is set"),
        };
        if ids.len() != matrix.rows {
            return Err(PrecomputedError::RowCount {
                path,
                rows: matrix.rows,
                ids: ids.len(),
                ids_source: ids_source.display().to_string(),
            });
        }
        let ids = RowIds::new(ids_source, ids)?;
        let names = matrix.names.unwrap_or_else(|| {
            (0..matrix.cols)
                .map(|i| format!("{}_emb_{i}", modality.name()))
                .collect()
        });
        Ok(FeatureTable {
            path,
            ids,
            names,
            values: matrix.values,
        })
    }

    /// Number of features per row.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// The features of song `id`, or why it has none.
    pub fn row(&self, id: &str) -> Result<&[f32], RowError> {
        let row = self.ids.row_of(id).ok_or_else(|| RowError::Missing {
            path: self.path.clone(),
        })?;
        let values = &self.values[row * self.width()..(row + 1) * self.width()];
        if values.iter().all(|v| v.is_finite()) {
            Ok(values)
        } else {
            Err(RowError::NotFinite {
                path: self.path.clone(),
                row,
            })
        }
    }

    /// The file's ids that match none of `song_ids`, in row order.
    pub fn unknown_ids<'a>(&self, song_ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        self.ids.unknown_ids(song_ids)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Npy,
    Npz,
    Csv,
    H5,
}

fn format_of(path: &Path) -> Result<Format, PrecomputedError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "npy" => Ok(Format::Npy),
        "npz" => Ok(Format::Npz),
        "csv" => Ok(Format::Csv),
        "h5" | "hdf5" => Ok(Format::H5),
        _ => Err(PrecomputedError::UnknownFormat {
            path: path.to_path_buf(),
            found: if ext.is_empty() { "none".into() } else { ext },
        }),
    }
}

/// The ids alone, from wherever `section` says they are.
fn read_id_column(section: &PrecomputedSection) -> Result<(PathBuf, IdColumn), PrecomputedError> {
    let path = &section.path;
    let format = format_of(path)?;
    if let Some(file) = &section.ids {
        return Ok((file.clone(), read_ids_file(file)?));
    }
    let ids = match format {
        Format::Npy => {
            return Err(PrecomputedError::IdsRequired {
                path: path.to_path_buf(),
            });
        }
        Format::Npz => npy::read_npz_ids(path, section)?,
        Format::Csv => csv::read_ids(path, section)?,
        Format::H5 => h5::read_ids(path, section)?,
    };
    Ok((path.to_path_buf(), ids))
}

/// One id per line; surrounding blanks and a final newline are ignored.
fn read_ids_file(path: &Path) -> Result<IdColumn, PrecomputedError> {
    let text = std::fs::read_to_string(path).map_err(|source| PrecomputedError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut ids: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    // A trailing newline (or several) is formatting, not an empty id.
    while ids.last().is_some_and(String::is_empty) {
        ids.pop();
    }
    Ok(IdColumn::Text(ids))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PrecomputedError + '_ {
    move |source| PrecomputedError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn data_key(section: &PrecomputedSection) -> &str {
    section.data_key.as_deref().unwrap_or(DEFAULT_DATA_KEY)
}

fn id_key(section: &PrecomputedSection) -> &str {
    section.id_key.as_deref().unwrap_or(DEFAULT_ID_KEY)
}

/// Row-major values from column-major ones.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for c in 0..cols {
        for r in 0..rows {
            out[r * cols + c] = values[c * rows + r];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_turns_column_major_into_row_major() {
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        assert_eq!(
            transpose(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0], 2, 3),
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }

    #[test]
    fn integer_ids_match_zero_padded_song_ids() {
        let ids = RowIds::new("x".into(), IdColumn::Integers(vec![7, 0, 12])).unwrap();
        assert_eq!(ids.row_of("007"), Some(0));
        assert_eq!(ids.row_of("000"), Some(1));
        assert_eq!(ids.row_of("12"), Some(2));
        assert_eq!(ids.row_of("s12"), None);
        let text = RowIds::new("x".into(), IdColumn::Text(vec!["7".into()])).unwrap();
        assert_eq!(text.row_of("007"), None, "text ids match exactly");
    }
}
