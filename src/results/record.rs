//! What a run decided for each stage and why: the content of `run.json`, and the table that
//! `mer plan`, `mer run --dry-run` and `mer explain` print from it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cache::StageKey;

/// What happened to one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// A verified cached artifact was used.
    Hit,
    /// The artifact was computed (or, in a plan, would be).
    Miss,
    /// Recomputed because `--force` named it.
    Forced,
    /// Another process computed it while this one waited for its lock.
    Waited,
}

impl Decision {
    /// The word used in tables: hit, miss, forced, waited.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Hit => "hit",
            Decision::Miss => "miss",
            Decision::Forced => "forced",
            Decision::Waited => "waited",
        }
    }
}

/// One stage's line of the run record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// Stage instance, e.g. `train[2]@42`.
    pub instance: String,
    /// Stage name, e.g. `train`.
    pub stage: String,
    /// Artifact key.
    pub key: StageKey,
    /// What happened.
    pub decision: Decision,
    /// Why it missed: which config path changed from what to what, which upstream key or input
    /// files changed, or that there was never an entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Seconds spent computing it in this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

/// Everything `run.json` says about one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Experiment name.
    pub experiment: String,
    /// Short hash of the resolved spec.
    pub spec_hash: String,
    /// `mer` version that ran it.
    pub mer_version: String,
    /// Host it ran on.
    pub host: String,
    /// Seeds of the protocol runs.
    pub seeds: Vec<u64>,
    /// Start time, RFC 3339 UTC.
    pub started: String,
    /// End time, RFC 3339 UTC.
    pub finished: String,
    /// Whether this was a plan (`--dry-run`) rather than a run.
    pub dry_run: bool,
    /// Per stage, in graph order.
    pub stages: Vec<StageRecord>,
    /// `None` when the run completed; the error chain when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunRecord {
    /// Number of stages with decision `decision`.
    pub fn count(&self, decision: Decision) -> usize {
        self.stages
            .iter()
            .filter(|s| s.decision == decision)
            .count()
    }
}

/// The decision table: one line per stage, reasons indented below misses.
pub struct DecisionTable<'a>(pub &'a [StageRecord]);

impl fmt::Display for DecisionTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .0
            .iter()
            .map(|s| s.instance.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(f, "{:<width$}  {:<12}  {:<6}  why", "stage", "key", "")?;
        for stage in self.0 {
            let first = stage.reasons.first().map_or("", String::as_str);
            let seconds = stage
                .seconds
                .map(|s| format!(" ({s:.2} s)"))
                .unwrap_or_default();
            writeln!(
                f,
                "{:<width$}  {:<12}  {:<6}  {first}{seconds}",
                stage.instance,
                stage.key.short(),
                stage.decision.label(),
            )?;
            for reason in stage.reasons.iter().skip(1) {
                writeln!(f, "{:<width$}  {:<12}  {:<6}  {reason}", "", "", "")?;
            }
        }
        Ok(())
    }
}
