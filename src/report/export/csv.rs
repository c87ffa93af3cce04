//! The report's CSV files, one [`crate::results::rows`] struct per row (the columns are
//! documented there): `metrics.csv`, `summary.csv`, `per_class.csv`, `confusion.csv`,
//! `history.csv` and `predictions.csv`. Each file gets its header even without rows.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::eval::{Metrics, argmax_rows};
use crate::report::ReportError;
use crate::results::{
    ConfusionRow, HistoryRow, MetricsRow, PerClassRow, PredictionRow, RunResults, SongGroup, Split,
    SummaryRow, Table, columns,
};

use super::{Exporter, ReportInput};

/// Writes the CSV tables of a run that finished.
pub struct CsvTables;

impl Exporter for CsvTables {
    fn write(
        &self,
        folder: &Path,
        input: &ReportInput<'_>,
        _: &[String],
    ) -> Result<Vec<String>, ReportError> {
        let Some(results) = input.results else {
            return Ok(Vec::new());
        };
        Ok(vec![
            write_table(folder, &header::<MetricsRow>(), metrics(results))?,
            write_table(folder, &header::<SummaryRow>(), summary(results))?,
            write_table(folder, &header::<PerClassRow>(), per_class(results))?,
            write_table(folder, &header::<ConfusionRow>(), confusion(results))?,
            write_table(folder, &header::<HistoryRow>(), history(results))?,
            write_table(
                folder,
                &PredictionRow::header(&results.classes),
                predictions(results),
            )?,
        ])
    }
}

fn header<'de, T: Deserialize<'de>>() -> Vec<String> {
    columns::<T>().iter().map(|c| c.to_string()).collect()
}

/// Writes `header` and `rows` to `folder/<T::FILE>`; returns the file name.
fn write_table<T: Table + Serialize>(
    folder: &Path,
    header: &[String],
    rows: impl IntoIterator<Item = T>,
) -> Result<String, ReportError> {
    write_csv(folder, T::FILE, |out| {
        // The header is written here, so a table without rows still has one.
        out.write_record(header)?;
        for row in rows {
            out.serialize(row)?;
        }
        Ok(())
    })
}

/// Writes `folder/name` through `fill`, given a writer that adds no header of its own;
/// returns the file name.
pub(super) fn write_csv(
    folder: &Path,
    name: &str,
    fill: impl FnOnce(&mut csv::Writer<std::fs::File>) -> Result<(), csv::Error>,
) -> Result<String, ReportError> {
    let path = folder.join(name);
    let written = (|| {
        let mut out = csv::WriterBuilder::new()
            .has_headers(false)
            .from_path(&path)?;
        fill(&mut out)?;
        out.flush()?;
        Ok::<_, csv::Error>(())
    })();
    written.map_err(|error| ReportError::Io {
        action: "write",
        path,
        source: std::io::Error::other(error),
    })?;
    Ok(name.to_string())
}

fn metrics(results: &RunResults) -> impl Iterator<Item = MetricsRow> + '_ {
    results.seeds.iter().flat_map(|seed| {
        seed.scores.iter().map(|score| {
            let identity = (score.model, score.split, score.group);
            MetricsRow::new(seed.seed, identity, &score.metrics, score.intervals)
        })
    })
}

/// Mean and sample standard deviation (n - 1; empty for one seed) across seeds, in the order
/// of the model's, split's and group's names.
fn summary(results: &RunResults) -> impl Iterator<Item = SummaryRow> {
    let mut groups: BTreeMap<(String, String, SongGroup), (_, Vec<&Metrics>)> = BTreeMap::new();
    for seed in &results.seeds {
        for s in &seed.scores {
            let order = (s.model.to_string(), s.split.to_string(), s.group);
            let entry = groups
                .entry(order)
                .or_insert_with(|| ((s.model, s.split, s.group), Vec::new()));
            entry.1.push(&s.metrics);
        }
    }
    groups
        .into_values()
        .map(|(identity, metrics)| SummaryRow::new(identity, &metrics))
}

fn per_class(results: &RunResults) -> impl Iterator<Item = PerClassRow> + '_ {
    results.seeds.iter().flat_map(move |seed| {
        seed.scores.iter().flat_map(move |score| {
            results
                .classes
                .iter()
                .zip(&score.metrics.per_class)
                .map(move |(class, scores)| PerClassRow {
                    seed: seed.seed,
                    model: score.model,
                    split: score.split,
                    group: score.group,
                    class: class.clone(),
                    precision: scores.precision,
                    recall: scores.recall,
                    f1: scores.f1,
                    support: scores.support,
                })
        })
    })
}

fn confusion(results: &RunResults) -> impl Iterator<Item = ConfusionRow> + '_ {
    let classes = &results.classes;
    results.seeds.iter().flat_map(move |seed| {
        let headline = seed.score(seed.headline, Split::Test);
        headline.into_iter().flat_map(move |score| {
            let confusion = &score.metrics.confusion;
            classes.iter().enumerate().flat_map(move |(t, truth)| {
                classes
                    .iter()
                    .enumerate()
                    .map(move |(p, predicted)| ConfusionRow {
                        seed: seed.seed,
                        model: seed.headline,
                        truth: truth.clone(),
                        predicted: predicted.clone(),
                        count: confusion.count(t, p),
                    })
            })
        })
    })
}

fn history(results: &RunResults) -> impl Iterator<Item = HistoryRow> + '_ {
    results.seeds.iter().flat_map(|seed| {
        seed.curves.iter().flat_map(move |curve| {
            curve.epochs.iter().map(move |e| HistoryRow {
                seed: seed.seed,
                fold: curve.fold,
                epoch: e.epoch,
                train_loss: e.train_loss,
                valid_loss: e.valid_loss,
                valid_accuracy: e.valid_accuracy,
                valid_macro_f1: e.valid_macro_f1,
                lr: e.lr,
                best: e.epoch == curve.best_epoch,
            })
        })
    })
}

fn predictions(results: &RunResults) -> impl Iterator<Item = PredictionRow> + '_ {
    let classes = &results.classes;
    results.seeds.iter().flat_map(move |seed| {
        seed.predictions.iter().map(move |p| {
            let predicted = argmax_rows(&p.probabilities, classes.len())[0];
            PredictionRow {
                seed: seed.seed,
                model: seed.headline,
                id: p.id.clone(),
                truth: classes[p.truth].clone(),
                predicted: classes[predicted].clone(),
                probabilities: p.probabilities.clone(),
                modalities: p.modalities.to_string(),
            }
        })
    })
}
