//! The comparison's `index.html`, built from the report page's pieces
//! ([`crate::report::html`]): the table, the paired results, their notes, the figures and
//! links to the CSV files and the compared report folders.

use std::fmt::Write as _;
use std::path::Path;

use super::comparison::Comparison;
use super::output::{Rows, paired_notes, paired_rows, table_notes, table_rows};
use crate::report::ReportError;
use crate::report::html::{escape, figures_section, files_section, page_start, write_page};

/// Writes `folder/index.html`; `figures` and `tables` are file names inside `folder`.
pub fn write_index(
    folder: &Path,
    c: &Comparison,
    figures: &[String],
    tables: &[String],
) -> Result<(), ReportError> {
    let mut page = page_start(&format!("mer compare: {} runs", c.runs.len()));
    let _ = writeln!(
        page,
        "<p>Baseline <b>{}</b>; metric <code>{}</code> of <code>{}</code> on the test set.</p>",
        escape(&c.labels[c.baseline]),
        escape(&c.metric.to_string()),
        escape(&c.model.to_string())
    );
    page.push_str("<h2>Runs</h2>\n");
    table(&mut page, &table_rows(c), 1 + c.differences.len());
    notes(&mut page, &table_notes(c));
    page.push_str("<h2>Paired against the baseline</h2>\n");
    table(&mut page, &paired_rows(c), 3);
    notes(&mut page, &paired_notes(c));
    figures_section(&mut page, folder, figures);
    files_section(&mut page, folder, "Tables", tables);
    page.push_str("<h2>Report folders</h2>\n<ul>\n");
    for (label, run) in c.labels.iter().zip(&c.runs) {
        let _ = writeln!(
            page,
            "<li>{}: <code>{}</code></li>",
            escape(label),
            escape(&run.folder.display().to_string())
        );
    }
    page.push_str("</ul>\n");
    write_page(folder, page)
}

/// An HTML table of `rows`, the first `left` columns left-aligned.
fn table(page: &mut String, (headings, rows): &Rows, left: usize) {
    let class = |i: usize| if i < left { " class=\"l\"" } else { "" };
    page.push_str("<table><tr>");
    for (i, heading) in headings.iter().enumerate() {
        let _ = write!(page, "<th{}>{}</th>", class(i), escape(heading));
    }
    page.push_str("</tr>\n");
    for row in rows {
        page.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(page, "<td{}>{}</td>", class(i), escape(cell));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
}

fn notes(page: &mut String, notes: &[String]) {
    for note in notes {
        let _ = writeln!(page, "<p>{}</p>", escape(note));
    }
}
