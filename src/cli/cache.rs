//! `mer cache ls|verify|gc`: look after the artifact cache.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use clap::{Args, Subcommand};
use tracing::{info, warn};
use walkdir::WalkDir;

use super::{Folders, error_chain};
use crate::cache::{ArtifactStore, StageKey};
use crate::report::{RUN_JSON, read_run};

/// `mer cache` subcommands.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Every entry: stage, key, size, age and last use.
    #[command(after_help = "Example:\n  mer cache ls --cache /shared/mer-cache")]
    Ls,
    /// Re-check every entry's checksum; corrupt entries are quarantined (exit code 1).
    #[command(after_help = "Example:\n  mer cache verify")]
    Verify,
    /// Remove entries no report folder references, or entries unused for a while.
    #[command(after_help = "Examples:\n  mer cache gc --dry-run\n  mer cache gc --older-than 30")]
    Gc(GcArgs),
}

/// Arguments of `mer cache gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Remove entries not used for this many days, whether referenced or not.
    #[arg(long, value_name = "DAYS")]
    older_than: Option<u64>,
    /// Only list what would be removed.
    #[arg(long)]
    dry_run: bool,
}

/// Runs one `mer cache` subcommand.
pub fn cache(command: &CacheCommand, folders: &Folders) -> anyhow::Result<ExitCode> {
    let store = ArtifactStore::open(&folders.cache)
        .with_context(|| format!("could not open the cache at {}", folders.cache.display()))?;
    match command {
        CacheCommand::Ls => ls(&store),
        CacheCommand::Verify => verify(&store),
        CacheCommand::Gc(args) => gc(&store, folders, args),
    }
}

fn ls(store: &ArtifactStore) -> anyhow::Result<ExitCode> {
    let entries = store.list()?;
    println!(
        "{:<16}  {:<12}  {:>10}  {:<24}  last used",
        "stage", "key", "bytes", "created"
    );
    let mut total = 0;
    for entry in &entries {
        total += entry.size;
        println!(
            "{:<16}  {:<12}  {:>10}  {:<24}  {}",
            entry.stage.as_deref().unwrap_or("(unreadable)"),
            entry.key.short(),
            entry.size,
            entry.created.as_deref().unwrap_or("?"),
            ago(entry.last_used),
        );
    }
    println!(
        "{} entries, {total} bytes in {}",
        entries.len(),
        store.root().display()
    );
    Ok(ExitCode::SUCCESS)
}

fn verify(store: &ArtifactStore) -> anyhow::Result<ExitCode> {
    let report = store.verify_all()?;
    for (key, reason) in &report.quarantined {
        warn!("{}: {reason}; moved to quarantine", key.short());
    }
    info!(
        "{} entries verified, {} quarantined, {} unfinished temporary files",
        report.ok,
        report.quarantined.len(),
        report.temp_files
    );
    Ok(if report.quarantined.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn gc(store: &ArtifactStore, folders: &Folders, args: &GcArgs) -> anyhow::Result<ExitCode> {
    let referenced = referenced_keys(folders)?;
    let cutoff = args
        .older_than
        .map(|days| SystemTime::now() - Duration::from_secs(days * 86_400));
    let mut freed = 0;
    let mut removed = 0;
    for entry in store.list()? {
        let unused = match cutoff {
            Some(cutoff) => entry.last_used < cutoff,
            None => !referenced.contains(&entry.key),
        };
        if !unused {
            continue;
        }
        let stage = entry.stage.as_deref().unwrap_or("?");
        if args.dry_run {
            println!(
                "would remove {stage} {} ({} bytes)",
                entry.key.short(),
                entry.size
            );
        } else {
            store.remove(&entry.key)?;
        }
        freed += entry.size;
        removed += 1;
    }
    let verb = if args.dry_run { "would free" } else { "freed" };
    info!("{removed} entries, {verb} {freed} bytes");
    Ok(ExitCode::SUCCESS)
}

/// Every key a report folder's `run.json` names.
fn referenced_keys(folders: &Folders) -> anyhow::Result<BTreeSet<StageKey>> {
    let mut keys = BTreeSet::new();
    for entry in WalkDir::new(&folders.reports)
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_name() != RUN_JSON {
            continue;
        }
        let folder = entry.path().parent().unwrap_or(entry.path());
        match read_run(folder) {
            Ok(record) => keys.extend(record.stages.iter().map(|s| s.key)),
            Err(err) => warn!(
                "{}; its entries are not protected from gc",
                error_chain(&err)
            ),
        }
    }
    Ok(keys)
}

fn ago(time: SystemTime) -> String {
    let seconds = SystemTime::now()
        .duration_since(time)
        .map_or(0, |d| d.as_secs());
    match seconds {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}
