//! `mer sweep` and the plan of a spec with a `[sweep]` section.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::{info, warn};

use super::cluster::{SlurmArgs, submit_sweep};
use super::{Folders, SpecArgs, interrupt_flag, open_store};
use crate::pipeline::{Estimate, StageSelector};
use crate::results::{Decision, StageRecord};
use crate::results::{Metric, spread_text};
use crate::spec::{ExecutorKind, Sweep, expand_sweep};
use crate::sweep::summary::{SELECTED, read_headline};
use crate::sweep::{MemberOutcome, MemberPlan, SweepObserver, SweepOptions, plan_sweep, run_sweep};

/// Members running at once unless `--jobs` says otherwise. Each member already spreads its
/// stages over every core (songs, folds and seeds in parallel), so on the 2-core development
/// machine the demo ablation takes as long with 1 as with 2 (28.5 s and 27.6 s, see the
/// README); a second member fills the cores that a member's narrow levels (its split, its
/// evaluation: one stage per seed) leave idle on larger machines, for little memory (105 MB
/// against 110 MB there). More only adds memory.
const DEFAULT_JOBS: u16 = 2;

/// Arguments of `mer sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// Members running at once (each member already uses every core for its own stages).
    #[arg(long, short = 'j', value_name = "N", default_value_t = DEFAULT_JOBS,
          value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Recompute a stage in every member even if cached (as `mer run --force`); no finished
    /// member is reused then (repeatable).
    #[arg(long, value_name = "STAGE")]
    force: Vec<StageSelector>,
    /// Where the members run: here, or as one Slurm job array submitted from a login node
    /// (returns at once; `mer status SWEEP_FOLDER` follows it). Default: the spec's
    /// `executor.kind`, else here.
    #[arg(long, value_enum)]
    executor: Option<ExecutorKind>,
    #[command(flatten)]
    slurm: SlurmArgs,
}

/// Runs every member without a finished report, writes the summary folder, and prints one
/// line per member; the exit code is 1 when a member failed or did not finish.
pub fn sweep(args: &SweepArgs, folders: &Folders) -> anyhow::Result<ExitCode> {
    let sweep = expand_sweep(&args.spec.spec, &args.spec.sets)?;
    if args.executor.unwrap_or(sweep.base.executor.kind) == ExecutorKind::Slurm {
        if !args.force.is_empty() {
            anyhow::bail!("--force is not available with --executor slurm");
        }
        return submit_sweep(
            &sweep,
            (&args.spec.spec, &args.spec.sets),
            &args.slurm,
            folders,
        );
    }
    info!(
        "{}: {} members, at most {} at once",
        sweep.base.name,
        sweep.members.len(),
        args.jobs
    );
    let store = open_store(folders)?;
    let options = SweepOptions {
        jobs: usize::from(args.jobs),
        force: args.force.clone(),
        interrupt: Some(interrupt_flag()),
    };
    let progress = SweepProgress::new(&sweep);
    let run = run_sweep(&sweep, &store, &folders.reports, &options, &progress);
    progress.finish();
    let run = run?;
    let selected = sweep.base.sweep.select.as_ref().map(|_| SELECTED);
    let width = name_width((sweep.members.iter().map(|m| m.name.as_str())).chain(selected));
    let headlines: Vec<_> = (run.members.iter())
        .map(|member| {
            (member.report.as_deref())
                .filter(|_| member.status.is_complete())
                .and_then(read_headline)
        })
        .collect();
    let metric = match headlines.iter().flatten().next() {
        Some(h) if h.metric != Metric::MacroF1 => h.metric.to_string(),
        _ => "macro-F1".to_string(),
    };
    println!(
        "{:<width$}  {:<11}  {:<15}  report",
        "member", "status", metric
    );
    for (member, headline) in run.members.iter().zip(&headlines) {
        let f1 = headline
            .map(|h| spread_text(h.mean, h.std))
            .unwrap_or_default();
        let report = member
            .report
            .as_ref()
            .map(|r| r.display().to_string())
            .unwrap_or_default();
        println!(
            "{:<width$}  {:<11}  {f1:<15}  {report}",
            member.name,
            member.status.label()
        );
    }
    if let Some(selection) = &run.selection {
        let spread = spread_text(selection.test_mean, selection.test_std);
        let chosen: Vec<String> = (selection.seeds.iter())
            .map(|s| format!("{}@{}", s.member, s.seed))
            .collect();
        println!(
            "{:<width$}  {:<11}  {spread:<15}  test {} of the member with the best cv {} per seed: {}",
            SELECTED,
            SELECTED,
            selection.metric,
            selection.metric,
            chosen.join(", ")
        );
    }
    for member in run.members.iter().filter(|m| m.error.is_some()) {
        warn!(
            "{} {}: {}",
            member.name,
            member.status.label(),
            member.error.as_deref().unwrap_or_default()
        );
    }
    info!("summary: {}", run.folder.display());
    if run.complete() {
        return Ok(ExitCode::SUCCESS);
    }
    let unfinished = run.members.iter().filter(|m| !m.status.is_complete());
    warn!(
        "{} of {} members have no complete report{}; running the same command again runs only them",
        unfinished.count(),
        run.members.len(),
        if run.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    Ok(ExitCode::FAILURE)
}

/// `mer plan` for a spec with `[sweep]`: per member, per stage kind, what the cache has, what
/// it would compute and what another member computes first; then the totals.
pub fn plan(args: &SpecArgs, folders: &Folders) -> anyhow::Result<ExitCode> {
    let sweep = expand_sweep(&args.spec, &args.sets)?;
    let store = open_store(folders)?;
    let plans = plan_sweep(&sweep, &store, &folders.reports)?;
    let mut total = Estimate::default();
    let (mut stages, mut hits, mut shared, mut reused) = (0, 0, 0, 0);
    for plan in &plans {
        print_member_plan(plan);
        total.add(&plan.estimate);
        stages += plan.stages.len();
        hits += count(&plan.stages, |s| s.decision == Decision::Hit);
        shared += plan.shared_with.iter().filter(|s| s.is_some()).count();
        reused += usize::from(plan.reused.is_some());
    }
    println!(
        "{} members ({reused} reused): {stages} stages, {hits} cached, {} to compute, {shared} shared with an earlier member; time, members one after another: {total}",
        plans.len(),
        total.stages,
    );
    Ok(ExitCode::SUCCESS)
}

fn count(stages: &[StageRecord], keep: impl Fn(&StageRecord) -> bool) -> usize {
    stages.iter().filter(|s| keep(s)).count()
}

fn print_member_plan(plan: &MemberPlan) {
    let head = format!("{} (spec {})", plan.name, plan.hash);
    if let Some(report) = &plan.reused {
        println!("{head}: reused, finished report {}", report.display());
        return;
    }
    if let Some(error) = &plan.error {
        println!("{head}: cannot run: {error}");
        return;
    }
    println!(
        "{head}: {} stages, {} to compute; time: {}",
        plan.stages.len(),
        plan.estimate.stages,
        plan.estimate
    );
    // One line per stage kind, in graph order: counts, and the first miss's reason.
    let mut kinds: Vec<&str> = Vec::new();
    for stage in &plan.stages {
        if !kinds.contains(&stage.stage.as_str()) {
            kinds.push(&stage.stage);
        }
    }
    let width = name_width(kinds.iter().copied());
    for kind in kinds {
        let of_kind: Vec<(&StageRecord, &Option<String>)> = plan
            .stages
            .iter()
            .zip(&plan.shared_with)
            .filter(|(s, _)| s.stage == kind)
            .collect();
        let hits = of_kind
            .iter()
            .filter(|(s, _)| s.decision == Decision::Hit)
            .count();
        let shared: Vec<&String> = of_kind.iter().filter_map(|(_, w)| w.as_ref()).collect();
        let misses: Vec<&StageRecord> = of_kind
            .iter()
            .filter(|(s, w)| s.decision != Decision::Hit && w.is_none())
            .map(|(s, _)| *s)
            .collect();
        let mut parts = Vec::new();
        if hits > 0 {
            parts.push(format!("{hits} hit"));
        }
        if !misses.is_empty() {
            let why = misses[0].reasons.first().map_or("", String::as_str);
            parts.push(format!("{} miss ({why})", misses.len()));
        }
        if let Some(first) = shared.first() {
            parts.push(format!("{} computed first by {first}", shared.len()));
        }
        println!("  {kind:<width$}  {}", parts.join(", "));
    }
}

fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(str::len).max().unwrap_or(6).max(6)
}

/// One bar per member on stderr when it is a terminal: stages done of its stages, and what
/// became of it.
struct SweepProgress {
    bars: MultiProgress,
    members: Vec<ProgressBar>,
}

impl SweepProgress {
    fn new(sweep: &Sweep) -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bars = MultiProgress::with_draw_target(target);
        let selected = sweep.base.sweep.select.as_ref().map(|_| SELECTED);
        let width = name_width((sweep.members.iter().map(|m| m.name.as_str())).chain(selected));
        let template = format!("{{prefix:<{width}}} {{bar:30}} {{pos}}/{{len}} stages {{msg}}");
        let members = sweep
            .members
            .iter()
            .map(|member| {
                let bar = bars.add(ProgressBar::new(0));
                bar.set_style(ProgressStyle::with_template(&template).expect("valid template"));
                bar.set_prefix(member.name.clone());
                bar.set_message("queued");
                bar
            })
            .collect();
        SweepProgress { bars, members }
    }

    fn finish(&self) {
        for bar in &self.members {
            bar.finish_and_clear();
        }
        let _ = self.bars.clear();
    }
}

impl SweepObserver for SweepProgress {
    fn member_started(&self, member: usize, stages: usize) {
        let bar = &self.members[member];
        bar.set_length(stages as u64);
        bar.set_message("running");
        bar.enable_steady_tick(std::time::Duration::from_millis(250));
    }

    fn stage_decided(&self, member: usize, _record: &StageRecord) {
        self.members[member].inc(1);
    }

    fn member_done(&self, member: usize, outcome: &MemberOutcome) {
        self.members[member].finish_with_message(outcome.status.label());
    }
}
