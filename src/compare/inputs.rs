//! What `mer compare` was given, turned into runs: report folders, glob patterns (expanded
//! here too, for shells that pass them through and for quoting on Windows), and sweep folders
//! (`sweep.json`, whose members with a report take part, labelled by member name).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use super::read_error::ReadError;
use super::runs::Run;
use super::selected::selected_run;
use crate::report::{RUN_JSON, is_partial};
use crate::results::sweep::{SWEEP_JSON, SweepSummary};

/// A sweep member that takes no part in the comparison, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    /// The sweep folder.
    pub sweep: PathBuf,
    /// The member's name.
    pub name: String,
    /// Its status in `sweep.json`.
    pub status: String,
    /// Its error, when it failed.
    pub error: Option<String>,
}

/// The runs to compare, in the order given, and the sweep members left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The runs, each folder once.
    pub runs: Vec<Run>,
    /// Sweep members without a finished report.
    pub left_out: Vec<LeftOut>,
    /// Sweeps that were interrupted before every member ran.
    pub interrupted_sweeps: Vec<PathBuf>,
}

/// Reads every report folder named by `args` (folders, globs, sweep folders), in order; a
/// folder named twice is read once. A sweep folder gives its members with a report, then its
/// selected result (when its spec asked for one); with `only_selected`, the selected result
/// alone.
pub fn read_inputs(args: &[PathBuf], only_selected: bool) -> Result<Inputs, ReadError> {
    let mut inputs = Inputs {
        runs: Vec::new(),
        left_out: Vec::new(),
        interrupted_sweeps: Vec::new(),
    };
    let mut seen = BTreeSet::new();
    for arg in args {
        for path in expand(arg)? {
            if path.join(SWEEP_JSON).is_file() && !path.join(RUN_JSON).is_file() {
                read_sweep(&path, &mut inputs, &mut seen, only_selected)?;
            } else if path.join(RUN_JSON).is_file() || is_partial(&path) {
                if seen.insert(identity(&path)) {
                    inputs.runs.push(Run::read(&path, None)?);
                }
            } else {
                return Err(ReadError::NotAReport {
                    hint: hint(&path),
                    path,
                });
            }
        }
    }
    Ok(inputs)
}

/// The same folder reached by two spellings counts once.
fn identity(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Points at the report or sweep folders inside a folder that is neither.
fn hint(path: &Path) -> String {
    let inside = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(RUN_JSON).is_file() || e.path().join(SWEEP_JSON).is_file())
        .count();
    if inside > 0 {
        let pattern = path.join("*");
        format!(
            "; it holds {inside} report or sweep folders: pass them, e.g. '{}'",
            pattern.display()
        )
    } else if !path.exists() {
        "; it does not exist".to_string()
    } else {
        "; a report folder is reports/<experiment>/<UTC time>-<spec hash>/, a sweep folder reports/<spec>/sweep-<time>/".to_string()
    }
}

fn read_sweep(
    folder: &Path,
    inputs: &mut Inputs,
    seen: &mut BTreeSet<PathBuf>,
    only_selected: bool,
) -> Result<(), ReadError> {
    let path = folder.join(SWEEP_JSON);
    let text = std::fs::read_to_string(&path).map_err(|source| ReadError::Io {
        path: path.clone(),
        source,
    })?;
    let summary: SweepSummary = serde_json::from_str(&text).map_err(|e| ReadError::Malformed {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if summary.interrupted {
        inputs.interrupted_sweeps.push(folder.to_path_buf());
    }
    let mut members: Vec<(String, Run)> = Vec::new();
    let left_before = inputs.left_out.len();
    for member in summary.members {
        match member
            .report
            .as_deref()
            .filter(|_| member.status.is_complete())
        {
            Some(report) => {
                let report = folder.join(report);
                if !seen.insert(identity(&report)) {
                    continue;
                }
                // A member whose run did not finish is left out like a failed one, so the
                // rest of the sweep can still be compared.
                match Run::read(&report, Some(member.name.clone())) {
                    Ok(run) => members.push((member.name, run)),
                    Err(ReadError::Unfinished { error, .. }) => inputs.left_out.push(LeftOut {
                        sweep: folder.to_path_buf(),
                        name: member.name,
                        status: "did not finish".to_string(),
                        error: Some(error),
                    }),
                    Err(other) => return Err(other),
                }
            }
            None => inputs.left_out.push(LeftOut {
                sweep: folder.to_path_buf(),
                name: member.name,
                status: member.status.label().to_string(),
                error: member.error,
            }),
        }
    }
    let selected = match &summary.selection {
        Some(selection) => Some(selected_run(folder, &summary.sweep, selection, &members)?),
        None if only_selected => {
            return Err(ReadError::NoSelection {
                path: folder.to_path_buf(),
            });
        }
        None => None,
    };
    if only_selected {
        inputs.left_out.truncate(left_before);
    } else {
        inputs.runs.extend(members.into_iter().map(|(_, run)| run));
    }
    inputs.runs.extend(selected);
    Ok(())
}

/// Labels for `runs`: the sweep member's name, else the experiment name; runs that would share
/// a label get their spec hash (`demo@a3d2f296`), and runs of the very same spec their folder
/// name too.
pub fn labels(runs: &[Run]) -> Vec<String> {
    let base: Vec<String> = runs
        .iter()
        .map(|r| {
            r.member
                .clone()
                .unwrap_or_else(|| r.record.experiment.clone())
        })
        .collect();
    let hashed: Vec<String> = disambiguate(&base, |i| {
        format!("{}@{}", base[i], runs[i].record.spec_hash)
    });
    disambiguate(&hashed, |i| {
        format!("{}/{}", hashed[i], runs[i].folder_name())
    })
}

/// `labels` with every label shared by two or more entries replaced by `longer(i)`.
fn disambiguate(labels: &[String], longer: impl Fn(usize) -> String) -> Vec<String> {
    labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            if labels.iter().filter(|l| *l == label).count() > 1 {
                longer(i)
            } else {
                label.clone()
            }
        })
        .collect()
}

/// `arg` itself when it exists or has no wildcard; otherwise the paths matching it (`*` and
/// `?` within one path component), sorted.
fn expand(arg: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let text = arg.to_string_lossy();
    if arg.exists() || !text.contains(['*', '?']) {
        return Ok(vec![arg.to_path_buf()]);
    }
    let mut matches = vec![PathBuf::new()];
    for component in arg.components() {
        let part = component.as_os_str().to_string_lossy();
        let wild = matches!(component, Component::Normal(_)) && part.contains(['*', '?']);
        matches = if wild {
            let mut next = Vec::new();
            for base in &matches {
                let dir = if base.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    base.as_path()
                };
                let Ok(entries) = std::fs::read_dir(dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    // Hidden entries only match a pattern that asks for them, as in a shell.
                    if (!name.starts_with('.') || part.starts_with('.')) && wildcard(&part, &name) {
                        next.push(base.join(&name));
                    }
                }
            }
            next.sort();
            next
        } else {
            matches.into_iter().map(|m| m.join(&*part)).collect()
        };
    }
    matches.retain(|m| m.exists());
    if matches.is_empty() {
        return Err(ReadError::NoMatch {
            pattern: text.into_owned(),
        });
    }
    Ok(matches)
}

/// Whether `name` matches `pattern`, where `*` is any run of characters and `?` one.
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Greedy match with backtracking to the last `*`: linear for patterns with one star.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_within_a_name() {
        assert!(wildcard("*", "20261124T210835Z-a3d2f296"));
        assert!(wildcard("2026*-a3d2*", "20261124T210835Z-a3d2f296"));
        assert!(wildcard("sweep-?", "sweep-1"));
        assert!(!wildcard("sweep-?", "sweep-12"));
        assert!(!wildcard("*-b*", "20261124T210835Z-a3d2f296"));
        assert!(wildcard("a*b*c", "axxbyyc"));
        assert!(!wildcard("a*b*c", "axxbyy"));
    }

    #[test]
    fn globs_expand_to_sorted_existing_paths() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["run-b", "run-a", "other", ".hidden-run"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        let found = expand(&dir.path().join("run-*")).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["run-a", "run-b"]);
        let missing = dir.path().join("nothing-*");
        assert!(matches!(expand(&missing), Err(ReadError::NoMatch { .. })));
    }
}
