//! How long the stages a plan would compute should take, from how long stages of the same
//! kind took before.
//!
//! Every artifact records the seconds its stage took (`duration_s`, see
//! [`crate::cache::ArtifactMeta`]), so the cache itself is the history: a stage kind's typical
//! duration is the median over its entries. A run's estimate is the sum, over the graph's
//! levels, of the longest stage to compute in that level: the stages of a level run side by
//! side, as they did when their durations were recorded. It is a rough guide (more seeds or
//! folds than before make a level longer than any stage recorded alone), never a promise.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::cache::{ArtifactStore, CacheError};

use super::graph::StageGraph;

/// Past compute durations by stage (`extract.audio`, `train`, ...).
#[derive(Debug, Clone, Default)]
pub struct DurationHistory {
    seconds: BTreeMap<String, Vec<f64>>,
}

impl DurationHistory {
    /// The durations every entry of `store` recorded.
    pub fn from_store(store: &ArtifactStore) -> Result<Self, CacheError> {
        let mut history = DurationHistory::default();
        for entry in store.list()? {
            if let (Some(stage), Some(seconds)) = (entry.stage, entry.duration_s) {
                history.record(&stage, seconds);
            }
        }
        Ok(history)
    }

    /// Adds one recorded duration of `stage`.
    pub fn record(&mut self, stage: &str, seconds: f64) {
        if seconds.is_finite() && seconds >= 0.0 {
            self.seconds
                .entry(stage.to_string())
                .or_default()
                .push(seconds);
        }
    }

    /// The median recorded duration of `stage`, if it ever ran.
    pub fn typical(&self, stage: &str) -> Option<f64> {
        let mut values = self.seconds.get(stage)?.clone();
        values.sort_by(f64::total_cmp);
        let n = values.len();
        Some(match n {
            0 => return None,
            _ if n % 2 == 1 => values[n / 2],
            _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        })
    }
}

/// The estimated time of the stages a plan would compute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimate {
    /// Seconds for the stages with a history.
    pub seconds: f64,
    /// Stages to compute.
    pub stages: usize,
    /// Stage kinds to compute that never ran with this cache: no estimate for them.
    pub unknown: BTreeSet<String>,
}

impl Estimate {
    /// `graph`'s estimate when the stage instances for which `compute(instance)` holds are
    /// computed.
    pub fn of(
        graph: &StageGraph,
        history: &DurationHistory,
        compute: impl Fn(&str) -> bool,
    ) -> Estimate {
        let mut estimate = Estimate::default();
        for level in graph.levels() {
            let mut longest: f64 = 0.0;
            let computed = |&i: &usize| compute(&graph.nodes[i].id.to_string());
            for index in level.into_iter().filter(computed) {
                let stage = &graph.nodes[index].inputs.stage;
                estimate.stages += 1;
                match history.typical(stage) {
                    Some(seconds) => longest = longest.max(seconds),
                    None => {
                        estimate.unknown.insert(stage.clone());
                    }
                }
            }
            estimate.seconds += longest;
        }
        estimate
    }

    /// Two estimates one after the other (sweep members run in turn).
    pub fn add(&mut self, other: &Estimate) {
        self.seconds += other.seconds;
        self.stages += other.stages;
        self.unknown.extend(other.unknown.iter().cloned());
    }
}

impl fmt::Display for Estimate {
    /// `about 42 s`, `at least 12 s; no estimate for train (never computed with this
    /// cache)`, `no estimate for train (...)`, or `nothing to compute`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stages == 0 {
            return f.write_str("nothing to compute");
        }
        if self.unknown.is_empty() {
            return write!(f, "about {}", seconds_text(self.seconds));
        }
        if self.seconds > 0.0 {
            write!(f, "at least {}; ", seconds_text(self.seconds))?;
        }
        let unknown: Vec<&str> = self.unknown.iter().map(String::as_str).collect();
        write!(
            f,
            "no estimate for {} (never computed with this cache)",
            unknown.join(", ")
        )
    }
}

/// `under 0.1 s`, `0.4 s`, `42 s`, `3 min 20 s`, `1 h 5 min`.
fn seconds_text(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    match seconds {
        s if s < 0.1 => "under 0.1 s".to_string(),
        s if s < 10.0 => format!("{s:.1} s"),
        s if s < 60.0 => format!("{whole} s"),
        s if s < 3600.0 => format!("{} min {} s", whole / 60, whole % 60),
        _ => format!("{} h {} min", whole / 3600, whole / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_duration_is_the_median() {
        let mut history = DurationHistory::default();
        for s in [3.0, 1.0, 100.0] {
            history.record("train", s);
        }
        history.record("split", 0.5);
        history.record("split", 1.5);
        history.record("split", f64::NAN);
        assert_eq!(history.typical("train"), Some(3.0));
        assert_eq!(history.typical("split"), Some(1.0));
        assert_eq!(history.typical("evaluate"), None);
    }

    #[test]
    fn estimates_say_what_they_cannot_estimate() {
        let mut e = Estimate {
            seconds: 200.0,
            stages: 4,
            unknown: BTreeSet::new(),
        };
        assert_eq!(e.to_string(), "about 3 min 20 s");
        e.unknown.insert("train".into());
        assert_eq!(
            e.to_string(),
            "at least 3 min 20 s; no estimate for train (never computed with this cache)"
        );
        e.seconds = 0.0;
        assert_eq!(
            e.to_string(),
            "no estimate for train (never computed with this cache)"
        );
        assert_eq!(Estimate::default().to_string(), "nothing to compute");
    }
}
