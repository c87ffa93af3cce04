//! One experiment end to end, as `mer run` does it and as each member of `mer sweep` does it:
//! its dataset, its stage graph against the cache, the run, and its report folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::cache::{ArtifactStore, CacheError, FileHasher, StageKey};
use crate::clock::rfc3339;
use crate::dataset::targets::{SongTargets, TargetError, task_targets};
use crate::dataset::{self, DatasetError, DatasetLoad};
use crate::features::precomputed::{PrecomputedError, RowIds};
use crate::modality::Modality;
use crate::pipeline::{
    Compute, Pipeline, PipelineError, RunObserver, RunOptions, StageGraph, collect_results,
    collect_target_results,
};
use crate::report::{ReportError, ReportFolder, finished_reports};
use crate::results::{RunRecord, RunResults, StageRecord, TargetRunResults};
use crate::spec::{ExperimentSpec, TaskKind, TaskSection};
use crate::split::{SplitError, quantile_strata, split_data};

/// Why an experiment could not be prepared or its report written. A failing stage is not
/// one of these: it ends the run, which still writes its report (see [`RunOutcome::error`]).
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A precomputed feature file cannot be read at all.
    #[error("modalities.{modality}.precomputed is unusable")]
    Precomputed {
        /// The modality.
        modality: Modality,
        /// What is wrong with the file.
        #[source]
        source: PrecomputedError,
    },
    /// The dataset cannot be read.
    #[error("could not load the dataset of experiment '{name}' (dataset.root = {})", root.display())]
    Dataset {
        /// The experiment.
        name: String,
        /// Its dataset root.
        root: PathBuf,
        /// Why (boxed: it is large, and errors travel by value).
        #[source]
        source: Box<DatasetError>,
    },
    /// The stage graph could not be built or planned.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The report folder could not be written.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The data cannot be split as the spec asks.
    #[error(transparent)]
    Split(#[from] SplitError),
    /// The regression targets or tags cannot be read.
    #[error("the targets of [task] cannot be read")]
    Targets(#[source] TargetError),
}

/// Reads the dataset of `spec`, reading the row ids of its precomputed feature files first:
/// a song with a row has that modality even without a media file, which decides which songs
/// the experiment keeps.
pub fn load_data(spec: &ExperimentSpec) -> Result<DatasetLoad, ExperimentError> {
    let rows = spec
        .selected()
        .iter()
        .filter_map(|m| spec.modalities.precomputed(m).map(|table| (m, table)))
        .map(|(modality, table)| {
            RowIds::read(table)
                .map(|ids| (modality, ids))
                .map_err(|source| ExperimentError::Precomputed { modality, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let has_row = |modality: Modality, id: &str| {
        rows.iter()
            .any(|(m, ids)| *m == modality && ids.row_of(id).is_some())
    };
    let data =
        dataset::load_with_rows(&spec.dataset, spec.selected(), &has_row).map_err(|source| {
            ExperimentError::Dataset {
                name: spec.name.clone(),
                root: spec.dataset.root.clone(),
                source: Box::new(source),
            }
        })?;
    let data = match spec.task.kind {
        TaskKind::Classification => crate::split::leave_out_rare_classes(data, &spec.split)?,
        _ => with_targets(data, &spec.task)?,
    };
    if let Some(column) = &spec.split.group_by {
        // A column no song has is a mistake to report before any stage runs.
        crate::split::song_groups(&data.manifest, column)?;
    }
    Ok(data)
}

/// `data` with the regression targets or tags of `task`, and, in place of the classes (which
/// the task does not predict), the strata the split balances: target quantile bins for a
/// regression ([`quantile_strata`]: quartiles of one target, the sides of both medians for
/// two, the first target's quartiles for more), one stratum for multi-label songs, which the
/// split balances tag by tag instead.
fn with_targets(mut data: DatasetLoad, task: &TaskSection) -> Result<DatasetLoad, ExperimentError> {
    let targets = task_targets(&data.manifest, task).map_err(ExperimentError::Targets)?;
    let strata = match &targets {
        SongTargets::Values { names, values } => match names.len() {
            1 => quantile_strata(values, 1, 4),
            2 => quantile_strata(values, 2, 2),
            width => {
                let first: Vec<f32> = values.iter().step_by(width).copied().collect();
                quantile_strata(&first, 1, 4)
            }
        },
        _ => vec![0; data.manifest.songs.len()],
    };
    if let SongTargets::Tags(tags) = &targets {
        for (tag, songs) in &tags.unlisted {
            tracing::warn!("tag `{tag}` ({songs} song(s)) is not in task.tags: left out");
        }
    }
    let count = strata.iter().max().map_or(1, |&s| s + 1);
    data.manifest.classes = (0..count).map(|s| format!("stratum-{}", s + 1)).collect();
    for (song, stratum) in data.manifest.songs.iter_mut().zip(strata) {
        song.label = stratum;
    }
    data.targets = targets;
    Ok(data)
}

/// An experiment ready to plan or run: its spec, its dataset and its stage graph.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The resolved spec.
    pub spec: ExperimentSpec,
    /// Its songs.
    pub data: DatasetLoad,
    /// Its stages, with their keys.
    pub graph: StageGraph,
}

/// What one run did: its report folder and record, its results when it completed, and the
/// error that stopped it otherwise.
#[derive(Debug)]
pub struct RunOutcome {
    /// The report folder written.
    pub report: PathBuf,
    /// Its `run.json`.
    pub record: RunRecord,
    /// A classification's results, when every stage finished.
    pub results: Option<RunResults>,
    /// A regression or multi-label run's results, when every stage finished.
    pub targets: Option<TargetRunResults>,
    /// The error that stopped the run (an interrupt included).
    pub error: Option<PipelineError>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Experiment {
    /// Builds the stage graph of `spec` over `data`; input files are hashed through `hasher`
    /// (whose stat cache the caller saves). Every seed's split is drawn first: the graph has
    /// stages per fold, so a fold count the data cannot fill must fail before it is built.
    pub fn new(
        spec: ExperimentSpec,
        data: DatasetLoad,
        hasher: &mut FileHasher,
    ) -> Result<Self, ExperimentError> {
        Self::with_compute(spec, data, hasher, Compute::Real)
    }

    /// [`Experiment::new`], with train and evaluate computed as `compute` says ([`Compute::Mock`]
    /// for fast tests of everything around them).
    pub fn with_compute(
        spec: ExperimentSpec,
        data: DatasetLoad,
        hasher: &mut FileHasher,
        compute: Compute,
    ) -> Result<Self, ExperimentError> {
        check_splits(&spec, &data)?;
        let graph = StageGraph::build_with(&spec, &data, hasher, compute)?;
        Ok(Experiment { spec, data, graph })
    }

    /// What a run would do, without running anything.
    pub fn plan(
        &self,
        store: &ArtifactStore,
        options: &RunOptions,
    ) -> Result<Vec<StageRecord>, PipelineError> {
        Pipeline::new(&self.spec, &self.data, store).plan(&self.graph, options)
    }

    /// The newest whole report of this very run under `reports_root`: the same resolved spec
    /// and the same stage keys (so the same input files), finished without error. A rerun with
    /// nothing changed points at it instead of writing an identical one.
    pub fn up_to_date_report(&self, reports_root: &Path) -> Option<PathBuf> {
        let nodes: HashMap<String, (StageKey, bool)> = (self.graph.nodes.iter())
            .map(|node| (node.id.to_string(), (node.key, node.shard_of.is_some())))
            .collect();
        finished_reports(reports_root, &self.spec.name, &self.spec.hash())
            .find(|(_, record)| {
                let ran: HashMap<&str, StageKey> = (record.stages.iter())
                    .map(|stage| (stage.instance.as_str(), stage.key))
                    .collect();
                // Shards are resolved only when their join is computed.
                let every_stage = (nodes.iter())
                    .filter(|(_, (_, shard))| !shard)
                    .all(|(instance, (key, _))| ran.get(instance.as_str()) == Some(key));
                every_stage
                    && (ran.iter()).all(|(instance, key)| {
                        nodes.get(*instance).map(|(node_key, _)| node_key) == Some(key)
                    })
            })
            .map(|(folder, _)| folder)
    }

    /// Resolves the stages `options` asks for into the cache, writing no report (what `mer
    /// run --only` and a Slurm task for one seed or shard do); the records of the stages
    /// decided, with the error that stopped it, if any.
    pub fn compute(
        &self,
        store: &ArtifactStore,
        options: &RunOptions,
        observer: &dyn RunObserver,
    ) -> (Vec<StageRecord>, Option<PipelineError>) {
        Pipeline::new(&self.spec, &self.data, store).execute(&self.graph, options, observer)
    }

    /// Runs every stage the cache lacks and writes the report folder under `reports_root`
    /// (`<experiment>/<UTC time>-<spec hash>/`), whether or not a stage failed.
    pub fn run(
        &self,
        store: &ArtifactStore,
        reports_root: &Path,
        options: &RunOptions,
        observer: &dyn RunObserver,
    ) -> Result<RunOutcome, ExperimentError> {
        let report = ReportFolder::create(reports_root, &self.spec)?;
        let started = SystemTime::now();
        let clock = Instant::now();
        let pipeline = Pipeline::new(&self.spec, &self.data, store);
        let (stages, error) = pipeline.execute(&self.graph, options, observer);
        let record = RunRecord {
            experiment: self.spec.name.clone(),
            spec_hash: self.spec.hash(),
            mer_version: env!("CARGO_PKG_VERSION").to_string(),
            host: crate::cache::lock::hostname(),
            seeds: self.spec.seeds.clone(),
            started: rfc3339(started),
            finished: rfc3339(SystemTime::now()),
            dry_run: false,
            stages,
            error: error.as_ref().map(|e| error_chain(e)),
        };
        let (results, targets) = match (&error, self.spec.task.kind) {
            (Some(_), _) => (None, None),
            (None, TaskKind::Classification) => {
                let classes = &self.data.manifest.classes;
                let results = collect_results(&self.spec, classes, &self.graph, store)?;
                (Some(results), None)
            }
            (None, _) => {
                let targets = collect_target_results(&self.spec, &self.data, &self.graph, store)?;
                (None, targets)
            }
        };
        let report = report.finish(&record, (results.as_ref(), targets.as_ref()))?;
        Ok(RunOutcome {
            report,
            record,
            results,
            targets,
            error,
            elapsed: clock.elapsed(),
        })
    }
}

/// Draws the split of every seed of `spec` over `data`'s songs, so that what the data cannot
/// give (more folds than the smallest class has songs) is an error before anything is built.
pub fn check_splits(spec: &ExperimentSpec, data: &DatasetLoad) -> Result<(), ExperimentError> {
    for &seed in &spec.seeds {
        split_data(data, &spec.split, seed)?;
    }
    Ok(())
}

/// `error: cause: cause`, as the command line prints it and run records store it. Many
/// errors already quote their source in their own message; a cause whose text is already
/// there is not repeated.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
