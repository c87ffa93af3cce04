//! One report folder read back into typed tables: the run record, the resolved spec and the
//! CSV files `mer run` wrote (their columns are documented in [`crate::report::tables`]).
//! Compare reads report folders only, never the cache: a report is the run's whole result.
//!
//! Every number compare uses is checked here, where the file and line are known: a NaN, an
//! infinity or a value outside what the column can hold (a probability above 1, a negative
//! song count, a macro-F1 of 1.7) is refused with [`ReadError::BadValue`], because the
//! statistics would otherwise print a confident number made of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::cache::StageKey;
use crate::pipeline::RunRecord;
use crate::report::{Incomplete, RUN_JSON, ReportError, check_complete, is_partial, read_run};

/// The split every score in a comparison is taken on.
pub const TEST_SPLIT: &str = "test";
/// The song group of the comparison: every test song.
pub const ALL_SONGS: &str = "all";
/// The split and model of the pooled out-of-fold predictions (their songs complete the count
/// of the run's songs).
const CV_SPLIT: &str = "cv";
const OUT_OF_FOLD: &str = "out-of-fold";
/// Columns of `metrics.csv` that identify a row rather than hold a metric.
const KEY_COLUMNS: [&str; 4] = ["seed", "model", "split", "group"];

/// Why a report folder could not be read.
#[derive(Debug, Error)]
pub enum ReadError {
    /// Neither `run.json` nor `sweep.json`.
    #[error(
        "'{}' is not a report folder or a sweep folder (it has no run.json or sweep.json){hint}",
        path.display()
    )]
    NotAReport {
        /// The path given.
        path: PathBuf,
        /// A suggestion (e.g. the report folders it holds), starting with "; ".
        hint: String,
    },
    /// A glob that matched nothing.
    #[error("'{pattern}' matches no file or folder")]
    NoMatch {
        /// The pattern.
        pattern: String,
    },
    /// A plan written by `--dry-run`.
    #[error(
        "'{}' is the record of a dry run: nothing was computed, so there is nothing to compare; pass the report folder of a real run",
        path.display()
    )]
    DryRun {
        /// The report folder.
        path: PathBuf,
    },
    /// A run that failed or was interrupted: it wrote no metrics.
    #[error(
        "'{}' is a run that did not finish ({error}); it has no metrics to compare. Run the same command again (finished stages come from the cache) and compare the new report folder",
        path.display()
    )]
    Unfinished {
        /// The report folder.
        path: PathBuf,
        /// The run's error, from run.json.
        error: String,
    },
    /// A file could not be read.
    #[error("could not read '{}'", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A number that `mer run` cannot have written: not finite, or outside the column's range.
    #[error(
        "'{}' line {line}, column `{column}`: {found} is not {expected}; the file is damaged or was edited: re-run the experiment (finished stages come from the cache) and compare the new report folder",
        path.display()
    )]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The column.
        column: String,
        /// The cell, or what the row adds up to.
        found: String,
        /// What the column holds, in words.
        expected: String,
    },
    /// A file that does not have the shape `mer run` writes.
    #[error("'{}' is not as mer writes it: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
}

/// A report folder that is not whole, as a [`ReadError::Unfinished`].
fn unfinished(folder: &Path, why: Incomplete) -> ReadError {
    ReadError::Unfinished {
        path: folder.to_path_buf(),
        error: why.to_string(),
    }
}

/// One row of `metrics.csv`: a model on a split and song group, for one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// The seed.
    pub seed: u64,
    /// `fold-<k>`, `ensemble`, `ensemble+tta`, `ensemble:<method>`, `out-of-fold`.
    pub model: String,
    /// `test`, `validation` or `cv`.
    pub split: String,
    /// `all`, `all-modalities` or `partial`.
    pub group: String,
    /// Metric name to value (empty cells left out).
    pub values: BTreeMap<String, f64>,
}

/// One row of `per_class.csv`, the columns compare uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClassRow {
    /// The seed.
    pub seed: u64,
    /// The model.
    pub model: String,
    /// The split.
    pub split: String,
    /// The song group.
    pub group: String,
    /// Class name.
    pub class: String,
    /// F1 of the class.
    pub f1: f64,
}

/// One row of `history.csv`, the columns compare uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EpochRow {
    /// The seed.
    pub seed: u64,
    /// The fold.
    pub fold: usize,
    /// 1-based epoch.
    pub epoch: usize,
    /// Validation macro-F1 after the epoch.
    pub valid_macro_f1: f64,
}

/// One test song's prediction from `predictions.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionRow {
    /// The seed.
    pub seed: u64,
    /// The model whose predictions these are (the run's headline model).
    pub model: String,
    /// Song id.
    pub id: String,
    /// True class index into [`Run::classes`].
    pub truth: usize,
    /// Class probabilities in class order.
    pub probabilities: Vec<f32>,
}

/// A report folder, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The folder.
    pub folder: PathBuf,
    /// The sweep member it belongs to, when it came from a sweep folder.
    pub member: Option<String>,
    /// `run.json`.
    pub record: RunRecord,
    /// `spec.toml`, the resolved spec.
    pub spec: toml::Table,
    /// Metric columns of `metrics.csv`, in file order (interval bounds included).
    pub metric_columns: Vec<String>,
    /// `metrics.csv`.
    pub metrics: Vec<MetricRow>,
    /// `per_class.csv`.
    pub per_class: Vec<ClassRow>,
    /// `history.csv`.
    pub history: Vec<EpochRow>,
    /// Class names, in class order (from `predictions.csv`'s probability columns).
    pub classes: Vec<String>,
    /// `predictions.csv`.
    pub predictions: Vec<PredictionRow>,
}

impl Run {
    /// Reads the report folder `folder`; refuses dry runs and runs that did not finish.
    pub fn read(folder: &Path, member: Option<String>) -> Result<Run, ReadError> {
        if is_partial(folder) {
            return Err(unfinished(folder, Incomplete::BeingWritten));
        }
        if !folder.join(RUN_JSON).is_file() {
            return Err(ReadError::NotAReport {
                path: folder.to_path_buf(),
                hint: String::new(),
            });
        }
        let record = read_run(folder).map_err(|e| record_error(folder, e))?;
        if record.dry_run {
            return Err(ReadError::DryRun {
                path: folder.to_path_buf(),
            });
        }
        if let Some(error) = &record.error {
            return Err(ReadError::Unfinished {
                path: folder.to_path_buf(),
                error: error.clone(),
            });
        }
        check_complete(folder, &record).map_err(|why| unfinished(folder, why))?;
        let spec_path = folder.join("spec.toml");
        let spec = read_text(&spec_path)?
            .parse::<toml::Table>()
            .map_err(|e| malformed(&spec_path, e.to_string()))?;
        let (metric_columns, metrics) = read_metrics(&folder.join("metrics.csv"))?;
        let (classes, predictions) = read_predictions(&folder.join("predictions.csv"))?;
        Ok(Run {
            folder: folder.to_path_buf(),
            member,
            record,
            spec,
            metric_columns,
            metrics,
            per_class: read_per_class(&folder.join("per_class.csv"))?,
            history: read_history(&folder.join("history.csv"))?,
            classes,
            predictions,
        })
    }

    /// `metric` of `model` on the test split, all songs, for `seed`.
    pub fn test_score(&self, seed: u64, model: &str, metric: &str) -> Option<f64> {
        self.test_row(seed, model)
            .and_then(|row| row.values.get(metric).copied())
    }

    fn test_row(&self, seed: u64, model: &str) -> Option<&MetricRow> {
        self.metrics.iter().find(|r| {
            r.seed == seed && r.model == model && r.split == TEST_SPLIT && r.group == ALL_SONGS
        })
    }

    /// The models scored on the test split (all songs), in file order.
    pub fn test_models(&self) -> Vec<&str> {
        let mut models: Vec<&str> = Vec::new();
        for row in &self.metrics {
            if row.split == TEST_SPLIT && row.group == ALL_SONGS && !models.contains(&&*row.model) {
                models.push(&row.model);
            }
        }
        models
    }

    /// The metrics `metrics.csv` holds (interval bounds and the song count are not metrics).
    pub fn metric_names(&self) -> Vec<&str> {
        self.metric_columns
            .iter()
            .map(String::as_str)
            .filter(|c| *c != "songs" && !c.ends_with("_low") && !c.ends_with("_high"))
            .collect()
    }

    /// Number of fold models (`fold-0` .. `fold-<k-1>` on the test split).
    pub fn folds(&self) -> usize {
        self.test_models()
            .iter()
            .filter(|m| {
                m.strip_prefix("fold-")
                    .is_some_and(|k| k.parse::<usize>().is_ok())
            })
            .count()
    }

    /// The key of the `split@<seed>` stage from run.json.
    pub fn split_key(&self, seed: u64) -> Option<&StageKey> {
        let instance = format!("split@{seed}");
        self.record
            .stages
            .iter()
            .find(|s| s.instance == instance)
            .map(|s| &s.key)
    }

    /// Songs the run used for `seed`: its test songs plus the pooled out-of-fold songs.
    pub fn songs(&self, seed: u64) -> Option<usize> {
        let count = |model: &str, split: &str| {
            self.metrics
                .iter()
                .find(|r| {
                    r.seed == seed && r.model == model && r.split == split && r.group == ALL_SONGS
                })
                .and_then(|r| r.values.get("songs"))
                .map(|&n| n as usize)
        };
        let test = self
            .test_models()
            .first()
            .and_then(|m| count(m, TEST_SPLIT))?;
        Some(test + count(OUT_OF_FOLD, CV_SPLIT)?)
    }

    /// Test predictions of `seed`.
    pub fn seed_predictions(&self, seed: u64) -> impl Iterator<Item = &PredictionRow> {
        self.predictions.iter().filter(move |p| p.seed == seed)
    }

    /// The model whose predictions `predictions.csv` holds.
    pub fn predicted_model(&self) -> Option<&str> {
        self.predictions.first().map(|p| p.model.as_str())
    }

    /// The folder's name, e.g. `20261124T210835Z-a3d2f296`.
    pub fn folder_name(&self) -> String {
        self.folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.folder.display().to_string())
    }
}

fn record_error(folder: &Path, error: ReportError) -> ReadError {
    match error {
        ReportError::Io { path, source, .. } => ReadError::Io { path, source },
        ReportError::BadRecord { path, source } => malformed(&path, source.to_string()),
        other => malformed(&folder.join(RUN_JSON), other.to_string()),
    }
}

fn malformed(path: &Path, message: impl Into<String>) -> ReadError {
    ReadError::Malformed {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn read_text(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn open_csv(path: &Path) -> Result<csv::Reader<std::fs::File>, ReadError> {
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(csv::Reader::from_reader(file))
}

fn csv_error(path: &Path) -> impl Fn(csv::Error) -> ReadError + '_ {
    move |e| malformed(path, e.to_string())
}

/// Every row of a CSV file whose header names the struct's fields (other columns ignored),
/// each with its 1-based line.
fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<(u64, T)>, ReadError> {
    let mut reader = open_csv(path)?;
    let header = reader.headers().map_err(csv_error(path))?.clone();
    reader
        .records()
        .map(|record| {
            let record = record?;
            let row = record.deserialize(Some(&header))?;
            Ok((line_of(&record), row))
        })
        .collect::<Result<_, csv::Error>>()
        .map_err(csv_error(path))
}

fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, csv::Position::line)
}

/// Rounding room for values computed as ratios (a weighted F1 can land an ulp above 1).
const SLACK: f64 = 1e-9;
/// How far a row of probabilities may sum from 1: they are f32 softmax outputs (or means of
/// them), good to about 1e-7, written exactly.
const PROBABILITY_SUM_TOLERANCE: f64 = 1e-3;

/// What a number in a report's CSV file can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    /// A share or a score in [0, 1]: accuracy, F1, ECE, a probability.
    Unit,
    /// The multi-class Brier score, in [0, 2].
    Brier,
    /// A loss: >= 0.
    NonNegative,
    /// A count: a whole number >= 0.
    Count,
    /// A column compare does not know: any finite number.
    Finite,
}

impl Range {
    /// The range of `metrics.csv` column `column` (an interval bound `<metric>_low` or
    /// `<metric>_high` has its metric's).
    fn of_metric(column: &str) -> Range {
        let metric = column
            .strip_suffix("_low")
            .or_else(|| column.strip_suffix("_high"))
            .unwrap_or(column);
        match metric {
            "accuracy" | "balanced_accuracy" | "macro_f1" | "weighted_f1" | "ece" => Range::Unit,
            "brier" => Range::Brier,
            "log_loss" => Range::NonNegative,
            "songs" => Range::Count,
            _ => Range::Finite,
        }
    }

    fn holds(self, value: f64) -> bool {
        value.is_finite()
            && match self {
                Range::Unit => (-SLACK..=1.0 + SLACK).contains(&value),
                Range::Brier => (-SLACK..=2.0 + SLACK).contains(&value),
                Range::NonNegative => value >= 0.0,
                Range::Count => value >= 0.0 && value.fract() == 0.0,
                Range::Finite => true,
            }
    }

    fn expected(self) -> &'static str {
        match self {
            Range::Unit => "a number in [0, 1]",
            Range::Brier => "a number in [0, 2]",
            Range::NonNegative => "a finite number >= 0",
            Range::Count => "a whole number >= 0",
            Range::Finite => "a finite number",
        }
    }
}

/// `value` if `range` holds it, else the error naming the cell.
fn checked(
    path: &Path,
    line: u64,
    column: &str,
    value: f64,
    range: Range,
) -> Result<f64, ReadError> {
    if range.holds(value) {
        return Ok(value);
    }
    Err(ReadError::BadValue {
        path: path.to_path_buf(),
        line,
        column: column.to_string(),
        found: value.to_string(),
        expected: range.expected().to_string(),
    })
}

/// `per_class.csv`: every F1 compare averages is a score in [0, 1].
fn read_per_class(path: &Path) -> Result<Vec<ClassRow>, ReadError> {
    read_rows::<ClassRow>(path)?
        .into_iter()
        .map(|(line, row)| checked(path, line, "f1", row.f1, Range::Unit).map(|_| row))
        .collect()
}

/// `history.csv`: every validation macro-F1 of the learning curves is a score in [0, 1].
fn read_history(path: &Path) -> Result<Vec<EpochRow>, ReadError> {
    read_rows::<EpochRow>(path)?
        .into_iter()
        .map(|(line, row)| {
            checked(
                path,
                line,
                "valid_macro_f1",
                row.valid_macro_f1,
                Range::Unit,
            )
            .map(|_| row)
        })
        .collect()
}

/// The positions of columns `names` in `header`.
fn columns<const N: usize>(
    path: &Path,
    header: &csv::StringRecord,
    names: [&str; N],
) -> Result<[usize; N], ReadError> {
    let mut found = [0; N];
    for (slot, name) in found.iter_mut().zip(names) {
        *slot = header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| malformed(path, format!("no column `{name}`")))?;
    }
    Ok(found)
}

fn parse_seed(path: &Path, text: &str) -> Result<u64, ReadError> {
    text.parse()
        .map_err(|_| malformed(path, format!("seed `{text}` is not a whole number")))
}

fn read_metrics(path: &Path) -> Result<(Vec<String>, Vec<MetricRow>), ReadError> {
    let mut reader = open_csv(path)?;
    let header = reader.headers().map_err(csv_error(path))?.clone();
    let [seed, model, split, group] = columns(path, &header, KEY_COLUMNS)?;
    let metric_columns: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter(|(_, name)| !KEY_COLUMNS.contains(name))
        .map(|(i, name)| (i, name.to_string()))
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error(path))?;
        let mut values = BTreeMap::new();
        for (i, name) in &metric_columns {
            let cell = &record[*i];
            if cell.is_empty() {
                continue;
            }
            let value = cell
                .parse::<f64>()
                .map_err(|_| malformed(path, format!("`{name}` = `{cell}` is not a number")))?;
            let line = line_of(&record);
            values.insert(
                name.clone(),
                checked(path, line, name, value, Range::of_metric(name))?,
            );
        }
        rows.push(MetricRow {
            seed: parse_seed(path, &record[seed])?,
            model: record[model].to_string(),
            split: record[split].to_string(),
            group: record[group].to_string(),
            values,
        });
    }
    let names = metric_columns.into_iter().map(|(_, name)| name).collect();
    Ok((names, rows))
}

/// Classes come from the probability columns `p[<class>]`, in class order.
fn read_predictions(path: &Path) -> Result<(Vec<String>, Vec<PredictionRow>), ReadError> {
    let mut reader = open_csv(path)?;
    let header = reader.headers().map_err(csv_error(path))?.clone();
    let [seed, model, id, truth] = columns(path, &header, ["seed", "model", "id", "true"])?;
    let probability_columns: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let class = h.strip_prefix("p[")?.strip_suffix(']')?;
            Some((i, class.to_string()))
        })
        .collect();
    if probability_columns.is_empty() {
        return Err(malformed(path, "no class probability columns `p[<class>]`"));
    }
    let classes: Vec<String> = probability_columns.iter().map(|(_, c)| c.clone()).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error(path))?;
        let truth_name = &record[truth];
        let truth = classes
            .iter()
            .position(|c| c == truth_name)
            .ok_or_else(|| {
                malformed(
                    path,
                    format!("true class `{truth_name}` has no probability column"),
                )
            })?;
        let line = line_of(&record);
        let probabilities = probability_columns
            .iter()
            .map(|(i, class)| {
                let value = record[*i].parse::<f32>().map_err(|_| {
                    malformed(
                        path,
                        format!("p[{class}] = `{}` is not a number", &record[*i]),
                    )
                })?;
                let column = format!("p[{class}]");
                checked(path, line, &column, f64::from(value), Range::Unit).map(|_| value)
            })
            .collect::<Result<Vec<f32>, _>>()?;
        check_probability_sum(path, line, &probabilities, &classes)?;
        rows.push(PredictionRow {
            seed: parse_seed(path, &record[seed])?,
            model: record[model].to_string(),
            id: record[id].to_string(),
            truth,
            probabilities,
        });
    }
    Ok((classes, rows))
}

/// A row of class probabilities sums to 1.
fn check_probability_sum(
    path: &Path,
    line: u64,
    probabilities: &[f32],
    classes: &[String],
) -> Result<(), ReadError> {
    let sum: f64 = probabilities.iter().map(|&p| f64::from(p)).sum();
    if (sum - 1.0).abs() <= PROBABILITY_SUM_TOLERANCE {
        return Ok(());
    }
    let (first, last) = (&classes[0], &classes[classes.len() - 1]);
    Err(ReadError::BadValue {
        path: path.to_path_buf(),
        line,
        column: format!("p[{first}] .. p[{last}]"),
        found: format!("a row summing to {sum}"),
        expected: format!(
            "a row of probabilities summing to 1 (within {PROBABILITY_SUM_TOLERANCE})"
        ),
    })
}
