//! Which scores of two runs may be paired: the same seed and fold, and only where both runs
//! split the same songs the same way.
//!
//! The check, for each seed both runs share: the `split@<seed>` stage keys in `run.json` are
//! equal (the key covers the split settings, the seed and every song's id and label), and the
//! test songs in `predictions.csv` are the same. When they are not, the pair is refused with
//! the reason in words, looked for in this order: no shared seed, different split settings
//! (`split.*` in the resolved specs), different song counts, and otherwise the same counts
//! with different songs or labels (or a different mer version's split). Equal split keys with
//! different test songs mean the report folders were altered: refused too.

use std::collections::BTreeSet;

use thiserror::Error;

use super::diff::flatten;
use super::runs::Run;

/// How two runs pair up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    /// The seeds both ran with the same split, in the baseline's order.
    pub seeds: Vec<u64>,
    /// Folds per seed (the same in both, since the split is).
    pub folds: usize,
    /// Seeds only the baseline ran.
    pub baseline_only: Vec<u64>,
    /// Seeds only the other run ran.
    pub other_only: Vec<u64>,
}

/// Why two runs cannot be paired.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Unpaired {
    /// No seed in common.
    #[error("seeds not shared: the baseline ran seeds {baseline:?}, this run {other:?}")]
    NoSharedSeeds {
        /// The baseline's seeds.
        baseline: Vec<u64>,
        /// The other run's seeds.
        other: Vec<u64>,
    },
    /// The split sections differ.
    #[error("different split settings: {}", list(.differences))]
    SplitSettings {
        /// (key, baseline value, other value); `absent` where a run lacks the key.
        differences: Vec<(String, String, String)>,
    },
    /// The runs used different numbers of songs.
    #[error("different song sets: {baseline} vs {other} songs (baseline vs this run)")]
    SongCount {
        /// Songs of the baseline.
        baseline: usize,
        /// Songs of the other run.
        other: usize,
    },
    /// Same split key but different test songs: a report edited or mixed up by hand.
    #[error(
        "different test songs for seed {seed}: {different} of {songs} test songs differ although the split keys are equal; the report folders do not match their run.json"
    )]
    TestSongs {
        /// The seed.
        seed: u64,
        /// Test songs in one run and not the other (counted once per side).
        different: usize,
        /// Test songs of the baseline.
        songs: usize,
    },
    /// Same settings and song count, yet different splits.
    #[error("different splits for seed {seed} with the same settings and {songs} songs: {}", split_keys_detail(*.different_test_songs, .versions.as_ref()))]
    SplitKeys {
        /// The seed.
        seed: u64,
        /// Songs in each run.
        songs: usize,
        /// Test songs in one run and not the other.
        different_test_songs: usize,
        /// (baseline, other) mer versions when they differ.
        versions: Option<(String, String)>,
    },
    /// A run.json without the split stage of a seed it lists.
    #[error("run.json of '{run}' has no split@{seed} stage: it is not a complete mer run record")]
    MissingSplit {
        /// The run's label or folder.
        run: String,
        /// The seed.
        seed: u64,
    },
}

fn split_keys_detail(different: usize, versions: Option<&(String, String)>) -> String {
    let mut detail = if different > 0 {
        format!("{different} test songs are in one run only (different songs)")
    } else {
        "the songs' labels differ".to_string()
    };
    if let Some((a, b)) = versions {
        detail.push_str(&format!(
            ", or mer {a} (baseline) and {b} (this run) split differently"
        ));
    }
    detail
}

fn list(differences: &[(String, String, String)]) -> String {
    differences
        .iter()
        .map(|(key, a, b)| format!("{key} {a} vs {b}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Pairs `other` with `baseline` seed by seed, or says why they cannot be paired.
pub fn pair(baseline: &Run, other: &Run) -> Result<Pairing, Unpaired> {
    let (base_seeds, other_seeds) = (&baseline.record.seeds, &other.record.seeds);
    let seeds: Vec<u64> = base_seeds
        .iter()
        .copied()
        .filter(|s| other_seeds.contains(s))
        .collect();
    if seeds.is_empty() {
        return Err(Unpaired::NoSharedSeeds {
            baseline: base_seeds.clone(),
            other: other_seeds.clone(),
        });
    }
    for &seed in &seeds {
        check_seed(baseline, other, seed)?;
    }
    Ok(Pairing {
        folds: baseline.folds(),
        baseline_only: base_seeds
            .iter()
            .copied()
            .filter(|s| !seeds.contains(s))
            .collect(),
        other_only: other_seeds
            .iter()
            .copied()
            .filter(|s| !seeds.contains(s))
            .collect(),
        seeds,
    })
}

fn check_seed(baseline: &Run, other: &Run, seed: u64) -> Result<(), Unpaired> {
    let key = |run: &Run| {
        run.split_key(seed)
            .copied()
            .ok_or_else(|| Unpaired::MissingSplit {
                run: run.folder.display().to_string(),
                seed,
            })
    };
    let test_ids = |run: &Run| -> BTreeSet<String> {
        run.seed_predictions(seed).map(|p| p.id.clone()).collect()
    };
    let (base_ids, other_ids) = (test_ids(baseline), test_ids(other));
    let different = base_ids.symmetric_difference(&other_ids).count();
    if key(baseline)? == key(other)? {
        return if different == 0 {
            Ok(())
        } else {
            Err(Unpaired::TestSongs {
                seed,
                different,
                songs: base_ids.len(),
            })
        };
    }
    let settings = split_settings(baseline, other);
    if !settings.is_empty() {
        return Err(Unpaired::SplitSettings {
            differences: settings,
        });
    }
    let (base_songs, other_songs) = (baseline.songs(seed), other.songs(seed));
    if let (Some(a), Some(b)) = (base_songs, other_songs)
        && a != b
    {
        return Err(Unpaired::SongCount {
            baseline: a,
            other: b,
        });
    }
    let (a, b) = (&baseline.record.mer_version, &other.record.mer_version);
    Err(Unpaired::SplitKeys {
        seed,
        songs: base_songs.unwrap_or(base_ids.len()),
        different_test_songs: different,
        versions: (a != b).then(|| (a.clone(), b.clone())),
    })
}

/// `split.*` keys whose resolved values differ: (key, baseline, other).
fn split_settings(baseline: &Run, other: &Run) -> Vec<(String, String, String)> {
    let (a, b) = (flatten(&baseline.spec).leaves, flatten(&other.spec).leaves);
    let keys: BTreeSet<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| k.starts_with("split."))
        .collect();
    let absent = || "absent".to_string();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            (
                k.clone(),
                a.get(k).cloned().unwrap_or_else(absent),
                b.get(k).cloned().unwrap_or_else(absent),
            )
        })
        .collect()
}
