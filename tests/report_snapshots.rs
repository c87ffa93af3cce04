//! The files of a run's report as reviewed snapshots (insta, `tests/snapshots/`): a renamed,
//! added or reordered column, a changed model or metric name, or a changed number format shows
//! up as a diff of a `.snap` file. One small deterministic run of the demo (40 songs, three
//! modalities, one seed, two folds, three epochs) through the `mer` binary.
//!
//! Scores are rounded to 4 decimals in the snapshots: training multiplies matrices with gemm,
//! whose SIMD kernels are chosen per CPU, so a score's last bits may differ between machines.
//! That every number is written in full, as the shortest text that reads back to the same
//! value, is asserted on the unrounded files instead. In `run.json` the times, durations, host,
//! mer version and spec hash (the resolved spec holds the temporary folder's path) are
//! redacted; the stage keys are kept (they depend on inputs and settings only).

mod util;

use std::path::{Path, PathBuf};

use util::{TestDir, output};

const SPEC: &str = "seeds = [1]\n\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
    [modalities.audio]\n[modalities.lyrics]\n[modalities.midi]\n\n\
    [split]\nfolds = 2\n\n[schedule]\nepochs = 3\n\n[eval]\nbootstrap = 50\n";

const TABLES: [&str; 6] = [
    "metrics.csv",
    "summary.csv",
    "per_class.csv",
    "confusion.csv",
    "history.csv",
    "predictions.csv",
];

fn run_small(dir: &TestDir) -> PathBuf {
    dir.write_demo(40, 3, 1);
    dir.write("exp.toml", SPEC);
    let (ok, _, stderr) = output(dir.mer().args(["run", "exp.toml"]));
    assert!(ok, "mer run failed: {stderr}");
    dir.report_folder(&stderr)
}

/// A cell that is a number with a fraction (not a count, a seed, a name or a flag).
fn fraction(cell: &str) -> Option<f64> {
    let value: f64 = cell.parse().ok()?;
    (cell.contains('.') || cell.contains('e')).then_some(value)
}

/// Every fractional number of `text` rounded to 4 decimals.
fn rounded(text: &str) -> String {
    text.lines()
        .map(|line| {
            let cells: Vec<String> = line
                .split(',')
                .map(|cell| match fraction(cell) {
                    Some(value) => format!("{value:.4}"),
                    None => cell.to_string(),
                })
                .collect();
            cells.join(",") + "\n"
        })
        .collect()
}

/// Every fractional number of `text` is the shortest text that reads back to its value (an
/// exponent or trailing zeros would fail).
fn assert_numbers_in_full(file: &str, text: &str) {
    for cell in text.lines().skip(1).flat_map(|line| line.split(',')) {
        if let Some(value) = fraction(cell) {
            assert_eq!(
                value.to_string(),
                cell,
                "{file}: `{cell}` is not written in full"
            );
        }
    }
}

/// `run.json` with what differs between runs, machines and builds replaced by `[redacted]`.
fn redacted_record(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let redacted = [
        "\"started\":",
        "\"finished\":",
        "\"host\":",
        "\"mer_version\":",
        "\"spec_hash\":",
        "\"seconds\":",
    ];
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            let comma = if line.ends_with(',') { "," } else { "" };
            let field = trimmed.split(' ').next().unwrap_or_default();
            if redacted.contains(&field) {
                format!("{indent}{field} \"[redacted]\"{comma}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

#[test]
fn a_runs_report_files_are_as_reviewed() {
    let dir = TestDir::new();
    let folder = run_small(&dir);
    for file in TABLES {
        let text = std::fs::read_to_string(folder.join(file)).unwrap();
        assert_numbers_in_full(file, &text);
        insta::assert_snapshot!(file, rounded(&text));
    }
    insta::assert_snapshot!("run.json", redacted_record(&folder.join("run.json")));
}
