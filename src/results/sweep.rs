//! The schema of a sweep folder, `<reports>/<spec>/sweep-<UTC time>/`: what `mer sweep` writes
//! into `sweep.json` and `mer compare` reads back (the members, their status and reports, and
//! the selected result), so neither has to know the other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Metric;
use crate::spec::SelectOn;

/// File name of the summary inside a sweep folder.
pub const SWEEP_JSON: &str = "sweep.json";

/// The content of `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// The spec's name.
    pub sweep: String,
    /// The spec path as given on the command line.
    pub spec: String,
    /// Start time, RFC 3339.
    pub started: String,
    /// End time, RFC 3339.
    pub finished: String,
    /// Whether Ctrl-C stopped the sweep.
    pub interrupted: bool,
    /// Every member, in expansion order.
    pub members: Vec<MemberSummary>,
    /// The `selected` result, when the spec's `[sweep] select` asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
}

/// One member in `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberSummary {
    /// The member's name.
    pub name: String,
    /// The `spec_hash` its `run.json` carries: the hash of its resolved spec.
    pub member_hash: String,
    /// Its overrides, key path to value (`modalities` lists the kept modalities).
    pub set: BTreeMap<String, toml::Value>,
    /// `finished`, `reused`, `failed`, `interrupted` or `not-run`.
    pub status: MemberStatus,
    /// Its report folder relative to the sweep folder, e.g. `../audio+lyrics/<time>-<hash>`.
    pub report: Option<String>,
    /// Why it failed or stopped.
    pub error: Option<String>,
}

/// What became of one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberStatus {
    /// It ran to the end in this sweep.
    Finished,
    /// A finished report of the same resolved spec already existed; nothing ran.
    Reused,
    /// It stopped with an error (the summary says which).
    Failed,
    /// The sweep was interrupted while it ran; its finished stages are cached.
    Interrupted,
    /// The sweep was interrupted before it started.
    NotRun,
}

impl MemberStatus {
    /// The word used in `sweep.json` and `members.csv`.
    pub fn label(self) -> &'static str {
        match self {
            MemberStatus::Finished => "finished",
            MemberStatus::Reused => "reused",
            MemberStatus::Failed => "failed",
            MemberStatus::Interrupted => "interrupted",
            MemberStatus::NotRun => "not-run",
        }
    }

    /// Whether the member has a complete report.
    pub fn is_complete(self) -> bool {
        matches!(self, MemberStatus::Finished | MemberStatus::Reused)
    }
}

/// One seed's choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectedSeed {
    /// The run seed.
    pub seed: u64,
    /// The member chosen.
    pub member: String,
    /// Its out-of-fold cross-validation score, which chose it.
    pub cv: f64,
    /// Its headline model's test score: the selected result of this seed.
    pub test: f64,
}

/// The selection, as `sweep.json` keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The metric that chooses and is reported.
    pub metric: Metric,
    /// The songs that choose.
    pub on: SelectOn,
    /// Per seed, in the first member's seed order.
    pub seeds: Vec<SelectedSeed>,
    /// Mean of the selected test scores over seeds.
    pub test_mean: f64,
    /// Their sample standard deviation (none for one seed).
    pub test_std: Option<f64>,
}

/// The name of the selected result in `members.csv` and `mer compare`.
pub const SELECTED: &str = "selected";
/// The per-seed choices of the selection.
pub const SELECTED_CSV: &str = "selected.csv";
