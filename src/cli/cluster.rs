//! `mer sweep --executor slurm`, `mer run --executor slurm`, `mer status` and the summary
//! job's hidden `mer sweep-summary`: sweeps and runs as Slurm jobs, and following them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use tracing::{info, warn};

use super::{Folders, open_store};
use crate::cache::ArtifactStore;
use crate::cluster::run::{SlurmRun, read_run_submission};
use crate::cluster::status::{
    QueuedTask, TaskStatus, log_path, member_status, member_task, queue_states, task_status,
};
use crate::cluster::{self, SlurmSettings, read_submission, summarize};
use crate::experiment::Experiment;
use crate::report::finished_reports;
use crate::spec::Sweep;

/// The `#SBATCH` settings of `--executor slurm`, over the spec's `[executor.slurm]`.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// Slurm partition.
    #[arg(long, value_name = "NAME")]
    partition: Option<String>,
    /// Time limit of each task, e.g. `02:00:00`.
    #[arg(long, value_name = "TIME")]
    time: Option<String>,
    /// CPUs of each task.
    #[arg(long, value_name = "N")]
    cpus_per_task: Option<u32>,
    /// Memory of each task, e.g. `8G`.
    #[arg(long, value_name = "SIZE")]
    mem: Option<String>,
    /// Slurm account.
    #[arg(long, value_name = "NAME")]
    account: Option<String>,
    /// Array tasks running at once (`--array=...%K`).
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
pub fn submit_sweep(
    sweep: &Sweep,
    (spec, sets): (&std::path::Path, &[String]),
    slurm: &SlurmArgs,
    folders: &Folders,
) -> anyhow::Result<ExitCode> {
    let store = open_store(folders)?;
    let mer = std::env::current_exe()?;
    let (folder, record) = cluster::submit_sweep(
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

/// Submits one experiment's shards, seeds and report job, and prints the run folder.
pub fn submit_run(
    experiment: &Experiment,
    store: &ArtifactStore,
    slurm: &SlurmArgs,
    folders: &Folders,
) -> anyhow::Result<ExitCode> {
    let mer = std::env::current_exe()?;
    let settings = experiment
        .spec
        .executor
        .slurm
        .overridden_by(&slurm.settings());
    let (folder, record) =
        cluster::run::submit_run(experiment, (store, &folders.reports), &settings, &mer)?;
    let queued = record.seeds.iter().filter(|s| s.queued).count();
    let arrays: Vec<String> = [("shard", &record.shard_job), ("seed", &record.seed_job)]
        .into_iter()
        .filter_map(|(what, job)| Some(format!("{what} array {}", job.as_ref()?)))
        .collect();
    info!(
        "{}: {} of {} shards and {queued} of {} seeds submitted{}; report job {}",
        record.experiment,
        record.shard_tasks.len(),
        record.shards,
        record.seeds.len(),
        match arrays.is_empty() {
            true => String::new(),
            false => format!(" ({})", arrays.join(", ")),
        },
        record.report_job
    );
    info!("follow it with: mer status {}", folder.display());
    println!("{}", folder.display());
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `mer status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The folder `mer sweep --executor slurm` or `mer run --executor slurm` printed.
    #[arg(value_name = "FOLDER")]
    folder: PathBuf,
}

/// Prints where each task of a Slurm sweep or run stands; exit code 1 when one failed or was
/// killed, so scripts can wait on it.
pub fn status(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    if let Some(run) = read_run_submission(&args.folder)? {
        return run_status(&args.folder, &run);
    }
    let record = read_submission(&args.folder)?;
    let jobs = [
        record.shard_job.as_deref().unwrap_or(""),
        record.array_job.as_deref().unwrap_or(""),
        &record.summary_job,
    ];
    let queue = queue_or_files(&jobs);
    let mut rows = Vec::new();
    if let Some(job) = &record.shard_job {
        let indices: Vec<usize> = (0..record.shards).collect();
        rows.extend(shard_rows(
            &args.folder,
            (job, &indices, record.shards),
            &queue,
        ));
    }
    for member in &record.members {
        let state = member_status(&args.folder, &record, member, &queue);
        rows.push((member.name.clone(), member_task(member.index), state));
    }
    let bad = print_tasks(&args.folder, &rows);
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
    Ok(exit_code(bad))
}

/// The queue's states of `jobs`, or none (with a warning) when `squeue` cannot be run.
fn queue_or_files(jobs: &[&str]) -> HashMap<String, String> {
    queue_states(jobs).unwrap_or_else(|| {
        warn!("squeue could not be run: states come from the state files alone");
        HashMap::new()
    })
}

/// The status rows of the shard tasks `indices` of `job` (of `shards` in all).
fn shard_rows(
    folder: &Path,
    (job, indices, shards): (&str, &[usize], usize),
    queue: &HashMap<String, String>,
) -> Vec<(String, String, TaskStatus)> {
    (indices.iter())
        .map(|&index| {
            let task = format!("shard-{index}");
            let queued = QueuedTask {
                job,
                index: Some(index),
                task: &task,
            };
            let state = task_status(folder, queued, queue);
            (format!("shard {index} of {shards}"), task, state)
        })
        .collect()
}

/// Prints one line per task (its label, state, and log or error); whether one went bad.
fn print_tasks(folder: &Path, rows: &[(String, String, TaskStatus)]) -> bool {
    let width = rows
        .iter()
        .map(|(label, ..)| label.len())
        .max()
        .unwrap_or(0);
    for (label, task, state) in rows {
        let detail = match state {
            TaskStatus::Failed(_) | TaskStatus::Killed | TaskStatus::Running => {
                format!("  log: {}", log_path(folder, task).display())
            }
            TaskStatus::Unusable(error) => format!("  {error}"),
            _ => String::new(),
        };
        println!("{label:width$}  {}{detail}", state.label());
    }
    rows.iter().any(|(_, _, state)| state.is_bad())
}

fn exit_code(bad: bool) -> ExitCode {
    match bad {
        true => ExitCode::FAILURE,
        false => ExitCode::SUCCESS,
    }
}

/// `mer status` of a Slurm run: its shards, its seeds and its report job.
fn run_status(folder: &Path, run: &SlurmRun) -> anyhow::Result<ExitCode> {
    let (shard_job, seed_job) = (run.shard_job.as_deref(), run.seed_job.as_deref());
    let jobs = [
        shard_job.unwrap_or(""),
        seed_job.unwrap_or(""),
        &run.report_job,
    ];
    let queue = queue_or_files(&jobs);
    let status = |job: Option<&str>, index: Option<usize>, task: &str| match job {
        Some(job) => task_status(folder, QueuedTask { job, index, task }, &queue),
        None => TaskStatus::Reused,
    };
    let mut rows = Vec::new();
    if let Some(job) = shard_job {
        rows.extend(shard_rows(
            folder,
            (job, &run.shard_tasks, run.shards),
            &queue,
        ));
    }
    for seed in &run.seeds {
        let task = format!("seed-{}", seed.position);
        let state = match seed.queued {
            true => status(seed_job, Some(seed.position), &task),
            false => TaskStatus::Reused,
        };
        rows.push((format!("seed {}", seed.seed), task, state));
    }
    rows.push((
        format!("report (job {})", run.report_job),
        "report".to_string(),
        status(Some(&run.report_job), None, "report"),
    ));
    let bad = print_tasks(folder, &rows);
    if let Some((report, _)) =
        finished_reports(&run.reports, &run.experiment, &run.spec_hash).next()
    {
        println!("report: {}", report.display());
    }
    Ok(exit_code(bad))
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
