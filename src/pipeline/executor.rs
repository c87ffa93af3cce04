//! Running a stage graph: reuse what the cache has, compute the rest level by level (the
//! independent stages of a level in parallel), and record every decision with its reasons.

use std::time::Instant;

use rayon::prelude::*;

use crate::cache::{Acquired, Artifact, ArtifactStore, Attempt, LockGuard, Lookup, dirty_reasons};
use crate::dataset::DatasetLoad;
use crate::spec::ExperimentSpec;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::error::PipelineError;
use super::graph::{StageGraph, StageNode};
use super::lineage::LineageIndex;
use super::observer::RunObserver;
use super::stage_id::StageSelector;
use super::stages::{Artifacts, StageContext};
use crate::results::{Decision, StageRecord};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stages to recompute even when cached: a stage name (`train`, `extract.audio`), an
    /// instance (`train[2]@42`) or an instance without its seed (`train[2]`).
    pub force: Vec<StageSelector>,
    /// Set (e.g. by Ctrl-C) to stop before the next stage computes; finished stages stay
    /// cached and the run ends with [`PipelineError::Interrupted`].
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Resolve only these stages and what they read (empty: every stage), as one Slurm task
    /// does for its seed or shard.
    pub only: Vec<StageSelector>,
    /// Take every stage from the cache and compute none ([`PipelineError::NotCached`]), as a
    /// Slurm run's report job does once its tasks have computed them.
    pub cached_only: bool,
}

impl RunOptions {
    fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }
}

/// A stage graph bound to its experiment, dataset and cache.
pub struct Pipeline<'a> {
    spec: &'a ExperimentSpec,
    data: &'a DatasetLoad,
    store: &'a ArtifactStore,
    lineage: LineageIndex,
}

impl<'a> Pipeline<'a> {
    /// Binds `spec` and `data` to `store`.
    pub fn new(spec: &'a ExperimentSpec, data: &'a DatasetLoad, store: &'a ArtifactStore) -> Self {
        Pipeline {
            spec,
            data,
            store,
            lineage: LineageIndex::new(store.root()),
        }
    }

    /// What a run would do, without computing or verifying anything.
    pub fn plan(
        &self,
        graph: &StageGraph,
        options: &RunOptions,
    ) -> Result<Vec<StageRecord>, PipelineError> {
        let forced = forced_nodes(graph, &options.force)?;
        let needed = self.needed(graph, &forced, &options.only)?;
        Ok((graph.nodes.iter().zip(forced).zip(needed))
            .filter(|(_, needed)| *needed)
            .map(|((node, forced), _)| {
                if forced {
                    self.record(
                        node,
                        Decision::Forced,
                        vec!["named by --force".into()],
                        None,
                    )
                } else if self.store.entry_path(&node.key).is_file() {
                    self.record(node, Decision::Hit, Vec::new(), None)
                } else {
                    self.record(node, Decision::Miss, self.miss_reasons(node), None)
                }
            })
            .collect())
    }

    /// Runs the graph, telling `observer` about each stage decided and each song extracted.
    /// Returns the records of every stage decided so far, with the error that stopped the
    /// run, if any.
    ///
    /// Each level goes in three steps, so that no thread ever waits for a lock while this run
    /// holds another (two runs sharing a cache, such as the members of a sweep, would
    /// otherwise wait for each other forever, and rayon may run a waiting stage on the very
    /// thread that holds a lock): look up every stage and take, without waiting, the lock of
    /// each one to compute; compute those in parallel and release their locks; then, one at a
    /// time, wait for the stages other runs were computing.
    pub fn execute(
        &self,
        graph: &StageGraph,
        options: &RunOptions,
        observer: &dyn RunObserver,
    ) -> (Vec<StageRecord>, Option<PipelineError>) {
        let (forced, needed) = match forced_nodes(graph, &options.force)
            .and_then(|forced| Ok((self.needed(graph, &forced, &options.only)?, forced)))
        {
            Ok((needed, forced)) => (forced, needed),
            Err(err) => return (Vec::new(), Some(err)),
        };
        observer.stages_planned(needed.iter().filter(|&&n| n).count());
        let cx = StageContext {
            data: self.data,
            observer,
        };
        let mut artifacts: Vec<Option<Artifact>> = vec![None; graph.nodes.len()];
        let mut records: Vec<Option<StageRecord>> = vec![None; graph.nodes.len()];
        for mut level in graph.levels() {
            level.retain(|&index| needed[index]);
            let done = self.run_level(graph, &level, &forced, &artifacts, &cx, options);
            let mut failure = None;
            for (index, result) in done {
                match result {
                    Ok((artifact, record)) => {
                        observer.stage_decided(&record);
                        artifacts[index] = Some(artifact);
                        records[index] = Some(record);
                    }
                    Err(err) => {
                        failure.get_or_insert(err);
                    }
                }
            }
            if let Some(err) = failure {
                return (records.into_iter().flatten().collect(), Some(err));
            }
        }
        (records.into_iter().flatten().collect(), None)
    }

    /// The three steps of one level (see [`Pipeline::execute`]); every stage of the level
    /// that was decided, in no particular order, or the error that stopped it.
    fn run_level(
        &self,
        graph: &StageGraph,
        level: &[usize],
        forced: &[bool],
        artifacts: &[Option<Artifact>],
        cx: &StageContext<'_>,
        options: &RunOptions,
    ) -> Vec<(usize, Resolved)> {
        let upstream = Artifacts(artifacts);
        let claims: Vec<(usize, Result<Claim, PipelineError>)> = level
            .par_iter()
            .map(|&index| {
                (
                    index,
                    self.claim(&graph.nodes[index], forced[index], options),
                )
            })
            .collect();
        let mut done = Vec::new();
        let mut to_compute = Vec::new();
        let mut busy = Vec::new();
        for (index, claim) in claims {
            match claim {
                Ok(Claim::Decided(artifact, record)) => done.push((index, Ok((artifact, record)))),
                Ok(Claim::Compute { guard, reasons }) => to_compute.push((index, guard, reasons)),
                Ok(Claim::Busy { reasons }) => busy.push((index, reasons)),
                Err(err) => done.push((index, Err(err))),
            }
        }
        if done.iter().any(|(_, r)| r.is_err()) {
            return done; // dropping the claims releases their locks
        }
        done.par_extend(to_compute.into_par_iter().map(|(index, guard, reasons)| {
            let node = &graph.nodes[index];
            (index, self.compute(node, upstream, guard, reasons, cx))
        }));
        for (index, reasons) in busy {
            let node = &graph.nodes[index];
            let result = self.wait_for(node, upstream, reasons, cx, options);
            let failed = result.is_err();
            done.push((index, result));
            if failed {
                break;
            }
        }
        done
    }

    /// Takes `node` from the cache, or claims it for computing (its lock, or none when forced),
    /// or finds another run computing it; never waits.
    fn claim(
        &self,
        node: &StageNode,
        forced: bool,
        options: &RunOptions,
    ) -> Result<Claim, PipelineError> {
        let mut reasons = Vec::new();
        if forced {
            reasons.push("named by --force".to_string());
        } else {
            match self.store.get(&node.key)? {
                Lookup::Hit(artifact) => {
                    let done = self.finish(node, artifact, Decision::Hit, reasons, None)?;
                    return Ok(Claim::Decided(done.0, done.1));
                }
                Lookup::Quarantined { reason, moved_to } => reasons.push(format!(
                    "cached entry failed verification ({reason}); moved to {}",
                    moved_to.display()
                )),
                Lookup::Miss => reasons.extend(self.miss_reasons(node)),
            }
        }
        if options.interrupted() {
            return Err(PipelineError::Interrupted(node.id.to_string()));
        }
        if options.cached_only {
            return Err(PipelineError::NotCached(node.id.to_string()));
        }
        if forced {
            return Ok(Claim::Compute {
                guard: None,
                reasons,
            });
        }
        Ok(match self.store.try_acquire(&node.key)? {
            // Committed by another run between our lookup and our lock.
            Attempt::Ready(artifact) => {
                let done = self.finish(node, artifact, Decision::Hit, Vec::new(), None)?;
                Claim::Decided(done.0, done.1)
            }
            Attempt::Compute(guard) => Claim::Compute {
                guard: Some(guard),
                reasons,
            },
            Attempt::Busy => Claim::Busy { reasons },
        })
    }

    /// Computes a claimed stage and stores it (under its lock, or over the old entry when
    /// forced).
    fn compute(
        &self,
        node: &StageNode,
        upstream: Artifacts<'_>,
        guard: Option<LockGuard>,
        reasons: Vec<String>,
        cx: &StageContext<'_>,
    ) -> Resolved {
        let started = Instant::now();
        let (artifact, decision) = match guard {
            Some(guard) => (
                guard.commit(compute_artifact(node, upstream, cx)?)?,
                Decision::Miss,
            ),
            None => {
                let artifact = compute_artifact(node, upstream, cx)?;
                (
                    self.store.put(artifact, started.elapsed())?,
                    Decision::Forced,
                )
            }
        };
        let seconds = Some(started.elapsed().as_secs_f64());
        self.finish(node, artifact, decision, reasons, seconds)
    }

    /// Waits while another run computes `node` (holding no lock of ours), then takes its
    /// entry, or computes it if that run gave up.
    fn wait_for(
        &self,
        node: &StageNode,
        upstream: Artifacts<'_>,
        reasons: Vec<String>,
        cx: &StageContext<'_>,
        options: &RunOptions,
    ) -> Resolved {
        if options.interrupted() {
            return Err(PipelineError::Interrupted(node.id.to_string()));
        }
        match self.store.acquire(&node.key)? {
            Acquired::Ready(artifact) => {
                let reasons = vec![
                    "computed by another run (a process or sweep member) while this one waited"
                        .into(),
                ];
                self.finish(node, artifact, Decision::Waited, reasons, None)
            }
            Acquired::Compute(guard) => self.compute(node, upstream, Some(guard), reasons, cx),
        }
    }

    fn finish(
        &self,
        node: &StageNode,
        artifact: Artifact,
        decision: Decision,
        reasons: Vec<String>,
        seconds: Option<f64>,
    ) -> Resolved {
        self.lineage.note(&self.lineage_id(node), &node.inputs);
        Ok((artifact, self.record(node, decision, reasons, seconds)))
    }

    /// Which nodes this run resolves: those `only` selects (all when empty) and everything
    /// they read, except the shards of an extraction whose joined entry is cached (unless
    /// forced).
    fn needed(
        &self,
        graph: &StageGraph,
        forced: &[bool],
        only: &[StageSelector],
    ) -> Result<Vec<bool>, PipelineError> {
        let selected = match only.is_empty() {
            true => vec![true; graph.nodes.len()],
            false => selected_nodes(graph, only, "--only")?,
        };
        let mut needed = selected.clone();
        for index in (0..graph.nodes.len()).rev() {
            if !needed[index] {
                continue;
            }
            let node = &graph.nodes[index];
            let named = !only.is_empty() && selected[index];
            let join_forced = node.shard_of.is_some_and(|join| forced[join]);
            if !forced[index] && !named && !join_forced && graph.join_cached(node, self.store) {
                needed[index] = false;
                continue;
            }
            for &up in &node.upstream {
                needed[up] = true;
            }
        }
        Ok(needed)
    }

    /// Why `node` has no entry, compared with what the same stage instance last ran with.
    fn miss_reasons(&self, node: &StageNode) -> Vec<String> {
        match self.lineage.previous(&self.lineage_id(node)) {
            None => vec!["no entry ever".to_string()],
            Some(previous) if previous.key() == node.key => vec![format!(
                "the entry this stage last used ({}) is no longer in the cache",
                node.key.short()
            )],
            Some(previous) => {
                let reasons: Vec<String> = dirty_reasons(&previous.as_meta(), &node.inputs)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                if reasons.is_empty() {
                    vec!["key encoding changed (new mer version)".to_string()]
                } else {
                    reasons
                }
            }
        }
    }

    fn lineage_id(&self, node: &StageNode) -> String {
        format!("{}/{}", self.spec.name, node.lineage)
    }

    fn record(
        &self,
        node: &StageNode,
        decision: Decision,
        reasons: Vec<String>,
        seconds: Option<f64>,
    ) -> StageRecord {
        StageRecord {
            instance: node.id.to_string(),
            stage: node.inputs.stage.clone(),
            key: node.key,
            decision,
            reasons,
            seconds,
        }
    }
}

/// `node`'s artifact, computed from its upstream artifacts.
fn compute_artifact(
    node: &StageNode,
    upstream: Artifacts<'_>,
    cx: &StageContext<'_>,
) -> Result<Artifact, PipelineError> {
    let mut artifact = Artifact::new(&node.inputs);
    node.stage.compute(&mut artifact, upstream, cx)?;
    Ok(artifact)
}

/// A stage's artifact and record, or why it could not be had.
type Resolved = Result<(Artifact, StageRecord), PipelineError>;

/// What the first step of a level found for one stage.
enum Claim {
    /// Taken from the cache.
    Decided(Artifact, StageRecord),
    /// To compute: under its lock, or without one when forced.
    Compute {
        guard: Option<LockGuard>,
        reasons: Vec<String>,
    },
    /// Another run is computing it.
    Busy { reasons: Vec<String> },
}

/// Which nodes `--force` names; forcing a sharded extraction forces its shards too (it is
/// they that extract).
fn forced_nodes(
    graph: &StageGraph,
    selectors: &[StageSelector],
) -> Result<Vec<bool>, PipelineError> {
    let mut forced = selected_nodes(graph, selectors, "--force")?;
    for (index, node) in graph.nodes.iter().enumerate() {
        if let Some(join) = node.shard_of {
            forced[index] |= forced[join];
        }
    }
    Ok(forced)
}

/// Which nodes `selectors` name; a selector naming nothing is an error listing the stages.
fn selected_nodes(
    graph: &StageGraph,
    selectors: &[StageSelector],
    option: &'static str,
) -> Result<Vec<bool>, PipelineError> {
    for selector in selectors {
        if !graph.nodes.iter().any(|n| selector.selects(&n.id)) {
            let mut stages: Vec<String> =
                graph.nodes.iter().map(|n| n.inputs.stage.clone()).collect();
            stages.dedup();
            return Err(PipelineError::UnknownStage(
                option,
                selector.to_string(),
                stages.join(", "),
            ));
        }
    }
    Ok(graph
        .nodes
        .iter()
        .map(|n| selectors.iter().any(|s| s.selects(&n.id)))
        .collect())
}
