//! One report folder read back into typed tables: the run record, the resolved spec and the
//! CSV files `mer run` wrote (their rows are [`crate::results::rows`], read in [`super::tables`]
//! with every number checked). Compare reads report folders only, never the cache: a report is
//! the run's whole result. Every score compare takes is on the test split, all songs.

use std::path::{Path, PathBuf};

use crate::cache::StageKey;
use crate::report::export::toml::SPEC_TOML;
use crate::report::{Incomplete, RUN_JSON, ReportError, check_complete, is_partial, read_run};
use crate::results::{
    HistoryRow, Metric, MetricsRow, Model, PredictionRow, RunRecord, SongGroup, Split, Table,
    TaskKind,
};

use super::read_error::{ReadError, malformed};
use super::tables::{
    CurvePoint, OutputScoreRow, ScoreRow, TestPrediction, read_history, read_metrics,
    read_output_scores, read_predictions,
};

/// A report folder that is not whole, as a [`ReadError::Unfinished`].
fn unfinished(folder: &Path, why: Incomplete) -> ReadError {
    ReadError::Unfinished {
        path: folder.to_path_buf(),
        error: why.to_string(),
    }
}

/// A report folder, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The folder.
    pub folder: PathBuf,
    /// The sweep member it belongs to, when it came from a sweep folder.
    pub member: Option<String>,
    /// `run.json`.
    pub record: RunRecord,
    /// `spec.toml`, the resolved spec.
    pub spec: toml::Table,
    /// The task kind (`task.kind` in the spec).
    pub kind: TaskKind,
    /// `metrics.csv`.
    pub metrics: Vec<ScoreRow>,
    /// `per_class.csv`, `per_target.csv` or `per_tag.csv`: each output's own score.
    pub output_scores: Vec<OutputScoreRow>,
    /// `history.csv`: the validation score per fold and epoch.
    pub history: Vec<CurvePoint>,
    /// The outputs in model order: classes, targets or tags (from `predictions.csv`).
    pub outputs: Vec<String>,
    /// `predictions.csv`.
    pub predictions: Vec<TestPrediction>,
}

impl Run {
    /// Reads the report folder `folder`; refuses dry runs and runs that did not finish.
    pub fn read(folder: &Path, member: Option<String>) -> Result<Run, ReadError> {
        if is_partial(folder) {
            return Err(unfinished(folder, Incomplete::BeingWritten));
        }
        if !folder.join(RUN_JSON).is_file() {
            return Err(ReadError::NotAReport {
                path: folder.to_path_buf(),
                hint: String::new(),
            });
        }
        let record = read_run(folder).map_err(|e| record_error(folder, e))?;
        if record.dry_run {
            return Err(ReadError::DryRun {
                path: folder.to_path_buf(),
            });
        }
        if let Some(error) = &record.error {
            return Err(ReadError::Unfinished {
                path: folder.to_path_buf(),
                error: error.clone(),
            });
        }
        check_complete(folder, &record).map_err(|why| unfinished(folder, why))?;
        let spec_path = folder.join(SPEC_TOML);
        let spec = read_text(&spec_path)?
            .parse::<toml::Table>()
            .map_err(|e| malformed(&spec_path, e.to_string()))?;
        let kind = task_kind(&spec, &spec_path)?;
        let (outputs, predictions) = read_predictions(&folder.join(PredictionRow::FILE), kind)?;
        Ok(Run {
            folder: folder.to_path_buf(),
            member,
            record,
            spec,
            kind,
            metrics: read_metrics(&folder.join(MetricsRow::FILE), kind)?,
            output_scores: read_output_scores(folder, kind)?,
            history: read_history(&folder.join(HistoryRow::FILE), kind)?,
            outputs,
            predictions,
        })
    }

    /// `metric` of `model` on the test split, all songs, for `seed`.
    pub fn test_score(&self, seed: u64, model: Model, metric: Metric) -> Option<f64> {
        self.row(seed, model, Split::Test)
            .and_then(|row| row.value(metric))
    }

    /// `metric` of the pooled out-of-fold predictions (every non-test song, each predicted by
    /// the fold model that did not train on it), all songs, for `seed`.
    pub fn cv_score(&self, seed: u64, metric: Metric) -> Option<f64> {
        self.row(seed, Model::OutOfFold, Split::Cv)
            .and_then(|row| row.value(metric))
    }

    /// The multi-label F1 threshold of `seed`, if the run has one.
    pub fn threshold(&self, seed: u64) -> Option<f64> {
        self.row(seed, Model::HEADLINE, Split::Test)
            .and_then(|row| row.threshold)
    }

    /// The row of `model` on `split`, all songs, for `seed`.
    fn row(&self, seed: u64, model: Model, split: Split) -> Option<&ScoreRow> {
        self.metrics.iter().find(|r| {
            r.seed == seed && r.model == model && r.split == split && r.group == SongGroup::All
        })
    }

    /// The models scored on the test split (all songs), in file order.
    pub fn test_models(&self) -> Vec<Model> {
        let mut models: Vec<Model> = Vec::new();
        for row in &self.metrics {
            if row.split == Split::Test
                && row.group == SongGroup::All
                && !models.contains(&row.model)
            {
                models.push(row.model);
            }
        }
        models
    }

    /// Number of fold models (`fold-0` .. `fold-<k-1>` on the test split).
    pub fn folds(&self) -> usize {
        self.test_models()
            .iter()
            .filter(|m| m.fold().is_some())
            .count()
    }

    /// The key of the `split@<seed>` stage from run.json.
    pub fn split_key(&self, seed: u64) -> Option<&StageKey> {
        let instance = format!("split@{seed}");
        self.record
            .stages
            .iter()
            .find(|s| s.instance == instance)
            .map(|s| &s.key)
    }

    /// Songs the run used for `seed`: its test songs plus the pooled out-of-fold songs.
    pub fn songs(&self, seed: u64) -> Option<usize> {
        let count = |model: Model, split: Split| {
            self.row(seed, model, split)
                .and_then(|r| r.value(Metric::Songs))
                .map(|n| n as usize)
        };
        let test = self
            .test_models()
            .first()
            .and_then(|&m| count(m, Split::Test))?;
        Some(test + count(Model::OutOfFold, Split::Cv)?)
    }

    /// Test predictions of `seed`.
    pub fn seed_predictions(&self, seed: u64) -> impl Iterator<Item = &TestPrediction> {
        self.predictions.iter().filter(move |p| p.seed == seed)
    }

    /// The model whose predictions `predictions.csv` holds.
    pub fn predicted_model(&self) -> Option<Model> {
        self.predictions.first().map(|p| p.model)
    }

    /// The folder's name, e.g. `20261124T210835Z-a3d2f296`.
    pub fn folder_name(&self) -> String {
        self.folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.folder.display().to_string())
    }
}

/// The spec's `task.kind` (classification when absent), read as the spec reads it.
fn task_kind(spec: &toml::Table, path: &Path) -> Result<TaskKind, ReadError> {
    let Some(kind) = spec.get("task").and_then(|t| t.get("kind")) else {
        return Ok(TaskKind::default());
    };
    kind.clone().try_into().map_err(|_| {
        malformed(
            path,
            format!("task.kind = {kind} is no task kind mer knows"),
        )
    })
}

fn record_error(folder: &Path, error: ReportError) -> ReadError {
    match error {
        ReportError::Io { path, source, .. } => ReadError::Io { path, source },
        ReportError::BadRecord { path, source } => malformed(&path, source.to_string()),
        other => malformed(&folder.join(RUN_JSON), other.to_string()),
    }
}

fn read_text(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })
}
