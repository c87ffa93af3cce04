//! Scoring predictions: classification metrics, calibration, bootstrap confidence intervals
//! and the ways fold models are combined into one ensemble prediction; regression metrics per
//! target ([`regression`]) and multi-label metrics per tag ([`multilabel`]).
//!
//! Everything here is a pure function of labels and class probabilities (rows x classes,
//! row-major), so the `evaluate` stage, the report writer and `mer compare` all compute a
//! number the same way. Conventions follow scikit-learn where it has one (stated per function),
//! so numbers can be checked against a Python session.

pub mod bootstrap;
pub mod ensemble;
pub mod metrics;
pub mod multilabel;
pub mod regression;

pub use bootstrap::{Interval, percentile_bootstrap};
pub use ensemble::{Ensemble, combine};
pub use metrics::{
    ClassScores, Confusion, Metrics, ReliabilityBin, argmax_rows, bootstrap_intervals, quantile,
    reliability, score,
};

/// Column `k` of a row-major matrix of rows of `width` values.
fn column<T: Copy>(values: &[T], width: usize, k: usize) -> Vec<T> {
    values.iter().skip(k).step_by(width).copied().collect()
}
