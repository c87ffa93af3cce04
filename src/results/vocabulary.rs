//! The words a run's results are written in: which [`Split`] a score is on, which [`Model`]
//! made it, which [`SongGroup`] it covers and which [`Metric`] it is. Each is an enum whose
//! `Display` is its name in the report's files and whose `FromStr` reads that name back, so the
//! report writer, `mer compare`, `mer sweep` and any later reader share one spelling; an
//! unknown name is a [`UnknownName`] error listing the accepted ones.

use std::fmt;
use std::str::FromStr;

use crate::eval::Metrics;
use crate::eval::multilabel::MultilabelMetrics;
use crate::eval::regression::TargetScores;

/// A name that is not one of a vocabulary's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{given}`; expected one of {expected}")]
pub struct UnknownName {
    /// What was being read: `split`, `model`, `song group`, `metric`.
    pub kind: &'static str,
    /// The text given.
    pub given: String,
    /// The accepted names, comma-separated.
    pub expected: String,
}

impl UnknownName {
    fn new(kind: &'static str, given: &str, expected: &[&str]) -> UnknownName {
        UnknownName {
            kind,
            given: given.to_string(),
            expected: expected.join(", "),
        }
    }
}

/// Serde through `Display` and `FromStr`: the CSV cell and the JSON string are the name.
macro_rules! serde_by_name {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A vocabulary of fixed words: `Display` writes the word, `FromStr` reads it back.
macro_rules! fixed_words {
    ($type:ty, $kind:literal, [$($variant:path => $name:literal),+ $(,)?]) => {
        impl $type {
            /// The name in the report's files.
            pub fn name(self) -> &'static str {
                match self {
                    $($variant => $name),+
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $type {
            type Err = UnknownName;

            fn from_str(text: &str) -> Result<Self, UnknownName> {
                match text {
                    $($name => Ok($variant),)+
                    other => Err(UnknownName::new($kind, other, &[$($name),+])),
                }
            }
        }

        serde_by_name!($type);
    };
}

/// The songs a score is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    /// The held-out test songs.
    Test,
    /// A fold model on its own validation fold.
    Validation,
    /// Every fold's validation predictions pooled (out-of-fold).
    Cv,
}

fixed_words!(Split, "split", [
    Split::Test => "test",
    Split::Validation => "validation",
    Split::Cv => "cv",
]);

/// Which songs of a split a row of metrics covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SongGroup {
    /// Every song of the split.
    All,
    /// Songs with every selected modality.
    AllModalities,
    /// Songs with some, but not all, of the selected modalities.
    Partial,
    /// Songs with none of the selected modalities: kept by `dataset.songs_with` (a modality
    /// ablation keeps every member's songs alike), their model sees only absent flags.
    NoModality,
}

fixed_words!(SongGroup, "song group", [
    SongGroup::All => "all",
    SongGroup::AllModalities => "all-modalities",
    SongGroup::Partial => "partial",
    SongGroup::NoModality => "no-modality",
]);

/// How the fold models' predictions are combined into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Combination {
    /// Mean of the softmax probabilities.
    Mean,
    /// Majority vote.
    Vote,
    /// The single fold model with the best validation macro-F1.
    BestFold,
}

fixed_words!(Combination, "ensemble method", [
    Combination::Mean => "mean",
    Combination::Vote => "vote",
    Combination::BestFold => "best-fold",
]);

/// A model whose predictions are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Model {
    /// Fold model `k` (0-based): `fold-<k>`.
    Fold(usize),
    /// The fold models combined by `eval.ensemble`: `ensemble`.
    Ensemble,
    /// The ensemble with test-time augmentation: `ensemble+tta`, the headline model.
    EnsembleTta,
    /// The fold models combined by another method than `eval.ensemble`:
    /// `ensemble:<method>`.
    Alternative(Combination),
    /// Every fold's validation predictions pooled: `out-of-fold` (split `cv`).
    OutOfFold,
}

impl Model {
    /// The model a run's headline scores, confusion matrix and predictions are of.
    pub const HEADLINE: Model = Model::EnsembleTta;

    /// The fold number of a fold model.
    pub fn fold(self) -> Option<usize> {
        match self {
            Model::Fold(k) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Model::Fold(k) => write!(f, "fold-{k}"),
            Model::Ensemble => f.write_str("ensemble"),
            Model::EnsembleTta => f.write_str("ensemble+tta"),
            Model::Alternative(method) => write!(f, "ensemble:{method}"),
            Model::OutOfFold => f.write_str("out-of-fold"),
        }
    }
}

impl FromStr for Model {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Model, UnknownName> {
        let unknown = || {
            UnknownName::new(
                "model",
                text,
                &[
                    "fold-<k>",
                    "ensemble",
                    "ensemble+tta",
                    "ensemble:mean",
                    "ensemble:vote",
                    "ensemble:best-fold",
                    "out-of-fold",
                ],
            )
        };
        match text {
            "ensemble" => Ok(Model::Ensemble),
            "ensemble+tta" => Ok(Model::EnsembleTta),
            "out-of-fold" => Ok(Model::OutOfFold),
            _ => {
                if let Some(k) = text.strip_prefix("fold-") {
                    // Only the canonical spelling `fold-<k>`, so the name round-trips.
                    match k.parse::<usize>() {
                        Ok(k) if k.to_string() == text["fold-".len()..] => Ok(Model::Fold(k)),
                        _ => Err(unknown()),
                    }
                } else if let Some(method) = text.strip_prefix("ensemble:") {
                    method
                        .parse()
                        .map(Model::Alternative)
                        .map_err(|_| unknown())
                } else {
                    Err(unknown())
                }
            }
        }
    }
}

serde_by_name!(Model);

/// What a metric is computed for: the spec's `task.kind`.
pub use crate::spec::TaskKind;

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher values are better (accuracy, F1).
    HigherIsBetter,
    /// Lower values are better (losses, calibration error).
    LowerIsBetter,
}

/// A number `metrics.csv` and `summary.csv` report for every scored model; which ones depends
/// on the task kind ([`Metric::columns`]). Regression metrics are means over the targets,
/// multi-label macro averages run over the tags (see `eval::multilabel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Share of songs whose top class is the true one.
    Accuracy,
    /// Mean recall over the classes present in the truth.
    BalancedAccuracy,
    /// Unweighted mean F1.
    MacroF1,
    /// Support-weighted mean F1.
    WeightedF1,
    /// Mean negative log probability of the true class.
    LogLoss,
    /// Multi-class Brier score.
    Brier,
    /// Expected calibration error.
    Ece,
    /// Songs scored: a count, not a score.
    Songs,
    /// Coefficient of determination, mean over targets.
    R2,
    /// Root mean squared error, mean over targets.
    Rmse,
    /// Mean absolute error, mean over targets.
    Mae,
    /// Pearson correlation, mean over targets.
    Pearson,
    /// Concordance correlation coefficient, mean over targets: the regression headline.
    Ccc,
    /// ROC-AUC averaged over the tags: the multi-label headline.
    RocAucMacro,
    /// ROC-AUC of every (song, tag) pair pooled.
    RocAucMicro,
    /// Average precision averaged over the tags.
    PrAucMacro,
    /// Average precision of every pair pooled.
    PrAucMicro,
    /// F1 of the pooled (song, tag) counts at the chosen threshold.
    MicroF1,
}

fixed_words!(Metric, "metric", [
    Metric::Accuracy => "accuracy",
    Metric::BalancedAccuracy => "balanced_accuracy",
    Metric::MacroF1 => "macro_f1",
    Metric::WeightedF1 => "weighted_f1",
    Metric::LogLoss => "log_loss",
    Metric::Brier => "brier",
    Metric::Ece => "ece",
    Metric::Songs => "songs",
    Metric::R2 => "r2",
    Metric::Rmse => "rmse",
    Metric::Mae => "mae",
    Metric::Pearson => "pearson",
    Metric::Ccc => "ccc",
    Metric::RocAucMacro => "roc_auc_macro",
    Metric::RocAucMicro => "roc_auc_micro",
    Metric::PrAucMacro => "pr_auc_macro",
    Metric::PrAucMicro => "pr_auc_micro",
    Metric::MicroF1 => "micro_f1",
]);

impl Metric {
    /// A classifier's metrics, in the column order of `metrics.csv` and `summary.csv`.
    pub const ALL: [Metric; 8] = [
        Metric::Accuracy,
        Metric::BalancedAccuracy,
        Metric::MacroF1,
        Metric::WeightedF1,
        Metric::LogLoss,
        Metric::Brier,
        Metric::Ece,
        Metric::Songs,
    ];

    /// A regression model's metrics, in column order.
    pub const REGRESSION: [Metric; 6] = [
        Metric::Ccc,
        Metric::R2,
        Metric::Pearson,
        Metric::Rmse,
        Metric::Mae,
        Metric::Songs,
    ];

    /// A multi-label model's metrics, in column order.
    pub const MULTILABEL: [Metric; 7] = [
        Metric::RocAucMacro,
        Metric::RocAucMicro,
        Metric::PrAucMacro,
        Metric::PrAucMicro,
        Metric::MacroF1,
        Metric::MicroF1,
        Metric::Songs,
    ];

    /// The metrics of `task`'s models, in column order.
    pub fn columns(task: TaskKind) -> &'static [Metric] {
        match task {
            TaskKind::Classification => &Metric::ALL,
            TaskKind::Regression => &Metric::REGRESSION,
            TaskKind::Multilabel => &Metric::MULTILABEL,
        }
    }

    /// The metric a model of `task` is judged by first: macro-F1, CCC, macro ROC-AUC.
    pub fn headline(task: TaskKind) -> Metric {
        Metric::columns(task)[match task {
            TaskKind::Classification => 2,
            TaskKind::Regression | TaskKind::Multilabel => 0,
        }]
    }

    /// The metric shown beside the headline of `task`: accuracy, R², macro PR-AUC.
    pub fn companion(task: TaskKind) -> Metric {
        match task {
            TaskKind::Classification => Metric::Accuracy,
            TaskKind::Regression => Metric::R2,
            TaskKind::Multilabel => Metric::PrAucMacro,
        }
    }

    /// The metrics of `task`'s models that score predictions (every one but the song count),
    /// in column order.
    pub fn scores_of(task: TaskKind) -> impl Iterator<Item = Metric> {
        (Metric::columns(task).iter().copied()).filter(|m| m.direction().is_some())
    }

    /// Which way the metric improves; `None` for the song count, which is no score.
    pub fn direction(self) -> Option<Direction> {
        match self {
            Metric::Accuracy | Metric::BalancedAccuracy | Metric::MacroF1 | Metric::WeightedF1 => {
                Some(Direction::HigherIsBetter)
            }
            Metric::R2
            | Metric::Pearson
            | Metric::Ccc
            | Metric::RocAucMacro
            | Metric::RocAucMicro
            | Metric::PrAucMacro
            | Metric::PrAucMicro
            | Metric::MicroF1 => Some(Direction::HigherIsBetter),
            Metric::LogLoss | Metric::Brier | Metric::Ece | Metric::Rmse | Metric::Mae => {
                Some(Direction::LowerIsBetter)
            }
            Metric::Songs => None,
        }
    }

    /// Whether a lower value is better.
    pub fn lower_is_better(self) -> bool {
        self.direction() == Some(Direction::LowerIsBetter)
    }

    /// Whether models of `task` report the metric.
    pub fn scores_task(self, task: TaskKind) -> bool {
        Metric::columns(task).contains(&self)
    }

    /// The metric's value in a classifier's `metrics` (NaN for another kind's metric).
    pub fn value(self, metrics: &Metrics) -> f64 {
        match self {
            Metric::Accuracy => metrics.accuracy,
            Metric::BalancedAccuracy => metrics.balanced_accuracy,
            Metric::MacroF1 => metrics.macro_f1,
            Metric::WeightedF1 => metrics.weighted_f1,
            Metric::LogLoss => metrics.log_loss,
            Metric::Brier => metrics.brier,
            Metric::Ece => metrics.ece,
            Metric::Songs => metrics.songs as f64,
            _ => f64::NAN,
        }
    }

    /// The metric's value for a regression model's per-target `scores` of `songs` songs: the
    /// mean over targets (NaN for another kind's metric).
    pub fn regression_value(self, scores: &[TargetScores], songs: usize) -> f64 {
        let mean = |pick: fn(&TargetScores) -> f64| {
            scores.iter().map(pick).sum::<f64>() / scores.len() as f64
        };
        match self {
            Metric::R2 => mean(|s| s.r2),
            Metric::Rmse => mean(|s| s.rmse),
            Metric::Mae => mean(|s| s.mae),
            Metric::Pearson => mean(|s| s.pearson),
            Metric::Ccc => mean(|s| s.ccc),
            Metric::Songs => songs as f64,
            _ => f64::NAN,
        }
    }

    /// The metric's value in a multi-label model's `metrics` (NaN for another kind's metric).
    pub fn multilabel_value(self, metrics: &MultilabelMetrics) -> f64 {
        match self {
            Metric::RocAucMacro => metrics.roc_auc_macro,
            Metric::RocAucMicro => metrics.roc_auc_micro,
            Metric::PrAucMacro => metrics.pr_auc_macro,
            Metric::PrAucMicro => metrics.pr_auc_micro,
            Metric::MacroF1 => metrics.f1_macro,
            Metric::MicroF1 => metrics.f1_micro,
            Metric::Songs => metrics.songs as f64,
            _ => f64::NAN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(values: impl IntoIterator<Item = T>)
    where
        T: fmt::Display + FromStr<Err = UnknownName> + PartialEq + fmt::Debug,
    {
        for value in values {
            let name = value.to_string();
            assert_eq!(name.parse::<T>(), Ok(value), "{name}");
        }
    }

    #[test]
    fn every_word_reads_back_as_itself() {
        round_trips([Split::Test, Split::Validation, Split::Cv]);
        round_trips([
            SongGroup::All,
            SongGroup::AllModalities,
            SongGroup::Partial,
            SongGroup::NoModality,
        ]);
        round_trips(Metric::ALL);
        round_trips(Metric::REGRESSION);
        round_trips(Metric::MULTILABEL);
        round_trips([
            Model::Fold(0),
            Model::Fold(12),
            Model::Ensemble,
            Model::EnsembleTta,
            Model::Alternative(Combination::Mean),
            Model::Alternative(Combination::Vote),
            Model::Alternative(Combination::BestFold),
            Model::OutOfFold,
        ]);
    }

    #[test]
    fn names_are_those_the_report_writes() {
        assert_eq!(Model::HEADLINE.to_string(), "ensemble+tta");
        assert_eq!(Model::Fold(3).to_string(), "fold-3");
        assert_eq!(
            Model::Alternative(Combination::BestFold).to_string(),
            "ensemble:best-fold"
        );
        assert_eq!(SongGroup::AllModalities.to_string(), "all-modalities");
        let columns: Vec<String> = Metric::ALL.iter().map(Metric::to_string).collect();
        assert_eq!(
            columns,
            [
                "accuracy",
                "balanced_accuracy",
                "macro_f1",
                "weighted_f1",
                "log_loss",
                "brier",
                "ece",
                "songs"
            ]
        );
    }

    #[test]
    fn an_unknown_name_is_an_error_naming_the_accepted_ones() {
        let error = "f2".parse::<Metric>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown metric `f2`; expected one of accuracy, balanced_accuracy, macro_f1, \
             weighted_f1, log_loss, brier, ece, songs, r2, rmse, mae, pearson, ccc, \
             roc_auc_macro, roc_auc_micro, pr_auc_macro, pr_auc_micro, micro_f1"
        );
        for bad in [
            "fold-",
            "fold-x",
            "fold-01",
            "fold 0",
            "ensemble:median",
            "Ensemble",
        ] {
            let error = bad.parse::<Model>().unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("fold-<k>, ensemble, ensemble+tta"),
                "{error}"
            );
        }
        assert!(
            "train"
                .parse::<Split>()
                .unwrap_err()
                .to_string()
                .contains("test, validation, cv")
        );
        assert!("none".parse::<SongGroup>().is_err());
    }

    #[test]
    fn a_metric_knows_its_direction_and_task() {
        let lower: Vec<Metric> = Metric::ALL
            .into_iter()
            .filter(|m| m.lower_is_better())
            .collect();
        assert_eq!(lower, [Metric::LogLoss, Metric::Brier, Metric::Ece]);
        assert_eq!(Metric::Songs.direction(), None);
        assert_eq!(Metric::MacroF1.direction(), Some(Direction::HigherIsBetter));
        assert_eq!(Metric::scores_of(TaskKind::Classification).count(), 7);
        assert_eq!(Metric::scores_of(TaskKind::Regression).count(), 5);
        assert!(
            Metric::ALL
                .iter()
                .all(|m| m.scores_task(TaskKind::Classification))
        );
        let regression_lower: Vec<Metric> = (Metric::REGRESSION.into_iter())
            .filter(|m| m.lower_is_better())
            .collect();
        assert_eq!(regression_lower, [Metric::Rmse, Metric::Mae]);
        assert!(
            (Metric::MULTILABEL.iter())
                .all(|m| !m.lower_is_better() && m.scores_task(TaskKind::Multilabel))
        );
        // Macro-F1 and the song count are shared; nothing else is.
        assert!(Metric::MacroF1.scores_task(TaskKind::Multilabel));
        assert!(!Metric::Accuracy.scores_task(TaskKind::Regression));
        let headlines = [
            TaskKind::Classification,
            TaskKind::Regression,
            TaskKind::Multilabel,
        ]
        .map(Metric::headline);
        assert_eq!(
            headlines,
            [Metric::MacroF1, Metric::Ccc, Metric::RocAucMacro]
        );
    }

    #[test]
    fn words_are_json_strings() {
        let json = serde_json::to_string(&(Model::Fold(2), Split::Cv, Metric::MacroF1)).unwrap();
        assert_eq!(json, r#"["fold-2","cv","macro_f1"]"#);
        let back: (Model, Split, Metric) = serde_json::from_str(&json).unwrap();
        assert_eq!(back, (Model::Fold(2), Split::Cv, Metric::MacroF1));
    }
}
