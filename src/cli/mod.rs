//! The `mer` command line: argument parsing, logging setup and one function per command.
//!
//! Commands read the spec, call into the library and print; they hold no experiment logic.

mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
        default_value = "cache",
        value_name = "DIR"
    )]
    pub cache: PathBuf,
    /// Report folder.
    #[arg(
        long,
        global = true,
        env = "MER_REPORTS",
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
    /// Check a spec and print it fully resolved, as TOML.
    #[command(
        after_help = "Example:\n  mer validate experiments/demo.toml --set schedule.epochs=20"
    )]
    Validate(SpecArgs),
}

/// Parses the command line and runs the command; the exit code says how it went.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    match cli.command {
        Command::Validate(args) => validate::validate(&args),
    }
}

/// Logs go to stderr, without ANSI colours unless stderr is a terminal.
fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
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
