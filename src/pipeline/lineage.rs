//! The inputs each stage instance of an experiment last ran with, so that the next miss can
//! say what changed ("schedule.epochs changed (60 => 80)") even when the old artifact is gone.
//!
//! One small JSON file per (experiment, stage instance) under `cache/lineage/`, replaced by
//! rename; a lost or unreadable file only costs the explanation, never a result.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::cache::{Artifact, ArtifactMeta, CacheError, FileHash, StageInputs, StageKey};

/// What a stage instance last ran with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LineageEntry {
    key: StageKey,
    stage: String,
    version: u32,
    config_json: String,
    upstream: BTreeMap<String, StageKey>,
    files: BTreeMap<String, FileHash>,
}

impl LineageEntry {
    /// The key it had.
    pub(crate) fn key(&self) -> StageKey {
        self.key
    }

    /// As artifact metadata, the form [`crate::cache::dirty_reasons`] compares against.
    pub(crate) fn as_meta(&self) -> ArtifactMeta {
        ArtifactMeta {
            key: self.key,
            stage: self.stage.clone(),
            version: self.version,
            config_json: self.config_json.clone(),
            upstream: self.upstream.clone(),
            files: self.files.clone(),
            created: String::new(),
            duration_s: 0.0,
            mer_version: String::new(),
            checksum: String::new(),
        }
    }
}

/// The lineage files of one cache.
#[derive(Debug, Clone)]
pub(crate) struct LineageIndex {
    dir: PathBuf,
}

impl LineageIndex {
    /// The index under `cache_root/lineage`.
    pub(crate) fn new(cache_root: &std::path::Path) -> Self {
        LineageIndex {
            dir: cache_root.join("lineage"),
        }
    }

    fn path(&self, lineage: &str) -> PathBuf {
        let digest = blake3::hash(lineage.as_bytes()).to_hex();
        self.dir.join(format!("{}.json", &digest[..24]))
    }

    /// What `lineage` last ran with, if known.
    pub(crate) fn previous(&self, lineage: &str) -> Option<LineageEntry> {
        let text = std::fs::read_to_string(self.path(lineage)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Records that `lineage` now runs with `inputs`.
    pub(crate) fn record(&self, lineage: &str, inputs: &StageInputs) -> Result<(), CacheError> {
        // The same provenance an artifact of these inputs records.
        let meta = Artifact::new(inputs).meta;
        let entry = LineageEntry {
            key: meta.key,
            stage: meta.stage,
            version: meta.version,
            config_json: meta.config_json,
            upstream: meta.upstream,
            files: meta.files,
        };
        let io = |action: &'static str, path: &PathBuf| {
            let path = path.clone();
            move |source| CacheError::Io {
                action,
                path,
                source,
            }
        };
        std::fs::create_dir_all(&self.dir).map_err(io("create", &self.dir))?;
        let path = self.path(lineage);
        // Unique per write, not just per process: two runs in one process (the members of a
        // sweep) never share a temporary file.
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = crate::cache::store::temp_path_in(&self.dir, &name);
        let json = serde_json::to_string(&entry).expect("lineage entries serialize");
        std::fs::write(&temp, json).map_err(io("write", &temp))?;
        std::fs::rename(&temp, &path).map_err(io("rename", &path))
    }
}
