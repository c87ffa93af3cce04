//! `index.html`: one self-contained page per run (inline CSS, no scripts, no external assets)
//! with the summary table, the figures, links to the CSV files and the stage decisions. A run
//! that failed gets the same page with the error on top and whatever was finished. The page
//! pieces ([`page_start`], [`figures_section`], [`files_section`], [`write_page`]) also make
//! `mer compare`'s page.

use std::fmt::Write as _;
use std::path::Path;

use crate::pipeline::RunRecord;

use super::ReportError;
use super::results::{RunResults, SongGroup};
use super::tables::{METRIC_COLUMNS, mean_std, metric_value};

/// The inline style sheet every page shares.
pub const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.25em .6em;\
text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}img{max-width:100%;\
border:1px solid #eee;margin:.5em 0}.error{background:#fee;border:1px solid #c00;padding:1em}\
.hit{color:#888}.miss{color:#06c}code{background:#f6f6f6;padding:0 .2em}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes `folder/index.html` for `record`, with `results` when the run got that far.
/// `figures` and `tables` are file names inside `folder` (only those that exist are linked).
pub fn write_index(
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

/// The page's head (inline style) and its `<h1>`.
pub fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{0}</h1>\n",
        escape(title)
    )
}

/// A "Figures" section showing each of `figures` (file names in `folder`) that exists.
pub fn figures_section(page: &mut String, folder: &Path, figures: &[String]) {
    if figures.is_empty() {
        return;
    }
    page.push_str("<h2>Figures</h2>\n");
    for figure in figures.iter().filter(|f| folder.join(f).is_file()) {
        let _ = writeln!(page, "<p><img src=\"{0}\" alt=\"{0}\"></p>", escape(figure));
    }
}

/// A section `heading` linking each of `files` (names in `folder`) that exists.
pub fn files_section(page: &mut String, folder: &Path, heading: &str, files: &[String]) {
    if files.is_empty() {
        return;
    }
    let _ = writeln!(page, "<h2>{}</h2>\n<ul>", escape(heading));
    for file in files.iter().filter(|t| folder.join(t).is_file()) {
        let _ = writeln!(page, "<li><a href=\"{0}\">{0}</a></li>", escape(file));
    }
    page.push_str("</ul>\n");
}

/// Closes `page` and writes it to `folder/index.html`.
pub fn write_page(folder: &Path, mut page: String) -> Result<(), ReportError> {
    page.push_str("</body></html>\n");
    let path = folder.join("index.html");
    std::fs::write(&path, page).map_err(|source| ReportError::Io {
        action: "write",
        path,
        source,
    })
}

/// Test-set metrics of every model, mean ± std across seeds, all songs.
fn summary_table(page: &mut String, results: &RunResults) {
    let mut models: Vec<(&str, &str)> = Vec::new();
    for seed in &results.seeds {
        for s in seed.scores.iter().filter(|s| s.group == SongGroup::All) {
            if !models.contains(&(s.model.as_str(), s.split.as_str())) {
                models.push((s.model.as_str(), s.split.as_str()));
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
    for c in METRIC_COLUMNS {
        let _ = write!(page, "<th>{c}</th>");
    }
    page.push_str("</tr>\n");
    for (model, split) in models {
        let _ = write!(
            page,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td>",
            escape(model),
            escape(split)
        );
        for c in METRIC_COLUMNS {
            let values: Vec<f64> = results
                .seeds
                .iter()
                .filter_map(|seed| {
                    seed.scores
                        .iter()
                        .find(|s| s.model == model && s.split == split && s.group == SongGroup::All)
                })
                .map(|s| metric_value(&s.metrics, c))
                .collect();
            let (mean, std) = mean_std(&values);
            let cell = match (c, std) {
                ("songs", _) => format!("{mean:.0}"),
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
