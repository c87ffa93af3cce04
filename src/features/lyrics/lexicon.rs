//! Affective lexicons: `word,valence,arousal,dominance` CSV files.

use super::tokens::normalize_text;
use crate::features::shared_load::load_shared;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The dimensions a lexicon may rate, in feature order.
pub const LEXICON_DIMENSIONS: [&str; 3] = ["valence", "arousal", "dominance"];

/// Why a lexicon could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    /// The file could not be read.
    #[error("cannot read lexicon {path}: {source}")]
    Read {
        /// The lexicon file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The header or a row is not what the format says.
    #[error("lexicon {path}, line {line}: {reason}")]
    Format {
        /// The lexicon file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Word ratings per dimension; a dimension the file lacks (or a blank cell) is no rating.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lexicon {
    ratings: HashMap<String, [Option<f64>; 3]>,
}

impl Lexicon {
    /// Reads a CSV with a header: a `word` column and any of `valence`, `arousal`,
    /// `dominance` (any case, any order). Words are normalized like lyrics; a word listed twice
    /// keeps its last row. Any other column is an error, so a misspelt dimension is not
    /// silently ignored.
    pub fn load(path: &Path) -> Result<Lexicon, LexiconError> {
        let bytes = std::fs::read(path).map_err(|source| LexiconError::Read {
            path: path.to_owned(),
            source,
        })?;
        let format_error = |line: usize, reason: String| LexiconError::Format {
            path: path.to_owned(),
            line,
            reason,
        };
        let text =
            crate::text::decode_text(&bytes).map_err(|err| format_error(1, err.to_string()))?;
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|err| format_error(1, err.to_string()))?
            .clone();
        let columns = column_dimensions(&header).map_err(|reason| format_error(1, reason))?;
        let mut ratings = HashMap::new();
        for (index, row) in reader.records().enumerate() {
            let line = index + 2;
            let row = row.map_err(|err| format_error(line, err.to_string()))?;
            let (word, values) = parse_row(&row, &columns).map_err(|r| format_error(line, r))?;
            ratings.insert(word, values);
        }
        Ok(Lexicon { ratings })
    }

    /// The ratings of a normalized word, if listed.
    pub fn ratings(&self, word: &str) -> Option<&[Option<f64>; 3]> {
        self.ratings.get(word)
    }

    /// Number of words listed.
    pub fn len(&self) -> usize {
        self.ratings.len()
    }

    /// No word listed.
    pub fn is_empty(&self) -> bool {
        self.ratings.is_empty()
    }

    /// Mean, standard deviation and coverage (share of the song's words rated) for each of
    /// [`LEXICON_DIMENSIONS`]; zeros for a dimension nothing in the song is rated on.
    pub fn aggregate(&self, words: &[String]) -> Vec<f32> {
        let mut out = Vec::with_capacity(9);
        for dim in 0..LEXICON_DIMENSIONS.len() {
            let values: Vec<f64> = words
                .iter()
                .filter_map(|w| self.ratings.get(w).and_then(|r| r[dim]))
                .collect();
            let n = values.len() as f64;
            let (mean, std) = if values.is_empty() {
                (0.0, 0.0)
            } else {
                let mean = values.iter().sum::<f64>() / n;
                let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                (mean, var.sqrt())
            };
            let coverage = if words.is_empty() {
                0.0
            } else {
                n / words.len() as f64
            };
            out.extend([mean as f32, std as f32, coverage as f32]);
        }
        out
    }

    /// [`Lexicon::load`] once per file version per process: every song of a run shares the
    /// lexicon, and re-reading a large one for each song would dominate extraction.
    pub fn load_cached(path: &Path) -> Result<Arc<Lexicon>, LexiconError> {
        let read_error = |source| LexiconError::Read {
            path: path.to_owned(),
            source,
        };
        load_shared(path, read_error, Lexicon::load)
    }
}

/// For each column: `None` for `word`, else the dimension index.
fn column_dimensions(header: &csv::StringRecord) -> Result<Vec<Option<usize>>, String> {
    let mut columns = Vec::new();
    let mut has_word = false;
    for name in header {
        let name = name.to_lowercase();
        if name == "word" && !has_word {
            has_word = true;
            columns.push(None);
        } else if let Some(dim) = LEXICON_DIMENSIONS.iter().position(|d| *d == name) {
            columns.push(Some(dim));
        } else {
            return Err(format!(
                "unexpected column {name:?}; the header must be `word` and any of valence, arousal, dominance"
            ));
        }
    }
    if !has_word {
        return Err("no `word` column in the header".into());
    }
    Ok(columns)
}

fn parse_row(
    row: &csv::StringRecord,
    columns: &[Option<usize>],
) -> Result<(String, [Option<f64>; 3]), String> {
    let mut word = String::new();
    let mut values = [None; 3];
    for (cell, column) in row.iter().zip(columns) {
        match column {
            None => word = normalize_text(cell),
            Some(_) if cell.is_empty() => {}
            Some(dim) => {
                let value: f64 = cell
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .ok_or_else(|| format!("{cell:?} is not a number"))?;
                values[*dim] = Some(value);
            }
        }
    }
    if word.is_empty() {
        return Err("empty word".into());
    }
    Ok((word, values))
}
