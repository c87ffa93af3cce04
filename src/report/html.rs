//! The pieces every mer page is made of: one self-contained HTML file (inline CSS, no
//! scripts, no external assets) with a title, figures and file links. The run's
//! `index.html` ([`super::export::html`]), `mer compare`'s page and a sweep's page use them.

use std::fmt::Write as _;
use std::path::Path;

use super::ReportError;

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
