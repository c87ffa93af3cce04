//! A report's CSV files read back for any task kind, with every number compare uses checked
//! where the file and line are known: a NaN, an infinity or a value outside what the column can
//! hold (a probability above 1, a negative song count, a macro-F1 of 1.7) is refused with
//! [`ReadError::BadValue`], because the statistics would otherwise print a confident number
//! made of it.
//!
//! The files and their kind-specific columns are those the report writers name
//! ([`Metric::columns`], [`prediction_prefixes`], [`per_output_file`]); columns compare does
//! not use are ignored, so a report with more columns reads the same.

use std::path::Path;
use std::str::FromStr;

use crate::report::export::targets::per_output_file;
use crate::results::targets::{THRESHOLD_COLUMN, prediction_prefixes};
use crate::results::{
    Metric, Model, PerClassRow, PredictionRow, SongGroup, Split, Table, TaskKind,
};

use super::read_error::{ReadError, malformed};

/// One row of `metrics.csv`: a model scored on a split and song group, in the kind's metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    /// The seed.
    pub seed: u64,
    /// The model.
    pub model: Model,
    /// The split.
    pub split: Split,
    /// The song group.
    pub group: SongGroup,
    /// Each metric of the kind ([`Metric::columns`]) with its value.
    pub values: Vec<(Metric, f64)>,
    /// Multi-label: the seed's F1 threshold, chosen on the out-of-fold predictions.
    pub threshold: Option<f64>,
}

impl ScoreRow {
    /// The value of `metric`, if the row's kind scores it.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        (self.values.iter()).find_map(|&(m, v)| (m == metric).then_some(v))
    }
}

/// One output's score in `per_class.csv`, `per_target.csv` or `per_tag.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputScoreRow {
    /// The seed.
    pub seed: u64,
    /// The model.
    pub model: Model,
    /// The split.
    pub split: Split,
    /// The song group.
    pub group: SongGroup,
    /// The class, target or tag.
    pub output: String,
    /// Its score ([`OutputScore::column`]); NaN where the kind allows an undefined one.
    pub value: f64,
}

/// One epoch of one fold's training curve from `history.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// The seed.
    pub seed: u64,
    /// The fold.
    pub fold: usize,
    /// 1-based epoch.
    pub epoch: usize,
    /// The validation score of the kind's headline metric after the epoch.
    pub score: f64,
}

/// One test song's prediction from `predictions.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestPrediction {
    /// The seed.
    pub seed: u64,
    /// The model whose predictions these are (the run's headline model).
    pub model: Model,
    /// Song id.
    pub id: String,
    /// The truth per output: one-hot over the classes, target values on [-1, 1], or 1 and 0
    /// for carried and absent tags.
    pub truth: Vec<f32>,
    /// The model's output per output: class probabilities, predicted values, tag
    /// probabilities.
    pub outputs: Vec<f32>,
}

/// The per-output score compare shows for a kind: which file, which column names the output,
/// which column holds the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputScore {
    /// The file.
    pub file: &'static str,
    /// The column naming the output (`class`, `target`, `tag`), also the word for one.
    pub key: &'static str,
    /// The score's column (`f1`, `ccc`, `roc_auc`).
    pub column: &'static str,
    range: Range,
    /// Whether a score may be undefined (a tag without positives in the test songs).
    may_be_undefined: bool,
}

impl OutputScore {
    /// The per-output score of `kind`'s reports.
    pub fn of(kind: TaskKind) -> OutputScore {
        match kind {
            TaskKind::Classification => OutputScore {
                file: PerClassRow::FILE,
                key: "class",
                column: "f1",
                range: Range::Unit,
                may_be_undefined: false,
            },
            TaskKind::Regression => OutputScore {
                file: per_output_file(kind),
                key: "target",
                column: "ccc",
                range: Range::Correlation,
                may_be_undefined: false,
            },
            TaskKind::Multilabel => OutputScore {
                file: per_output_file(kind),
                key: "tag",
                column: "roc_auc",
                range: Range::Unit,
                may_be_undefined: true,
            },
        }
    }
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
    /// A correlation, or a target on [-1, 1].
    Correlation,
    /// R^2: at most 1, unbounded below.
    AtMostOne,
    /// A tag's truth: 0 or 1.
    Binary,
    /// A regression output: any finite number.
    Finite,
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
                Range::Binary => value == 0.0 || value == 1.0,
                Range::Finite => true,
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
            Range::Binary => "0 or 1",
            Range::Finite => "a finite number",
        }
    }
}

/// A CSV file being read: its path and header, to find columns and parse cells by name.
struct Sheet {
    path: std::path::PathBuf,
    header: csv::StringRecord,
    records: Vec<csv::StringRecord>,
}

impl Sheet {
    fn open(path: &Path) -> Result<Sheet, ReadError> {
        let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut reader = csv::Reader::from_reader(file);
        let bad = |e: csv::Error| malformed(path, e.to_string());
        let header = reader.headers().map_err(bad)?.clone();
        let records = reader.records().collect::<Result<_, _>>().map_err(bad)?;
        Ok(Sheet {
            path: path.to_path_buf(),
            header,
            records,
        })
    }

    /// The position of column `name`, or the error saying the file lacks it.
    fn column(&self, name: &str) -> Result<usize, ReadError> {
        (self.header.iter().position(|h| h == name))
            .ok_or_else(|| malformed(&self.path, format!("it has no column `{name}`")))
    }

    /// Cell `column` of `record`, parsed.
    fn parse<T: FromStr>(&self, record: &csv::StringRecord, column: usize) -> Result<T, ReadError> {
        let cell = record.get(column).unwrap_or_default();
        cell.parse().map_err(|_| {
            malformed(
                &self.path,
                format!(
                    "line {}: {} = `{cell}` cannot be read",
                    line_of(record),
                    &self.header[column]
                ),
            )
        })
    }

    /// Cell `column` of `record` as a number in `range` (NaN too where `nan_allowed`).
    fn number(
        &self,
        record: &csv::StringRecord,
        column: usize,
        range: Range,
        nan_allowed: bool,
    ) -> Result<f64, ReadError> {
        let value: f64 = self.parse(record, column)?;
        if range.holds(value) || (nan_allowed && value.is_nan()) {
            return Ok(value);
        }
        Err(ReadError::BadValue {
            path: self.path.clone(),
            line: line_of(record),
            column: self.header[column].to_string(),
            found: value.to_string(),
            expected: range.expected().to_string(),
        })
    }

    /// The seed, model, split and group columns every score table starts with.
    fn identity_columns(&self) -> Result<[usize; 4], ReadError> {
        Ok([
            self.column("seed")?,
            self.column("model")?,
            self.column("split")?,
            self.column("group")?,
        ])
    }

    fn identity(
        &self,
        record: &csv::StringRecord,
        [seed, model, split, group]: [usize; 4],
    ) -> Result<(u64, Model, Split, SongGroup), ReadError> {
        Ok((
            self.parse(record, seed)?,
            self.parse(record, model)?,
            self.parse(record, split)?,
            self.parse(record, group)?,
        ))
    }
}

fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, csv::Position::line)
}

/// `metrics.csv` of a `kind` run: every metric of the kind and its interval bounds in the
/// metric's range. Rows of all songs must be whole; a row of a song group (songs with every
/// modality, say) may hold NaN for a metric that its few songs leave undefined, since compare
/// reads only rows of all songs.
pub(super) fn read_metrics(path: &Path, kind: TaskKind) -> Result<Vec<ScoreRow>, ReadError> {
    let sheet = Sheet::open(path)?;
    let identity = sheet.identity_columns()?;
    let metrics = (Metric::columns(kind).iter())
        .map(|&m| Ok((m, sheet.column(m.name())?)))
        .collect::<Result<Vec<_>, ReadError>>()?;
    let bounds: Vec<(Metric, usize)> = (Metric::columns(kind).iter())
        .flat_map(|&m| ["low", "high"].map(|end| (m, format!("{m}_{end}"))))
        .filter_map(|(m, name)| Some((m, sheet.column(&name).ok()?)))
        .collect();
    let threshold = match kind {
        TaskKind::Multilabel => Some(sheet.column(THRESHOLD_COLUMN)?),
        _ => None,
    };
    let mut rows = Vec::new();
    for record in &sheet.records {
        let (seed, model, split, group) = sheet.identity(record, identity)?;
        let nan_allowed = group != SongGroup::All;
        let values = (metrics.iter())
            .map(|&(m, i)| {
                Ok((
                    m,
                    sheet.number(record, i, Range::of_metric(m), nan_allowed)?,
                ))
            })
            .collect::<Result<Vec<_>, ReadError>>()?;
        for &(m, i) in &bounds {
            if !record.get(i).unwrap_or_default().is_empty() {
                sheet.number(record, i, Range::of_metric(m), nan_allowed)?;
            }
        }
        let threshold = threshold
            .map(|i| sheet.number(record, i, Range::Unit, false))
            .transpose()?;
        rows.push(ScoreRow {
            seed,
            model,
            split,
            group,
            values,
            threshold,
        });
    }
    Ok(rows)
}

/// The per-output scores of a `kind` run ([`OutputScore::of`]).
pub(super) fn read_output_scores(
    folder: &Path,
    kind: TaskKind,
) -> Result<Vec<OutputScoreRow>, ReadError> {
    let score = OutputScore::of(kind);
    let sheet = Sheet::open(&folder.join(score.file))?;
    let identity = sheet.identity_columns()?;
    let (key, column) = (sheet.column(score.key)?, sheet.column(score.column)?);
    (sheet.records.iter())
        .map(|record| {
            let (seed, model, split, group) = sheet.identity(record, identity)?;
            Ok(OutputScoreRow {
                seed,
                model,
                split,
                group,
                output: record.get(key).unwrap_or_default().to_string(),
                value: sheet.number(record, column, score.range, score.may_be_undefined)?,
            })
        })
        .collect()
}

/// `history.csv` of a `kind` run: its validation score column (`valid_<headline metric>`),
/// every value in the metric's range.
pub(super) fn read_history(path: &Path, kind: TaskKind) -> Result<Vec<CurvePoint>, ReadError> {
    let sheet = Sheet::open(path)?;
    let headline = Metric::headline(kind);
    let [seed, fold, epoch, score] =
        ["seed", "fold", "epoch", &format!("valid_{headline}")].map(|name| sheet.column(name));
    let (seed, fold, epoch, score) = (seed?, fold?, epoch?, score?);
    let range = Range::of_metric(headline);
    (sheet.records.iter())
        .map(|record| {
            Ok(CurvePoint {
                seed: sheet.parse(record, seed)?,
                fold: sheet.parse(record, fold)?,
                epoch: sheet.parse(record, epoch)?,
                score: sheet.number(record, score, range, false)?,
            })
        })
        .collect()
}

/// `predictions.csv` of a `kind` run: the output names (classes from the probability columns
/// `p[<class>]`; targets and tags from the `true_<output>` columns) and every test song's
/// truth and outputs, each in its range (a classifier's probabilities summing to 1).
pub(super) fn read_predictions(
    path: &Path,
    kind: TaskKind,
) -> Result<(Vec<String>, Vec<TestPrediction>), ReadError> {
    let sheet = Sheet::open(path)?;
    let (seed, model, id) = (
        sheet.column("seed")?,
        sheet.column("model")?,
        sheet.column("id")?,
    );
    let layout = match kind {
        TaskKind::Classification => class_columns(&sheet)?,
        _ => target_columns(&sheet, kind)?,
    };
    let mut predictions = Vec::new();
    for record in &sheet.records {
        let outputs = (layout.outputs.iter())
            .map(|&i| Ok(sheet.number(record, i, layout.output_range, false)? as f32))
            .collect::<Result<Vec<f32>, ReadError>>()?;
        let truth = match layout.truth {
            Truth::ClassName(column) => {
                let name = record.get(column).unwrap_or_default();
                let class = (layout.names.iter().position(|c| c == name)).ok_or_else(|| {
                    malformed(
                        path,
                        format!(
                            "line {}: true class `{name}` has no probability column",
                            line_of(record)
                        ),
                    )
                })?;
                check_probability_sum(path, line_of(record), &outputs, &layout.names)?;
                (0..layout.names.len())
                    .map(|k| if k == class { 1.0 } else { 0.0 })
                    .collect()
            }
            Truth::Values(ref columns, range) => (columns.iter())
                .map(|&i| Ok(sheet.number(record, i, range, false)? as f32))
                .collect::<Result<Vec<f32>, ReadError>>()?,
        };
        predictions.push(TestPrediction {
            seed: sheet.parse(record, seed)?,
            model: sheet.parse(record, model)?,
            id: record.get(id).unwrap_or_default().to_string(),
            truth,
            outputs,
        });
    }
    Ok((layout.names, predictions))
}

/// Where a kind's `predictions.csv` keeps the truth.
enum Truth {
    /// A classifier's true class name (column `true`).
    ClassName(usize),
    /// One column per output, each in the range.
    Values(Vec<usize>, Range),
}

/// The columns of a kind's `predictions.csv`.
struct PredictionColumns {
    names: Vec<String>,
    truth: Truth,
    outputs: Vec<usize>,
    output_range: Range,
}

fn class_columns(sheet: &Sheet) -> Result<PredictionColumns, ReadError> {
    let (outputs, names): (Vec<usize>, Vec<String>) = (sheet.header.iter().enumerate())
        .filter_map(|(i, h)| Some((i, PredictionRow::class_of(h)?.to_string())))
        .unzip();
    if names.is_empty() {
        return Err(malformed(
            &sheet.path,
            "no class probability columns `p[<class>]`",
        ));
    }
    Ok(PredictionColumns {
        names,
        truth: Truth::ClassName(sheet.column("true")?),
        outputs,
        output_range: Range::Unit,
    })
}

fn target_columns(sheet: &Sheet, kind: TaskKind) -> Result<PredictionColumns, ReadError> {
    let (truth_prefix, output_prefix) = prediction_prefixes(kind);
    let (truth, names): (Vec<usize>, Vec<String>) = (sheet.header.iter().enumerate())
        .filter_map(|(i, h)| Some((i, h.strip_prefix(truth_prefix)?.to_string())))
        .unzip();
    if names.is_empty() {
        return Err(malformed(
            &sheet.path,
            format!("no columns `{truth_prefix}<output>`"),
        ));
    }
    let outputs = (names.iter())
        .map(|name| sheet.column(&format!("{output_prefix}{name}")))
        .collect::<Result<Vec<_>, _>>()?;
    let (truth_range, output_range) = match kind {
        TaskKind::Regression => (Range::Correlation, Range::Finite),
        _ => (Range::Binary, Range::Unit),
    };
    Ok(PredictionColumns {
        names,
        truth: Truth::Values(truth, truth_range),
        outputs,
        output_range,
    })
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
