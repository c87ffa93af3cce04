//! Comparing runs (`mer compare`): report folders side by side, and a baseline against each
//! other run with paired statistics.
//!
//! Compare reads report folders only ([`runs`]), never the cache: what a run reported is what
//! is compared, in the metrics of the runs' task kind (all of one kind). The flow:
//! - [`inputs`]: folders, globs and sweep folders (`sweep.json`) become runs with labels,
//!   a sweep's selected result one more ([`selected`]);
//! - [`diff`]: the resolved specs' differing keys;
//! - [`pairing`]: which seeds and folds pair up, refusing runs whose splits differ;
//! - [`comparison`]: the table's numbers and the paired tests per unit ([`stats`], the
//!   song bootstrap in [`bootstrap`]), Holm across the compared runs;
//! - [`output`], [`plots`], [`page`]: terminal text, CSV files, figures, `index.html`,
//!   written by [`write()`].
//!
//! The statistics are pure functions of score vectors and follow SciPy's (and statsmodels')
//! conventions, stated per function, so every number can be checked against a Python session
//! (`scripts/parity/compare_reference.py`, and `pairs.csv` holds every pair compared).

pub mod bootstrap;
pub mod comparison;
pub mod diff;
pub mod inputs;
pub mod options;
pub mod output;
pub mod page;
pub mod pairing;
pub mod plots;
pub mod read_error;
pub mod runs;
pub mod selected;
pub mod stats;
pub mod tables;
pub mod units;

use std::path::{Path, PathBuf};

pub use comparison::{Comparison, compare};
pub use inputs::read_inputs;
pub use options::{CompareOptions, ComparisonError};
pub use stats::{CompareError, PairedComparison, holm, paired};
pub use units::Unit;

use crate::report::ReportError;
use crate::report::plots::{PlotError, ScoreBars, render};
use crate::results::Metric;
use tables::OutputScore;

/// Why the comparison's files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output folder could not be made.
    #[error("could not create the output folder '{}'", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A CSV file could not be written.
    #[error(transparent)]
    Csv(#[from] output::WriteError),
    /// A figure could not be drawn.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// `index.html` could not be written.
    #[error(transparent)]
    Page(#[from] ReportError),
}

/// The CSV files and figures written (file names inside the output folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// `comparison.csv`, `paired.csv`, `pairs.csv`.
    pub tables: Vec<String>,
    /// The SVG files (each has a PNG beside it).
    pub figures: Vec<String>,
}

/// Writes `comparison.csv`, `paired.csv`, `pairs.csv`, the figures (PNG and SVG) and
/// `index.html` into `folder` (created if needed).
pub fn write(c: &Comparison, folder: &Path) -> Result<Written, OutputError> {
    std::fs::create_dir_all(folder).map_err(|source| OutputError::Folder {
        path: folder.to_path_buf(),
        source,
    })?;
    let tables = [
        (
            "comparison.csv",
            output::write_comparison_csv as fn(&Path, &Comparison) -> _,
        ),
        ("paired.csv", output::write_paired_csv),
        ("pairs.csv", output::write_pairs_csv),
    ];
    let mut names = Vec::new();
    for (name, write) in tables {
        write(&folder.join(name), c)?;
        names.push(name.to_string());
    }
    let figures = write_figures(c, folder)?;
    page::write_index(folder, c, &figures, &names)?;
    Ok(Written {
        tables: names,
        figures,
    })
}

fn write_figures(c: &Comparison, folder: &Path) -> Result<Vec<String>, PlotError> {
    let mut written = Vec::new();
    let mut keep = |[_, svg]: [PathBuf; 2]| {
        written.push(
            svg.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
    };
    let bars = plots::MetricBars {
        caption: format!(
            "{} of {} (test; bar: mean, points: seeds, whiskers: 95 % CI)",
            c.metric, c.model
        ),
        metric: c.metric.to_string(),
        bars: c
            .order
            .iter()
            .map(|&i| plots::Bar {
                label: c.labels[i].clone(),
                color: i,
                mean: c.summaries[i].metric.mean,
                seeds: c.summaries[i].metric.values.clone(),
                interval: c.summaries[i].interval,
            })
            .collect(),
    };
    keep(render(&folder.join(format!("{}_by_run", c.metric)), &bars)?);
    if let Some(outputs) = &c.outputs {
        let series: Vec<(String, Vec<f64>)> = c
            .order
            .iter()
            .filter_map(|&i| {
                let scores = c.summaries[i].per_output.clone()?;
                Some((c.labels[i].clone(), scores))
            })
            .collect();
        let score = OutputScore::of(c.kind);
        let caption = format!(
            "{} per {} of {} (test, mean over seeds)",
            score.column, score.key, c.model
        );
        keep(render(
            &folder.join(format!("per_{}_{}_by_run", score.key, score.column)),
            &ScoreBars {
                caption: &caption,
                class_names: outputs,
                series: &series,
            },
        )?);
    }
    let curves = plots::MeanCurves {
        score: Metric::headline(c.kind).to_string(),
        runs: c
            .order
            .iter()
            .map(|&i| plots::Curve {
                label: c.labels[i].clone(),
                color: i,
                points: c.summaries[i].curve.clone(),
            })
            .collect(),
    };
    keep(render(&folder.join("learning_curves_by_run"), &curves)?);
    Ok(written)
}
