//! `.csv` matrices: a header row, an id column (`id_key`, default `id`) and one column per
//! feature, named by its header. An empty cell or `nan` is a missing value, which makes its row
//! unusable (the song is skipped with a reason), never a silent zero.

use std::path::Path;

use super::PrecomputedSection;
use super::{DEFAULT_ID_COLUMN, IdColumn, Matrix, PrecomputedError, io_error};

/// The matrix, and its ids unless an `ids` file replaces them (then every column is a feature).
pub(super) fn read(
    path: &Path,
    section: &PrecomputedSection,
) -> Result<(Matrix, Option<IdColumn>), PrecomputedError> {
    let mut reader = open(path)?;
    let headers = headers(path, &mut reader)?;
    let id_column = match section.ids {
        Some(_) => None,
        None => Some(id_position(path, section, &headers)?),
    };
    let names: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != id_column)
        .map(|(_, h)| h.clone())
        .collect();
    let (mut ids, mut values, mut rows) = (Vec::new(), Vec::new(), 0);
    for record in reader.records() {
        let record = record.map_err(|e| malformed(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        for (i, cell) in record.iter().enumerate() {
            if Some(i) == id_column {
                ids.push(cell.trim().to_string());
            } else {
                values.push(number(cell).ok_or_else(|| PrecomputedError::NotANumber {
                    path: path.to_path_buf(),
                    line,
                    column: headers[i].clone(),
                    found: cell.to_string(),
                })?);
            }
        }
        rows += 1;
    }
    let ids = id_column.map(|_| IdColumn::Text(ids));
    let matrix = Matrix {
        rows,
        cols: names.len(),
        values,
        names: Some(names),
    };
    Ok((matrix, ids))
}

/// Only the id column.
pub(super) fn read_ids(
    path: &Path,
    section: &PrecomputedSection,
) -> Result<IdColumn, PrecomputedError> {
    let mut reader = open(path)?;
    let headers = headers(path, &mut reader)?;
    let column = id_position(path, section, &headers)?;
    let mut ids = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| malformed(path, e))?;
        ids.push(record.get(column).unwrap_or_default().trim().to_string());
    }
    Ok(IdColumn::Text(ids))
}

fn open(path: &Path) -> Result<csv::Reader<std::fs::File>, PrecomputedError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    // Not flexible: a row with a missing or extra cell is an error naming its line.
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file))
}

fn headers(
    path: &Path,
    reader: &mut csv::Reader<std::fs::File>,
) -> Result<Vec<String>, PrecomputedError> {
    let headers = reader.headers().map_err(|e| malformed(path, e))?;
    Ok(headers
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect())
}

fn id_position(
    path: &Path,
    section: &PrecomputedSection,
    headers: &[String],
) -> Result<usize, PrecomputedError> {
    let key = section.id_key.as_deref().unwrap_or(DEFAULT_ID_COLUMN);
    headers
        .iter()
        .position(|h| h == key)
        .ok_or_else(|| PrecomputedError::MissingKey {
            path: path.to_path_buf(),
            what: "column",
            key: key.to_string(),
            field: "id_key",
            available: headers.to_vec(),
        })
}

/// A cell's value; an empty cell is missing (NaN).
fn number(cell: &str) -> Option<f32> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Some(f32::NAN);
    }
    cell.parse::<f64>().ok().map(|v| v as f32)
}

fn malformed(path: &Path, e: csv::Error) -> PrecomputedError {
    PrecomputedError::Malformed {
        path: path.to_path_buf(),
        format: "CSV",
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn cells_parse_as_numbers_and_blanks_are_missing() {
        assert_eq!(number(" 1.5 "), Some(1.5));
        assert_eq!(number("-2e3"), Some(-2000.0));
        assert!(number("").unwrap().is_nan());
        assert!(number("NaN").unwrap().is_nan());
        assert!(number("nan").unwrap().is_nan());
        assert_eq!(number("inf"), Some(f32::INFINITY));
        assert_eq!(number("abc"), None);
    }
}
