//! The model bundle: a finished run's trained model with everything needed to apply it
//! without its cache or dataset, made from a report folder and the cache
//! ([`ModelBundle::from_report`]) or read from an exported file ([`ModelBundle::read`]).
//!
//! A bundle file is one sealed artifact (the cache's entry format: a header with the blake3
//! of the rest, then HDF5) of stage `mer-bundle`, whose version is the bundle format:
//!
//! | array                   | type, shape            | what                                      |
//! |-------------------------|------------------------|-------------------------------------------|
//! | `spec`                  | `strings [1]`          | the run's resolved spec (TOML)            |
//! | `outputs`               | `strings [outputs]`    | the classes, targets or tags, in model output order |
//! | `origin`                | `strings [3]`          | the report folder, spec hash and mer version of the run |
//! | `stages`, `stage_versions` | `strings`, `i64 [stages]` | the versions of the stages whose output the bundle holds |
//! | `extractors`, `extractor_settings` | `strings [extractors]` | each extraction stage and its settings as its key holds them (extractor, version, settings, weight-file hashes) |
//! | `seeds`                 | `i64 [seeds]`          | the run's seeds                           |
//! | `folds`                 | `i64 [1]`              | fold models per seed                      |
//! | `thresholds`            | `f64 [seeds]`          | multi-label: each seed's F1 threshold; empty otherwise |
//! | `seed-<i>.fold-<k>.*`   |                        | fold k of the i-th seed: its normalization (the normalize stage's parameter arrays), weights (the train stage's `weight_names` and `weight.<name>`) and `valid_score` |
//! | `seed-<i>.stacking_weights` | `f32 [modalities]` | stacked late fusion's weights             |

use std::path::Path;

use crate::cache::sealed::{read_sealed, write_sealed};
use crate::cache::{Artifact, ArtifactStore, Lookup, StageInputs, StageKey};
use crate::pipeline::{EXTRACTOR_VERSION, TrainedSeed, model_stage_versions};
use crate::report::export::toml::SPEC_TOML;
use crate::report::read_run;
use crate::results::targets::{THRESHOLD_COLUMN, prediction_prefixes};
use crate::results::{MetricsRow, PredictionRow, RunRecord, StageRecord, Table};
use crate::spec::{ExperimentSpec, TaskKind};

use super::PredictError;

/// The stage name a bundle file's artifact carries.
const STAGE: &str = "mer-bundle";
/// The bundle format: bumped whenever its arrays change meaning.
pub const BUNDLE_FORMAT: u32 = 1;

/// A finished run's trained model, ready to score new songs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBundle {
    /// The run's resolved spec.
    pub spec: ExperimentSpec,
    /// The classes, regression targets or tags, in model output order.
    pub outputs: Vec<String>,
    /// Where the model comes from: the report folder, the spec hash and the mer version
    /// that ran it.
    pub origin: [String; 3],
    /// Each extraction stage's settings as its key holds them, by stage instance.
    pub extractors: Vec<(String, String)>,
    /// Every seed's fold ensemble.
    pub seeds: Vec<TrainedSeed>,
    /// A multi-label run's F1 threshold per seed (chosen on the seed's out-of-fold songs, as
    /// its report's `metrics.csv` has it); empty for other kinds.
    pub thresholds: Vec<f64>,
}

impl ModelBundle {
    /// A report folder's run from the cache's artifacts, or a bundle file.
    pub fn open(path: &Path, store: &ArtifactStore) -> Result<Self, PredictError> {
        if path.is_dir() {
            Self::from_report(path, store)
        } else {
            Self::read(path)
        }
    }

    /// The run of `report` (a finished run's report folder), its stages read from `store`.
    pub fn from_report(report: &Path, store: &ArtifactStore) -> Result<Self, PredictError> {
        let spec = read_spec(report)?;
        let record = read_record(report)?;
        let outputs = output_names(report, spec.task.kind)?;
        let artifact = |instance: &str| stage_artifact(&record, instance, store);
        let folds = spec.split.fold_count();
        let mut seeds = Vec::new();
        for &seed in &record.seeds {
            let fold_artifacts = |stage: &str| {
                (0..folds)
                    .map(|k| artifact(&format!("{stage}[{k}]@{seed}")))
                    .collect::<Result<Vec<_>, _>>()
            };
            let (normalize, train) = (fold_artifacts("normalize")?, fold_artifacts("train")?);
            let evaluate = artifact(&format!("evaluate@{seed}"))?;
            let trained =
                TrainedSeed::from_stages(seed, (&normalize, &train), &evaluate, outputs.len())?;
            seeds.push(trained);
        }
        let thresholds = match spec.task.kind {
            TaskKind::Multilabel => seed_thresholds(report, &record.seeds)?,
            _ => Vec::new(),
        };
        let mut extractors = Vec::new();
        for stage in record
            .stages
            .iter()
            .filter(|s| s.stage.starts_with("extract"))
        {
            let settings = artifact(&stage.instance)?.meta.config_json;
            if is_extractor(&settings) {
                extractors.push((stage.instance.clone(), settings));
            }
        }
        Ok(ModelBundle {
            spec,
            outputs,
            origin: [
                report.display().to_string(),
                record.spec_hash,
                record.mer_version,
            ],
            extractors,
            seeds,
            thresholds,
        })
    }

    /// Writes the bundle to `path` (whole or not at all).
    pub fn write(&self, path: &Path) -> Result<(), PredictError> {
        write_sealed(path, self.to_artifact())?;
        Ok(())
    }

    /// Reads a bundle file, refusing one of another format or made of other stage versions.
    pub fn read(path: &Path) -> Result<Self, PredictError> {
        let artifact = read_sealed(path)?;
        Self::from_artifact(&artifact, path)
    }

    fn to_artifact(&self) -> Artifact {
        let mut artifact = Artifact::new(&StageInputs::new(STAGE, BUNDLE_FORMAT));
        let (stages, versions): (Vec<String>, Vec<i64>) = (model_stage_versions().into_iter())
            .map(|(stage, version)| (stage.to_string(), i64::from(version)))
            .unzip();
        let (instances, settings) = self.extractors.iter().cloned().unzip();
        let seeds: Vec<i64> = self.seeds.iter().map(|s| s.seed as i64).collect();
        let folds = self.seeds.first().map_or(0, TrainedSeed::folds);
        artifact
            .put_strings("spec", vec![self.spec.to_toml()])
            .put_strings("outputs", self.outputs.clone())
            .put_strings("origin", self.origin.to_vec())
            .put_i64("stage_versions", &[stages.len()], versions)
            .put_strings("stages", stages)
            .put_strings("extractors", instances)
            .put_strings("extractor_settings", settings)
            .put_i64("seeds", &[seeds.len()], seeds)
            .put_i64("folds", &[1], vec![folds as i64])
            .put_f64(
                "thresholds",
                &[self.thresholds.len()],
                self.thresholds.clone(),
            );
        for (i, seed) in self.seeds.iter().enumerate() {
            seed.write(&mut artifact, &format!("seed-{i}."));
        }
        artifact
    }

    fn from_artifact(artifact: &Artifact, path: &Path) -> Result<Self, PredictError> {
        let meta = &artifact.meta;
        let bad = |problem: String| PredictError::BadBundle {
            path: path.to_path_buf(),
            problem,
        };
        if meta.stage != STAGE {
            return Err(bad(format!(
                "it holds a `{}` cache entry, not a model bundle",
                meta.stage
            )));
        }
        if meta.version != BUNDLE_FORMAT {
            return Err(PredictError::Incompatible {
                path: path.to_path_buf(),
                written_by: meta.mer_version.clone(),
                what: format!(
                    "bundle format {} (this mer reads format {BUNDLE_FORMAT})",
                    meta.version
                ),
            });
        }
        let strings = |name: &str| -> Result<Vec<String>, PredictError> {
            (artifact.array(name).and_then(|a| a.as_str()))
                .map(<[String]>::to_vec)
                .ok_or_else(|| bad(format!("no array `{name}`")))
        };
        let integers = |name: &str| -> Result<Vec<i64>, PredictError> {
            (artifact.array(name).and_then(|a| a.as_i64()))
                .map(<[i64]>::to_vec)
                .ok_or_else(|| bad(format!("no array `{name}`")))
        };
        let stored = strings("stages")?
            .into_iter()
            .zip(integers("stage_versions")?);
        for (stage, version) in stored {
            let current = model_stage_versions()
                .into_iter()
                .find(|(s, _)| *s == stage);
            if current.map(|(_, v)| i64::from(v)) != Some(version) {
                return Err(PredictError::Incompatible {
                    path: path.to_path_buf(),
                    written_by: meta.mer_version.clone(),
                    what: format!(
                        "{stage} stage version {version} (this mer's is {})",
                        current.map_or("none".into(), |(_, v)| v.to_string())
                    ),
                });
            }
        }
        let spec_text = strings("spec")?.concat();
        let spec: ExperimentSpec =
            toml::from_str(&spec_text).map_err(|e| bad(format!("its spec does not parse: {e}")))?;
        let origin: [String; 3] = strings("origin")?
            .try_into()
            .map_err(|_| bad("array `origin` does not hold 3 strings".into()))?;
        let extractors = strings("extractors")?
            .into_iter()
            .zip(strings("extractor_settings")?)
            .collect();
        let folds = integers("folds")?.first().copied().unwrap_or(0) as usize;
        let seeds = (integers("seeds")?.iter().enumerate())
            .map(|(i, &seed)| {
                TrainedSeed::read(artifact, &format!("seed-{i}."), seed as u64, folds)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let thresholds = (artifact.array("thresholds").and_then(|a| a.as_f64()))
            .map(<[f64]>::to_vec)
            .ok_or_else(|| bad("no array `thresholds`".into()))?;
        if spec.task.kind == TaskKind::Multilabel && thresholds.len() != seeds.len() {
            return Err(bad(format!(
                "{} thresholds for {} seeds",
                thresholds.len(),
                seeds.len()
            )));
        }
        Ok(ModelBundle {
            spec,
            outputs: strings("outputs")?,
            origin,
            extractors,
            seeds,
            thresholds,
        })
    }

    /// Refuses to predict when the extractors would compute other features than the ones the
    /// model was trained on (another extractor version or setting, other pretrained weights).
    pub fn check_extractors(&self, now: &[(String, String)]) -> Result<(), PredictError> {
        for (instance, trained) in &self.extractors {
            let current = now.iter().find(|(i, _)| i == instance).map(|(_, s)| s);
            if current != Some(trained) {
                return Err(PredictError::ExtractorChanged {
                    stage: instance.clone(),
                    trained: trained.clone(),
                    now: current.cloned().unwrap_or_else(|| "absent".into()),
                });
            }
        }
        Ok(())
    }
}

/// Whether a stage's settings (its key's config, as JSON) are an extractor's.
fn is_extractor(settings: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(settings)
        .ok()
        .and_then(|v| v.get(EXTRACTOR_VERSION).cloned())
        .is_some()
}

/// The report's resolved spec; a folder without one is no report.
fn read_spec(report: &Path) -> Result<ExperimentSpec, PredictError> {
    let path = report.join(SPEC_TOML);
    let text = std::fs::read_to_string(&path).map_err(|source| PredictError::NotAReport {
        path: report.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| PredictError::BadReport {
        path,
        problem: e.to_string(),
    })
}

fn read_record(report: &Path) -> Result<RunRecord, PredictError> {
    let record = read_run(report)?;
    if record.dry_run || record.error.is_some() {
        return Err(PredictError::Unfinished(report.to_path_buf()));
    }
    Ok(record)
}

/// The model's output names, from the report's `predictions.csv`: the classes of its
/// probability columns `p[<class>]`, the targets or tags of its `true_<output>` columns.
fn output_names(report: &Path, kind: TaskKind) -> Result<Vec<String>, PredictError> {
    let path = report.join(PredictionRow::FILE);
    let bad = |problem: String| PredictError::BadReport {
        path: path.clone(),
        problem,
    };
    let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(e.to_string()))?;
    let header = reader.headers().map_err(|e| bad(e.to_string()))?;
    let (truth, _) = prediction_prefixes(kind);
    let names: Vec<String> = (header.iter())
        .filter_map(|h| match kind {
            TaskKind::Classification => PredictionRow::class_of(h),
            _ => h.strip_prefix(truth),
        })
        .map(str::to_string)
        .collect();
    match names.is_empty() {
        true => Err(bad(format!("no output columns for a {kind:?} run"))),
        false => Ok(names),
    }
}

/// Each seed's multi-label F1 threshold, from the report's `metrics.csv`.
fn seed_thresholds(report: &Path, seeds: &[u64]) -> Result<Vec<f64>, PredictError> {
    let path = report.join(MetricsRow::FILE);
    let bad = |problem: String| PredictError::BadReport {
        path: path.clone(),
        problem,
    };
    let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(e.to_string()))?;
    let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let column = |name: &str| {
        (header.iter().position(|h| h == name)).ok_or_else(|| bad(format!("no column `{name}`")))
    };
    let (seed_column, threshold_column) = (column("seed")?, column(THRESHOLD_COLUMN)?);
    let mut found: Vec<(u64, f64)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let cell = |i: usize| record.get(i).unwrap_or_default();
        let seed = cell(seed_column)
            .parse()
            .map_err(|_| bad(format!("seed `{}`", cell(seed_column))))?;
        let threshold = (cell(threshold_column).parse::<f64>().ok())
            .filter(|t| (0.0..=1.0).contains(t))
            .ok_or_else(|| bad(format!("threshold `{}`", cell(threshold_column))))?;
        found.push((seed, threshold));
    }
    seeds
        .iter()
        .map(|seed| {
            (found.iter().find(|(s, _)| s == seed).map(|&(_, t)| t))
                .ok_or_else(|| bad(format!("no row of seed {seed}")))
        })
        .collect()
}

/// The artifact of stage `instance` of the run, from `store`.
fn stage_artifact(
    record: &RunRecord,
    instance: &str,
    store: &ArtifactStore,
) -> Result<Artifact, PredictError> {
    let key: StageKey = (record.stages.iter())
        .find(|s: &&StageRecord| s.instance == instance)
        .map(|s| s.key)
        .ok_or_else(|| PredictError::NoStage(instance.to_string()))?;
    match store.get(&key)? {
        Lookup::Hit(artifact) => Ok(artifact),
        _ => Err(PredictError::NotCached {
            stage: instance.to_string(),
            cache: store.root().to_path_buf(),
        }),
    }
}
