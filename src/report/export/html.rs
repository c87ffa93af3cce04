//! `index.html`: one page per run with the summary table, the figures, links to the CSV files
//! and the stage decisions. A run that failed gets the same page with the error on top and
//! whatever was finished.

use std::fmt::Write as _;
use std::path::Path;

use crate::report::ReportError;
use crate::report::html::{escape, figures_section, files_section, page_start, write_page};
use crate::results::{Metric, Model, RunRecord, RunResults, SongGroup, Split, mean_std};

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
        write_index(folder, input.record, input.results, &figures, &tables)?;
        Ok(vec!["index.html".to_string()])
    }
}

/// Writes `folder/index.html` for `record`, with `results` when the run got that far.
/// `figures` and `tables` are file names inside `folder` (only those that exist are linked).
fn write_index(
    folder: &Path,
    record: &RunRecord,
    results: Option<&RunResults>,
    figures: &[String],
    tables: &[String],
) -> Result<(), ReportError> {
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
    if let Some(results) = results {
        summary_table(&mut page, results);
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
        let _ = write!(
            page,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td>",
            escape(&model.to_string()),
            escape(&split.to_string())
        );
        for metric in Metric::ALL {
            let values: Vec<f64> = results
                .seeds
                .iter()
                .filter_map(|seed| seed.score(model, split))
                .map(|s| metric.value(&s.metrics))
                .collect();
            let (mean, std) = mean_std(&values);
            let cell = match (metric, std) {
                (Metric::Songs, _) => format!("{mean:.0}"),
                (_, Some(std)) => format!("{mean:.3} ± {std:.3}"),
                (_, None) => format!("{mean:.3}"),
            };
            let _ = write!(page, "<td>{cell}</td>");
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
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
