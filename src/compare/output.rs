//! A comparison laid out: the table and the paired results as rows of text (for the terminal
//! and `index.html`), and the CSV files: `comparison.csv` (the table, numbers in full),
//! `paired.csv` (one row per run and unit) and `pairs.csv` (every pair of scores, so a pandas
//! session can redo any test).

use std::path::Path;

use super::comparison::Comparison;
use super::units::{Test, UnitResult};
use crate::results::{Metric, Model, number, spread_text};

/// Headings and rows of a table.
pub type Rows = (Vec<String>, Vec<Vec<String>>);

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("could not write '{}'", path.display())]
pub struct WriteError {
    /// The file.
    pub path: std::path::PathBuf,
    /// The cause.
    pub source: csv::Error,
}

/// `+0.012` style: differences carry their sign.
fn signed(value: f64) -> String {
    format!("{value:+.3}")
}

/// p-values: three decimals, or two significant digits below 0.001.
pub fn p_value(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else {
        format!("{p:.1e}")
    }
}

fn with_holm(p: Option<f64>, adjusted: Option<f64>) -> String {
    match (p, adjusted) {
        (Some(p), Some(a)) => format!("{} ({})", p_value(p), p_value(a)),
        (Some(p), None) => p_value(p),
        _ => String::new(),
    }
}

/// What a value shows as where a run's spec lacks the key.
const ABSENT: &str = "absent";

/// Which metric columns the table has besides the chosen metric.
fn extra_metrics(c: &Comparison) -> Vec<Metric> {
    let mut extra = Vec::new();
    let companion = Metric::companion(c.kind);
    if c.metric != companion {
        extra.push(companion);
    }
    if let Some(sort) = c.sort.filter(|&s| s != c.metric && s != companion) {
        extra.push(sort);
    }
    extra
}

/// The table: per run (in table order) the differing spec keys, seeds, test songs, the metric
/// (mean ± std over seeds), the fold models' metric (mean ± std over seeds and folds: the fold
/// spread) and the kind's companion metric (accuracy, R², macro PR-AUC).
pub fn table_rows(c: &Comparison) -> Rows {
    let mut headings = vec!["run".to_string()];
    headings.extend(c.differences.iter().map(|d| d.key.clone()));
    headings.extend([
        "seeds".to_string(),
        "test songs".to_string(),
        c.metric.to_string(),
        format!("fold-k {}", c.metric),
    ]);
    let extra = extra_metrics(c);
    headings.extend(extra.iter().map(|m| m.to_string()));
    let rows = c
        .order
        .iter()
        .map(|&i| {
            let s = &c.summaries[i];
            let mut label = c.labels[i].clone();
            if i == c.baseline {
                label.push_str(" (baseline)");
            }
            let mut row = vec![label];
            row.extend(
                c.differences
                    .iter()
                    .map(|d| d.values[i].clone().unwrap_or_else(|| ABSENT.to_string())),
            );
            let songs = songs_text(&s.test_songs);
            row.extend([
                c.runs[i].record.seeds.len().to_string(),
                songs,
                spread_text(s.metric.mean, s.metric.std),
                spread_text(s.folds.mean, s.folds.std),
            ]);
            for metric in &extra {
                let cell = if *metric == Metric::companion(c.kind) {
                    spread_text(s.companion.mean, s.companion.std)
                } else {
                    s.sort_value.map(|v| format!("{v:.3}")).unwrap_or_default()
                };
                row.push(cell);
            }
            row
        })
        .collect();
    (headings, rows)
}

/// One count when every seed had the same test songs, else the range.
fn songs_text(songs: &[usize]) -> String {
    match (songs.iter().min(), songs.iter().max()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => String::new(),
    }
}

/// Lines under the table: sweep members left out, interrupted sweeps, how to read it.
pub fn table_notes(c: &Comparison) -> Vec<String> {
    let mut notes = vec![format!(
        "{} of {} on the test set, all songs: mean ± std over seeds; fold-k: the fold models' {}, mean ± std over seeds and folds (the fold spread).{}",
        c.metric,
        c.model,
        c.metric,
        if c.metric.lower_is_better() {
            " Lower is better."
        } else {
            ""
        }
    )];
    if !c.differences.is_empty() {
        notes.push(
            "Spec columns: the resolved-spec keys that differ between the runs (`absent`: the run's spec has no such key or table)."
                .to_string(),
        );
    }
    for sweep in &c.interrupted_sweeps {
        notes.push(format!(
            "The sweep {} was interrupted before every member ran.",
            sweep.display()
        ));
    }
    for member in &c.left_out {
        let error = member
            .error
            .as_ref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        notes.push(format!(
            "Not compared: sweep member {} ({}{error}).",
            member.name, member.status
        ));
    }
    notes
}

/// The paired results: one row per run and unit with a test. Units without a test and runs
/// refused are in [`paired_notes`].
pub fn paired_rows(c: &Comparison) -> Rows {
    let headings = [
        "run",
        "unit",
        "model",
        "pairs",
        "difference",
        "95 % CI",
        "t-test p (Holm)",
        "Wilcoxon p (Holm)",
        "bootstrap p (Holm)",
    ]
    .map(String::from)
    .to_vec();
    let mut rows = Vec::new();
    for versus in &c.versus {
        for unit in &versus.units {
            let Ok(test) = &unit.outcome else { continue };
            let d = test.difference();
            let (t, w, b) = match test {
                Test::Paired(p) => (
                    with_holm(Some(p.t_p_value), unit.holm.t),
                    with_holm(Some(p.wilcoxon_p_value), unit.holm.wilcoxon),
                    String::new(),
                ),
                Test::Bootstrap(boot) => (
                    String::new(),
                    String::new(),
                    with_holm(Some(boot.p_value), unit.holm.bootstrap),
                ),
            };
            rows.push(vec![
                c.labels[versus.run].clone(),
                unit.unit.name().to_string(),
                unit.model.clone(),
                pairs_text(unit),
                signed(d.estimate),
                format!("[{}, {}]", signed(d.low), signed(d.high)),
                t,
                w,
                b,
            ]);
        }
    }
    (headings, rows)
}

/// `15` pairs, or `3 x 40 songs` for the bootstrap.
fn pairs_text(unit: &UnitResult) -> String {
    match &unit.outcome {
        Ok(Test::Bootstrap(b)) if b.seeds > 0 => {
            if b.songs % b.seeds == 0 {
                format!("{} x {} songs", b.seeds, b.songs / b.seeds)
            } else {
                format!("{} seeds, {} songs", b.seeds, b.songs)
            }
        }
        _ => unit.pairs.len().to_string(),
    }
}

/// Lines under the paired table: the baseline and direction, refused runs with the reason,
/// units without a test, seeds left unpaired, and the caution about fold pairs.
pub fn paired_notes(c: &Comparison) -> Vec<String> {
    let better = if c.metric.lower_is_better() {
        "lower"
    } else {
        "higher"
    };
    let mut notes = vec![format!(
        "Difference = run - baseline `{}` in {} ({better} is better); 95 % CI: t interval (seed-fold, seed) or bootstrap percentiles ({} resamples); Holm across the {} compared run(s), per unit and test.",
        c.labels[c.baseline],
        c.metric,
        c.resamples,
        c.versus.iter().filter(|v| v.pairing.is_ok()).count(),
    )];
    for versus in &c.versus {
        let label = &c.labels[versus.run];
        match &versus.pairing {
            Err(reason) => notes.push(format!("{label}: not paired with the baseline: {reason}.")),
            Ok(pairing) => {
                if !pairing.baseline_only.is_empty() || !pairing.other_only.is_empty() {
                    notes.push(format!(
                        "{label}: paired on seeds {:?}; left out: {:?} (baseline only), {:?} (this run only).",
                        pairing.seeds, pairing.baseline_only, pairing.other_only
                    ));
                }
            }
        }
        for unit in &versus.units {
            if let Err(reason) = &unit.outcome {
                notes.push(format!("{label}, {}: {reason}.", unit.unit.name()));
            }
        }
    }
    notes.push(
        "seed-fold pairs share their test songs and most training songs: they are not independent, so their p-values are optimistic; read them with the seed and song-bootstrap units."
            .to_string(),
    );
    notes
}

fn open(path: &Path) -> Result<csv::Writer<std::fs::File>, WriteError> {
    csv::Writer::from_path(path).map_err(|source| WriteError {
        path: path.to_path_buf(),
        source,
    })
}

fn write_rows(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<(), WriteError> {
    let mut out = open(path)?;
    let error = |source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    out.write_record(header).map_err(error)?;
    for row in rows {
        out.write_record(row).map_err(error)?;
    }
    out.flush().map_err(|e| error(e.into()))
}

fn optional(value: Option<f64>) -> String {
    value.map(number).unwrap_or_default()
}

/// `comparison.csv`: the table in table order, every number in full.
pub fn write_comparison_csv(path: &Path, c: &Comparison) -> Result<(), WriteError> {
    let m = &c.metric;
    let mut header = vec!["run".to_string(), "baseline".into(), "folder".into()];
    header.extend(c.differences.iter().map(|d| d.key.clone()));
    header.extend(["seeds".to_string(), "test_songs".into()]);
    header.extend(
        ["mean", "std", "ci_low", "ci_high", "fold_mean", "fold_std"].map(|s| format!("{m}_{s}")),
    );
    let extra = extra_metrics(c);
    for metric in &extra {
        header.push(format!("{metric}_mean"));
        if *metric == Metric::companion(c.kind) {
            header.push(format!("{metric}_std"));
        }
    }
    let rows: Vec<Vec<String>> = c
        .order
        .iter()
        .map(|&i| {
            let s = &c.summaries[i];
            let mut row = vec![
                c.labels[i].clone(),
                (i == c.baseline).to_string(),
                c.runs[i].folder.display().to_string(),
            ];
            row.extend(
                c.differences
                    .iter()
                    .map(|d| d.values[i].clone().unwrap_or_else(|| ABSENT.to_string())),
            );
            row.extend([
                c.runs[i].record.seeds.len().to_string(),
                songs_text(&s.test_songs),
                number(s.metric.mean),
                optional(s.metric.std),
                optional(s.interval.map(|i| i.low)),
                optional(s.interval.map(|i| i.high)),
                number(s.folds.mean),
                optional(s.folds.std),
            ]);
            for metric in &extra {
                if *metric == Metric::companion(c.kind) {
                    row.push(number(s.companion.mean));
                    row.push(optional(s.companion.std));
                } else {
                    row.push(optional(s.sort_value));
                }
            }
            row
        })
        .collect();
    write_rows(path, &header, &rows)
}

/// `paired.csv`: per run and unit the test's numbers, or a note saying why there is none.
pub fn write_paired_csv(path: &Path, c: &Comparison) -> Result<(), WriteError> {
    let header = [
        "baseline",
        "run",
        "metric",
        "unit",
        "model",
        "pairs",
        "mean_difference",
        "ci_low",
        "ci_high",
        "t_statistic",
        "t_p",
        "t_p_holm",
        "wilcoxon_statistic",
        "wilcoxon_p",
        "wilcoxon_p_holm",
        "bootstrap_resamples",
        "bootstrap_p",
        "bootstrap_p_holm",
        "note",
    ]
    .map(String::from);
    let baseline = &c.labels[c.baseline];
    let mut rows = Vec::new();
    for versus in &c.versus {
        let label = &c.labels[versus.run];
        let start = |unit: &str, model: &str, pairs: String| {
            vec![
                baseline.clone(),
                label.clone(),
                c.metric.to_string(),
                unit.to_string(),
                model.to_string(),
                pairs,
            ]
        };
        if let Err(reason) = &versus.pairing {
            let mut row = start("", "", "0".into());
            row.extend(std::iter::repeat_n(String::new(), 12));
            row.push(reason.to_string());
            rows.push(row);
        }
        for unit in &versus.units {
            let mut row = start(unit.unit.name(), &unit.model, unit.pairs.len().to_string());
            match &unit.outcome {
                Ok(Test::Paired(p)) => {
                    row.extend(
                        [
                            p.mean_difference,
                            p.ci_low,
                            p.ci_high,
                            p.t_statistic,
                            p.t_p_value,
                        ]
                        .map(number),
                    );
                    row.push(optional(unit.holm.t));
                    row.extend([number(p.wilcoxon_statistic), number(p.wilcoxon_p_value)]);
                    row.push(optional(unit.holm.wilcoxon));
                    row.extend(std::iter::repeat_n(String::new(), 4));
                }
                Ok(Test::Bootstrap(b)) => {
                    let d = b.difference;
                    row.extend([d.estimate, d.low, d.high].map(number));
                    row.extend(std::iter::repeat_n(String::new(), 6));
                    row.extend([b.resamples.to_string(), number(b.p_value)]);
                    row.push(optional(unit.holm.bootstrap));
                    row.push(String::new());
                }
                Err(reason) => {
                    row.extend(std::iter::repeat_n(String::new(), 12));
                    row.push(reason.clone());
                }
            }
            rows.push(row);
        }
    }
    write_rows(path, &header, &rows)
}

/// `pairs.csv`: every pair behind `paired.csv` (for the bootstrap, each seed's metric on all
/// its test songs).
pub fn write_pairs_csv(path: &Path, c: &Comparison) -> Result<(), WriteError> {
    let header = [
        "baseline",
        "run",
        "unit",
        "model",
        "seed",
        "fold",
        "baseline_score",
        "run_score",
        "difference",
    ]
    .map(String::from);
    let mut rows = Vec::new();
    for versus in &c.versus {
        for unit in &versus.units {
            for pair in &unit.pairs {
                let model = match pair.fold {
                    Some(fold) => Model::Fold(fold).to_string(),
                    None => unit.model.clone(),
                };
                rows.push(vec![
                    c.labels[c.baseline].clone(),
                    c.labels[versus.run].clone(),
                    unit.unit.name().to_string(),
                    model,
                    pair.seed.to_string(),
                    pair.fold.map(|f| f.to_string()).unwrap_or_default(),
                    number(pair.baseline),
                    number(pair.other),
                    number(pair.other - pair.baseline),
                ]);
            }
        }
    }
    write_rows(path, &header, &rows)
}
