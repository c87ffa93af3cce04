//! `[executor]`: where a sweep's members and a run's seeds run, how finely extraction is
//! split, and how a cluster job asks for resources. Not
//! part of an experiment's identity: left out of the resolved spec, its hash and every key.
//!
//! ```toml
//! [executor]
//! kind = "slurm"            # default "local"
//! extract_shards = 16       # default 1: each extraction in one piece
//! [executor.slurm]
//! partition = "cpu"
//! time = "02:00:00"
//! cpus_per_task = 4
//! mem = "8G"
//! account = "mer-lab"
//! max_parallel = 8          # array tasks at once (--array=...%8)
//! sbatch = ["--qos=short"]  # further #SBATCH options
//! ```

use serde::{Deserialize, Serialize};

/// Where a sweep's members (and a run's seeds) run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutorKind {
    /// Here, side by side.
    #[default]
    Local,
    /// As Slurm job arrays, submitted from a login node.
    Slurm,
}

/// How each Slurm job asks for resources; unset values take the cluster's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmSettings {
    /// `--partition`.
    #[serde(default)]
    pub partition: Option<String>,
    /// `--time`, e.g. `02:00:00`.
    #[serde(default)]
    pub time: Option<String>,
    /// `--cpus-per-task`.
    #[serde(default)]
    pub cpus_per_task: Option<u32>,
    /// `--mem`, e.g. `8G`.
    #[serde(default)]
    pub mem: Option<String>,
    /// `--account`.
    #[serde(default)]
    pub account: Option<String>,
    /// Array tasks running at once (`--array=...%K`).
    #[serde(default)]
    pub max_parallel: Option<usize>,
    /// Further `#SBATCH` options, e.g. `--qos=short`.
    #[serde(default)]
    pub sbatch: Vec<String>,
}

impl SlurmSettings {
    /// These settings, each value `over` sets replacing this one's; `over`'s extra `#SBATCH`
    /// options come after these.
    pub fn overridden_by(&self, over: &SlurmSettings) -> SlurmSettings {
        let pick = |a: &Option<String>, b: &Option<String>| b.clone().or_else(|| a.clone());
        SlurmSettings {
            partition: pick(&self.partition, &over.partition),
            time: pick(&self.time, &over.time),
            cpus_per_task: over.cpus_per_task.or(self.cpus_per_task),
            mem: pick(&self.mem, &over.mem),
            account: pick(&self.account, &over.account),
            max_parallel: over.max_parallel.or(self.max_parallel),
            sbatch: self.sbatch.iter().chain(&over.sbatch).cloned().collect(),
        }
    }
}

/// `[executor]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorSection {
    /// Default `local`.
    #[serde(default)]
    pub kind: ExecutorKind,
    /// Each per-song extraction split into this many shards (songs by a stable hash of
    /// their id), each cached on its own and, on Slurm, computed by its own array task; the
    /// joined features are the same as unsharded, under the same key. Default 1.
    #[serde(default = "one_shard")]
    pub extract_shards: usize,
    /// `[executor.slurm]`.
    #[serde(default)]
    pub slurm: SlurmSettings,
}

impl Default for ExecutorSection {
    fn default() -> Self {
        ExecutorSection {
            kind: ExecutorKind::default(),
            extract_shards: one_shard(),
            slurm: SlurmSettings::default(),
        }
    }
}

fn one_shard() -> usize {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_values_win_and_sbatch_options_add_up() {
        let spec = SlurmSettings {
            partition: Some("cpu".into()),
            time: Some("01:00:00".into()),
            sbatch: vec!["--qos=long".into()],
            ..SlurmSettings::default()
        };
        let line = SlurmSettings {
            time: Some("00:10:00".into()),
            max_parallel: Some(3),
            sbatch: vec!["--nice=10".into()],
            ..SlurmSettings::default()
        };
        let merged = spec.overridden_by(&line);
        assert_eq!(merged.partition.as_deref(), Some("cpu"));
        assert_eq!(merged.time.as_deref(), Some("00:10:00"));
        assert_eq!(merged.max_parallel, Some(3));
        assert_eq!(merged.sbatch, ["--qos=long", "--nice=10"]);
    }
}
