//! Stage ids: how a stage instance is named in run records (`train[2]@42`), in lineage
//! (`train[2]@seed#0`) and on the command line (`--force train[2]`), parsed and printed by
//! one grammar: `<name>[<fold>]@<seed>`, fold and seed where the stage has them.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// What a stage instance does: its stage's name (`extract.audio`, `split`, `train`, ...,
/// the same for every fold and seed) and, for a per-fold stage, its fold. Each stage's file
/// names its own kind (`pipeline/stages/`), so a new stage kind needs nothing here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageKind {
    /// The stage's name.
    pub name: Cow<'static, str>,
    /// The 0-based fold of a per-fold stage (`normalize`, `train`).
    pub fold: Option<usize>,
}

impl StageKind {
    /// A stage with one instance per seed (or, for extraction, one in all).
    pub fn new(name: impl Into<Cow<'static, str>>) -> StageKind {
        StageKind {
            name: name.into(),
            fold: None,
        }
    }

    /// A stage with one instance per fold (and seed).
    pub fn per_fold(name: impl Into<Cow<'static, str>>, fold: usize) -> StageKind {
        StageKind {
            name: name.into(),
            fold: Some(fold),
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match self.fold {
            Some(fold) => write!(f, "[{fold}]"),
            None => Ok(()),
        }
    }
}

/// Which protocol run a stage instance belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedTag {
    /// The seed itself (`@42`): instance names in records.
    Value(u64),
    /// The seed's position in the spec (`@seed#0`): lineage names, so that changing a seed is
    /// explained as a change, not as a new stage.
    Position(usize),
}

const POSITION_PREFIX: &str = "seed#";

impl fmt::Display for SeedTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeedTag::Value(seed) => write!(f, "{seed}"),
            SeedTag::Position(position) => write!(f, "{POSITION_PREFIX}{position}"),
        }
    }
}

/// One stage instance: `extract.audio`, `split@42`, `normalize[2]@42`, `train[2]@seed#0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageId {
    /// What it does.
    pub kind: StageKind,
    /// Its protocol run (none for extraction, which every seed shares).
    pub seed: Option<SeedTag>,
}

impl StageId {
    /// The seed's value, for an id with one.
    pub fn seed_value(&self) -> Option<u64> {
        match self.seed {
            Some(SeedTag::Value(seed)) => Some(seed),
            _ => None,
        }
    }
}

impl fmt::Display for StageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match self.seed {
            Some(seed) => write!(f, "@{seed}"),
            None => Ok(()),
        }
    }
}

/// Why a stage id or `--force` selector does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageIdError {
    /// Not of the form `<name>[<fold>]@<seed>`.
    #[error(
        "`{text}` is malformed ({problem}); write a stage as `train`, `extract.audio`, `train[2]` or `train[2]@42`"
    )]
    Malformed {
        /// What was parsed.
        text: String,
        /// What is wrong.
        problem: &'static str,
    },
}

/// The three parts of `<name>[<fold>]@<seed>`, checked for form only.
struct Parts<'a> {
    name: &'a str,
    fold: Option<usize>,
    seed: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn parse(text: &'a str) -> Result<Self, StageIdError> {
        let malformed = |problem| StageIdError::Malformed {
            text: text.to_string(),
            problem,
        };
        let (head, seed) = match text.split_once('@') {
            Some((_, "")) => return Err(malformed("nothing after `@`")),
            Some((head, seed)) => (head, Some(seed)),
            None => (text, None),
        };
        let (name, fold) = match head.split_once('[') {
            Some((name, rest)) => {
                let digits = rest
                    .strip_suffix(']')
                    .ok_or_else(|| malformed("`[` without a closing `]` at the end"))?;
                let fold = digits
                    .parse()
                    .map_err(|_| malformed("the fold in `[...]` is not a number"))?;
                (name, Some(fold))
            }
            None if head.contains(']') => return Err(malformed("`]` without `[`")),
            None => (head, None),
        };
        let valid = |c: char| c.is_ascii_lowercase() || c == '.' || c == '_';
        if name.is_empty() || !name.chars().all(valid) {
            return Err(malformed("a stage name is lowercase letters and dots"));
        }
        Ok(Parts { name, fold, seed })
    }
}

impl FromStr for StageId {
    type Err = StageIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts = Parts::parse(text)?;
        let kind = StageKind {
            name: Cow::Owned(parts.name.to_string()),
            fold: parts.fold,
        };
        let seed = match parts.seed {
            None => None,
            Some(seed) => Some(match seed.strip_prefix(POSITION_PREFIX) {
                Some(position) => {
                    SeedTag::Position(position.parse().map_err(|_| StageIdError::Malformed {
                        text: text.to_string(),
                        problem: "the seed position after `seed#` is not a number",
                    })?)
                }
                None => SeedTag::Value(parse_seed(text, seed)?),
            }),
        };
        Ok(StageId { kind, seed })
    }
}

fn parse_seed(text: &str, seed: &str) -> Result<u64, StageIdError> {
    seed.parse().map_err(|_| StageIdError::Malformed {
        text: text.to_string(),
        problem: "the seed after `@` is not a number",
    })
}

/// Which stages `--force` names: every instance of a stage (`train`, `extract.audio`), of one
/// fold (`train[2]`), of one seed (`split@42`) or one instance (`train[2]@42`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageSelector {
    name: String,
    fold: Option<usize>,
    seed: Option<u64>,
}

impl StageSelector {
    /// Whether `id` (with its seed's value) is selected.
    pub fn selects(&self, id: &StageId) -> bool {
        id.kind.name == self.name.as_str()
            && self.fold.is_none_or(|fold| id.kind.fold == Some(fold))
            && self.seed.is_none_or(|seed| id.seed_value() == Some(seed))
    }
}

impl FromStr for StageSelector {
    type Err = StageIdError;

    /// Checks the form only: a well-formed selector naming no stage of the experiment is for
    /// the caller to report, with the stages it has.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts = Parts::parse(text)?;
        Ok(StageSelector {
            name: parts.name.to_string(),
            fold: parts.fold,
            seed: parts.seed.map(|seed| parse_seed(text, seed)).transpose()?,
        })
    }
}

impl fmt::Display for StageSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(fold) = self.fold {
            write!(f, "[{fold}]")?;
        }
        if let Some(seed) = self.seed {
            write!(f, "@{seed}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_records_and_lineage_name_them_and_parse_back() {
        for text in [
            "extract.audio",
            "extract.lyrics",
            "extract.midi",
            "split@42",
            "normalize[2]@42",
            "train[0]@7",
            "evaluate@42",
            "train[2]@seed#0",
            "split@seed#3",
        ] {
            let id: StageId = text.parse().unwrap();
            assert_eq!(id.to_string(), text);
        }
        let id: StageId = "train[2]@42".parse().unwrap();
        assert_eq!(id.kind, StageKind::per_fold("train", 2));
        assert_eq!(id.seed, Some(SeedTag::Value(42)));
    }

    #[test]
    fn malformed_ids_are_refused() {
        for text in [
            "train[x]@42",
            "train[2@42",
            "train@",
            "train[2]@abc",
            "Train",
            "",
        ] {
            assert!(
                matches!(text.parse::<StageId>(), Err(StageIdError::Malformed { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn selectors_select_by_name_fold_and_seed() {
        let id = |text: &str| text.parse::<StageId>().unwrap();
        let selects = |selector: &str, text: &str| {
            let parsed: StageSelector = selector.parse().unwrap();
            assert_eq!(parsed.to_string(), selector);
            parsed.selects(&id(text))
        };
        assert!(selects("train", "train[2]@42"));
        assert!(selects("train[2]", "train[2]@42"));
        assert!(selects("train[2]@42", "train[2]@42"));
        assert!(!selects("train[1]", "train[2]@42"));
        assert!(!selects("train[2]@7", "train[2]@42"));
        assert!(!selects("train", "normalize[2]@42"));
        assert!(selects("extract.audio", "extract.audio"));
        assert!(!selects("extract.audio", "extract.lyrics"));
        assert!(selects("split@42", "split@42"));
        for malformed in ["train[", "train[x]", "train@", "train@x", "", "a b"] {
            assert!(malformed.parse::<StageSelector>().is_err(), "{malformed}");
        }
    }
}
