//! `mer explain`: what a past run decided for each stage, and why.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::report::{RUN_JSON, read_run};
use crate::results::{Decision, DecisionTable};

/// Arguments of `mer explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A report folder, e.g. reports/demo/20261124T163000Z-1a2b3c4d.
    #[arg(value_name = "REPORT")]
    report: PathBuf,
}

/// Prints the run's decision table from its `run.json`.
pub fn explain(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    if !args.report.join(RUN_JSON).is_file() {
        anyhow::bail!(
            "'{}' is not a report folder (it has no {RUN_JSON}); report folders are \
             reports/<experiment>/<UTC time>-<spec hash>/",
            args.report.display()
        );
    }
    let record = read_run(&args.report)?;
    println!(
        "{} (spec {}), mer {} on {}, {} to {}",
        record.experiment,
        record.spec_hash,
        record.mer_version,
        record.host,
        record.started,
        record.finished
    );
    print!("{}", DecisionTable(&record.stages));
    println!(
        "{} stages: {} cached, {} computed, {} forced, {} computed by another run while this one waited",
        record.stages.len(),
        record.count(Decision::Hit),
        record.count(Decision::Miss),
        record.count(Decision::Forced),
        record.count(Decision::Waited),
    );
    if let Some(error) = &record.error {
        println!("the run failed: {error}");
    }
    Ok(ExitCode::SUCCESS)
}
