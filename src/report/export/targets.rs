//! The tables and figures of a regression or multi-label run:
//! - `metrics.csv`: `seed,model,split,group`, the kind's metrics ([`Metric::columns`]), for
//!   multi-label the seed's F1 `threshold` (chosen on the out-of-fold predictions), and the
//!   bootstrap bounds of every metric (`<metric>_low`, `<metric>_high`);
//! - `summary.csv`: per model, split and group, each metric's mean and sample standard
//!   deviation across seeds;
//! - `per_target.csv` (regression: r2, rmse, mae, pearson, ccc) or `per_tag.csv`
//!   (multi-label: roc_auc, pr_auc, f1, support), one row per model score and output;
//! - `history.csv`: `seed,fold,epoch,train_loss,valid_loss,valid_<headline>,lr,best`;
//! - `predictions.csv`: the headline model's test songs, `seed,model,id,modalities`, then
//!   `true_<output>` and `predicted_<output>` (regression) or `p_<tag>` (multi-label);
//! - with valence and arousal among the targets, `quadrants.csv`: the quadrant view (true and
//!   predicted Russell quadrants as a four-class classification), `seed,model,split,group,
//!   accuracy,balanced_accuracy,macro_f1,songs`;
//! - figures per seed: predicted against true per target and, with valence and arousal among
//!   the targets, the valence-arousal plane and the headline model's quadrant confusion
//!   matrix; ROC-AUC per tag.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::report::ReportError;
use crate::report::{plots, target_plots};
use crate::results::targets::{QUADRANTS, valence_arousal};
use crate::results::targets::{
    THRESHOLD_COLUMN, interval_metrics, output_columns, prediction_prefixes,
};
use crate::results::{
    Metric, Model, SongGroup, Split, TargetRunResults, TaskKind, mean_std, number,
};

use super::{Exporter, ReportInput};

/// Writes the tables and figures of a regression or multi-label run that finished.
pub struct TargetReport;

impl Exporter for TargetReport {
    fn write(
        &self,
        folder: &Path,
        input: &ReportInput<'_>,
        _: &[String],
    ) -> Result<Vec<String>, ReportError> {
        let Some(results) = input.targets else {
            return Ok(Vec::new());
        };
        let mut written = vec![
            write_table(folder, "metrics.csv", metrics(results))?,
            write_table(folder, "summary.csv", summary(results))?,
            write_table(folder, per_output_file(results.kind), per_output(results))?,
            write_table(folder, "history.csv", history(results))?,
            write_table(folder, "predictions.csv", predictions(results))?,
        ];
        if let Some(rows) = quadrants(results) {
            written.push(write_table(folder, "quadrants.csv", rows)?);
        }
        written.extend(figures(folder, results)?);
        Ok(written)
    }
}

/// The per-output table's file name.
pub fn per_output_file(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Regression => "per_target.csv",
        _ => "per_tag.csv",
    }
}

/// A table: its header, then its rows.
type Rows = Vec<Vec<String>>;

/// Writes `rows` (the header first) to `folder/name`.
fn write_table(folder: &Path, name: &str, rows: Rows) -> Result<String, ReportError> {
    super::csv::write_csv(folder, name, |out| {
        rows.iter().try_for_each(|row| out.write_record(row))
    })
}

fn strings<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

fn identity(model: Model, split: Split, group: SongGroup) -> Vec<String> {
    vec![model.to_string(), split.to_string(), group.to_string()]
}

fn metrics(results: &TargetRunResults) -> Rows {
    let columns = Metric::columns(results.kind);
    let bounded = interval_metrics(results.kind);
    let mut header = strings(["seed", "model", "split", "group"]);
    header.extend(columns.iter().map(Metric::to_string));
    let thresholds = results.kind == TaskKind::Multilabel;
    if thresholds {
        header.push(THRESHOLD_COLUMN.to_string());
    }
    for metric in bounded {
        header.push(format!("{metric}_low"));
        header.push(format!("{metric}_high"));
    }
    let mut rows = vec![header];
    for seed in &results.seeds {
        for score in &seed.scores {
            let mut row = vec![seed.seed.to_string()];
            row.extend(identity(score.model, score.split, score.group));
            row.extend(score.values.iter().map(|&v| number(v)));
            if thresholds {
                row.push(seed.threshold.map(number).unwrap_or_default());
            }
            for interval in score.intervals.iter().flatten() {
                row.push(number(interval.low));
                row.push(number(interval.high));
            }
            if score.intervals.is_none() {
                row.extend(std::iter::repeat_n(String::new(), 2 * bounded.len()));
            }
            rows.push(row);
        }
    }
    rows
}

fn summary(results: &TargetRunResults) -> Rows {
    let columns = Metric::columns(results.kind);
    let mut header = strings(["model", "split", "group", "seeds"]);
    for metric in columns {
        header.push(format!("{metric}_mean"));
        header.push(format!("{metric}_std"));
    }
    let mut groups: BTreeMap<(Model, Split, SongGroup), Vec<&Vec<f64>>> = BTreeMap::new();
    for seed in &results.seeds {
        for s in &seed.scores {
            groups
                .entry((s.model, s.split, s.group))
                .or_default()
                .push(&s.values);
        }
    }
    let mut rows = vec![header];
    for ((model, split, group), values) in groups {
        let mut row = identity(model, split, group);
        row.push(values.len().to_string());
        for k in 0..columns.len() {
            let column: Vec<f64> = values.iter().map(|v| v[k]).collect();
            let (mean, std) = mean_std(&column);
            row.push(number(mean));
            row.push(std.map(number).unwrap_or_default());
        }
        rows.push(row);
    }
    rows
}

fn per_output(results: &TargetRunResults) -> Rows {
    let what = match results.kind {
        TaskKind::Regression => "target",
        _ => "tag",
    };
    let mut header = strings(["seed", "model", "split", "group", what]);
    header.extend(output_columns(results.kind).iter().map(|c| c.to_string()));
    let mut rows = vec![header];
    for seed in &results.seeds {
        for score in &seed.scores {
            for (name, values) in results.outputs.iter().zip(&score.per_output) {
                let mut row = vec![seed.seed.to_string()];
                row.extend(identity(score.model, score.split, score.group));
                row.push(name.clone());
                row.extend(values.iter().map(|&v| number(v)));
                rows.push(row);
            }
        }
    }
    rows
}

fn history(results: &TargetRunResults) -> Rows {
    let headline = Metric::headline(results.kind);
    let score = format!("valid_{headline}");
    let mut rows = vec![strings([
        "seed",
        "fold",
        "epoch",
        "train_loss",
        "valid_loss",
        &score,
        "lr",
        "best",
    ])];
    for seed in &results.seeds {
        for curve in &seed.curves {
            for e in &curve.epochs {
                rows.push(vec![
                    seed.seed.to_string(),
                    curve.fold.to_string(),
                    e.epoch.to_string(),
                    number(e.train_loss),
                    number(e.valid_loss),
                    // The training records keep the kind's selection score in this field.
                    number(e.valid_macro_f1),
                    number(e.lr),
                    (e.epoch == curve.best_epoch).to_string(),
                ]);
            }
        }
    }
    rows
}

fn predictions(results: &TargetRunResults) -> Rows {
    let mut header = strings(["seed", "model", "id", "modalities"]);
    let (truth, output) = prediction_prefixes(results.kind);
    header.extend(results.outputs.iter().map(|t| format!("{truth}{t}")));
    header.extend(results.outputs.iter().map(|t| format!("{output}{t}")));
    let mut rows = vec![header];
    for seed in &results.seeds {
        for p in &seed.predictions {
            let mut row = vec![
                seed.seed.to_string(),
                Model::HEADLINE.to_string(),
                p.id.clone(),
                p.modalities.to_string(),
            ];
            row.extend(p.truth.iter().map(|&v| number(f64::from(v))));
            row.extend(p.outputs.iter().map(|&v| number(f64::from(v))));
            rows.push(row);
        }
    }
    rows
}

/// The quadrant view's rows, when the run has one.
fn quadrants(results: &TargetRunResults) -> Option<Rows> {
    let mut rows = vec![strings([
        "seed",
        "model",
        "split",
        "group",
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "songs",
    ])];
    for seed in &results.seeds {
        for score in &seed.scores {
            let Some(q) = &score.quadrants else { continue };
            let mut row = vec![seed.seed.to_string()];
            row.extend(identity(score.model, score.split, score.group));
            row.extend([q.accuracy, q.balanced_accuracy, q.macro_f1].map(number));
            row.push(q.songs.to_string());
            rows.push(row);
        }
    }
    (rows.len() > 1).then_some(rows)
}

/// The position of per-output column `name` among [`output_columns`] of `kind`.
fn output_column(kind: TaskKind, name: &str) -> usize {
    (output_columns(kind).iter())
        .position(|c| *c == name)
        .expect("a column of the kind's per-output scores")
}

fn figures(folder: &Path, results: &TargetRunResults) -> Result<Vec<String>, ReportError> {
    let mut written = Vec::new();
    let mut keep = |paths: [PathBuf; 2]| {
        for path in paths {
            written.push(
                path.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    };
    let width = results.outputs.len();
    for seed in &results.seeds {
        let stem = |name: &str| folder.join(format!("{name}-seed{}", seed.seed));
        let column = |values: &dyn Fn(&crate::results::TargetPrediction) -> f32| -> Vec<f64> {
            seed.predictions
                .iter()
                .map(|p| f64::from(values(p)))
                .collect()
        };
        let headline = seed.score(Model::HEADLINE, Split::Test);
        match results.kind {
            TaskKind::Regression => {
                let ccc_column = output_column(results.kind, "ccc");
                for (k, name) in results.outputs.iter().enumerate() {
                    let truth = column(&|p| p.truth[k]);
                    let predicted = column(&|p| p.outputs[k]);
                    let ccc = headline.map_or(f64::NAN, |s| s.per_output[k][ccc_column]);
                    keep(target_plots::predicted_vs_true(
                        &stem(&format!("scatter_{name}")),
                        name,
                        (&truth, &predicted),
                        ccc,
                    )?);
                }
                if let Some((v, a)) = valence_arousal(results.kind, &results.outputs) {
                    let place = |values: &[f32]| (f64::from(values[v]), f64::from(values[a]));
                    let truth: Vec<(f64, f64)> =
                        seed.predictions.iter().map(|p| place(&p.truth)).collect();
                    let predicted: Vec<(f64, f64)> =
                        seed.predictions.iter().map(|p| place(&p.outputs)).collect();
                    keep(target_plots::valence_arousal_plane(
                        &stem("va_plane"),
                        &truth,
                        &predicted,
                    )?);
                }
                if let Some(q) = headline.and_then(|s| s.quadrants.as_ref()) {
                    let names = QUADRANTS.map(String::from);
                    keep(plots::confusion_heatmap(
                        &stem("quadrant_confusion"),
                        &q.confusion,
                        &names,
                    )?);
                }
            }
            _ => {
                if let Some(score) = headline {
                    let auc = output_column(results.kind, "roc_auc");
                    let aucs: Vec<f64> = (0..width).map(|k| score.per_output[k][auc]).collect();
                    let models = [(Model::HEADLINE.to_string(), aucs)];
                    keep(target_plots::per_tag_auc(
                        &stem("tag_auc"),
                        &results.outputs,
                        &models,
                    )?);
                }
            }
        }
    }
    Ok(written)
}
