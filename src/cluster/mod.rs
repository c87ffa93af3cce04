//! Sweeps and runs on a Slurm cluster ([`run`] for a single experiment): one job array per sweep, whose task i runs member i with `mer
//! run` against the shared cache and reports folder, and a summary job that runs once every
//! task has ended (`--dependency=afterany`). Submitting returns at once: nothing keeps
//! running on the login node.
//!
//! The sweep folder (`<reports>/<spec>/sweep-<UTC time>/`) holds what was submitted and what
//! happened: `slurm.json` (the jobs and members), the batch scripts (`run-members.sh`,
//! `summarize.sh`), each member's resolved spec (`members/<i>.toml`), state file
//! (`state/member-<i>`, see [`status`]) and log (`logs/member-<i>.log`), and, once the summary
//! job ran, the same summary files as a local sweep. Members with a finished report are not
//! queued, so submitting the same sweep again runs only what has none (failed, killed or new).

pub mod run;
mod script;
pub mod status;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::cache::ArtifactStore;
use crate::clock::{parse_rfc3339, rfc3339};
use crate::report::ReportError;
use crate::results::sweep::MemberStatus;
pub use crate::spec::SlurmSettings;
use crate::spec::{Sweep, SweepError, expand_sweep};
use crate::sweep::{
    MemberCheck, SweepRun, SweepRunError, check_members, summarize_into, sweep_folder,
};

use status::{Recorded, log_path, member_task, recorded};

/// The submission record in a sweep folder.
pub const SLURM_JSON: &str = "slurm.json";

/// One member as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmittedMember {
    /// Its position in the sweep: its array task index.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Its identity (resolved spec hash).
    pub hash: String,
    /// Whether a task was queued for it (else it had a finished report, or is unusable).
    pub queued: bool,
    /// Its finished report when it was submitted.
    pub report: Option<PathBuf>,
    /// Why it cannot run, when its dataset does not load.
    pub error: Option<String>,
}

/// What `slurm.json` records of a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlurmSweep {
    /// The sweep's spec file (absolute) and its `--set` overrides.
    pub spec: PathBuf,
    /// The overrides.
    pub sets: Vec<String>,
    /// When it was submitted, RFC 3339.
    pub submitted: String,
    /// The shared cache.
    pub cache: PathBuf,
    /// The shared reports folder.
    pub reports: PathBuf,
    /// Shards per extraction.
    #[serde(default = "one")]
    pub shards: usize,
    /// The extraction shards' job array (one task per shard, over every queued member), when
    /// the spec shards its extractions.
    #[serde(default)]
    pub shard_job: Option<String>,
    /// The job array, when a member was queued.
    pub array_job: Option<String>,
    /// The summary job.
    pub summary_job: String,
    /// Every member.
    pub members: Vec<SubmittedMember>,
}

fn one() -> usize {
    1
}

/// Why a sweep could not be submitted, followed or summarized.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A file of the sweep folder could not be written or read.
    #[error("could not {action} '{}'", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `sbatch` could not be run or refused the job.
    #[error(
        "sbatch {script} failed: {reason}; is this a Slurm login node (`sinfo` lists the partitions)?"
    )]
    Sbatch {
        /// The script submitted.
        script: String,
        /// Its error output, or why it could not run.
        reason: String,
    },
    /// Some jobs were queued, then one was refused (and the ones after it not submitted).
    #[error(
        "{queued} queued, but {} was not: {source}; `mer status` follows what was queued; once the cause is mended, submit it by hand with `sbatch --dependency=afterany:{last} {}` (and any script after it the same way)",
        script.display(),
        script.display()
    )]
    PartlySubmitted {
        /// What was queued, with job ids.
        queued: String,
        /// The last job queued, which the refused one was to follow.
        last: String,
        /// The refused script.
        script: PathBuf,
        /// Why.
        source: Box<ClusterError>,
    },
    /// A folder is not a Slurm sweep's.
    #[error("'{}' is not the folder of a Slurm sweep (it has no {SLURM_JSON}); `mer sweep SPEC --executor slurm` makes one", .0.display())]
    NotASweep(PathBuf),
    /// `slurm.json` does not parse.
    #[error("'{}' cannot be read: {reason}", path.display())]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The spec no longer expands to the members that were submitted.
    #[error("{} changed since the sweep was submitted: member {member} is not what ran; submit the sweep again", spec.display())]
    SpecChanged {
        /// The spec.
        spec: PathBuf,
        /// The member that differs.
        member: String,
    },
    /// The sweep cannot be expanded.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// The summary could not be written.
    #[error(transparent)]
    Summary(#[from] SweepRunError),
    /// The sweep folder could not be made.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// What a run's cache lacks could not be planned.
    #[error(transparent)]
    Plan(Box<crate::pipeline::PipelineError>),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError {
    let path = path.to_path_buf();
    move |source| ClusterError::Io {
        action,
        path,
        source,
    }
}

/// `path` made absolute, as the jobs (run elsewhere) need it.
fn absolute(path: &Path) -> Result<PathBuf, ClusterError> {
    std::path::absolute(path).map_err(io("resolve", path))
}

/// Creates the submission folder's subfolders `names`.
fn create_subfolders(folder: &Path, names: &[&str]) -> Result<(), ClusterError> {
    for name in names {
        let path = folder.join(name);
        std::fs::create_dir_all(&path).map_err(io("create", &path))?;
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), ClusterError> {
    std::fs::write(path, text).map_err(io("write", path))
}

/// Submits `sweep` (expanded from `spec` with `sets`): writes the sweep folder, one job
/// array of the members without a finished report and the summary job, and returns the
/// folder with what was submitted. `mer` is the binary the jobs run.
pub fn submit_sweep(
    sweep: &Sweep,
    (spec, sets): (&Path, &[String]),
    (store, reports): (&ArtifactStore, &Path),
    settings: &SlurmSettings,
    mer: &Path,
) -> Result<(PathBuf, SlurmSweep), ClusterError> {
    let submitted = SystemTime::now();
    let (cache, reports_root) = (absolute(store.root())?, absolute(reports)?);
    let members: Vec<SubmittedMember> = (check_members(sweep, store, reports).into_iter())
        .enumerate()
        .map(|(index, check)| {
            let member = &sweep.members[index];
            let (queued, report, error) = match check {
                MemberCheck::Pending => (true, None, None),
                MemberCheck::Reported(report) => (false, Some(report), None),
                MemberCheck::Unusable(error) => (false, None, Some(error)),
            };
            SubmittedMember {
                index,
                name: member.name.clone(),
                hash: member.hash(),
                queued,
                report,
                error,
            }
        })
        .collect();
    let folder = sweep_folder(&reports_root, &sweep.base.name, submitted)?;
    create_subfolders(&folder, &["members", "logs", "state"])?;
    let layout = script::Layout {
        folder: &folder,
        mer,
        cache: &cache,
        reports: &reports_root,
    };
    let queued: Vec<usize> = members
        .iter()
        .filter(|m| m.queued)
        .map(|m| m.index)
        .collect();
    for &index in &queued {
        let path = folder.join("members").join(format!("{index}.toml"));
        write(&path, &sweep.members[index].spec.to_toml())?;
    }
    let name = &sweep.base.name;
    let shards = sweep.base.executor.extract_shards;
    let mut jobs = Submission::new(&layout, settings);
    let shard_job = match queued.is_empty() || shards == 1 {
        true => None,
        false => {
            let members: Vec<String> = queued.iter().map(usize::to_string).collect();
            let indices: Vec<usize> = (0..shards).collect();
            let job = script::Job {
                experiment: name,
                task: "shard",
                indices: Some(&indices),
                prelude: vec!["code=0".into()],
                command: format!(
                    "for m in {}; do {} run {}/$m.toml{} --shard $i || code=$?; done; (exit $code)",
                    members.join(" "),
                    layout.mer_command(),
                    layout.inside("members"),
                    shards_setting(shards)
                ),
                light: false,
            };
            jobs.submit("extract-shards.sh", &job, None)
        }
    };
    let array_job = match queued.is_empty() {
        true => None,
        false => {
            let job = script::Job {
                experiment: name,
                task: "member",
                indices: Some(&queued),
                prelude: Vec::new(),
                command: format!(
                    "{} run {}/$i.toml{}",
                    layout.mer_command(),
                    layout.inside("members"),
                    shards_setting(shards)
                ),
                light: false,
            };
            jobs.submit("run-members.sh", &job, shard_job.as_deref())
        }
    };
    let job = script::Job {
        experiment: name,
        task: "summary",
        indices: None,
        prelude: Vec::new(),
        command: format!(
            "{} sweep-summary {}",
            layout.mer_command(),
            script::quoted(&folder.display().to_string())
        ),
        light: true,
    };
    let summary_job = jobs.submit("summarize.sh", &job, array_job.as_deref());
    let record = SlurmSweep {
        spec: absolute(spec)?,
        sets: sets.to_vec(),
        submitted: rfc3339(submitted),
        cache: cache.clone(),
        reports: reports_root.clone(),
        shards,
        shard_job,
        array_job,
        summary_job: summary_job.unwrap_or_default(),
        members,
    };
    // Written whenever a job was queued, so that `mer status` follows it even when a later
    // job was refused.
    if jobs.any_queued() {
        let json = serde_json::to_string_pretty(&record).expect("submission records serialize");
        write(&folder.join(SLURM_JSON), &json)?;
    }
    jobs.finish()?;
    Ok((folder, record))
}

/// Jobs submitted one after the other, each script written into the folder first; after a
/// refusal no further job is submitted, and what was queued is kept for the record.
struct Submission<'a> {
    layout: &'a script::Layout<'a>,
    settings: &'a SlurmSettings,
    queued: Vec<(String, String)>,
    refused: Option<(PathBuf, ClusterError)>,
}

impl<'a> Submission<'a> {
    fn new(layout: &'a script::Layout<'a>, settings: &'a SlurmSettings) -> Self {
        Submission {
            layout,
            settings,
            queued: Vec::new(),
            refused: None,
        }
    }

    /// Writes `job` as `file` and submits it after `after`; its job id, or `None` when it or
    /// an earlier job was refused.
    fn submit(&mut self, file: &str, job: &script::Job<'_>, after: Option<&str>) -> Option<String> {
        if self.refused.is_some() {
            return None;
        }
        let path = self.layout.folder.join(file);
        let submitted = write(&path, &script::job_script(self.layout, job, self.settings))
            .and_then(|()| sbatch(&path, after));
        match submitted {
            Ok(id) => {
                self.queued.push((file.to_string(), id.clone()));
                Some(id)
            }
            Err(err) => {
                self.refused = Some((path, err));
                None
            }
        }
    }

    fn any_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// Whether every job was queued: the refusal otherwise, as [`ClusterError::PartlySubmitted`]
    /// when jobs before it were.
    fn finish(self) -> Result<(), ClusterError> {
        let Some((script, err)) = self.refused else {
            return Ok(());
        };
        let Some((_, last)) = self.queued.last() else {
            return Err(err);
        };
        let queued: Vec<String> = (self.queued.iter())
            .map(|(file, id)| format!("{file} (job {id})"))
            .collect();
        Err(ClusterError::PartlySubmitted {
            queued: queued.join(", "),
            last: last.clone(),
            script,
            source: Box::new(err),
        })
    }
}

/// The `--set` that gives a job's `mer run` the submission's extraction shards (the resolved
/// spec it runs leaves `[executor]` out).
fn shards_setting(shards: usize) -> String {
    match shards {
        1 => String::new(),
        n => format!(" --set executor.extract_shards={n}"),
    }
}

/// Submits `script` (after `after` has ended, when given); returns the job id.
fn sbatch(script: &Path, after: Option<&str>) -> Result<String, ClusterError> {
    let mut command = Command::new("sbatch");
    command.arg("--parsable");
    if let Some(job) = after {
        command.arg(format!("--dependency=afterany:{job}"));
    }
    let failed = |reason: String| ClusterError::Sbatch {
        script: script.display().to_string(),
        reason,
    };
    let output = command
        .arg(script)
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        return Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    // `--parsable` prints `<id>` or `<id>;<cluster>`.
    let text = String::from_utf8_lossy(&output.stdout);
    let id = text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    match id.is_empty() {
        true => Err(failed("it printed no job id".into())),
        false => Ok(id),
    }
}

/// Reads a sweep folder's `slurm.json`.
pub fn read_submission(folder: &Path) -> Result<SlurmSweep, ClusterError> {
    let path = folder.join(SLURM_JSON);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) if !path.exists() => return Err(ClusterError::NotASweep(folder.to_path_buf())),
        Err(source) => return Err(io("read", &path)(source)),
    };
    serde_json::from_str(&text).map_err(|e| ClusterError::BadRecord {
        path,
        reason: e.to_string(),
    })
}

/// Writes the summary of the sweep in `folder` (the summary job runs this): each member with
/// a finished report is complete; the others are failed (with their exit code or as killed,
/// and their log) or not run.
pub fn summarize(folder: &Path, store: &ArtifactStore) -> Result<SweepRun, ClusterError> {
    let record = read_submission(folder)?;
    let sweep = expand_sweep(&record.spec, &record.sets)?;
    for (member, submitted) in sweep.members.iter().zip(&record.members) {
        if member.hash() != submitted.hash || member.name != submitted.name {
            return Err(ClusterError::SpecChanged {
                spec: record.spec.clone(),
                member: submitted.name.clone(),
            });
        }
    }
    let started = parse_rfc3339(&record.submitted).ok_or_else(|| ClusterError::BadRecord {
        path: folder.join(SLURM_JSON),
        reason: format!("`submitted` is not a time: {}", record.submitted),
    })?;
    let queued = |index: usize| record.members.get(index).is_some_and(|m| m.queued);
    let missing = |index: usize| {
        let task = member_task(index);
        let log = log_path(folder, &task).display().to_string();
        match recorded(folder, &task) {
            Recorded::Exited(code) => (
                MemberStatus::Failed,
                format!("its task exited with code {code}; log: {log}"),
            ),
            Recorded::Running => (
                MemberStatus::Failed,
                format!("its task was killed (time limit, preemption or scancel); log: {log}"),
            ),
            Recorded::None => (MemberStatus::NotRun, "its task never started".to_string()),
        }
    };
    Ok(summarize_into(
        folder.to_path_buf(),
        &sweep,
        (store, &record.reports),
        started,
        &queued,
        &missing,
    )?)
}
