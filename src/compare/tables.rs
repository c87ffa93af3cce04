//! A report's CSV files read back as [`crate::results::rows`], with every number compare uses
//! checked where the file and line are known: a NaN, an infinity or a value outside what the
//! column can hold (a probability above 1, a negative song count, a macro-F1 of 1.7) is refused
//! with [`ReadError::BadValue`], because the statistics would otherwise print a confident
//! number made of it.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::results::{HistoryRow, Metric, MetricsRow, Model, PerClassRow, PredictionRow};

use super::read_error::{ReadError, malformed};

/// One test song's prediction from `predictions.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestPrediction {
    /// The seed.
    pub seed: u64,
    /// The model whose predictions these are (the run's headline model).
    pub model: Model,
    /// Song id.
    pub id: String,
    /// True class index into [`super::runs::Run::classes`].
    pub truth: usize,
    /// Class probabilities in class order.
    pub probabilities: Vec<f32>,
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
/// each with its 1-based line and its cells.
fn read_rows<T: DeserializeOwned>(
    path: &Path,
) -> Result<(csv::StringRecord, Vec<(csv::StringRecord, T)>), ReadError> {
    let mut reader = open_csv(path)?;
    let header = reader.headers().map_err(csv_error(path))?.clone();
    let rows = reader
        .records()
        .map(|record| {
            let record = record?;
            let row = record.deserialize(Some(&header))?;
            Ok((record, row))
        })
        .collect::<Result<_, csv::Error>>()
        .map_err(csv_error(path))?;
    Ok((header, rows))
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
    /// A correlation, in [-1, 1].
    Correlation,
    /// R^2: at most 1, unbounded below.
    AtMostOne,
}

impl Range {
    /// The range of `metric` (and of its interval bounds).
    fn of_metric(metric: Metric) -> Range {
        match metric {
            Metric::Accuracy
            | Metric::BalancedAccuracy
            | Metric::MacroF1
            | Metric::WeightedF1
            | Metric::Ece => Range::Unit,
            Metric::Brier => Range::Brier,
            Metric::LogLoss | Metric::Rmse | Metric::Mae => Range::NonNegative,
            Metric::Songs => Range::Count,
            Metric::RocAucMacro
            | Metric::RocAucMicro
            | Metric::PrAucMacro
            | Metric::PrAucMicro
            | Metric::MicroF1 => Range::Unit,
            Metric::Pearson | Metric::Ccc => Range::Correlation,
            Metric::R2 => Range::AtMostOne,
        }
    }

    fn holds(self, value: f64) -> bool {
        value.is_finite()
            && match self {
                Range::Unit => (-SLACK..=1.0 + SLACK).contains(&value),
                Range::Brier => (-SLACK..=2.0 + SLACK).contains(&value),
                Range::NonNegative => value >= 0.0,
                Range::Count => value >= 0.0 && value.fract() == 0.0,
                Range::Correlation => (-1.0 - SLACK..=1.0 + SLACK).contains(&value),
                Range::AtMostOne => value <= 1.0 + SLACK,
            }
    }

    fn expected(self) -> &'static str {
        match self {
            Range::Unit => "a number in [0, 1]",
            Range::Brier => "a number in [0, 2]",
            Range::NonNegative => "a finite number >= 0",
            Range::Correlation => "a number in [-1, 1]",
            Range::AtMostOne => "a finite number <= 1",
            Range::Count => "a whole number >= 0",
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

/// `metrics.csv`: every metric and interval bound in its metric's range.
pub(super) fn read_metrics(path: &Path) -> Result<Vec<MetricsRow>, ReadError> {
    let (_, rows) = read_rows::<MetricsRow>(path)?;
    rows.into_iter()
        .map(|(record, row)| {
            let line = line_of(&record);
            for metric in Metric::ALL {
                let range = Range::of_metric(metric);
                checked(path, line, metric.name(), row.value(metric), range)?;
            }
            for (column, metric, bound) in row.bounds() {
                if let Some(bound) = bound {
                    checked(path, line, column, bound, Range::of_metric(metric))?;
                }
            }
            Ok(row)
        })
        .collect()
}

/// `per_class.csv`: every F1 compare averages is a score in [0, 1].
pub(super) fn read_per_class(path: &Path) -> Result<Vec<PerClassRow>, ReadError> {
    let (_, rows) = read_rows::<PerClassRow>(path)?;
    rows.into_iter()
        .map(|(record, row)| {
            checked(path, line_of(&record), "f1", row.f1, Range::Unit).map(|_| row)
        })
        .collect()
}

/// `history.csv`: every validation macro-F1 of the learning curves is a score in [0, 1].
pub(super) fn read_history(path: &Path) -> Result<Vec<HistoryRow>, ReadError> {
    let (_, rows) = read_rows::<HistoryRow>(path)?;
    rows.into_iter()
        .map(|(record, row)| {
            let line = line_of(&record);
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

/// `predictions.csv`: classes come from the probability columns `p[<class>]`, in class order;
/// each probability is in [0, 1] and each row sums to 1.
pub(super) fn read_predictions(
    path: &Path,
) -> Result<(Vec<String>, Vec<TestPrediction>), ReadError> {
    let (header, rows) = read_rows::<PredictionRow>(path)?;
    let probability_columns: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| Some((i, PredictionRow::class_of(h)?.to_string())))
        .collect();
    if probability_columns.is_empty() {
        return Err(malformed(path, "no class probability columns `p[<class>]`"));
    }
    let classes: Vec<String> = probability_columns.iter().map(|(_, c)| c.clone()).collect();
    let mut predictions = Vec::new();
    for (record, row) in rows {
        let truth = classes
            .iter()
            .position(|c| *c == row.truth)
            .ok_or_else(|| {
                malformed(
                    path,
                    format!("true class `{}` has no probability column", row.truth),
                )
            })?;
        let line = line_of(&record);
        let probabilities = probability_columns
            .iter()
            .map(|&(i, _)| {
                let column = &header[i];
                let value = record[i].parse::<f32>().map_err(|_| {
                    malformed(path, format!("{column} = `{}` is not a number", &record[i]))
                })?;
                checked(path, line, column, f64::from(value), Range::Unit).map(|_| value)
            })
            .collect::<Result<Vec<f32>, _>>()?;
        check_probability_sum(path, line, &probabilities, &classes)?;
        predictions.push(TestPrediction {
            seed: row.seed,
            model: row.model,
            id: row.id,
            truth,
            probabilities,
        });
    }
    Ok((classes, predictions))
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
