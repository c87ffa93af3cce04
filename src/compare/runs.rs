//! One report folder read back into typed tables: the run record, the resolved spec and the
//! CSV files `mer run` wrote (their columns are documented in [`crate::report::tables`]).
//! Compare reads report folders only, never the cache: a report is the run's whole result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::cache::StageKey;
use crate::pipeline::RunRecord;
use crate::report::{Incomplete, RUN_JSON, ReportError, check_complete, is_partial, read_run};

/// The split every score in a comparison is taken on.
pub const TEST_SPLIT: &str = "test";
/// The song group of the comparison: every test song.
pub const ALL_SONGS: &str = "all";
/// The split and model of the pooled out-of-fold predictions (their songs complete the count
/// of the run's songs).
const CV_SPLIT: &str = "cv";
const OUT_OF_FOLD: &str = "out-of-fold";
/// Columns of `metrics.csv` that identify a row rather than hold a metric.
const KEY_COLUMNS: [&str; 4] = ["seed", "model", "split", "group"];

/// Why a report folder could not be read.
#[derive(Debug, Error)]
pub enum ReadError {
    /// Neither `run.json` nor `sweep.json`.
    #[error(
        "'{}' is not a report folder or a sweep folder (it has no run.json or sweep.json){hint}",
        path.display()
    )]
    NotAReport {
        /// The path given.
        path: PathBuf,
        /// A suggestion (e.g. the report folders it holds), starting with "; ".
        hint: String,
    },
    /// A glob that matched nothing.
    #[error("'{pattern}' matches no file or folder")]
    NoMatch {
        /// The pattern.
        pattern: String,
    },
    /// A plan written by `--dry-run`.
    #[error(
        "'{}' is the record of a dry run: nothing was computed, so there is nothing to compare; pass the report folder of a real run",
        path.display()
    )]
    DryRun {
        /// The report folder.
        path: PathBuf,
    },
    /// A run that failed or was interrupted: it wrote no metrics.
    #[error(
        "'{}' is a run that did not finish ({error}); it has no metrics to compare. Run the same command again (finished stages come from the cache) and compare the new report folder",
        path.display()
    )]
    Unfinished {
        /// The report folder.
        path: PathBuf,
        /// The run's error, from run.json.
        error: String,
    },
    /// A file could not be read.
    #[error("could not read '{}'", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file that does not have the shape `mer run` writes.
    #[error("'{}' is not as mer writes it: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
}

/// A report folder that is not whole, as a [`ReadError::Unfinished`].
fn unfinished(folder: &Path, why: Incomplete) -> ReadError {
    ReadError::Unfinished {
        path: folder.to_path_buf(),
        error: why.to_string(),
    }
}

/// One row of `metrics.csv`: a model on a split and song group, for one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// The seed.
    pub seed: u64,
    /// `fold-<k>`, `ensemble`, `ensemble+tta`, `ensemble:<method>`, `out-of-fold`.
    pub model: String,
    /// `test`, `validation` or `cv`.
    pub split: String,
    /// `all`, `all-modalities` or `partial`.
    pub group: String,
    /// Metric name to value (empty cells left out).
    pub values: BTreeMap<String, f64>,
}

/// One row of `per_class.csv`, the columns compare uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClassRow {
    /// The seed.
    pub seed: u64,
    /// The model.
    pub model: String,
    /// The split.
    pub split: String,
    /// The song group.
    pub group: String,
    /// Class name.
    pub class: String,
    /// F1 of the class.
    pub f1: f64,
}

/// One row of `history.csv`, the columns compare uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EpochRow {
    /// The seed.
    pub seed: u64,
    /// The fold.
    pub fold: usize,
    /// 1-based epoch.
    pub epoch: usize,
    /// Validation macro-F1 after the epoch.
    pub valid_macro_f1: f64,
}

/// One test song's prediction from `predictions.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionRow {
    /// The seed.
    pub seed: u64,
    /// The model whose predictions these are (the run's headline model).
    pub model: String,
    /// Song id.
    pub id: String,
    /// True class index into [`Run::classes`].
    pub truth: usize,
    /// Class probabilities in class order.
    pub probabilities: Vec<f32>,
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
    /// Metric columns of `metrics.csv`, in file order (interval bounds included).
    pub metric_columns: Vec<String>,
    /// `metrics.csv`.
    pub metrics: Vec<MetricRow>,
    /// `per_class.csv`.
    pub per_class: Vec<ClassRow>,
    /// `history.csv`.
    pub history: Vec<EpochRow>,
    /// Class names, in class order (from `predictions.csv`'s probability columns).
    pub classes: Vec<String>,
    /// `predictions.csv`.
    pub predictions: Vec<PredictionRow>,
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
        let spec_path = folder.join("spec.toml");
        let spec = read_text(&spec_path)?
            .parse::<toml::Table>()
            .map_err(|e| malformed(&spec_path, e.to_string()))?;
        let (metric_columns, metrics) = read_metrics(&folder.join("metrics.csv"))?;
        let (classes, predictions) = read_predictions(&folder.join("predictions.csv"))?;
        Ok(Run {
            folder: folder.to_path_buf(),
            member,
            record,
            spec,
            metric_columns,
            metrics,
            per_class: read_rows(&folder.join("per_class.csv"))?,
            history: read_rows(&folder.join("history.csv"))?,
            classes,
            predictions,
        })
    }

    /// `metric` of `model` on the test split, all songs, for `seed`.
    pub fn test_score(&self, seed: u64, model: &str, metric: &str) -> Option<f64> {
        self.test_row(seed, model)
            .and_then(|row| row.values.get(metric).copied())
    }

    fn test_row(&self, seed: u64, model: &str) -> Option<&MetricRow> {
        self.metrics.iter().find(|r| {
            r.seed == seed && r.model == model && r.split == TEST_SPLIT && r.group == ALL_SONGS
        })
    }

    /// The models scored on the test split (all songs), in file order.
    pub fn test_models(&self) -> Vec<&str> {
        let mut models: Vec<&str> = Vec::new();
        for row in &self.metrics {
            if row.split == TEST_SPLIT && row.group == ALL_SONGS && !models.contains(&&*row.model) {
                models.push(&row.model);
            }
        }
        models
    }

    /// The metrics `metrics.csv` holds (interval bounds and the song count are not metrics).
    pub fn metric_names(&self) -> Vec<&str> {
        self.metric_columns
            .iter()
            .map(String::as_str)
            .filter(|c| *c != "songs" && !c.ends_with("_low") && !c.ends_with("_high"))
            .collect()
    }

    /// Number of fold models (`fold-0` .. `fold-<k-1>` on the test split).
    pub fn folds(&self) -> usize {
        self.test_models()
            .iter()
            .filter(|m| {
                m.strip_prefix("fold-")
                    .is_some_and(|k| k.parse::<usize>().is_ok())
            })
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
        let count = |model: &str, split: &str| {
            self.metrics
                .iter()
                .find(|r| {
                    r.seed == seed && r.model == model && r.split == split && r.group == ALL_SONGS
                })
                .and_then(|r| r.values.get("songs"))
                .map(|&n| n as usize)
        };
        let test = self
            .test_models()
            .first()
            .and_then(|m| count(m, TEST_SPLIT))?;
        Some(test + count(OUT_OF_FOLD, CV_SPLIT)?)
    }

    /// Test predictions of `seed`.
    pub fn seed_predictions(&self, seed: u64) -> impl Iterator<Item = &PredictionRow> {
        self.predictions.iter().filter(move |p| p.seed == seed)
    }

    /// The model whose predictions `predictions.csv` holds.
    pub fn predicted_model(&self) -> Option<&str> {
        self.predictions.first().map(|p| p.model.as_str())
    }

    /// The folder's name, e.g. `20261124T210835Z-a3d2f296`.
    pub fn folder_name(&self) -> String {
        self.folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.folder.display().to_string())
    }
}

fn record_error(folder: &Path, error: ReportError) -> ReadError {
    match error {
        ReportError::Io { path, source, .. } => ReadError::Io { path, source },
        ReportError::BadRecord { path, source } => malformed(&path, source.to_string()),
        other => malformed(&folder.join(RUN_JSON), other.to_string()),
    }
}

fn malformed(path: &Path, message: impl Into<String>) -> ReadError {
    ReadError::Malformed {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn read_text(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn open_csv(path: &Path) -> Result<csv::Reader<std::fs::File>, ReadError> {
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(csv::Reader::from_reader(file))
}

fn csv_error(path: &Path) -> impl Fn(csv::Error) -> ReadError + '_ {
    move |e| malformed(path, e.to_string())
}

/// Every row of a CSV file whose header names the struct's fields (other columns ignored).
fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, ReadError> {
    open_csv(path)?
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(csv_error(path))
}

/// The positions of columns `names` in `header`.
fn columns<const N: usize>(
    path: &Path,
    header: &csv::StringRecord,
    names: [&str; N],
) -> Result<[usize; N], ReadError> {
    let mut found = [0; N];
    for (slot, name) in found.iter_mut().zip(names) {
        *slot = header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| malformed(path, format!("no column `{name}`")))?;
    }
    Ok(found)
}

fn parse_seed(path: &Path, text: &str) -> Result<u64, ReadError> {
    text.parse()
        .map_err(|_| malformed(path, format!("seed `{text}` is not a whole number")))
}

fn read_metrics(path: &Path) -> Result<(Vec<String>, Vec<MetricRow>), ReadError> {
    let mut reader = open_csv(path)?;
    let header = reader.headers().map_err(csv_error(path))?.clone();
    let [seed, model, split, group] = columns(path, &header, KEY_COLUMNS)?;
    let metric_columns: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter(|(_, name)| !KEY_COLUMNS.contains(name))
        .map(|(i, name)| (i, name.to_string()))
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error(path))?;
        let mut values = BTreeMap::new();
        for (i, name) in &metric_columns {
            let cell = &record[*i];
            if cell.is_empty() {
                continue;
            }
            let value = cell
                .parse::<f64>()
                .map_err(|_| malformed(path, format!("`{name}` = `{cell}` is not a number")))?;
            values.insert(name.clone(), value);
        }
        rows.push(MetricRow {
            seed: parse_seed(path, &record[seed])?,
            model: record[model].to_string(),
            split: record[split].to_string(),
            group: record[group].to_string(),
            values,
        });
    }
    let names = metric_columns.into_iter().map(|(_, name)| name).collect();
    Ok((names, rows))
}

/// Classes come from the probability columns `p[<class>]`, in class order.
fn read_predictions(path: &Path) -> Result<(Vec<String>, Vec<PredictionRow>), ReadError> {
    let mut reader = open_csv(path)?;
    let header = reader.headers().map_err(csv_error(path))?.clone();
    let [seed, model, id, truth] = columns(path, &header, ["seed", "model", "id", "true"])?;
    let probability_columns: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let class = h.strip_prefix("p[")?.strip_suffix(']')?;
            Some((i, class.to_string()))
        })
        .collect();
    if probability_columns.is_empty() {
        return Err(malformed(path, "no class probability columns `p[<class>]`"));
    }
    let classes: Vec<String> = probability_columns.iter().map(|(_, c)| c.clone()).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error(path))?;
        let truth_name = &record[truth];
        let truth = classes
            .iter()
            .position(|c| c == truth_name)
            .ok_or_else(|| {
                malformed(
                    path,
                    format!("true class `{truth_name}` has no probability column"),
                )
            })?;
        let probabilities = probability_columns
            .iter()
            .map(|(i, class)| {
                record[*i].parse::<f32>().map_err(|_| {
                    malformed(
                        path,
                        format!("p[{class}] = `{}` is not a number", &record[*i]),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        rows.push(PredictionRow {
            seed: parse_seed(path, &record[seed])?,
            model: record[model].to_string(),
            id: record[id].to_string(),
            truth,
            probabilities,
        });
    }
    Ok((classes, rows))
}
