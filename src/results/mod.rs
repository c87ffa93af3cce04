//! A run's results, at the bottom of the house: what every layer that writes or reads them
//! agrees on. It owns
//! - the result vocabulary ([`vocabulary`]): [`Split`], [`Model`], [`SongGroup`], [`Metric`]
//!   (with its [`Direction`] and [`TaskKind`]), each with one spelling in the report's files;
//! - the results a finished run hands to its report: [`RunResults`] per seed for a
//!   classification ([`scores`]), [`TargetRunResults`] for regression and multi-label runs
//!   ([`targets`]);
//! - the rows of the report's CSV files ([`rows`]), written by the report and read back by
//!   `mer compare` and `mer sweep`;
//! - the run record ([`record`]), the content of `run.json`, and the sweep folder's
//!   `sweep.json` ([`sweep`]).
//!
//! It imports only [`crate::eval`] (the numbers), [`crate::modality`], the spec's task kind
//! and the cache's key type; the pipeline builds its types, the report lays them out, compare
//! and sweep read them.

pub mod record;
pub mod rows;
pub mod scores;
pub mod sweep;
pub mod targets;
pub mod vocabulary;

pub use record::{Decision, DecisionTable, RunRecord, StageRecord};
pub use rows::{
    ConfusionRow, HistoryRow, MetricsRow, PerClassRow, PredictionRow, SummaryRow, Table, columns,
    mean_std, number, spread_text,
};
pub use scores::{EpochPoint, FoldCurve, ModelScore, Prediction, RunResults, SeedResults};
pub use targets::{TargetPrediction, TargetRunResults, TargetScore, TargetSeedResults};
pub use vocabulary::{
    Combination, Direction, Metric, Model, SongGroup, Split, TaskKind, UnknownName,
};
