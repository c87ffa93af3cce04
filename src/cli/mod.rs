//! The `mer` command line: argument parsing, logging setup and one function per command.
//!
//! Commands read the spec, call into the library and print; they hold no experiment logic.

mod cache;
mod cluster;
mod compare;
mod demo;
mod explain;
mod inspect;
mod models;
mod predict;
mod run;
mod sweep;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tracing::{debug, info, warn};

use crate::cache::ArtifactStore;
use crate::dataset::{DatasetLoad, DatasetProblem};
pub use crate::experiment::error_chain;
use crate::experiment::load_data;
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
    /// Pretrained model folder (`mer models fetch` fills it).
    #[arg(
        long,
        global = true,
        env = "MER_MODELS",
        hide_env_values = true,
        default_value = "models",
        value_name = "DIR"
    )]
    pub models: PathBuf,
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
        mer run experiments/demo.toml --dry-run\n  mer run experiments/demo.toml --force train\n  \
        mer run experiments/demo.toml --executor slurm --set executor.extract_shards=8"
    )]
    Run(run::RunArgs),
    /// Run the members of a spec's [sweep] (modality subsets, grids, variants) side by side,
    /// sharing the cache, and write a summary folder linking their reports.
    #[command(
        after_help = "Examples:\n  mer sweep experiments/demo-ablation.toml\n  \
        mer sweep experiments/demo-ablation.toml --jobs 1 --set schedule.epochs=20\n  \
        mer sweep experiments/demo-ablation.toml --executor slurm --time 01:00:00 --max-parallel 4\n  \
        mer plan experiments/demo-ablation.toml"
    )]
    Sweep(sweep::SweepArgs),
    /// What a run would compute and what it would take from the cache, and why, with a time
    /// estimate from earlier durations; for a spec with [sweep], the same for every member.
    #[command(
        after_help = "Examples:\n  mer plan experiments/demo.toml --set schedule.epochs=80\n  \
        mer plan experiments/demo-ablation.toml"
    )]
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
    /// The pretrained model files extractors read: fetch, add or list them.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Apply a finished run's model (a report folder, or a bundle of `mer export`) to new
    /// songs: class probabilities and the predicted class per song, as CSV or JSON.
    #[command(
        after_help = "Examples:\n  mer predict reports/demo/20261124T163000Z-1a2b3c4d new-album/\n  \
        mer predict model.h5 songs.csv --out predictions.json\n  \
        mer predict model.h5 a.mp3 a.txt --model fold-2 --seed 1"
    )]
    Predict(predict::PredictArgs),
    /// Write a finished run's model as one self-contained file (spec, extractor settings,
    /// normalization, every fold model), which `mer predict` reads without the cache.
    #[command(
        after_help = "Example:\n  mer export reports/demo/20261124T163000Z-1a2b3c4d --out model.h5"
    )]
    Export(predict::ExportArgs),
    /// Where each task of a Slurm sweep or run stands (queued, running, finished, failed with
    /// its exit code, killed), from its state files and `squeue`.
    #[command(
        after_help = "Examples:\n  mer status reports/demo-ablation/sweep-20261124T163000Z\n  \
        mer status reports/demo/slurm-20261124T163000Z"
    )]
    Status(cluster::StatusArgs),
    /// The summary job of a Slurm sweep (run by Slurm, not by hand).
    #[command(hide = true)]
    SweepSummary(cluster::SummaryArgs),
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
    crate::models::ModelStore::set_current(&cli.folders.models);
    match cli.command {
        Command::Run(args) => run::run(&args, &cli.folders),
        Command::Sweep(args) => sweep::sweep(&args, &cli.folders),
        Command::Plan(args) => run::plan(&args, &cli.folders),
        Command::Explain(args) => explain::explain(&args),
        Command::Compare(args) => compare::compare_runs(&args, &cli.folders),
        Command::Cache(command) => cache::cache(&command, &cli.folders),
        Command::Validate(args) => validate::validate(&args),
        Command::Data(DataCommand::Inspect(args)) => inspect::inspect(&args),
        Command::Demo(args) => demo::demo(&args),
        Command::Predict(args) => predict::predict(&args, &cli.folders),
        Command::Status(args) => cluster::status(&args),
        Command::SweepSummary(args) => cluster::sweep_summary(&args, &cli.folders),
        Command::Export(args) => predict::export(&args, &cli.folders),
        Command::Models(command) => models::models(&command, &cli.folders),
    }
}

/// Loads the spec and its dataset, logging what was kept and what was found.
fn load_experiment(args: &SpecArgs) -> anyhow::Result<(ExperimentSpec, DatasetLoad)> {
    let spec = load_spec(&args.spec, &args.sets)?;
    let data = load_data(&spec)?;
    log_dataset(&spec, &data, &args.spec);
    Ok((spec, data))
}

/// What the dataset load kept and found, for the log.
fn log_dataset(spec: &ExperimentSpec, data: &DatasetLoad, spec_path: &std::path::Path) {
    let manifest = &data.manifest;
    info!(
        "{}: {} of {} listed songs have a file or precomputed row for at least one of {} ({} classes); {} dropped",
        spec.name,
        manifest.songs.len(),
        data.listed.songs.len(),
        spec.songs_with(),
        manifest.classes.len(),
        data.dropped.len(),
    );
    // Leaving out a class changes what the experiment measures: say so in full, every run.
    for problem in &data.problems {
        if let DatasetProblem::RareClass(_) = problem {
            warn!("{problem}");
        }
    }
    if !data.problems.is_empty() {
        warn!(
            "{} dataset problems; `mer data inspect {}` lists them",
            data.problems.len(),
            spec_path.display()
        );
    }
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

/// A flag the first Ctrl-C sets, so the run stops between stages and still writes its report;
/// a second Ctrl-C exits at once (exit code 130), as a user pressing it twice expects.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if seen.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "interrupted: finishing the stages in flight, then writing the report (Ctrl-C again to quit now)"
        );
    });
    if let Err(err) = installed {
        debug!("no Ctrl-C handler: {err}");
    }
    flag
}

/// The artifact cache at `--cache`.
fn open_store(folders: &Folders) -> anyhow::Result<ArtifactStore> {
    ArtifactStore::open(&folders.cache)
        .with_context(|| format!("could not open the cache at {}", folders.cache.display()))
}
