//! `mer sweep --executor slurm`, `mer status` and the summary job's hidden `mer
//! sweep-summary`: a sweep as a Slurm job array, and following it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tracing::{info, warn};

use super::{Folders, open_store};
use crate::cluster::status::{MemberState, log_path, member_state, queue_states};
use crate::cluster::{SlurmSettings, read_submission, submit_sweep, summarize};
use crate::spec::Sweep;

/// The `#SBATCH` settings of `--executor slurm`, over the spec's `[executor.slurm]`.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// Slurm partition.
    #[arg(long, value_name = "NAME")]
    partition: Option<String>,
    /// Time limit of each member's task, e.g. `02:00:00`.
    #[arg(long, value_name = "TIME")]
    time: Option<String>,
    /// CPUs of each member's task.
    #[arg(long, value_name = "N")]
    cpus_per_task: Option<u32>,
    /// Memory of each member's task, e.g. `8G`.
    #[arg(long, value_name = "SIZE")]
    mem: Option<String>,
    /// Slurm account.
    #[arg(long, value_name = "NAME")]
    account: Option<String>,
    /// Member tasks running at once (`--array=...%K`).
    #[arg(long, value_name = "K")]
    max_parallel: Option<usize>,
    /// A further `#SBATCH` option, e.g. `--sbatch=--qos=short` (repeatable).
    #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true)]
    extra: Vec<String>,
}

impl SlurmArgs {
    /// These flags over the spec's `[executor.slurm]`.
    fn settings(&self) -> SlurmSettings {
        SlurmSettings {
            partition: self.partition.clone(),
            time: self.time.clone(),
            cpus_per_task: self.cpus_per_task,
            mem: self.mem.clone(),
            account: self.account.clone(),
            max_parallel: self.max_parallel,
            sbatch: self.extra.clone(),
        }
    }
}

/// Submits `sweep` and prints the job ids and the sweep folder.
pub fn submit(
    sweep: &Sweep,
    (spec, sets): (&std::path::Path, &[String]),
    slurm: &SlurmArgs,
    folders: &Folders,
) -> anyhow::Result<ExitCode> {
    let store = open_store(folders)?;
    let mer = std::env::current_exe()?;
    let (folder, record) = submit_sweep(
        sweep,
        (spec, sets),
        (&store, &folders.reports),
        &sweep.base.executor.slurm.overridden_by(&slurm.settings()),
        &mer,
    )?;
    let queued = record.members.iter().filter(|m| m.queued).count();
    for member in &record.members {
        if let Some(error) = &member.error {
            warn!("{}: not submitted: {error}", member.name);
        }
    }
    info!(
        "{}: {queued} of {} members submitted{}; summary job {}",
        sweep.base.name,
        record.members.len(),
        record
            .array_job
            .as_ref()
            .map_or(String::new(), |job| format!(" as job array {job}")),
        record.summary_job
    );
    info!("follow it with: mer status {}", folder.display());
    println!("{}", folder.display());
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `mer status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The sweep folder `mer sweep --executor slurm` printed.
    #[arg(value_name = "SWEEP_FOLDER")]
    folder: PathBuf,
}

/// Prints where each member of a Slurm sweep stands; exit code 1 when one failed or was
/// killed, so scripts can wait on it.
pub fn status(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let record = read_submission(&args.folder)?;
    let queue = queue_states(&record).unwrap_or_else(|| {
        warn!("squeue could not be run: states come from the state files alone");
        Default::default()
    });
    let width = record
        .members
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(0);
    let mut bad = false;
    for member in &record.members {
        let state = member_state(&args.folder, &record, member, &queue);
        bad |= matches!(state, MemberState::Failed(_) | MemberState::Killed);
        let detail = match &state {
            MemberState::Failed(_) | MemberState::Killed | MemberState::Running => {
                format!("  log: {}", log_path(&args.folder, member.index).display())
            }
            MemberState::Unusable(error) => format!("  {error}"),
            _ => String::new(),
        };
        println!("{:width$}  {}{detail}", member.name, state.label());
    }
    let summary = if args
        .folder
        .join(crate::results::sweep::SWEEP_JSON)
        .is_file()
    {
        "written"
    } else if queue.contains_key(&record.summary_job) {
        "waiting for the members"
    } else {
        "not written (see logs/summary.log)"
    };
    println!("summary (job {}): {summary}", record.summary_job);
    Ok(match bad {
        true => ExitCode::FAILURE,
        false => ExitCode::SUCCESS,
    })
}

/// Arguments of the summary job's `mer sweep-summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The sweep folder.
    #[arg(value_name = "SWEEP_FOLDER")]
    folder: PathBuf,
}

/// Writes the summary of a Slurm sweep whose tasks have ended.
pub fn sweep_summary(args: &SummaryArgs, folders: &Folders) -> anyhow::Result<ExitCode> {
    let store = open_store(folders)?;
    let run = summarize(&args.folder, &store)?;
    info!("summary: {}", run.folder.display());
    Ok(match run.complete() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}
