//! Running a stage graph: reuse what the cache has, compute the rest level by level (the
//! independent stages of a level in parallel), and record every decision with its reasons.

use std::time::Instant;

use rayon::prelude::*;

use crate::cache::{Acquired, Artifact, ArtifactStore, Lookup, dirty_reasons};
use crate::dataset::DatasetLoad;
use crate::spec::ExperimentSpec;

use super::PipelineError;
use super::graph::{StageGraph, StageNode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::lineage::LineageIndex;
use super::record::{Decision, StageRecord};
use super::stages::{self, StageContext};

/// What a caller (the command line's progress bars) hears while a run executes. Called from
/// worker threads, hence `Sync`.
pub trait RunObserver: Sync {
    /// A stage was taken from the cache or computed.
    fn stage_decided(&self, _record: &StageRecord) {}
    /// An extraction stage starts on `songs` songs.
    fn songs_started(&self, _stage: &str, _songs: usize) {}
    /// An extraction stage finished one song.
    fn song_done(&self, _stage: &str) {}
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stages to recompute even when cached: a stage name (`train`, `extract.audio`), an
    /// instance (`train[2]@42`) or an instance without its seed (`train[2]`).
    pub force: Vec<String>,
    /// Set (e.g. by Ctrl-C) to stop before the next stage computes; finished stages stay
    /// cached and the run ends with [`PipelineError::Interrupted`].
    pub interrupt: Option<Arc<AtomicBool>>,
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
        Ok(graph
            .nodes
            .iter()
            .zip(forced)
            .map(|(node, forced)| {
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
    pub fn execute(
        &self,
        graph: &StageGraph,
        options: &RunOptions,
        observer: &dyn RunObserver,
    ) -> (Vec<StageRecord>, Option<PipelineError>) {
        let forced = match forced_nodes(graph, &options.force) {
            Ok(forced) => forced,
            Err(err) => return (Vec::new(), Some(err)),
        };
        let cx = StageContext {
            spec: self.spec,
            data: self.data,
            observer,
        };
        let mut artifacts: Vec<Option<Artifact>> = vec![None; graph.nodes.len()];
        let mut records: Vec<Option<StageRecord>> = vec![None; graph.nodes.len()];
        for level in graph.levels() {
            let results: Vec<_> = level
                .par_iter()
                .map(|&index| {
                    let node = &graph.nodes[index];
                    let upstream: Vec<&Artifact> = node
                        .upstream
                        .iter()
                        .map(|&u| artifacts[u].as_ref().expect("upstream resolved first"))
                        .collect();
                    let result = self.resolve(node, &upstream, forced[index], &cx, options);
                    if let Ok((_, record)) = &result {
                        observer.stage_decided(record);
                    }
                    (index, result)
                })
                .collect();
            for (index, result) in results {
                match result {
                    Ok((artifact, record)) => {
                        artifacts[index] = Some(artifact);
                        records[index] = Some(record);
                    }
                    Err(err) => return (records.into_iter().flatten().collect(), Some(err)),
                }
            }
        }
        (records.into_iter().flatten().collect(), None)
    }

    /// Uses the cached artifact of `node` or computes it, and records which and why.
    fn resolve(
        &self,
        node: &StageNode,
        upstream: &[&Artifact],
        forced: bool,
        cx: &StageContext<'_>,
        options: &RunOptions,
    ) -> Result<(Artifact, StageRecord), PipelineError> {
        let mut reasons = Vec::new();
        if forced {
            reasons.push("named by --force".to_string());
        } else {
            match self.store.get(&node.key)? {
                Lookup::Hit(artifact) => {
                    return self.finish(node, artifact, Decision::Hit, reasons, None);
                }
                Lookup::Quarantined { reason, moved_to } => reasons.push(format!(
                    "cached entry failed verification ({reason}); moved to {}",
                    moved_to.display()
                )),
                Lookup::Miss => reasons.extend(self.miss_reasons(node)),
            }
        }
        if options.interrupted() {
            return Err(PipelineError::Interrupted(node.instance.clone()));
        }
        let started = Instant::now();
        let artifact = if forced {
            let artifact = stages::compute(node, upstream, cx)?;
            self.store.put(artifact, started.elapsed())?
        } else {
            match self.store.acquire(&node.key)? {
                Acquired::Ready(artifact) => {
                    let reasons = vec!["computed by another process while this one waited".into()];
                    return self.finish(node, artifact, Decision::Waited, reasons, None);
                }
                Acquired::Compute(guard) => guard.commit(stages::compute(node, upstream, cx)?)?,
            }
        };
        let decision = if forced {
            Decision::Forced
        } else {
            Decision::Miss
        };
        let seconds = Some(started.elapsed().as_secs_f64());
        self.finish(node, artifact, decision, reasons, seconds)
    }

    fn finish(
        &self,
        node: &StageNode,
        artifact: Artifact,
        decision: Decision,
        reasons: Vec<String>,
        seconds: Option<f64>,
    ) -> Result<(Artifact, StageRecord), PipelineError> {
        self.lineage.record(&self.lineage_id(node), &node.inputs)?;
        Ok((artifact, self.record(node, decision, reasons, seconds)))
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
            instance: node.instance.clone(),
            stage: node.inputs.stage.clone(),
            key: node.key,
            decision,
            reasons,
            seconds,
        }
    }
}

/// Which nodes `--force` names; a selector naming nothing is an error listing the stages.
fn forced_nodes(graph: &StageGraph, selectors: &[String]) -> Result<Vec<bool>, PipelineError> {
    let names = |node: &StageNode| {
        let without_seed = node
            .instance
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string();
        [
            node.inputs.stage.clone(),
            node.instance.clone(),
            without_seed,
        ]
    };
    for selector in selectors {
        if !graph.nodes.iter().any(|n| names(n).contains(selector)) {
            let mut stages: Vec<String> =
                graph.nodes.iter().map(|n| n.inputs.stage.clone()).collect();
            stages.dedup();
            return Err(PipelineError::UnknownStage(
                selector.clone(),
                stages.join(", "),
            ));
        }
    }
    Ok(graph
        .nodes
        .iter()
        .map(|n| selectors.iter().any(|s| names(n).contains(s)))
        .collect())
}
