//! The rows of the report's CSV files, one serde struct per file: the report writes them with
//! `csv::Writer::serialize` and `mer compare`, `mer sweep` (and any later reader) read them
//! back with `csv::Reader::deserialize`, so a column's name, order and number format are
//! defined once. Each file has a header row, one fact per row, and the seed first where there
//! is one:
//! - [`MetricsRow`] (`metrics.csv`): seed x model x split x group, every metric with bootstrap
//!   bounds;
//! - [`SummaryRow`] (`summary.csv`): mean and sample standard deviation across seeds;
//! - [`PerClassRow`] (`per_class.csv`): precision, recall, F1 and support per class;
//! - [`ConfusionRow`] (`confusion.csv`): the headline model's test confusion counts;
//! - [`HistoryRow`] (`history.csv`): per fold and epoch, losses, validation scores, learning
//!   rate;
//! - [`PredictionRow`] (`predictions.csv`): the headline model's test predictions, one
//!   probability column `p[<class>]` per class.
//!
//! Numbers are written as the shortest text that reads back to the same f64 (Rust's
//! `Display`, see [`number`]), never in exponent form.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::eval::{Interval, Metrics};

use super::vocabulary::{Metric, Model, SongGroup, Split};

/// A CSV file of the report, by its row type.
pub trait Table {
    /// The file's name inside a report folder.
    const FILE: &'static str;
}

/// Numbers as the shortest text that reads back to the same f64 (Rust's `Display`).
pub fn number(value: f64) -> String {
    value.to_string()
}

fn write_number<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// An absent number is an empty cell.
fn write_optional<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}

/// The column names of row type `T`, in order: the fields serde reads it from.
pub fn columns<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields = None;
    // Asking for the struct is all it does: the deserializer records its fields and stops.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields.unwrap_or_default()
}

struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only a struct's field names are read"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Mean and sample standard deviation (n - 1; none for fewer than two values).
pub fn mean_std(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n.max(1.0);
    let std = (values.len() > 1)
        .then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (mean, std)
}

/// `mean ± std` to three decimals, as tables and pages show a spread over seeds; the mean
/// alone when there is no standard deviation (one seed).
pub fn spread_text(mean: f64, std: Option<f64>) -> String {
    match std {
        Some(std) => format!("{mean:.3} ± {std:.3}"),
        None => format!("{mean:.3}"),
    }
}

/// One row of `metrics.csv`: a model on a split and song group, for one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsRow {
    /// The seed.
    pub seed: u64,
    /// The model.
    pub model: Model,
    /// The split.
    pub split: Split,
    /// The song group.
    pub group: SongGroup,
    /// See [`Metric::Accuracy`].
    #[serde(serialize_with = "write_number")]
    pub accuracy: f64,
    /// See [`Metric::BalancedAccuracy`].
    #[serde(serialize_with = "write_number")]
    pub balanced_accuracy: f64,
    /// See [`Metric::MacroF1`].
    #[serde(serialize_with = "write_number")]
    pub macro_f1: f64,
    /// See [`Metric::WeightedF1`].
    #[serde(serialize_with = "write_number")]
    pub weighted_f1: f64,
    /// See [`Metric::LogLoss`].
    #[serde(serialize_with = "write_number")]
    pub log_loss: f64,
    /// See [`Metric::Brier`].
    #[serde(serialize_with = "write_number")]
    pub brier: f64,
    /// See [`Metric::Ece`].
    #[serde(serialize_with = "write_number")]
    pub ece: f64,
    /// Songs scored (written as a number like the metrics, so a reader can check it).
    #[serde(serialize_with = "write_number")]
    pub songs: f64,
    /// Bootstrap 95 % interval of accuracy: lower bound (test scores of all songs only).
    #[serde(serialize_with = "write_optional")]
    pub accuracy_low: Option<f64>,
    /// Upper bound of the accuracy interval.
    #[serde(serialize_with = "write_optional")]
    pub accuracy_high: Option<f64>,
    /// Bootstrap 95 % interval of macro-F1: lower bound.
    #[serde(serialize_with = "write_optional")]
    pub macro_f1_low: Option<f64>,
    /// Upper bound of the macro-F1 interval.
    #[serde(serialize_with = "write_optional")]
    pub macro_f1_high: Option<f64>,
}

impl Table for MetricsRow {
    const FILE: &'static str = "metrics.csv";
}

impl MetricsRow {
    /// The row of `metrics` of `model` on `split` and `group`, for `seed`.
    pub fn new(
        seed: u64,
        (model, split, group): (Model, Split, SongGroup),
        metrics: &Metrics,
        intervals: Option<(Interval, Interval)>,
    ) -> MetricsRow {
        let value = |metric: Metric| metric.value(metrics);
        MetricsRow {
            seed,
            model,
            split,
            group,
            accuracy: value(Metric::Accuracy),
            balanced_accuracy: value(Metric::BalancedAccuracy),
            macro_f1: value(Metric::MacroF1),
            weighted_f1: value(Metric::WeightedF1),
            log_loss: value(Metric::LogLoss),
            brier: value(Metric::Brier),
            ece: value(Metric::Ece),
            songs: value(Metric::Songs),
            accuracy_low: intervals.map(|(a, _)| a.low),
            accuracy_high: intervals.map(|(a, _)| a.high),
            macro_f1_low: intervals.map(|(_, f)| f.low),
            macro_f1_high: intervals.map(|(_, f)| f.high),
        }
    }

    /// The value of `metric`.
    pub fn value(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Accuracy => self.accuracy,
            Metric::BalancedAccuracy => self.balanced_accuracy,
            Metric::MacroF1 => self.macro_f1,
            Metric::WeightedF1 => self.weighted_f1,
            Metric::LogLoss => self.log_loss,
            Metric::Brier => self.brier,
            Metric::Ece => self.ece,
            Metric::Songs => self.songs,
            // A classifier's row has no other kind's metric.
            _ => f64::NAN,
        }
    }

    /// The interval bounds with their column names and metrics (empty cells are `None`).
    pub fn bounds(&self) -> [(&'static str, Metric, Option<f64>); 4] {
        [
            ("accuracy_low", Metric::Accuracy, self.accuracy_low),
            ("accuracy_high", Metric::Accuracy, self.accuracy_high),
            ("macro_f1_low", Metric::MacroF1, self.macro_f1_low),
            ("macro_f1_high", Metric::MacroF1, self.macro_f1_high),
        ]
    }
}

/// One row of `summary.csv`: a model on a split and song group, every metric's mean and sample
/// standard deviation across seeds (empty for one seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The model.
    pub model: Model,
    /// The split.
    pub split: Split,
    /// The song group.
    pub group: SongGroup,
    /// Seeds averaged.
    pub seeds: usize,
    /// Mean of `accuracy` across seeds.
    #[serde(serialize_with = "write_number")]
    pub accuracy_mean: f64,
    /// Sample standard deviation of `accuracy` across seeds.
    #[serde(serialize_with = "write_optional")]
    pub accuracy_std: Option<f64>,
    /// Mean of `balanced_accuracy` across seeds.
    #[serde(serialize_with = "write_number")]
    pub balanced_accuracy_mean: f64,
    /// Sample standard deviation of `balanced_accuracy` across seeds.
    #[serde(serialize_with = "write_optional")]
    pub balanced_accuracy_std: Option<f64>,
    /// Mean of `macro_f1` across seeds.
    #[serde(serialize_with = "write_number")]
    pub macro_f1_mean: f64,
    /// Sample standard deviation of `macro_f1` across seeds.
    #[serde(serialize_with = "write_optional")]
    pub macro_f1_std: Option<f64>,
    /// Mean of `weighted_f1` across seeds.
    #[serde(serialize_with = "write_number")]
    pub weighted_f1_mean: f64,
    /// Sample standard deviation of `weighted_f1` across seeds.
    #[serde(serialize_with = "write_optional")]
    pub weighted_f1_std: Option<f64>,
    /// Mean of `log_loss` across seeds.
    #[serde(serialize_with = "write_number")]
    pub log_loss_mean: f64,
    /// Sample standard deviation of `log_loss` across seeds.
    #[serde(serialize_with = "write_optional")]
    pub log_loss_std: Option<f64>,
    /// Mean of `brier` across seeds.
    #[serde(serialize_with = "write_number")]
    pub brier_mean: f64,
    /// Sample standard deviation of `brier` across seeds.
    #[serde(serialize_with = "write_optional")]
    pub brier_std: Option<f64>,
    /// Mean of `ece` across seeds.
    #[serde(serialize_with = "write_number")]
    pub ece_mean: f64,
    /// Sample standard deviation of `ece` across seeds.
    #[serde(serialize_with = "write_optional")]
    pub ece_std: Option<f64>,
    /// Mean of `songs` across seeds.
    #[serde(serialize_with = "write_number")]
    pub songs_mean: f64,
    /// Sample standard deviation of `songs` across seeds.
    #[serde(serialize_with = "write_optional")]
    pub songs_std: Option<f64>,
}

impl Table for SummaryRow {
    const FILE: &'static str = "summary.csv";
}

impl SummaryRow {
    /// The summary of `metrics` (one per seed) of `model` on `split` and `group`.
    pub fn new((model, split, group): (Model, Split, SongGroup), metrics: &[&Metrics]) -> Self {
        let spread = |metric: Metric| {
            let values: Vec<f64> = metrics.iter().map(|m| metric.value(m)).collect();
            mean_std(&values)
        };
        let [
            accuracy,
            balanced,
            macro_f1,
            weighted,
            log_loss,
            brier,
            ece,
            songs,
        ] = Metric::ALL.map(spread);
        SummaryRow {
            model,
            split,
            group,
            seeds: metrics.len(),
            accuracy_mean: accuracy.0,
            accuracy_std: accuracy.1,
            balanced_accuracy_mean: balanced.0,
            balanced_accuracy_std: balanced.1,
            macro_f1_mean: macro_f1.0,
            macro_f1_std: macro_f1.1,
            weighted_f1_mean: weighted.0,
            weighted_f1_std: weighted.1,
            log_loss_mean: log_loss.0,
            log_loss_std: log_loss.1,
            brier_mean: brier.0,
            brier_std: brier.1,
            ece_mean: ece.0,
            ece_std: ece.1,
            songs_mean: songs.0,
            songs_std: songs.1,
        }
    }
}

/// One row of `per_class.csv`: one class's scores of a model on a split and song group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerClassRow {
    /// The seed.
    pub seed: u64,
    /// The model.
    pub model: Model,
    /// The split.
    pub split: Split,
    /// The song group.
    pub group: SongGroup,
    /// Class name.
    pub class: String,
    /// Correct among those predicted as the class.
    #[serde(serialize_with = "write_number")]
    pub precision: f64,
    /// Found among those truly of the class.
    #[serde(serialize_with = "write_number")]
    pub recall: f64,
    /// F1 of the class.
    #[serde(serialize_with = "write_number")]
    pub f1: f64,
    /// Songs truly of the class.
    pub support: u64,
}

impl Table for PerClassRow {
    const FILE: &'static str = "per_class.csv";
}

/// One cell of the headline model's test confusion matrix (`confusion.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionRow {
    /// The seed.
    pub seed: u64,
    /// The headline model.
    pub model: Model,
    /// True class name.
    #[serde(rename = "true")]
    pub truth: String,
    /// Predicted class name.
    pub predicted: String,
    /// Songs of class `true` predicted as `predicted`.
    pub count: u64,
}

impl Table for ConfusionRow {
    const FILE: &'static str = "confusion.csv";
}

/// One epoch of one fold's training (`history.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// The seed.
    pub seed: u64,
    /// The fold.
    pub fold: usize,
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    #[serde(serialize_with = "write_number")]
    pub train_loss: f64,
    /// Validation loss.
    #[serde(serialize_with = "write_number")]
    pub valid_loss: f64,
    /// Validation accuracy.
    #[serde(serialize_with = "write_number")]
    pub valid_accuracy: f64,
    /// Validation macro-F1 after the epoch.
    #[serde(serialize_with = "write_number")]
    pub valid_macro_f1: f64,
    /// Learning rate at the end of the epoch.
    #[serde(serialize_with = "write_number")]
    pub lr: f64,
    /// Whether this epoch's weights were kept.
    pub best: bool,
}

impl Table for HistoryRow {
    const FILE: &'static str = "history.csv";
}

/// One test song's prediction by the headline model (`predictions.csv`). The class
/// probabilities are one column per class, `p[<class>]` in class order, between `predicted`
/// and `modalities`: [`PredictionRow::header`] names them and a reader fills
/// [`PredictionRow::probabilities`] from the columns [`PredictionRow::class_of`] recognizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRow {
    /// The seed.
    pub seed: u64,
    /// The model whose predictions these are (the run's headline model).
    pub model: Model,
    /// Song id.
    pub id: String,
    /// True class name.
    #[serde(rename = "true")]
    pub truth: String,
    /// Predicted class name (the most probable).
    pub predicted: String,
    /// Class probabilities, in class order.
    #[serde(skip_deserializing, serialize_with = "write_probabilities")]
    pub probabilities: Vec<f32>,
    /// The song's modalities among the selected ones, e.g. `audio+lyrics` or `none`.
    pub modalities: String,
}

impl Table for PredictionRow {
    const FILE: &'static str = "predictions.csv";
}

/// Each probability as its exact f64 value, one cell each.
fn write_probabilities<S: Serializer>(values: &[f32], serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeTuple;
    let mut cells = serializer.serialize_tuple(values.len())?;
    for &value in values {
        cells.serialize_element(&number(f64::from(value)))?;
    }
    cells.end()
}

impl PredictionRow {
    /// The header of `predictions.csv` for `classes`.
    pub fn header(classes: &[String]) -> Vec<String> {
        let mut header: Vec<String> = ["seed", "model", "id", "true", "predicted"]
            .map(String::from)
            .to_vec();
        header.extend(classes.iter().map(|c| format!("p[{c}]")));
        header.push("modalities".into());
        header
    }

    /// The class whose probability column `column` is (`p[<class>]`).
    pub fn class_of(column: &str) -> Option<&str> {
        column.strip_prefix("p[")?.strip_suffix(']')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write<T: Serialize>(header: &[String], rows: &[T]) -> String {
        let mut out = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        out.write_record(header).unwrap();
        for row in rows {
            out.serialize(row).unwrap();
        }
        String::from_utf8(out.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn columns_are_the_serialized_field_names() {
        assert_eq!(
            columns::<ConfusionRow>(),
            ["seed", "model", "true", "predicted", "count"]
        );
        assert_eq!(columns::<MetricsRow>().len(), 16);
        assert_eq!(
            columns::<SummaryRow>()[4..6],
            ["accuracy_mean", "accuracy_std"]
        );
    }

    #[test]
    fn numbers_are_written_as_display_and_absent_ones_empty() {
        let row = HistoryRow {
            seed: 1,
            fold: 0,
            epoch: 2,
            train_loss: 1.0,
            valid_loss: 1e-7,
            valid_accuracy: 0.1 + 0.2,
            valid_macro_f1: 1e21,
            lr: 0.001,
            best: true,
        };
        let header: Vec<String> = columns::<HistoryRow>()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let text = write(&header, &[row]);
        assert_eq!(
            text.lines().nth(1),
            Some("1,0,2,1,0.0000001,0.30000000000000004,1000000000000000000000,0.001,true")
        );
    }

    #[test]
    fn prediction_rows_spread_their_probabilities_over_class_columns() {
        let classes = ["calm".to_string(), "tense".to_string()];
        let row = PredictionRow {
            seed: 3,
            model: Model::HEADLINE,
            id: "s1".into(),
            truth: "calm".into(),
            predicted: "tense".into(),
            probabilities: vec![0.25, 0.75],
            modalities: "audio".into(),
        };
        let text = write(&PredictionRow::header(&classes), std::slice::from_ref(&row));
        assert_eq!(
            text,
            "seed,model,id,true,predicted,p[calm],p[tense],modalities\n\
             3,ensemble+tta,s1,calm,tense,0.25,0.75,audio\n"
        );
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let back: PredictionRow = reader.deserialize().next().unwrap().unwrap();
        assert_eq!(back.probabilities, Vec::<f32>::new());
        assert_eq!(
            PredictionRow {
                probabilities: row.probabilities.clone(),
                ..back
            },
            row
        );
        assert_eq!(PredictionRow::class_of("p[calm]"), Some("calm"));
        assert_eq!(PredictionRow::class_of("true"), None);
    }

    #[test]
    fn metrics_rows_read_back_with_empty_bounds_as_none() {
        let text = "seed,model,split,group,accuracy,balanced_accuracy,macro_f1,weighted_f1,\
                    log_loss,brier,ece,songs,accuracy_low,accuracy_high,macro_f1_low,macro_f1_high\n\
                    1,fold-0,validation,all,0.5,0.5,0.4,0.45,1.2,0.6,0.1,8,,,,\n";
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let row: MetricsRow = reader.deserialize().next().unwrap().unwrap();
        assert_eq!((row.model, row.split), (Model::Fold(0), Split::Validation));
        assert_eq!(row.value(Metric::Songs), 8.0);
        assert!(row.bounds().iter().all(|(_, _, v)| v.is_none()));
        let header: Vec<String> = columns::<MetricsRow>()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(write(&header, &[row]), text);
    }
}
