//! `index.html`: one page per run with the summary table, the figures, links to the CSV files
//! and the stage decisions. A run that failed gets the same page with the error on top and
//! whatever was finished.

use std::fmt::Write as _;
use std::path::Path;

use crate::report::ReportError;
use crate::report::html::{escape, figures_section, files_section, page_start, write_page};
use crate::results::{
    Metric, Model, RunRecord, RunResults, SongGroup, Split, TargetRunResults, TaskKind, mean_std,
    spread_text,
};

use super::{Exporter, ReportInput};

/// Writes `index.html`, linking the tables (`.csv`) and showing the figures (`.svg`) written
/// before it.
pub struct IndexPage;

impl Exporter for IndexPage {
    fn write(
        &self,
        folder: &Path,
        input: &ReportInput<'_>,
        written: &[String],
    ) -> Result<Vec<String>, ReportError> {
        let with_extension = |extension: &str| -> Vec<String> {
            written
                .iter()
                .filter(|name| name.ends_with(extension))
                .cloned()
                .collect()
        };
        let (figures, tables) = (with_extension(".svg"), with_extension(".csv"));
        write_index(folder, input, &figures, &tables)?;
        Ok(vec!["index.html".to_string()])
    }
}

/// Writes `folder/index.html` for `record`, with `results` when the run got that far.
/// `figures` and `tables` are file names inside `folder` (only those that exist are linked).
fn write_index(
    folder: &Path,
    input: &ReportInput<'_>,
    figures: &[String],
    tables: &[String],
) -> Result<(), ReportError> {
    let record = input.record;
    let mut page = page_start(&format!("mer: {}", record.experiment));
    let _ = writeln!(
        page,
        "<p>Spec hash <code>{}</code>, seeds {:?}, mer {} on {}, started {}, finished {}. \
         Resolved spec: <a href=\"spec.toml\">spec.toml</a>; run record: \
         <a href=\"run.json\">run.json</a>.</p>",
        escape(&record.spec_hash),
        record.seeds,
        escape(&record.mer_version),
        escape(&record.host),
        escape(&record.started),
        escape(&record.finished),
    );
    if let Some(error) = &record.error {
        let _ = writeln!(
            page,
            "<div class=\"error\"><b>The run failed:</b> {}</div>",
            escape(error)
        );
    }
    if let Some(results) = input.results {
        summary_table(&mut page, results);
    }
    if let Some(targets) = input.targets {
        target_summary_table(&mut page, targets);
    }
    figures_section(&mut page, folder, figures);
    files_section(&mut page, folder, "Tables", tables);
    decisions_table(&mut page, record);
    write_page(folder, page)
}

/// Test-set metrics of every model, mean ± std across seeds, all songs.
fn summary_table(page: &mut String, results: &RunResults) {
    let mut models: Vec<(Model, Split)> = Vec::new();
    for seed in &results.seeds {
        for s in seed.scores.iter().filter(|s| s.group == SongGroup::All) {
            if !models.contains(&(s.model, s.split)) {
                models.push((s.model, s.split));
            }
        }
    }
    let _ = writeln!(
        page,
        "<h2>Results</h2>\n<p>{} seeds; mean ± standard deviation across seeds. Classes: {}. \
         Modalities: {}.</p>\n<table><tr><th class=\"l\">model</th><th class=\"l\">split</th>",
        results.seeds.len(),
        escape(&results.classes.join(", ")),
        results.modalities,
    );
    for metric in Metric::ALL {
        let _ = write!(page, "<th>{metric}</th>");
    }
    page.push_str("</tr>\n");
    for (model, split) in models {
        row_start(page, model, split);
        for metric in Metric::ALL {
            let values: Vec<f64> = results
                .seeds
                .iter()
                .filter_map(|seed| seed.score(model, split))
                .map(|s| metric.value(&s.metrics))
                .collect();
            let _ = write!(page, "<td>{}</td>", spread_cell(metric, &values));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
}

/// A regression or multi-label run's test and cross-validation metrics for all songs, mean ±
/// std across seeds.
fn target_summary_table(page: &mut String, results: &TargetRunResults) {
    let columns = Metric::columns(results.kind);
    let _ = writeln!(
        page,
        "<h2>Results</h2>\n<p>{} seeds; mean ± standard deviation across seeds. {}: {}. \
         Modalities: {}.</p>\n<table><tr><th class=\"l\">model</th><th class=\"l\">split</th>",
        results.seeds.len(),
        if results.kind == TaskKind::Regression {
            "Targets (on -1 to 1)"
        } else {
            "Tags"
        },
        escape(&results.outputs.join(", ")),
        results.modalities,
    );
    for metric in columns {
        let _ = write!(page, "<th>{metric}</th>");
    }
    page.push_str("</tr>\n");
    let mut models: Vec<(Model, Split)> = Vec::new();
    for seed in &results.seeds {
        for s in seed.scores.iter().filter(|s| s.group == SongGroup::All) {
            if s.split != Split::Validation && !models.contains(&(s.model, s.split)) {
                models.push((s.model, s.split));
            }
        }
    }
    for (model, split) in models {
        row_start(page, model, split);
        for (k, metric) in columns.iter().enumerate() {
            let values: Vec<f64> = (results.seeds.iter())
                .filter_map(|seed| seed.score(model, split))
                .map(|s| s.values[k])
                .collect();
            let _ = write!(page, "<td>{}</td>", spread_cell(*metric, &values));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
}

/// Opens a table row with the model's and split's cells.
fn row_start(page: &mut String, model: Model, split: Split) {
    let _ = write!(
        page,
        "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td>",
        escape(&model.to_string()),
        escape(&split.to_string())
    );
}

/// `mean ± std` of `values` (a count without decimals).
fn spread_cell(metric: Metric, values: &[f64]) -> String {
    let (mean, std) = mean_std(values);
    match metric {
        Metric::Songs => format!("{mean:.0}"),
        _ => spread_text(mean, std),
    }
}

fn decisions_table(page: &mut String, record: &RunRecord) {
    page.push_str(
        "<h2>Stages</h2>\n<table><tr><th class=\"l\">stage</th><th class=\"l\">decision</th>\
         <th>seconds</th><th class=\"l\">key</th><th class=\"l\">why</th></tr>\n",
    );
    for stage in &record.stages {
        let label = stage.decision.label();
        let _ = writeln!(
            page,
            "<tr><td class=\"l\">{}</td><td class=\"l {label}\">{label}</td><td>{}</td>\
             <td class=\"l\"><code>{}</code></td><td class=\"l\">{}</td></tr>",
            escape(&stage.instance),
            stage.seconds.map(|s| format!("{s:.2}")).unwrap_or_default(),
            escape(&stage.key.short()),
            escape(&stage.reasons.join("; ")),
        );
    }
    page.push_str("</table>\n");
}
