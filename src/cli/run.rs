//! `mer run` and `mer plan`: the stage graph against the cache, and the report folder.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::{debug, info};

use super::cluster::{SlurmArgs, submit_run};
use super::{Folders, SpecArgs, interrupt_flag, load_experiment, log_dataset, open_store};
use crate::cache::{ArtifactStore, FileHasher};
use crate::dataset::DatasetLoad;
use crate::experiment::{Experiment, load_data};
use crate::pipeline::{Compute, DurationHistory, Estimate, RunObserver, RunOptions, StageSelector};
use crate::results::{Decision, DecisionTable, RunResults, StageRecord};
use crate::spec::{ExecutorKind, ExperimentSpec, load_spec};

/// Arguments of `mer run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// Print what would run and why, without running anything (same as `mer plan`).
    #[arg(long)]
    dry_run: bool,
    /// Recompute a stage even if cached: `extract.audio`, `train`, `train[2]`, `train[2]@42`
    /// (repeatable).
    #[arg(long, value_name = "STAGE")]
    force: Vec<StageSelector>,
    /// Write a new report even when a finished one of the same spec and inputs exists (by
    /// default such a rerun only points at it).
    #[arg(long)]
    new_report: bool,
    /// Compute only these stages and what they read, into the cache, and write no report:
    /// `extract.audio`, `evaluate@42`, `extract.audio.shard[3]` (repeatable).
    #[arg(long, value_name = "STAGE")]
    only: Vec<StageSelector>,
    /// Compute only shard I of every sharded extraction (`executor.extract_shards`), into
    /// the cache, and write no report: what a Slurm shard task runs.
    #[arg(long, value_name = "I", conflicts_with = "cached_only")]
    shard: Option<usize>,
    /// Compute nothing: take every stage from the cache and write the report, or fail naming
    /// the first stage missing (what a Slurm run's report job does).
    #[arg(long, conflicts_with_all = ["force", "only"])]
    cached_only: bool,
    /// Where to run: here, or as Slurm jobs (one array task per extraction shard and per
    /// seed, then the report; returns at once, `mer status FOLDER` follows it). Default: the
    /// spec's `executor.kind`, else here.
    #[arg(long, value_enum)]
    executor: Option<ExecutorKind>,
    #[command(flatten)]
    slurm: SlurmArgs,
    /// Stand-ins for train and evaluate (artifacts of the right shape from the seed, under keys
    /// of their own), for testing the graph, cache and report in milliseconds.
    #[arg(long, hide = true)]
    debug_mock_stages: bool,
}

/// Runs every stage whose artifact is not cached and writes the report folder.
pub fn run(args: &RunArgs, folders: &Folders) -> anyhow::Result<ExitCode> {
    let (spec, data) = load_experiment(&args.spec)?;
    if !spec.sweep.is_empty() {
        info!(
            "{} has a [sweep] section: `mer run` runs the spec as written, without its members; `mer sweep {}` runs them",
            args.spec.spec.display(),
            args.spec.spec.display()
        );
    }
    let store = open_store(folders)?;
    let compute = if args.debug_mock_stages {
        Compute::Mock
    } else {
        Compute::Real
    };
    let experiment = prepare(spec, data, &store, compute)?;
    let mut only = args.only.clone();
    if let Some(shard) = args.shard {
        // The shards of extractions already joined in the cache are not needed.
        let graph = &experiment.graph;
        let shards: Vec<StageSelector> = (graph.shards(shard))
            .filter(|node| !graph.join_cached(node, &store))
            .map(|node| {
                node.id
                    .to_string()
                    .parse()
                    .expect("a stage id is a selector")
            })
            .collect();
        if shards.is_empty() {
            info!(
                "shard {shard}: no extraction to compute (executor.extract_shards = {}, joined features cached)",
                experiment.spec.executor.extract_shards
            );
            return Ok(ExitCode::SUCCESS);
        }
        only.extend(shards);
    }
    let options = RunOptions {
        force: args.force.clone(),
        interrupt: Some(interrupt_flag()),
        only,
        cached_only: args.cached_only,
    };
    if args.dry_run {
        print_plan(&experiment, &store, &options)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !args.new_report
        && args.force.is_empty()
        && options.only.is_empty()
        && let Some(report) = experiment.up_to_date_report(&folders.reports)
    {
        info!(
            "up to date: nothing changed since the last run of this spec (--new-report writes a new report anyway)"
        );
        info!("report: {}", report.display());
        return Ok(ExitCode::SUCCESS);
    }
    if args.executor.unwrap_or(experiment.spec.executor.kind) == ExecutorKind::Slurm {
        if !args.force.is_empty() || !options.only.is_empty() || args.cached_only {
            anyhow::bail!(
                "--force, --only, --shard and --cached-only are not available with --executor slurm"
            );
        }
        return submit_run(&experiment, &store, &args.slurm, folders);
    }
    if !options.only.is_empty() {
        return compute_only(&experiment, &store, &options);
    }

    let progress = RunProgress::new(experiment.graph.nodes.len());
    let outcome = experiment.run(&store, &folders.reports, &options, &progress);
    progress.finish();
    let outcome = outcome?;
    if let Some(results) = &outcome.results {
        log_headline(results);
    }
    if let Some(error) = outcome.error {
        return Err(anyhow::Error::new(error)).with_context(|| {
            format!(
                "run failed; {} says which stages ran",
                outcome.report.join("run.json").display()
            )
        });
    }
    let record = &outcome.record;
    let computed = record.stages.len() - record.count(Decision::Hit);
    let seconds = outcome.elapsed.as_secs_f64();
    if computed == 0 {
        info!(
            "all {} stages cached; nothing ran ({seconds:.2} s)",
            record.stages.len(),
        );
    } else {
        info!(
            "{} of {} stages computed, {} cached ({seconds:.2} s)",
            computed,
            record.stages.len(),
            record.count(Decision::Hit),
        );
    }
    info!("report: {}", outcome.report.display());
    Ok(ExitCode::SUCCESS)
}

/// `mer run --only`: the stages asked for, into the cache, and no report.
fn compute_only(
    experiment: &Experiment,
    store: &ArtifactStore,
    options: &RunOptions,
) -> anyhow::Result<ExitCode> {
    let progress = RunProgress::new(experiment.graph.nodes.len());
    let (stages, error) = experiment.compute(store, options, &progress);
    progress.finish();
    let hits = stages
        .iter()
        .filter(|s| s.decision == Decision::Hit)
        .count();
    info!(
        "{} stages computed, {hits} cached; no report is written for --only",
        stages.len() - hits
    );
    match error {
        Some(error) => Err(anyhow::Error::new(error).context("run --only failed")),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// One line per seed with the headline model's test accuracy and macro-F1.
fn log_headline(results: &RunResults) {
    for seed in &results.seeds {
        if let Some(score) = seed.headline_score() {
            let m = &score.metrics;
            let f1 = score
                .intervals
                .map(|(_, f1)| format!(" [{:.3}, {:.3}]", f1.low, f1.high))
                .unwrap_or_default();
            info!(
                "seed {}: {} on {} test songs: accuracy {:.3}, macro-F1 {:.3}{f1}",
                seed.seed, seed.headline, m.songs, m.accuracy, m.macro_f1
            );
        }
    }
}

/// `mer plan`: the decision table of a run, without running; a spec with a `[sweep]` section
/// gets the plan of its members.
pub fn plan(args: &SpecArgs, folders: &Folders) -> anyhow::Result<ExitCode> {
    let spec = load_spec(&args.spec, &args.sets)?;
    if !spec.sweep.is_empty() {
        return super::sweep::plan(args, folders);
    }
    let data = load_data(&spec)?;
    log_dataset(&spec, &data, &args.spec);
    let store = open_store(folders)?;
    let experiment = prepare(spec, data, &store, Compute::Real)?;
    print_plan(&experiment, &store, &RunOptions::default())?;
    Ok(ExitCode::SUCCESS)
}

/// The graph's keys need every input file's content hash; unchanged files come from the stat
/// cache, which is saved for the next run.
fn prepare(
    spec: ExperimentSpec,
    data: DatasetLoad,
    store: &ArtifactStore,
    compute: Compute,
) -> anyhow::Result<Experiment> {
    let mut hasher = FileHasher::open(store.root());
    let experiment = Experiment::with_compute(spec, data, &mut hasher, compute)?;
    hasher.save();
    let stats = hasher.stats();
    debug!("input files: {stats:?}");
    Ok(experiment)
}

/// The decision table, how many stages would run, and how long they should take.
fn print_plan(
    experiment: &Experiment,
    store: &ArtifactStore,
    options: &RunOptions,
) -> anyhow::Result<()> {
    let stages = experiment.plan(store, options)?;
    print!("{}", DecisionTable(&stages));
    let misses = stages
        .iter()
        .filter(|s| s.decision != Decision::Hit)
        .count();
    let history = DurationHistory::from_store(store)?;
    let computed: HashSet<&str> = (stages.iter())
        .filter(|s| s.decision != Decision::Hit)
        .map(|s| s.instance.as_str())
        .collect();
    let estimate = Estimate::of(&experiment.graph, &history, |instance| {
        computed.contains(instance)
    });
    println!(
        "{misses} of {} stages would run; time: {estimate}",
        stages.len()
    );
    Ok(())
}

/// Progress on stderr when it is a terminal: one bar for the stages and one per extraction
/// stage while it walks its songs (they run side by side).
pub(super) struct RunProgress {
    bars: MultiProgress,
    stages: ProgressBar,
    songs: Mutex<HashMap<String, ProgressBar>>,
}

impl RunProgress {
    pub(super) fn new(stages: usize) -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bars = MultiProgress::with_draw_target(target);
        let stages = bars.add(ProgressBar::new(stages as u64));
        stages.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} stages {elapsed}")
                .expect("valid progress template"),
        );
        // Elapsed time keeps moving while a long stage runs.
        stages.enable_steady_tick(std::time::Duration::from_millis(250));
        RunProgress {
            bars,
            stages,
            songs: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn finish(&self) {
        self.stages.finish_and_clear();
        let _ = self.bars.clear();
    }
}

impl RunObserver for RunProgress {
    fn stages_planned(&self, stages: usize) {
        self.stages.set_length(stages as u64);
    }

    fn stage_decided(&self, stage: &StageRecord) {
        debug!(
            "{} {:?} {}",
            stage.instance,
            stage.decision,
            stage.reasons.join("; ")
        );
        self.stages.inc(1);
        if let Some(bar) = self
            .songs
            .lock()
            .expect("no panic holds it")
            .remove(&stage.instance)
        {
            bar.finish_and_clear();
        }
    }

    fn songs_started(&self, stage: &str, songs: usize) {
        let bar = self.bars.add(ProgressBar::new(songs as u64));
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} songs {msg} {eta}")
                .expect("valid progress template"),
        );
        bar.set_message(stage.to_string());
        self.songs
            .lock()
            .expect("no panic holds it")
            .insert(stage.to_string(), bar);
    }

    fn song_done(&self, stage: &str) {
        if let Some(bar) = self.songs.lock().expect("no panic holds it").get(stage) {
            bar.inc(1);
        }
    }
}
