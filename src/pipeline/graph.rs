//! Building the stage graph of a resolved spec: one node per stage instance, with its inputs.

use std::collections::BTreeMap;

use crate::cache::{ConfigSlice, FileHasher, KeyEncoder, StageInputs, StageKey};
use crate::dataset::{DatasetLoad, Manifest};
use crate::features::{Extractor, FeatureSource};
use crate::modality::Modality;
use crate::spec::ExperimentSpec;

use super::PipelineError;
use super::stages;

/// What a stage instance does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    /// Features of one modality for every listed song with a file or precomputed row.
    Extract(Modality),
    /// Hold-out test set and folds under one seed.
    Split,
    /// Feature scaling fitted on one fold's training songs.
    Normalize {
        /// 0-based fold.
        fold: usize,
    },
    /// One fold's model.
    Train {
        /// 0-based fold.
        fold: usize,
    },
    /// The fold ensemble on the hold-out test set.
    Evaluate,
}

/// One stage instance: what it is, what it reads, and its key.
#[derive(Debug, Clone)]
pub struct StageNode {
    /// Unique name in the run, e.g. `train[2]@42`.
    pub instance: String,
    /// The same instance with the seed's position instead of its value (`train[2]@seed#0`),
    /// so that changing a seed is explained as a change, not as a new stage.
    pub lineage: String,
    /// What the stage does.
    pub kind: StageKind,
    /// The seed of the protocol run it belongs to (none for extraction).
    pub seed: Option<u64>,
    /// Everything its key is made of.
    pub inputs: StageInputs,
    /// The key of its artifact.
    pub key: StageKey,
    /// Indices of the nodes it reads, in this graph.
    pub upstream: Vec<usize>,
    /// Depth in the graph: nodes of one level are independent of each other.
    pub level: usize,
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
        let mut graph = StageGraph { nodes: Vec::new() };
        let mut extracts = Vec::new();
        for modality in spec.selected().iter() {
            let inputs = extract_inputs(spec, &data.listed, modality, hasher)?;
            let name = stages::extract_stage(modality);
            extracts.push(graph.push(
                (name.clone(), name),
                StageKind::Extract(modality),
                None,
                inputs,
                Vec::new(),
            ));
        }
        let manifest_digest = manifest_digest(&data.manifest);
        for (position, &seed) in spec.seeds.iter().enumerate() {
            graph.add_seed(spec, (position, seed), &manifest_digest, &extracts);
        }
        Ok(graph)
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

    fn add_seed(
        &mut self,
        spec: &ExperimentSpec,
        (position, seed): (usize, u64),
        manifest_digest: &str,
        extracts: &[usize],
    ) {
        let at = |name: String| (format!("{name}@{seed}"), format!("{name}@seed#{position}"));
        let split_config = section("split", &spec.split)
            .with("seed", seed)
            .with("manifest", manifest_digest.to_string());
        let split = self.push(
            at("split".into()),
            StageKind::Split,
            Some(seed),
            StageInputs::new("split", stages::SPLIT_VERSION).config(split_config),
            Vec::new(),
        );
        let (mut normalizes, mut trains) = (Vec::new(), Vec::new());
        for fold in 0..spec.split.folds {
            let mut normalize_inputs = StageInputs::new("normalize", stages::NORMALIZE_VERSION)
                .config(section("normalize", &spec.normalize).with("fold", fold as u64));
            let mut upstream = vec![split];
            normalize_inputs = normalize_inputs.upstream("split", self.nodes[split].key);
            for &extract in extracts {
                let node = &self.nodes[extract];
                normalize_inputs = normalize_inputs.upstream(node.instance.clone(), node.key);
                upstream.push(extract);
            }
            let normalize = self.push(
                at(format!("normalize[{fold}]")),
                StageKind::Normalize { fold },
                Some(seed),
                normalize_inputs,
                upstream,
            );
            let mut train_config = section("model", &spec.model);
            train_config.extend(section("augment", &spec.augment));
            train_config.extend(section("schedule", &spec.schedule));
            let train_inputs = StageInputs::new("train", stages::TRAIN_VERSION)
                .config(train_config.with("fold", fold as u64).with("seed", seed))
                .upstream("split", self.nodes[split].key)
                .upstream("normalize", self.nodes[normalize].key);
            normalizes.push(normalize);
            trains.push(self.push(
                at(format!("train[{fold}]")),
                StageKind::Train { fold },
                Some(seed),
                train_inputs,
                vec![split, normalize],
            ));
        }
        let mut evaluate_inputs = StageInputs::new("evaluate", stages::EVALUATE_VERSION)
            .config(section("eval", &spec.eval).with("seed", seed));
        for &train in &trains {
            let node = &self.nodes[train];
            evaluate_inputs = evaluate_inputs.upstream(node.instance.clone(), node.key);
        }
        // The evaluate stage reads each fold's normalized test songs too; their keys already
        // enter through the train keys.
        let upstream = std::iter::once(split)
            .chain(normalizes)
            .chain(trains)
            .collect();
        self.push(
            at("evaluate".into()),
            StageKind::Evaluate,
            Some(seed),
            evaluate_inputs,
            upstream,
        );
    }

    fn push(
        &mut self,
        (instance, lineage): (String, String),
        kind: StageKind,
        seed: Option<u64>,
        inputs: StageInputs,
        upstream: Vec<usize>,
    ) -> usize {
        let level = upstream
            .iter()
            .map(|&u| self.nodes[u].level + 1)
            .max()
            .unwrap_or(0);
        let key = inputs.key();
        self.nodes.push(StageNode {
            instance,
            lineage,
            kind,
            seed,
            inputs,
            key,
            upstream,
            level,
        });
        self.nodes.len() - 1
    }
}

/// The spec section `prefix` flattened into dotted config paths.
fn section(prefix: &str, value: &impl serde::Serialize) -> ConfigSlice {
    ConfigSlice::from_serialize(prefix, value)
        .expect("spec sections are plain data and always flatten")
}

fn extract_inputs(
    spec: &ExperimentSpec,
    listed: &Manifest,
    modality: Modality,
    hasher: &mut FileHasher,
) -> Result<StageInputs, PipelineError> {
    match FeatureSource::for_modality(modality, &spec.modalities)
        .expect("extraction stages exist only for selected modalities")
    {
        FeatureSource::Extractor(extractor) => {
            per_song_inputs(spec, listed, modality, extractor, hasher)
        }
        FeatureSource::Precomputed(table) => {
            precomputed_inputs(spec, listed, modality, table, hasher)
        }
    }
}

/// A per-song extractor's key: its config and every song's media file, by content.
fn per_song_inputs(
    spec: &ExperimentSpec,
    listed: &Manifest,
    modality: Modality,
    extractor: Extractor<'_>,
    hasher: &mut FileHasher,
) -> Result<StageInputs, PipelineError> {
    let songs: Vec<(&str, std::path::PathBuf)> = listed
        .songs
        .iter()
        .filter_map(|song| Some((song.id.as_str(), song.file(modality)?.to_path_buf())))
        .collect();
    let paths: Vec<std::path::PathBuf> = songs.iter().map(|(_, p)| p.clone()).collect();
    let hashes = hasher.hash_files(&paths)?;
    let prefix = format!("modalities.{modality}");
    let mut config = extractor.key_config(&prefix);
    config.extend(source_config(
        spec,
        modality,
        FeatureSource::Extractor(extractor),
    ));
    let key_files = extractor
        .key_files()
        .map_err(|source| PipelineError::KeyFile { modality, source })?;
    for file in key_files {
        // The file's content, not its path: editing it re-extracts, moving it does not.
        let hash = hasher.hash_file(file.path)?;
        config.insert(format!("{prefix}.{}", file.key), format!("blake3:{hash}"));
    }
    let mut inputs =
        StageInputs::new(stages::extract_stage(modality), stages::EXTRACT_VERSION).config(config);
    let files: BTreeMap<String, _> = songs
        .iter()
        .zip(hashes)
        .map(|((id, _), hash)| (id.to_string(), hash))
        .collect();
    inputs.files = files;
    Ok(inputs)
}

/// A precomputed matrix's key: the matrix and ids files by content (editing one re-extracts,
/// moving it does not), how they are read, and which songs the rows are matched against.
/// The songs' media files are not read, so their content stays out; the per-modality audio
/// settings (`n_mels`, ...) do not apply and stay out too.
fn precomputed_inputs(
    spec: &ExperimentSpec,
    listed: &Manifest,
    modality: Modality,
    table: &crate::spec::PrecomputedSection,
    hasher: &mut FileHasher,
) -> Result<StageInputs, PipelineError> {
    let prefix = format!("modalities.{modality}");
    let mut config = section(&format!("{prefix}.precomputed"), table);
    config.extend(source_config(
        spec,
        modality,
        FeatureSource::Precomputed(table),
    ));
    let hash = hasher.hash_file(&table.path)?;
    config.insert(
        format!("{prefix}.precomputed.path"),
        format!("blake3:{hash}"),
    );
    if let Some(ids) = &table.ids {
        let hash = hasher.hash_file(ids)?;
        config.insert(
            format!("{prefix}.precomputed.ids"),
            format!("blake3:{hash}"),
        );
    }
    config.insert("listed_songs", listed_songs_digest(listed, modality));
    Ok(StageInputs::new(stages::extract_stage(modality), stages::EXTRACT_VERSION).config(config))
}

/// What every feature source's key holds besides its own settings: which extractor and
/// version, and the modality's `on_error`.
fn source_config(
    spec: &ExperimentSpec,
    modality: Modality,
    source: FeatureSource<'_>,
) -> ConfigSlice {
    let prefix = format!("modalities.{modality}");
    let mut config = section(
        &format!("{prefix}.on_error"),
        &spec.modalities.on_error(modality),
    );
    config.insert(format!("{prefix}.extractor"), source.name());
    config.insert("extractor_version", u64::from(source.version()));
    config
}

/// A digest of the listed song ids and which of them have a media file for `modality`: what
/// a precomputed matrix's rows are matched against (unknown ids, songs without a row).
fn listed_songs_digest(listed: &Manifest, modality: Modality) -> String {
    let mut encoder = KeyEncoder::with_context("mer listed songs digest v1");
    encoder.list_len(listed.songs.len());
    for song in &listed.songs {
        encoder.str(&song.id);
        encoder.u32(u32::from(song.file(modality).is_some()));
    }
    StageKey(encoder.finish()).short()
}

/// A digest of the experiment's songs and labels, in dataset order: what the split reads.
fn manifest_digest(manifest: &Manifest) -> String {
    let mut encoder = KeyEncoder::with_context("mer manifest digest v1");
    encoder.list_len(manifest.songs.len());
    for song in &manifest.songs {
        encoder.str(&song.id);
        encoder.str(&manifest.classes[song.label]);
    }
    StageKey(encoder.finish()).short()
}
