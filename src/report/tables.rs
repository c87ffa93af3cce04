//! The report's CSV files. Each has a header row, one fact per row, and the seed as its first
//! column, so `mer compare` and a pandas session read them the same way:
//! - `metrics.csv`: seed x model x split x group, every metric with bootstrap bounds;
//! - `summary.csv`: mean and sample standard deviation across seeds of `metrics.csv`;
//! - `per_class.csv`: precision, recall, F1 and support per class;
//! - `confusion.csv`: the headline model's test confusion counts;
//! - `history.csv`: per fold and epoch, losses, validation accuracy and macro-F1, learning rate;
//! - `predictions.csv`: the headline model's test predictions with probabilities.

use std::collections::BTreeMap;
use std::path::Path;

use crate::eval::{Metrics, argmax_rows};

use super::ReportError;
use super::results::{RunResults, SongGroup};

/// Metric columns of `metrics.csv` and `summary.csv`, in order.
pub const METRIC_COLUMNS: [&str; 8] = [
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "weighted_f1",
    "log_loss",
    "brier",
    "ece",
    "songs",
];

/// The value of metric column `name`.
pub fn metric_value(metrics: &Metrics, name: &str) -> f64 {
    match name {
        "accuracy" => metrics.accuracy,
        "balanced_accuracy" => metrics.balanced_accuracy,
        "macro_f1" => metrics.macro_f1,
        "weighted_f1" => metrics.weighted_f1,
        "log_loss" => metrics.log_loss,
        "brier" => metrics.brier,
        "ece" => metrics.ece,
        "songs" => metrics.songs as f64,
        other => panic!("unknown metric column {other}"),
    }
}

fn csv_error(path: &Path, error: csv::Error) -> ReportError {
    ReportError::Io {
        action: "write",
        path: path.to_path_buf(),
        source: std::io::Error::other(error),
    }
}

/// Writes every CSV file of `results` into `folder`; returns their names.
pub fn write_tables(folder: &Path, results: &RunResults) -> Result<Vec<String>, ReportError> {
    let files = [
        (
            "metrics.csv",
            write_metrics as fn(&Path, &RunResults) -> Result<(), csv::Error>,
        ),
        ("summary.csv", write_summary),
        ("per_class.csv", write_per_class),
        ("confusion.csv", write_confusion),
        ("history.csv", write_history),
        ("predictions.csv", write_predictions),
    ];
    let mut written = Vec::new();
    for (name, write) in files {
        let path = folder.join(name);
        write(&path, results).map_err(|e| csv_error(&path, e))?;
        written.push(name.to_string());
    }
    Ok(written)
}

fn open(path: &Path) -> Result<csv::Writer<std::fs::File>, csv::Error> {
    csv::Writer::from_path(path)
}

fn write_metrics(path: &Path, results: &RunResults) -> Result<(), csv::Error> {
    let mut out = open(path)?;
    let mut header = vec!["seed", "model", "split", "group"];
    header.extend(METRIC_COLUMNS);
    header.extend([
        "accuracy_low",
        "accuracy_high",
        "macro_f1_low",
        "macro_f1_high",
    ]);
    out.write_record(&header)?;
    for seed in &results.seeds {
        for score in &seed.scores {
            let mut row = vec![
                seed.seed.to_string(),
                score.model.clone(),
                score.split.clone(),
                score.group.name().to_string(),
            ];
            row.extend(
                METRIC_COLUMNS
                    .iter()
                    .map(|c| number(metric_value(&score.metrics, c))),
            );
            match score.intervals {
                Some((accuracy, f1)) => {
                    row.extend([accuracy.low, accuracy.high, f1.low, f1.high].map(number))
                }
                None => row.extend(std::iter::repeat_n(String::new(), 4)),
            }
            out.write_record(&row)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Mean and sample standard deviation (n - 1; empty for one seed) across seeds.
fn write_summary(path: &Path, results: &RunResults) -> Result<(), csv::Error> {
    let mut out = open(path)?;
    let mut header = vec![
        "model".to_string(),
        "split".into(),
        "group".into(),
        "seeds".into(),
    ];
    for c in METRIC_COLUMNS {
        header.push(format!("{c}_mean"));
        header.push(format!("{c}_std"));
    }
    out.write_record(&header)?;
    let mut groups: BTreeMap<(String, String, SongGroup), Vec<&Metrics>> = BTreeMap::new();
    for seed in &results.seeds {
        for s in &seed.scores {
            groups
                .entry((s.model.clone(), s.split.clone(), s.group))
                .or_default()
                .push(&s.metrics);
        }
    }
    for ((model, split, group), metrics) in groups {
        let mut row = vec![
            model,
            split,
            group.name().to_string(),
            metrics.len().to_string(),
        ];
        for c in METRIC_COLUMNS {
            let values: Vec<f64> = metrics.iter().map(|m| metric_value(m, c)).collect();
            let (mean, std) = mean_std(&values);
            row.push(number(mean));
            row.push(std.map(number).unwrap_or_default());
        }
        out.write_record(&row)?;
    }
    out.flush()?;
    Ok(())
}

/// Mean and sample standard deviation (none for fewer than two values).
pub fn mean_std(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n.max(1.0);
    let std = (values.len() > 1)
        .then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (mean, std)
}

fn write_per_class(path: &Path, results: &RunResults) -> Result<(), csv::Error> {
    let mut out = open(path)?;
    out.write_record([
        "seed",
        "model",
        "split",
        "group",
        "class",
        "precision",
        "recall",
        "f1",
        "support",
    ])?;
    for seed in &results.seeds {
        for score in &seed.scores {
            for (class, scores) in results.classes.iter().zip(&score.metrics.per_class) {
                out.write_record([
                    seed.seed.to_string(),
                    score.model.clone(),
                    score.split.clone(),
                    score.group.name().to_string(),
                    class.clone(),
                    number(scores.precision),
                    number(scores.recall),
                    number(scores.f1),
                    scores.support.to_string(),
                ])?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn write_confusion(path: &Path, results: &RunResults) -> Result<(), csv::Error> {
    let mut out = open(path)?;
    out.write_record(["seed", "model", "true", "predicted", "count"])?;
    for seed in &results.seeds {
        let Some(score) = seed.score(&seed.headline, "test") else {
            continue;
        };
        let confusion = &score.metrics.confusion;
        for (t, truth) in results.classes.iter().enumerate() {
            for (p, predicted) in results.classes.iter().enumerate() {
                out.write_record([
                    seed.seed.to_string(),
                    seed.headline.clone(),
                    truth.clone(),
                    predicted.clone(),
                    confusion.count(t, p).to_string(),
                ])?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn write_history(path: &Path, results: &RunResults) -> Result<(), csv::Error> {
    let mut out = open(path)?;
    out.write_record([
        "seed",
        "fold",
        "epoch",
        "train_loss",
        "valid_loss",
        "valid_accuracy",
        "valid_macro_f1",
        "lr",
        "best",
    ])?;
    for seed in &results.seeds {
        for curve in &seed.curves {
            for e in &curve.epochs {
                out.write_record([
                    seed.seed.to_string(),
                    curve.fold.to_string(),
                    e.epoch.to_string(),
                    number(e.train_loss),
                    number(e.valid_loss),
                    number(e.valid_accuracy),
                    number(e.valid_macro_f1),
                    number(e.lr),
                    (e.epoch == curve.best_epoch).to_string(),
                ])?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn write_predictions(path: &Path, results: &RunResults) -> Result<(), csv::Error> {
    let mut out = open(path)?;
    let classes = results.classes.len();
    let mut header = vec![
        "seed".to_string(),
        "model".into(),
        "id".into(),
        "true".into(),
        "predicted".into(),
    ];
    header.extend(results.classes.iter().map(|c| format!("p[{c}]")));
    header.push("modalities".into());
    out.write_record(&header)?;
    for seed in &results.seeds {
        for p in &seed.predictions {
            let predicted = argmax_rows(&p.probabilities, classes)[0];
            let mut row = vec![
                seed.seed.to_string(),
                seed.headline.clone(),
                p.id.clone(),
                results.classes[p.truth].clone(),
                results.classes[predicted].clone(),
            ];
            row.extend(p.probabilities.iter().map(|&v| number(f64::from(v))));
            row.push(p.modalities.to_string());
            out.write_record(&row)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Numbers as the shortest text that reads back to the same f64 (Rust's `Display`).
pub fn number(value: f64) -> String {
    value.to_string()
}
