//! Spec errors: each names where the value came from, the key path, what was expected and
//! what was found, so the user can fix it without reading code.

use std::fmt;
use std::path::PathBuf;

/// Where a spec value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The spec file, with the position of the key when it could be located.
    File {
        /// The spec file as given on the command line.
        path: PathBuf,
        /// 1-based line and column.
        position: Option<(usize, usize)>,
    },
    /// A `MER_*` environment variable.
    Env {
        /// The variable's name.
        var: String,
    },
    /// A `--set key=value` argument.
    Set {
        /// The argument as given.
        arg: String,
    },
    /// A sweep member's override, written in the spec file's `[sweep]` section.
    Sweep {
        /// The spec file as given on the command line.
        path: PathBuf,
        /// 1-based line and column of the override, when it could be located.
        position: Option<(usize, usize)>,
    },
    /// A built-in default (a rule broken by a combination of values).
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                position: Some((line, column)),
            } => write!(f, "{}:{line}:{column}", path.display()),
            Origin::File {
                path,
                position: None,
            } => write!(f, "{}", path.display()),
            Origin::Env { var } => write!(f, "environment variable {var}"),
            Origin::Set { arg } => write!(f, "--set {arg}"),
            Origin::Sweep {
                path,
                position: Some((line, column)),
            } => write!(f, "{}:{line}:{column} ([sweep])", path.display()),
            Origin::Sweep {
                path,
                position: None,
            } => write!(f, "{} ([sweep])", path.display()),
            Origin::Default => f.write_str("built-in default"),
        }
    }
}

/// The kind of a spec problem, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A key the spec format does not have.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong type, or a name that is not one of the allowed ones.
    WrongType,
    /// A value of the right type outside its allowed range.
    OutOfRange,
    /// Two values that cannot go together.
    Conflict,
}

/// One thing wrong with one key of a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecProblem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// Where the offending value came from.
    pub origin: Origin,
    /// Dotted key path, e.g. `schedule.epochs`.
    pub key: String,
    /// What the key accepts.
    pub expected: String,
    /// What was there.
    pub found: String,
    /// A suggestion ("did you mean `epochs`?"), when there is one.
    pub hint: Option<String>,
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ProblemKind::UnknownKey => "unknown key",
            ProblemKind::MissingKey => "missing key",
            _ => "key",
        };
        write!(
            f,
            "{}: {what} `{}`: expected {}, found {}",
            self.origin, self.key, self.expected, self.found
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Why a spec could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec file does not exist.
    #[error("spec file '{}' not found: give the path to an experiment TOML, e.g. experiments/demo.toml", path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// The spec file exists but cannot be read.
    #[error("could not read spec file '{}'", path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The spec file is not valid TOML.
    #[error("{}:{line}:{column}: TOML syntax error: {message}", path.display())]
    Syntax {
        /// The spec file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// A `--set` argument that is not `key.path=value`.
    #[error("--set {arg}: expected `section.key=value` (e.g. --set schedule.epochs=10), {reason}")]
    BadOverride {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// One or more keys are unknown, missing, mistyped or out of range.
    #[error("{}", list(.0))]
    Invalid(Vec<SpecProblem>),
}

impl SpecError {
    /// The individual key problems, if this is an [`SpecError::Invalid`].
    pub fn problems(&self) -> &[SpecProblem] {
        match self {
            SpecError::Invalid(problems) => problems,
            _ => &[],
        }
    }
}

fn list(problems: &[SpecProblem]) -> String {
    let mut out = match problems.len() {
        1 => String::from("invalid spec:"),
        n => format!("invalid spec ({n} problems):"),
    };
    for problem in problems {
        out.push_str("\n  ");
        out.push_str(&problem.to_string());
    }
    out
}
