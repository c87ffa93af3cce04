//! The inputs each stage instance of an experiment last ran with, so that the next miss can
//! say what changed ("schedule.epochs changed (60 => 80)") even when the old artifact is gone.
//!
//! One small JSON file per (experiment, stage instance) under `cache/lineage/`, replaced by
//! rename only when the instance's key changed; a lost or unreadable file only costs the
//! explanation, never a result. Recording is best effort for the same reason: a cache this
//! run cannot write (a read-only mount, another user's shared cache) still serves its hits,
//! with one warning.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

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
#[derive(Debug)]
pub(crate) struct LineageIndex {
    dir: PathBuf,
    /// Whether a failed record was already logged: one warning per run, not one per stage.
    warned: AtomicBool,
}

impl LineageIndex {
    /// The index under `cache_root/lineage`.
    pub(crate) fn new(cache_root: &std::path::Path) -> Self {
        LineageIndex {
            dir: cache_root.join("lineage"),
            warned: AtomicBool::new(false),
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

    /// Records that `lineage` now runs with `inputs`, if the cache can be written; the first
    /// failure is logged, the others are not.
    pub(crate) fn note(&self, lineage: &str, inputs: &StageInputs) {
        // Unchanged: nothing to write, so the many jobs of a cluster run that reuse a stage
        // do not each replace its file.
        if self
            .previous(lineage)
            .is_some_and(|p| p.key() == inputs.key())
        {
            return;
        }
        let Err(err) = self.record(lineage, inputs) else {
            return;
        };
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "lineage not recorded: {}; results are unaffected, but a later miss of these \
                 stages cannot say what changed",
                err.with_cause()
            );
        }
    }

    /// Records that `lineage` now runs with `inputs`.
    fn record(&self, lineage: &str, inputs: &StageInputs) -> Result<(), CacheError> {
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
        std::fs::create_dir_all(&self.dir).map_err(|e| CacheError::io("create", &self.dir, e))?;
        let path = self.path(lineage);
        // Unique per write, not just per process: two runs in one process (the members of a
        // sweep) never share a temporary file.
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = crate::cache::store::temp_path_in(&self.dir, &name);
        let json = serde_json::to_string(&entry).expect("lineage entries serialize");
        let written = std::fs::write(&temp, json).and_then(|()| std::fs::rename(&temp, &path));
        written.map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            CacheError::io("write", &path, e)
        })
    }
}
