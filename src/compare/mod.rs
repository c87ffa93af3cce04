//! Comparing runs: a baseline run against each other run of a sweep, over the paired
//! seeds x folds scores they share (`mer compare`, issue 9).
//!
//! For now this module owns only the statistics ([`stats`]): paired mean difference with a
//! confidence interval, the paired t-test, the Wilcoxon signed-rank test and Holm's
//! correction across the compared runs. They are pure functions of score vectors and follow
//! SciPy's (and statsmodels') conventions, stated per function, so every number can be
//! checked against a Python session (`scripts/parity/compare_reference.py`).

pub mod stats;

pub use stats::{CompareError, PairedComparison, holm, paired};
