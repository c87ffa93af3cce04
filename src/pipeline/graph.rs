//! Building the stage graph of a resolved spec: one node per stage instance, wired to its
//! upstream by role. What each stage reads and computes lives in its own file under
//! [`super::stages`]; this file only says which instances exist and what feeds what.

use std::sync::Arc;

use crate::cache::{ArtifactStore, FileHasher, StageInputs, StageKey};
use crate::dataset::DatasetLoad;
use crate::modality::Modality;
use crate::spec::ExperimentSpec;

use super::error::PipelineError;
use super::stage_id::{SeedTag, StageId};
use super::stages::evaluate::{Evaluate, EvaluateParams, FoldUpstream};
use super::stages::extract::{EXTRACTOR_VERSION, Extract, Part, stage_name};
use super::stages::join::JoinExtracts;
use super::stages::normalize::{Normalize, NormalizeParams};
use super::stages::shard::JoinShards;
use super::stages::split::{Split, SplitParams};
use super::stages::train::{Train, TrainParams};
use super::stages::{Compute, Stage, Upstream};

/// One stage instance: what it is, what it reads, and its key.
#[derive(Debug, Clone)]
pub struct StageNode {
    /// Unique name in the run, e.g. `train[2]@42`.
    pub id: StageId,
    /// The same instance with the seed's position instead of its value (`train[2]@seed#0`),
    /// so that changing a seed is explained as a change, not as a new stage.
    pub lineage: StageId,
    /// Everything its key is made of.
    pub inputs: StageInputs,
    /// The key of its artifact.
    pub key: StageKey,
    /// Indices of the nodes it reads, in this graph.
    pub upstream: Vec<usize>,
    /// Depth in the graph: nodes of one level are independent of each other.
    pub level: usize,
    /// For a shard of an extraction, the index of its join: the shard is needed only when
    /// the join is computed.
    pub shard_of: Option<usize>,
    /// What it computes, from which upstream.
    pub(crate) stage: Arc<dyn Stage>,
}

/// Every stage instance of an experiment, upstream before downstream.
#[derive(Debug, Clone)]
pub struct StageGraph {
    /// The nodes, in an order where every node follows its upstream.
    pub nodes: Vec<StageNode>,
}

impl StageGraph {
    /// Builds the graph of `spec` over `data`, hashing input files through `hasher`.
    pub fn build(
        spec: &ExperimentSpec,
        data: &DatasetLoad,
        hasher: &mut FileHasher,
    ) -> Result<StageGraph, PipelineError> {
        Self::build_with(spec, data, hasher, Compute::Real)
    }

    /// [`StageGraph::build`], with train and evaluate computed as `compute` says.
    pub fn build_with(
        spec: &ExperimentSpec,
        data: &DatasetLoad,
        hasher: &mut FileHasher,
        compute: Compute,
    ) -> Result<StageGraph, PipelineError> {
        let mut graph = StageGraph { nodes: Vec::new() };
        let extracts = graph.push_extractions(spec, data, hasher)?;
        for (position, &seed) in spec.seeds.iter().enumerate() {
            let at = Some((seed, position));
            let params = SplitParams::new(spec, seed, data);
            let split = graph.push(at, Arc::new(Split { params }));
            let mut folds = Vec::new();
            for fold in 0..spec.split.fold_count() {
                let normalize = graph.push(
                    at,
                    Arc::new(Normalize {
                        params: NormalizeParams::new(spec, fold),
                        split: split.clone(),
                        extracts: extracts.clone(),
                    }),
                );
                let train = graph.push(
                    at,
                    Arc::new(Train {
                        params: TrainParams::new(spec, fold, seed, compute),
                        split: split.clone(),
                        normalize: normalize.clone(),
                    }),
                );
                folds.push(FoldUpstream { normalize, train });
            }
            graph.push(
                at,
                Arc::new(Evaluate {
                    params: EvaluateParams::new(spec, seed, compute),
                    split,
                    folds,
                }),
            );
        }
        Ok(graph)
    }

    /// The extraction stages of `spec` alone, over `data`'s listed songs: what `mer predict`
    /// runs on new songs before scoring them.
    pub fn extraction(
        spec: &ExperimentSpec,
        data: &DatasetLoad,
        hasher: &mut FileHasher,
    ) -> Result<StageGraph, PipelineError> {
        let mut graph = StageGraph { nodes: Vec::new() };
        graph.push_extractions(spec, data, hasher)?;
        Ok(graph)
    }

    /// The node whose artifact holds `modality`'s features (its extraction, or the join of
    /// its extractors).
    pub fn features_of(&self, modality: Modality) -> Option<&StageNode> {
        let name = stage_name(modality);
        self.nodes.iter().find(|n| n.id.to_string() == name)
    }

    /// Whether `node` is a shard whose join's entry is in `store`: such a shard is needed by
    /// nothing but a forced or named recomputation.
    pub fn join_cached(&self, node: &StageNode, store: &ArtifactStore) -> bool {
        node.shard_of
            .is_some_and(|join| store.entry_path(&self.nodes[join].key).is_file())
    }

    /// Shard `index` of every sharded extraction (none when nothing is sharded that many
    /// ways).
    pub fn shards(&self, index: usize) -> impl Iterator<Item = &StageNode> {
        (self.nodes.iter()).filter(move |n| n.shard_of.is_some() && n.id.kind.fold == Some(index))
    }

    /// Each extractor's settings as its key holds them (the extractor, its version, its
    /// settings and the content of the weight files it reads), by stage instance: what makes
    /// features extracted now the same as the ones a model was trained on.
    pub fn extractor_settings(&self) -> Vec<(String, String)> {
        (self.nodes.iter())
            .filter(|n| n.shard_of.is_none() && n.inputs.config.get(EXTRACTOR_VERSION).is_some())
            .map(|n| (n.id.to_string(), n.inputs.config.to_json()))
            .collect()
    }

    /// One extraction (or join) node per selected modality, by modality.
    fn push_extractions(
        &mut self,
        spec: &ExperimentSpec,
        data: &DatasetLoad,
        hasher: &mut FileHasher,
    ) -> Result<Vec<(Modality, Upstream)>, PipelineError> {
        let mut extracts = Vec::new();
        for modality in spec.selected().iter() {
            let sources = spec.modalities.sources(modality);
            let shards = spec.executor.extract_shards;
            let extract = if let [_] = sources[..] {
                let stage = Extract::new(spec, &data.listed, modality, None, hasher)?;
                self.push_extract(stage, shards)
            } else {
                let mut parts = Vec::new();
                for (position, source) in sources.iter().enumerate() {
                    let part = Part {
                        position,
                        name: source.name(),
                    };
                    let stage = Extract::new(spec, &data.listed, modality, Some(part), hasher)?;
                    parts.push((part.name, self.push_extract(stage, shards)));
                }
                self.push(None, Arc::new(JoinExtracts { modality, parts }))
            };
            extracts.push((modality, extract));
        }
        Ok(extracts)
    }

    /// One extraction: as it is, or as `shards` shard stages and their join (which has the
    /// unsharded extraction's key; see [`super::stages::shard`]).
    fn push_extract(&mut self, stage: Extract, shards: usize) -> Upstream {
        let Some(parts) = stage.shards(shards) else {
            return self.push(None, Arc::new(stage));
        };
        let shards: Vec<Upstream> = (parts.into_iter())
            .map(|shard| self.push(None, Arc::new(shard)))
            .collect();
        let indices: Vec<usize> = shards.iter().map(|s| s.index).collect();
        let join = self.push(
            None,
            Arc::new(JoinShards {
                modality: stage.modality,
                kind: stage.kind(),
                whole: stage.inputs(),
                shards,
            }),
        );
        for index in indices {
            self.nodes[index].shard_of = Some(join.index);
        }
        join
    }

    /// Node indices by level, for running each level's independent nodes in parallel.
    pub fn levels(&self) -> Vec<Vec<usize>> {
        let depth = self.nodes.iter().map(|n| n.level + 1).max().unwrap_or(0);
        let mut levels = vec![Vec::new(); depth];
        for (index, node) in self.nodes.iter().enumerate() {
            levels[node.level].push(index);
        }
        levels
    }

    /// Adds `stage`, of the protocol run with `(seed, position)` (none for extraction, which
    /// every seed shares), and returns it as its consumers see it.
    fn push(&mut self, seed: Option<(u64, usize)>, stage: Arc<dyn Stage>) -> Upstream {
        let kind = stage.kind();
        let lineage = StageId {
            kind: kind.clone(),
            seed: seed.map(|(_, position)| SeedTag::Position(position)),
        };
        let id = StageId {
            kind,
            seed: seed.map(|(value, _)| SeedTag::Value(value)),
        };
        let instance = id.to_string();
        let upstream = stage.upstream();
        let level = upstream
            .iter()
            .map(|&u| self.nodes[u].level + 1)
            .max()
            .unwrap_or(0);
        let inputs = stage.inputs();
        let key = inputs.key();
        self.nodes.push(StageNode {
            id,
            lineage,
            inputs,
            key,
            upstream,
            level,
            shard_of: None,
            stage,
        });
        Upstream {
            index: self.nodes.len() - 1,
            key,
            instance,
        }
    }
}
