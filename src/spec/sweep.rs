//! A spec's `[sweep]` section expanded into its members: checked specs that `mer sweep` runs
//! side by side and `mer plan` lists.
//!
//! Members are (each `[[sweep.variant]]`, or the base spec alone when there is none) x (the
//! cartesian product of `[sweep.grid]`) x (with `modalities = "all-subsets"`, every non-empty
//! subset of the base spec's modalities). Each member is the base spec with a layer on top
//! (its overrides win over the file, `MER_*` variables and `--set`), loaded and checked by the
//! same loader as any spec, so a bad key or value in any member stops the whole sweep before
//! anything runs, with the usual "did you mean". A member's name joins its parts with `,`:
//! the variant's name, `key=value` per grid key (in key order), the modality subset
//! (`audio+lyrics`). Its spec is named `<spec>/<member>`, which is also where its reports go,
//! and its identity is the hash of its resolved spec.
//!
//! Dropping a modality drops its `[modalities.X]` table. So that every subset splits the same
//! songs (a paired comparison needs them), the subsets also set `dataset.songs_with` to the
//! base spec's (by default its modalities): a song lacking all of a member's modalities stays
//! in the experiment, with every presence flag off.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{SpecError, SpecProblem};
use super::load::load_layered;
use super::sources::{LayerValue, MemberLayer};
use super::{ExperimentSpec, ModalitySweep, load_spec};
use crate::modality::{Modality, ModalityMask};

/// Separates the parts of a member's name.
pub const NAME_SEPARATOR: char = ',';

/// The pseudo key under which a member's modality subset appears in [`SweepMember::set`].
pub const MODALITIES_KEY: &str = "modalities";

/// One member of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepMember {
    /// Readable, stable name, e.g. `fast,augment.mixup_alpha=0.4,audio+lyrics`.
    pub name: String,
    /// What the member changes: key path to value, plus `modalities` (the kept modality
    /// tables, as a list) for a modality subset.
    pub set: BTreeMap<String, toml::Value>,
    /// Its checked spec, named `<spec>/<member>`, without `[sweep]`.
    pub spec: ExperimentSpec,
}

impl SweepMember {
    /// The member's identity: the hash of its resolved spec.
    pub fn hash(&self) -> String {
        self.spec.hash()
    }
}

/// A spec and the members its `[sweep]` expands into.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The spec file as given.
    pub path: PathBuf,
    /// The base spec (with its `[sweep]`).
    pub base: ExperimentSpec,
    /// The members, in expansion order.
    pub members: Vec<SweepMember>,
}

/// Why a sweep could not be expanded.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The base spec itself is invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The spec has nothing to sweep over.
    #[error(
        "{}: the spec has no [sweep] section (or an empty one), so there is nothing to sweep; add e.g. `[sweep] modalities = \"all-subsets\"`, or run it alone with `mer run`",
        path.display()
    )]
    NoSweep {
        /// The spec file.
        path: PathBuf,
    },
    /// A grid key with no value would make the product empty.
    #[error(
        "{}: key `sweep.grid.\"{key}\"`: expected a non-empty list of values, found []",
        path.display()
    )]
    EmptyGrid {
        /// The spec file.
        path: PathBuf,
        /// The grid key.
        key: String,
    },
    /// A variant name that cannot be a folder name, or two members with one name.
    #[error("{}: {problem}", path.display())]
    BadName {
        /// The spec file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// Some members' specs are invalid; nothing ran.
    #[error("{}", list_member_problems(problems, *members))]
    Members {
        /// Each problem with the members that have it.
        problems: Vec<MemberProblem>,
        /// How many members the sweep has.
        members: usize,
    },
}

/// One problem shared by one or more members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberProblem {
    /// The problem, as a spec error prints it.
    pub problem: String,
    /// The members that have it, in expansion order.
    pub members: Vec<String>,
}

fn list_member_problems(problems: &[MemberProblem], total: usize) -> String {
    let mut out = match problems.len() {
        1 => "invalid sweep member:".to_string(),
        n => format!("invalid sweep members ({n} problems):"),
    };
    for p in problems {
        let names: Vec<String> = p.members.iter().map(|m| format!("`{m}`")).collect();
        let which = match names.len() {
            n if n == total && n > 1 => format!("in all {n} members"),
            1 => format!("in member {}", names[0]),
            2 | 3 => format!("in members {}", names.join(", ")),
            n => format!(
                "in {n} members: {} and {} more",
                names[..3].join(", "),
                n - 3
            ),
        };
        out.push_str(&format!("\n  {} ({which})", p.problem));
    }
    out.push_str("\nnothing ran: fix the [sweep] section or the key it names");
    out
}

/// Loads the spec at `path` (with `--set` overrides `sets`) and expands its `[sweep]`.
pub fn expand_sweep(path: &Path, sets: &[String]) -> Result<Sweep, SweepError> {
    let base = load_spec(path, sets)?;
    if base.sweep.is_empty() {
        return Err(SweepError::NoSweep {
            path: path.to_path_buf(),
        });
    }
    let plans = member_plans(&base, path)?;
    let total = plans.len();
    let mut members = Vec::new();
    let mut failures: Vec<(String, SpecError)> = Vec::new();
    for plan in plans {
        let layer = MemberLayer {
            name: format!("{}/{}", base.name, plan.name),
            values: plan.values,
            modalities: plan.modalities,
        };
        match load_layered(path, sets, Some(&layer)) {
            Ok(spec) => members.push(SweepMember {
                name: plan.name,
                set: plan.set,
                spec,
            }),
            Err(err) => failures.push((plan.name, err)),
        }
    }
    if !failures.is_empty() {
        return Err(SweepError::Members {
            problems: group_problems(failures),
            members: total,
        });
    }
    Ok(Sweep {
        path: path.to_path_buf(),
        base,
        members,
    })
}

/// The same problem in many members (a misspelled grid key is in all of them) is listed
/// once, with the members that have it.
fn group_problems(failures: Vec<(String, SpecError)>) -> Vec<MemberProblem> {
    let mut grouped: Vec<MemberProblem> = Vec::new();
    for (member, err) in failures {
        let texts: Vec<String> = match &err {
            SpecError::Invalid(problems) => problems.iter().map(SpecProblem::to_string).collect(),
            other => vec![other.to_string()],
        };
        for text in texts {
            match grouped.iter_mut().find(|g| g.problem == text) {
                Some(group) => group.members.push(member.clone()),
                None => grouped.push(MemberProblem {
                    problem: text,
                    members: vec![member.clone()],
                }),
            }
        }
    }
    grouped
}

/// A member before its spec is loaded.
struct MemberPlan {
    name: String,
    values: Vec<LayerValue>,
    modalities: Option<ModalityMask>,
    set: BTreeMap<String, toml::Value>,
}

fn member_plans(base: &ExperimentSpec, path: &Path) -> Result<Vec<MemberPlan>, SweepError> {
    let section = &base.sweep;
    let bad_name = |problem: String| SweepError::BadName {
        path: path.to_path_buf(),
        problem,
    };
    // (name part, overrides) per variant; the base alone when there is none.
    let variants: Vec<(Option<String>, Vec<LayerValue>)> = if section.variant.is_empty() {
        vec![(None, Vec::new())]
    } else {
        let mut variants = Vec::new();
        for (i, variant) in section.variant.iter().enumerate() {
            if let Some(problem) = name_problem(&variant.name) {
                return Err(bad_name(format!(
                    "key `sweep.variant.{i}.name`: expected a name made of letters, digits and `._+=-`, found \"{}\" ({problem})",
                    variant.name
                )));
            }
            let values = variant
                .set
                .iter()
                .map(|(key, value)| LayerValue {
                    key: key.clone(),
                    value: value.clone(),
                    written_at: path_of(&["sweep", "variant", &i.to_string(), "set", key]),
                })
                .collect();
            variants.push((Some(variant.name.clone()), values));
        }
        variants
    };
    let mut grid: Vec<Vec<(&String, &toml::Value)>> = vec![Vec::new()];
    for (key, values) in &section.grid {
        if values.is_empty() {
            return Err(SweepError::EmptyGrid {
                path: path.to_path_buf(),
                key: key.clone(),
            });
        }
        grid = grid
            .into_iter()
            .flat_map(|combo| {
                values.iter().map(move |value| {
                    let mut combo = combo.clone();
                    combo.push((key, value));
                    combo
                })
            })
            .collect();
    }
    let subsets: Vec<Option<ModalityMask>> = match section.modalities {
        Some(ModalitySweep::AllSubsets) => modality_subsets(base.selected())
            .into_iter()
            .map(Some)
            .collect(),
        None => vec![None],
    };
    let songs_with = toml::Value::Array(
        base.dataset
            .songs_with
            .iter()
            .flatten()
            .map(|m| toml::Value::String(m.name().to_string()))
            .collect(),
    );
    let mut plans = Vec::new();
    for (variant, variant_values) in &variants {
        for combo in &grid {
            for subset in &subsets {
                let mut parts: Vec<String> = variant.iter().cloned().collect();
                let mut values = variant_values.clone();
                for (key, value) in combo {
                    parts.push(format!("{key}={}", name_text(value)));
                    values.push(LayerValue {
                        key: (*key).clone(),
                        value: (*value).clone(),
                        written_at: path_of(&["sweep", "grid", key]),
                    });
                }
                let mut set: BTreeMap<String, toml::Value> = values
                    .iter()
                    .map(|v| (v.key.clone(), v.value.clone()))
                    .collect();
                if let Some(subset) = subset {
                    parts.push(subset.to_string());
                    values.push(LayerValue {
                        key: "dataset.songs_with".into(),
                        value: songs_with.clone(),
                        written_at: path_of(&["sweep", "modalities"]),
                    });
                    set.insert("dataset.songs_with".into(), songs_with.clone());
                    let kept = subset
                        .iter()
                        .map(|m| toml::Value::String(m.name().into()))
                        .collect();
                    set.insert(MODALITIES_KEY.into(), toml::Value::Array(kept));
                }
                plans.push(MemberPlan {
                    name: parts.join(&NAME_SEPARATOR.to_string()),
                    values,
                    modalities: *subset,
                    set,
                });
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for plan in &plans {
        if !seen.insert(plan.name.as_str()) {
            return Err(bad_name(format!(
                "two sweep members are both named `{}`; give the variants distinct names (grid values that differ only in characters other than letters, digits and `._+=-` also collide)",
                plan.name
            )));
        }
    }
    Ok(plans)
}

fn path_of(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

/// Every non-empty subset of `modalities`: singles first, then pairs, ..., the whole set
/// last; within a size in canonical modality order (`audio`, `lyrics`, `midi`,
/// `audio+lyrics`, `audio+midi`, `lyrics+midi`, `audio+lyrics+midi`).
pub fn modality_subsets(modalities: ModalityMask) -> Vec<ModalityMask> {
    let members: Vec<Modality> = modalities.iter().collect();
    let mut subsets: Vec<Vec<Modality>> = (1..1usize << members.len())
        .map(|bits| {
            (0..members.len())
                .filter(|i| bits & (1 << i) != 0)
                .map(|i| members[i])
                .collect()
        })
        .collect();
    subsets.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    subsets
        .into_iter()
        .map(|s| s.into_iter().collect())
        .collect()
}

/// A grid value as it appears in a member's name: strings without quotes, anything that
/// cannot be in a folder name replaced by `_`.
fn name_text(value: &toml::Value) -> String {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars()
        .map(|c| if name_char(c) { c } else { '_' })
        .collect()
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._+=-".contains(c)
}

/// Why `name` cannot be a variant's name (it becomes part of a folder name), if it cannot.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("empty")
    } else if name.starts_with('.') {
        Some("a folder name must not start with `.`")
    } else if !name.chars().all(name_char) {
        Some("it names a report folder")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(modalities: &[Modality]) -> ModalityMask {
        modalities.iter().copied().collect()
    }

    #[test]
    fn subsets_come_in_a_fixed_order() {
        let names: Vec<String> = modality_subsets(mask(&Modality::ALL))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            names,
            [
                "audio",
                "lyrics",
                "midi",
                "audio+lyrics",
                "audio+midi",
                "lyrics+midi",
                "audio+lyrics+midi"
            ]
        );
        let two = modality_subsets(mask(&[Modality::Lyrics, Modality::Midi]));
        assert_eq!(two.len(), 3);
        assert_eq!(two[2].to_string(), "lyrics+midi");
    }

    #[test]
    fn grid_values_become_folder_safe_name_parts() {
        assert_eq!(name_text(&toml::Value::Float(0.4)), "0.4");
        assert_eq!(name_text(&toml::Value::String("a b/c".into())), "a_b_c");
        assert_eq!(name_text(&toml::Value::Integer(-3)), "-3");
        assert_eq!(name_problem("fast"), None);
        assert!(name_problem("a/b").is_some());
        assert!(name_problem("").is_some());
        assert!(name_problem("..").is_some());
    }
}
