//! `mer compare`: report folders side by side, and paired statistics against a baseline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use clap::Args;
use tracing::info;

use super::Folders;
use crate::compare::bootstrap::DEFAULT_RESAMPLES;
use crate::compare::output::{paired_notes, paired_rows, table_notes, table_rows};
use crate::compare::{CompareOptions, compare, read_inputs, write};
use crate::results::Model;
use crate::text_table::TextTable;

/// Arguments of `mer compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Report folders, glob patterns matching them, or sweep folders (their members with a
    /// report).
    #[arg(value_name = "RUNS", required = true)]
    runs: Vec<PathBuf>,
    /// The run every other is compared with: its label or report folder [default: the first].
    #[arg(long, value_name = "LABEL|PATH")]
    baseline: Option<String>,
    /// The metric compared, a metrics.csv column (accuracy, macro_f1, ...; ccc, r2, ...;
    /// roc_auc_macro, pr_auc_macro, ...) [default: the runs' headline: macro_f1, ccc,
    /// roc_auc_macro].
    #[arg(long)]
    metric: Option<String>,
    /// The model compared per seed and by song (fold models are always paired by fold).
    #[arg(long, default_value_t = Model::HEADLINE.to_string())]
    model: String,
    /// Sort the table by this metric's mean, best first [default: the order given].
    #[arg(long, value_name = "METRIC")]
    sort: Option<String>,
    /// Resamples of the paired bootstrap over test songs (0 turns it off).
    #[arg(long, default_value_t = DEFAULT_RESAMPLES)]
    resamples: usize,
    /// From sweep folders, take only their selected result (chosen per seed on
    /// cross-validation by `[sweep] select`), e.g. to compare the best of two sweeps.
    #[arg(long)]
    selected: bool,
    /// Output folder [default: <reports>/compare-<UTC time>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Reads the runs, prints the table and the paired results, writes the output folder.
pub fn compare_runs(args: &CompareArgs, folders: &Folders) -> anyhow::Result<ExitCode> {
    let inputs = read_inputs(&args.runs, args.selected)?;
    let options = CompareOptions {
        metric: args.metric.clone(),
        model: args.model.clone(),
        baseline: args.baseline.clone(),
        sort: args.sort.clone(),
        resamples: args.resamples,
    };
    let comparison = compare(inputs, &options)?;
    let (headings, rows) = table_rows(&comparison);
    print_table(
        headings,
        rows,
        1 + comparison.differences.len(),
        &table_notes(&comparison),
    );
    println!();
    let (headings, rows) = paired_rows(&comparison);
    print_table(headings, rows, 3, &paired_notes(&comparison));
    let out = match &args.out {
        Some(out) => out.clone(),
        None => new_folder(&folders.reports)?,
    };
    let written = write(&comparison, &out)
        .with_context(|| format!("could not write the comparison to '{}'", out.display()))?;
    info!(
        "wrote {} ({}, {} figures as PNG and SVG, index.html)",
        out.display(),
        written.tables.join(", "),
        written.figures.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_table(headings: Vec<String>, rows: Vec<Vec<String>>, left: usize, notes: &[String]) {
    let mut table = TextTable::new(headings).left_aligned(left);
    for row in rows {
        table.push(row);
    }
    print!("{table}");
    for note in notes {
        println!("{note}");
    }
}

/// `reports/compare-<UTC time>/`, with `-2`, `-3`, ... when a comparison in the same second
/// took the name.
fn new_folder(reports: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(reports)
        .with_context(|| format!("could not create '{}'", reports.display()))?;
    let base = format!("compare-{}", crate::clock::compact(SystemTime::now()));
    for attempt in 1.. {
        let name = match attempt {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        };
        let path = reports.join(name);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("could not create '{}'", path.display()));
            }
        }
    }
    unreachable!("the attempts never run out")
}
