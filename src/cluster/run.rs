//! One experiment on Slurm (`mer run SPEC --executor slurm`): a job array with one task per
//! extraction shard still to compute (when `executor.extract_shards` > 1), a job array with
//! one task per seed still to compute (each `mer run --only evaluate@<seed>`, after the
//! shards), and a report job once those have ended, which takes every stage from the cache
//! (`--cached-only`) and writes the report. Submitting returns at once.
//!
//! The run folder (`<reports>/<spec>/slurm-<UTC time>/`) holds `slurm-run.json`, the
//! resolved spec the jobs run (`spec.toml`), the scripts, and the tasks' `state/` and
//! `logs/` (`shard-<i>`, `seed-<position>`, `report`).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::cache::ArtifactStore;
use crate::clock::rfc3339;
use crate::experiment::Experiment;
use crate::pipeline::RunOptions;
use crate::results::Decision;

use super::script::{Job, Layout};
use super::{
    ClusterError, SlurmSettings, Submission, absolute, create_subfolders, io, shards_setting, write,
};

/// The submission record in a run folder.
pub const SLURM_RUN_JSON: &str = "slurm-run.json";

/// One seed as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmittedSeed {
    /// Its position in the spec's seeds: its array task index.
    pub position: usize,
    /// The seed.
    pub seed: u64,
    /// Whether a task was queued for it (else its stages were all cached).
    pub queued: bool,
}

/// What `slurm-run.json` records of a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlurmRun {
    /// The experiment's name.
    pub experiment: String,
    /// Its identity (resolved spec hash), which its report carries.
    pub spec_hash: String,
    /// When it was submitted, RFC 3339.
    pub submitted: String,
    /// The shared cache.
    pub cache: PathBuf,
    /// The shared reports folder.
    pub reports: PathBuf,
    /// Shards per extraction.
    pub shards: usize,
    /// The shard array and the shard indices it runs, when a shard was queued.
    pub shard_job: Option<String>,
    /// The shard indices queued.
    pub shard_tasks: Vec<usize>,
    /// The seed array, when a seed was queued.
    pub seed_job: Option<String>,
    /// Every seed.
    pub seeds: Vec<SubmittedSeed>,
    /// The report job.
    pub report_job: String,
}

/// What the cache lacks of `experiment`: the shard indices and seed positions with a stage
/// to compute.
fn pending(
    experiment: &Experiment,
    store: &ArtifactStore,
) -> Result<(Vec<usize>, Vec<bool>), ClusterError> {
    let plan = experiment
        .plan(store, &RunOptions::default())
        .map_err(|e| ClusterError::Plan(Box::new(e)))?;
    let missing: HashMap<&str, bool> = (plan.iter())
        .map(|stage| (stage.instance.as_str(), stage.decision != Decision::Hit))
        .collect();
    let nodes = &experiment.graph.nodes;
    let to_compute = |id: &str| missing.get(id).copied().unwrap_or(false);
    let shards: BTreeSet<usize> = (nodes.iter())
        .filter(|node| node.shard_of.is_some() && to_compute(&node.id.to_string()))
        .filter_map(|node| node.id.kind.fold)
        .collect();
    let seeds = (experiment.spec.seeds.iter())
        .map(|&seed| {
            (nodes.iter())
                .filter(|node| node.id.seed_value() == Some(seed))
                .any(|node| to_compute(&node.id.to_string()))
        })
        .collect();
    Ok((shards.into_iter().collect(), seeds))
}

/// Submits `experiment`: writes the run folder, the shard and seed arrays of what the cache
/// lacks and the report job, and returns the folder with what was submitted. `mer` is the
/// binary the jobs run.
pub fn submit_run(
    experiment: &Experiment,
    (store, reports): (&ArtifactStore, &Path),
    settings: &SlurmSettings,
    mer: &Path,
) -> Result<(PathBuf, SlurmRun), ClusterError> {
    let submitted = SystemTime::now();
    let (cache, reports_root) = (absolute(store.root())?, absolute(reports)?);
    let spec = &experiment.spec;
    let (shard_tasks, seeds_pending) = pending(experiment, store)?;
    let folder = crate::sweep::job_folder(&reports_root, &spec.name, "slurm", submitted)?;
    create_subfolders(&folder, &["logs", "state"])?;
    write(&folder.join("spec.toml"), &spec.to_toml())?;
    let layout = Layout {
        folder: &folder,
        mer,
        cache: &cache,
        reports: &reports_root,
    };
    let shards = spec.executor.extract_shards;
    let run = format!(
        "{} run {}{}",
        layout.mer_command(),
        layout.inside("spec.toml"),
        shards_setting(shards)
    );
    let name = &spec.name;
    let mut jobs = Submission::new(&layout, settings);
    let shard_job = match shard_tasks.is_empty() {
        true => None,
        false => {
            let job = Job {
                experiment: name,
                task: "shard",
                indices: Some(&shard_tasks),
                prelude: Vec::new(),
                command: format!("{run} --shard $i"),
                light: false,
            };
            jobs.submit("extract-shards.sh", &job, None)
        }
    };
    let queued_seeds: Vec<usize> = (0..spec.seeds.len())
        .filter(|&p| seeds_pending[p])
        .collect();
    let seed_job = match queued_seeds.is_empty() {
        true => None,
        false => {
            let list: Vec<String> = spec.seeds.iter().map(u64::to_string).collect();
            let job = Job {
                experiment: name,
                task: "seed",
                indices: Some(&queued_seeds),
                prelude: vec![format!("seeds=({})", list.join(" "))],
                command: format!("{run} --only \"evaluate@${{seeds[$i]}}\""),
                light: false,
            };
            jobs.submit("run-seeds.sh", &job, shard_job.as_deref())
        }
    };
    let job = Job {
        experiment: name,
        task: "report",
        indices: None,
        prelude: Vec::new(),
        command: format!("{run} --cached-only"),
        light: true,
    };
    let after = seed_job.as_deref().or(shard_job.as_deref());
    let report_job = jobs.submit("report.sh", &job, after);
    let record = SlurmRun {
        experiment: name.clone(),
        spec_hash: spec.hash(),
        submitted: rfc3339(submitted),
        cache: cache.clone(),
        reports: reports_root.clone(),
        shards,
        shard_job,
        shard_tasks,
        seed_job,
        seeds: (spec.seeds.iter().enumerate())
            .map(|(position, &seed)| SubmittedSeed {
                position,
                seed,
                queued: seeds_pending[position],
            })
            .collect(),
        report_job: report_job.unwrap_or_default(),
    };
    // Written whenever a job was queued, so that `mer status` follows it even when a later
    // job was refused.
    if jobs.any_queued() {
        let json = serde_json::to_string_pretty(&record).expect("submission records serialize");
        write(&folder.join(SLURM_RUN_JSON), &json)?;
    }
    jobs.finish()?;
    Ok((folder, record))
}

/// Reads a run folder's `slurm-run.json`, or `None` when it has none.
pub fn read_run_submission(folder: &Path) -> Result<Option<SlurmRun>, ClusterError> {
    let path = folder.join(SLURM_RUN_JSON);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) if !path.exists() => return Ok(None),
        Err(source) => return Err(io("read", &path)(source)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ClusterError::BadRecord {
            path,
            reason: e.to_string(),
        })
}
