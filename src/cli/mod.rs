//! The `mer` command line: argument parsing, logging setup and one function per command.
//!
//! Commands read the spec, call into the library and print; they hold no experiment logic.

mod cache;
mod compare;
mod demo;
mod explain;
mod inspect;
mod run;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tracing::{info, warn};

use crate::dataset::{self, DatasetLoad};
use crate::features::precomputed::RowIds;
use crate::modality::Modality;
use crate::spec::{ExperimentSpec, load_spec};

/// Declarative, cached experiments for multimodal music emotion recognition.
#[derive(Debug, Parser)]
#[command(name = "mer", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    folders: Folders,
    /// More log output (-v: debug, -vv: trace). `MER_LOG` takes a tracing filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// Where artifacts and reports live; a cluster can point every job at one shared cache.
#[derive(Debug, Args)]
pub struct Folders {
    /// Stage cache folder.
    #[arg(
        long,
        global = true,
        env = "MER_CACHE",
        hide_env_values = true,
        default_value = "cache",
        value_name = "DIR"
    )]
    pub cache: PathBuf,
    /// Report folder.
    #[arg(
        long,
        global = true,
        env = "MER_REPORTS",
        hide_env_values = true,
        default_value = "reports",
        value_name = "DIR"
    )]
    pub reports: PathBuf,
}

/// A spec path plus `--set` overrides, shared by every command that reads a spec.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// Experiment spec (TOML).
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// Override a spec key, e.g. `--set schedule.epochs=10` (repeatable; wins over the file and
    /// MER_SECTION__KEY environment variables).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an experiment: every stage whose inputs changed, then the report.
    #[command(
        after_help = "Examples:\n  mer run experiments/demo.toml --set schedule.epochs=20\n  \
        mer run experiments/demo.toml --dry-run\n  mer run experiments/demo.toml --force train"
    )]
    Run(run::RunArgs),
    /// What a run would compute and what it would take from the cache, and why.
    #[command(after_help = "Example:\n  mer plan experiments/demo.toml --set schedule.epochs=80")]
    Plan(SpecArgs),
    /// What a past run decided for each stage, and why, from its report folder.
    #[command(after_help = "Example:\n  mer explain reports/demo/20261124T163000Z-1a2b3c4d")]
    Explain(explain::ExplainArgs),
    /// Report folders side by side, and paired statistics of each run against a baseline.
    #[command(
        after_help = "Examples:\n  mer compare reports/demo/* --sort macro_f1\n  \
        mer compare reports/demo-ablation/sweep-20261124T163000Z --baseline audio\n  \
        mer compare runA runB --metric accuracy --out comparisons/a-vs-b"
    )]
    Compare(compare::CompareArgs),
    /// Look after the artifact cache.
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Check a spec against its dataset and print it fully resolved, as TOML.
    #[command(after_help = "Examples:\n  mer validate experiments/demo.toml\n  \
        MER_SCHEDULE__EPOCHS=20 mer validate experiments/demo.toml --set augment.mixup_alpha=0")]
    Validate(validate::ValidateArgs),
    /// Look at a dataset.
    #[command(subcommand)]
    Data(DataCommand),
    /// Write the synthetic demo dataset (real WAV, MIDI and lyrics files in a real layout).
    #[command(after_help = "Examples:\n  mer demo --out data/demo\n  \
        mer demo --out /tmp/small --songs 40 --seconds 5 --layout table --quadrants\n  \
        mer demo --out data/demo --refresh   # rewrite only if options or generator changed")]
    Demo(demo::DemoArgs),
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Class x modality counts, the all-modality intersection and every problem found.
    #[command(after_help = "Example:\n  mer data inspect experiments/mirex-dev.toml --all")]
    Inspect(inspect::InspectArgs),
}

/// Parses the command line and runs the command; the exit code says how it went.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    match cli.command {
        Command::Run(args) => run::run(&args, &cli.folders),
        Command::Plan(args) => run::plan(&args, &cli.folders),
        Command::Explain(args) => explain::explain(&args),
        Command::Compare(args) => compare::compare_runs(&args, &cli.folders),
        Command::Cache(command) => cache::cache(&command, &cli.folders),
        Command::Validate(args) => validate::validate(&args),
        Command::Data(DataCommand::Inspect(args)) => inspect::inspect(&args),
        Command::Demo(args) => demo::demo(&args),
    }
}

/// Loads the spec and its dataset, logging what was kept and what was found.
fn load_experiment(args: &SpecArgs) -> anyhow::Result<(ExperimentSpec, DatasetLoad)> {
    let spec = load_spec(&args.spec, &args.sets)?;
    let rows = precomputed_rows(&spec)?;
    let has_row = |modality: Modality, id: &str| {
        rows.iter()
            .any(|(m, ids)| *m == modality && ids.row_of(id).is_some())
    };
    let data =
        dataset::load_with_rows(&spec.dataset, spec.selected(), &has_row).with_context(|| {
            format!(
                "could not load the dataset of '{}' (dataset.root = {})",
                args.spec.display(),
                spec.dataset.root.display()
            )
        })?;
    let manifest = &data.manifest;
    info!(
        "{}: {} of {} listed songs have a file or precomputed row for at least one of {} ({} classes); {} dropped",
        spec.name,
        manifest.songs.len(),
        data.listed.songs.len(),
        spec.selected(),
        manifest.classes.len(),
        data.dropped.len(),
    );
    if !data.problems.is_empty() {
        warn!(
            "{} dataset problems; `mer data inspect {}` lists them",
            data.problems.len(),
            args.spec.display()
        );
    }
    Ok((spec, data))
}

/// The row ids of every precomputed feature file, read up front: a song with a row has that
/// modality even without a media file, which decides which songs the experiment keeps.
fn precomputed_rows(spec: &ExperimentSpec) -> anyhow::Result<Vec<(Modality, RowIds)>> {
    spec.selected()
        .iter()
        .filter_map(|m| spec.modalities.precomputed(m).map(|table| (m, table)))
        .map(|(m, table)| {
            let ids = RowIds::read(table)
                .with_context(|| format!("modalities.{m}.precomputed is unusable"))?;
            Ok((m, ids))
        })
        .collect()
}

/// `error: cause: cause`, as the command line prints it. Many errors already quote their
/// source in their own message; a cause whose text is already there is not repeated.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Logs go to stderr, without ANSI colours unless stderr is a terminal.
fn init_logging(verbose: u8, quiet: bool) {
    // Libraries (symphonia logs every mp3's duration source at info) speak only from -vv on.
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,mer=info",
        (false, 1) => "warn,mer=debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
}
