//! Running the members of a sweep (expanded by [`crate::spec::sweep`]) side by side against
//! one cache, planning them, and the summary folder that links their reports ([`summary`]).
//!
//! Members share the cache, so a stage two members need (the extraction of a modality, the
//! split of a modality ablation, whose members keep the same songs) is computed once: the
//! first member to reach it takes its lock and computes it, the others find it cached or wait
//! for it and record `waited` (see [`crate::pipeline::Pipeline::execute`] for why no member
//! waits while holding a lock). Every member runs as `mer run` would and writes its own report
//! folder under `<reports>/<spec>/<member>/`. A member that already has a whole, finished report
//! there of the same resolved spec and stage keys (see
//! [`crate::experiment::Experiment::up_to_date_report`]) is reused, not rerun. One member failing does not
//! stop the others; an interrupt stops them all between stages.

pub mod select;
pub mod summary;

pub use crate::results::sweep::MemberStatus;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::SystemTime;

use crate::cache::{ArtifactStore, CacheError, FileHasher, StageKey};
use crate::experiment::{Experiment, error_chain, load_data};
use crate::pipeline::{
    DurationHistory, Estimate, PipelineError, RunObserver, RunOptions, StageSelector,
};
use crate::report::ReportError;
use crate::results::{Decision, StageRecord};
use crate::spec::{Sweep, SweepMember};

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Members running at once (at least 1).
    pub jobs: usize,
    /// Stages every member recomputes (as `mer run --force`); with any, no member is reused.
    pub force: Vec<StageSelector>,
    /// Set (by Ctrl-C) to stop every member between stages.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// One member's fate in a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberOutcome {
    /// The member's name.
    pub name: String,
    /// Its identity: the hash of its resolved spec (its `run.json`'s `spec_hash`).
    pub hash: String,
    /// What it changes (see [`SweepMember::set`]).
    pub set: BTreeMap<String, toml::Value>,
    /// What became of it.
    pub status: MemberStatus,
    /// Its report folder (under the reports root), when it has one.
    pub report: Option<PathBuf>,
    /// Why it failed or stopped.
    pub error: Option<String>,
}

/// What a caller (the command line's progress bars) hears while a sweep runs; member
/// indices are positions in [`Sweep::members`]. Called from the members' threads.
pub trait SweepObserver: Sync {
    /// A member starts running `stages` stages.
    fn member_started(&self, _member: usize, _stages: usize) {}
    /// A member took a stage from the cache or computed it.
    fn stage_decided(&self, _member: usize, _record: &StageRecord) {}
    /// A member is done: finished, reused, failed, interrupted or not run.
    fn member_done(&self, _member: usize, _outcome: &MemberOutcome) {}
}

/// A whole sweep's result.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// The summary folder written, `<reports>/<spec>/sweep-<UTC time>/`.
    pub folder: PathBuf,
    /// Start time, RFC 3339.
    pub started: String,
    /// End time, RFC 3339.
    pub finished: String,
    /// Whether an interrupt stopped it.
    pub interrupted: bool,
    /// Every member, in expansion order.
    pub members: Vec<MemberOutcome>,
    /// The selected result, when the spec asks for one and a member finished.
    pub selection: Option<crate::results::sweep::Selection>,
}

impl SweepRun {
    /// Whether every member has a complete report.
    pub fn complete(&self) -> bool {
        self.members.iter().all(|m| m.status.is_complete())
    }
}

/// Why a sweep could not run or write its summary (a member's own failure is not one).
#[derive(Debug, thiserror::Error)]
pub enum SweepRunError {
    /// The cache could not be read (its entries' durations, for a plan).
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The summary folder could not be written.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// `[sweep] select` names a metric the runs do not report.
    #[error("{}: {error}", spec.display())]
    Select {
        /// What is wrong.
        error: select::SelectError,
        /// The sweep's spec file.
        spec: std::path::PathBuf,
    },
}

/// Checks what a sweep's `[sweep] select` asks for before any member runs.
fn check_selection(sweep: &Sweep) -> Result<(), SweepRunError> {
    if let Some(select) = &sweep.base.sweep.select {
        select::metric_of(select, sweep.base.task.kind).map_err(|error| SweepRunError::Select {
            error,
            spec: sweep.path.clone(),
        })?;
    }
    Ok(())
}

/// Runs `sweep`'s members, at most `options.jobs` at once, and writes the summary folder
/// under `reports_root`.
pub fn run_sweep(
    sweep: &Sweep,
    store: &ArtifactStore,
    reports_root: &Path,
    options: &SweepOptions,
    observer: &dyn SweepObserver,
) -> Result<SweepRun, SweepRunError> {
    check_selection(sweep)?;
    let started = SystemTime::now();
    let reuse = options.force.is_empty();
    let mut outcomes: Vec<Option<MemberOutcome>> = vec![None; sweep.members.len()];
    let mut queue = Vec::new();
    for (index, prepared) in prepare(sweep, store, reports_root, reuse)
        .into_iter()
        .enumerate()
    {
        match prepared {
            Prepared::Run(experiment) => queue.push((index, experiment)),
            Prepared::Done(outcome) => {
                observer.member_done(index, &outcome);
                outcomes[index] = Some(outcome);
            }
        }
    }
    let interrupted = || {
        options
            .interrupt
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    };
    let run_options = RunOptions {
        force: options.force.clone(),
        interrupt: options.interrupt.clone(),
        ..RunOptions::default()
    };
    let next = AtomicUsize::new(0);
    let ran: Mutex<Vec<(usize, MemberOutcome)>> = Mutex::new(Vec::new());
    let workers = options.jobs.clamp(1, queue.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some((index, experiment)) = queue.get(next.fetch_add(1, Ordering::SeqCst))
                {
                    let member = &sweep.members[*index];
                    let outcome = if interrupted() {
                        outcome(member, MemberStatus::NotRun, None, None)
                    } else {
                        observer.member_started(*index, experiment.graph.nodes.len());
                        let watcher = MemberWatcher {
                            member: *index,
                            observer,
                        };
                        run_member(
                            member,
                            experiment,
                            store,
                            reports_root,
                            &run_options,
                            &watcher,
                        )
                    };
                    observer.member_done(*index, &outcome);
                    ran.lock()
                        .expect("no panic holds it")
                        .push((*index, outcome));
                }
            });
        }
    });
    for (index, outcome) in ran.into_inner().expect("no panic holds it") {
        outcomes[index] = Some(outcome);
    }
    let members: Vec<MemberOutcome> = outcomes
        .into_iter()
        .map(|o| o.expect("every member is prepared, run or skipped"))
        .collect();
    let was_interrupted = interrupted();
    summary::write(
        sweep,
        reports_root,
        started,
        SystemTime::now(),
        was_interrupted,
        members,
    )
}

/// A new sweep folder, `<reports_root>/<name>/sweep-<started, UTC>/` (`-2`, ... when taken).
pub fn sweep_folder(
    reports_root: &Path,
    name: &str,
    started: SystemTime,
) -> Result<PathBuf, ReportError> {
    job_folder(reports_root, name, "sweep", started)
}

/// A new folder `<reports_root>/<name>/<kind>-<UTC time>` (with a counter if taken): a
/// sweep's, or a Slurm run's.
pub fn job_folder(
    reports_root: &Path,
    name: &str,
    kind: &str,
    started: SystemTime,
) -> Result<PathBuf, ReportError> {
    let folder = format!("{kind}-{}", crate::clock::compact(started));
    summary::create_folder(&reports_root.join(name), &folder)
}

/// Where a member stands before a sweep runs it elsewhere (as a cluster job).
#[derive(Debug, Clone, PartialEq)]
pub enum MemberCheck {
    /// It has a whole, finished report of its resolved spec and stage keys.
    Reported(PathBuf),
    /// It has none: it must run.
    Pending,
    /// Its dataset does not load or its graph cannot be built: running it would fail.
    Unusable(String),
}

/// Where every member of `sweep` stands against `store` and `reports_root`.
pub fn check_members(
    sweep: &Sweep,
    store: &ArtifactStore,
    reports_root: &Path,
) -> Vec<MemberCheck> {
    (prepare(sweep, store, reports_root, true).into_iter())
        .map(|prepared| match prepared {
            Prepared::Run(_) => MemberCheck::Pending,
            Prepared::Done(MemberOutcome {
                report: Some(report),
                ..
            }) => MemberCheck::Reported(report),
            Prepared::Done(outcome) => {
                MemberCheck::Unusable(outcome.error.unwrap_or_else(|| "unknown".into()))
            }
        })
        .collect()
}

/// The summary of a sweep whose members ran elsewhere (cluster jobs), written into its
/// existing `folder`: each member with a finished report is complete (`ran_here(i)` says
/// whether this sweep ran it or found it), every other one gets `missing(i)`'s status and
/// error.
pub fn summarize_into(
    folder: PathBuf,
    sweep: &Sweep,
    (store, reports_root): (&ArtifactStore, &Path),
    started: SystemTime,
    ran_here: &dyn Fn(usize) -> bool,
    missing: &dyn Fn(usize) -> (MemberStatus, String),
) -> Result<SweepRun, SweepRunError> {
    check_selection(sweep)?;
    let members = (check_members(sweep, store, reports_root)
        .into_iter()
        .enumerate())
    .map(|(index, check)| {
        let member = &sweep.members[index];
        match check {
            MemberCheck::Reported(report) => {
                let status = match ran_here(index) {
                    true => MemberStatus::Finished,
                    false => MemberStatus::Reused,
                };
                outcome(member, status, Some(report), None)
            }
            MemberCheck::Unusable(error) => {
                outcome(member, MemberStatus::Failed, None, Some(error))
            }
            MemberCheck::Pending => {
                let (status, error) = missing(index);
                outcome(member, status, None, Some(error))
            }
        }
    })
    .collect();
    let finished = SystemTime::now();
    summary::write_into(
        folder,
        sweep,
        reports_root,
        (started, finished),
        false,
        members,
    )
}

/// A member ready to run, or already decided (reused, or failed to prepare).
enum Prepared {
    Run(Box<Experiment>),
    Done(MemberOutcome),
}

/// Loads every member's dataset and builds its stage graph, one member after another (the
/// file hashes are shared through one stat cache, saved once), before anything runs.
fn prepare(
    sweep: &Sweep,
    store: &ArtifactStore,
    reports_root: &Path,
    reuse: bool,
) -> Vec<Prepared> {
    let mut hasher = FileHasher::open(store.root());
    let prepared = sweep
        .members
        .iter()
        .map(|member| {
            let experiment = load_data(&member.spec)
                .and_then(|data| Experiment::new(member.spec.clone(), data, &mut hasher));
            match experiment {
                Ok(experiment) => match reuse
                    .then(|| experiment.up_to_date_report(reports_root))
                    .flatten()
                {
                    Some(report) => {
                        Prepared::Done(outcome(member, MemberStatus::Reused, Some(report), None))
                    }
                    None => Prepared::Run(Box::new(experiment)),
                },
                Err(err) => Prepared::Done(outcome(
                    member,
                    MemberStatus::Failed,
                    None,
                    Some(error_chain(&err)),
                )),
            }
        })
        .collect();
    hasher.save();
    prepared
}

fn outcome(
    member: &SweepMember,
    status: MemberStatus,
    report: Option<PathBuf>,
    error: Option<String>,
) -> MemberOutcome {
    MemberOutcome {
        name: member.name.clone(),
        hash: member.hash(),
        set: member.set.clone(),
        status,
        report,
        error,
    }
}

/// Runs one member to its report; a panic inside it fails that member only.
fn run_member(
    member: &SweepMember,
    experiment: &Experiment,
    store: &ArtifactStore,
    reports_root: &Path,
    options: &RunOptions,
    watcher: &MemberWatcher<'_>,
) -> MemberOutcome {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        experiment.run(store, reports_root, options, watcher)
    }));
    match run {
        Ok(Ok(run)) => match &run.error {
            None => outcome(member, MemberStatus::Finished, Some(run.report), None),
            Some(err) => {
                let status = match err {
                    PipelineError::Interrupted(_) => MemberStatus::Interrupted,
                    _ => MemberStatus::Failed,
                };
                outcome(member, status, Some(run.report), Some(error_chain(err)))
            }
        },
        Ok(Err(err)) => outcome(member, MemberStatus::Failed, None, Some(error_chain(&err))),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            outcome(
                member,
                MemberStatus::Failed,
                None,
                Some(format!(
                    "panicked: {message} (a bug in mer; please report it)"
                )),
            )
        }
    }
}

/// Forwards one member's stage decisions to the sweep's observer.
struct MemberWatcher<'a> {
    member: usize,
    observer: &'a dyn SweepObserver,
}

impl RunObserver for MemberWatcher<'_> {
    fn stages_planned(&self, stages: usize) {
        self.observer.member_started(self.member, stages);
    }

    fn stage_decided(&self, record: &StageRecord) {
        self.observer.stage_decided(self.member, record);
    }
}

/// What `mer plan` shows for one member.
#[derive(Debug, Clone)]
pub struct MemberPlan {
    /// The member's name.
    pub name: String,
    /// Its identity.
    pub hash: String,
    /// A finished report that would be reused (nothing would run).
    pub reused: Option<PathBuf>,
    /// Why it could not be planned (its dataset does not load, ...).
    pub error: Option<String>,
    /// Every stage's decision, in graph order.
    pub stages: Vec<StageRecord>,
    /// For each stage, the earlier member that computes it first, when another does.
    pub shared_with: Vec<Option<String>>,
    /// Time of the stages it computes itself.
    pub estimate: Estimate,
}

/// Plans every member against the cache: which stages each would take from the cache and
/// which it would compute. A stage several members miss is counted for the first of them;
/// the others show it as shared.
pub fn plan_sweep(
    sweep: &Sweep,
    store: &ArtifactStore,
    reports_root: &Path,
) -> Result<Vec<MemberPlan>, SweepRunError> {
    check_selection(sweep)?;
    let history = DurationHistory::from_store(store)?;
    let mut first_computed_by: HashMap<StageKey, String> = HashMap::new();
    let mut plans = Vec::new();
    for prepared in prepare(sweep, store, reports_root, true)
        .into_iter()
        .zip(&sweep.members)
    {
        let (prepared, member) = prepared;
        let mut plan = MemberPlan {
            name: member.name.clone(),
            hash: member.hash(),
            reused: None,
            error: None,
            stages: Vec::new(),
            shared_with: Vec::new(),
            estimate: Estimate::default(),
        };
        let experiment = match prepared {
            Prepared::Done(outcome) => {
                plan.reused = outcome.report;
                plan.error = outcome.error;
                plans.push(plan);
                continue;
            }
            Prepared::Run(experiment) => experiment,
        };
        match experiment.plan(store, &RunOptions::default()) {
            Ok(stages) => {
                plan.shared_with = stages
                    .iter()
                    .map(|stage| {
                        if stage.decision == Decision::Hit {
                            return None;
                        }
                        let first = first_computed_by
                            .entry(stage.key)
                            .or_insert_with(|| member.name.clone());
                        (first != &member.name).then(|| first.clone())
                    })
                    .collect();
                let computed: HashSet<&str> = (stages.iter().zip(&plan.shared_with))
                    .filter(|(stage, shared)| stage.decision != Decision::Hit && shared.is_none())
                    .map(|(stage, _)| stage.instance.as_str())
                    .collect();
                plan.estimate = Estimate::of(&experiment.graph, &history, |instance| {
                    computed.contains(instance)
                });
                plan.stages = stages;
            }
            Err(err) => plan.error = Some(error_chain(&err)),
        }
        plans.push(plan);
    }
    Ok(plans)
}
