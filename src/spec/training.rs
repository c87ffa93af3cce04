//! The rules of the training settings: the spec's `[model]`, `[augment]`, `[schedule]` and
//! `[task]` sections are valid when [`TrainSettings::violations`] is empty.
//!
//! This module is the one owner of these rules. The spec's check maps each [`SettingError`] to
//! the file, environment variable or `--set` argument the value came from; training wraps the
//! sections into `model::CheckedSettings` through the same rules, so `mer validate` and
//! training can never disagree. One rule per check, one error variant per kind of rule, every
//! violation reported (tested rule by rule, through both paths, in `tests/model_settings.rs`):
//! sizes are at least 1, probabilities lie in `[0, 1)`, rates are finite and positive where
//! zero would mean "never learns", the cosine floor `eta_min` is at most `lr`, and settings
//! that only mean something for classes (label smoothing, class weights) are off for
//! regression.

use super::sections::{
    AugmentSection, Fusion, LateCombine, LateTraining, ModelKind, ModelSection, ScheduleSection,
    TaskKind, TaskSection,
};

/// The spec sections training reads, as the researcher wrote them (defaults applied).
#[derive(Debug, Clone, Copy)]
pub struct TrainSettings<'a> {
    /// `[model]`: encoder and head sizes, norm, activation, dropout.
    pub model: &'a ModelSection,
    /// `[augment]`: mixup, label smoothing, modality dropout, feature noise.
    pub augment: &'a AugmentSection,
    /// `[schedule]`: AdamW, batch size, epochs, learning-rate schedule, early stopping.
    pub schedule: &'a ScheduleSection,
    /// `[task]`: the kind of target (which head and loss) and the regression loss.
    pub task: &'a TaskSection,
}

/// One broken rule of the training settings: the key path, the range it accepts (the
/// variant, and [`SettingError::expected`] in words) and the value found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingError {
    /// A size or a count that must be at least 1.
    #[error("key `{key}`: expected {}, found {found}", EXPECTED_COUNT)]
    NotPositiveCount {
        /// Spec key path, e.g. `schedule.epochs`.
        key: &'static str,
        /// The value found.
        found: usize,
    },
    /// A rate that must be finite and above zero.
    #[error("key `{key}`: expected {}, found {found}", EXPECTED_POSITIVE)]
    NotPositive {
        /// Spec key path, e.g. `schedule.lr`.
        key: &'static str,
        /// The value found.
        found: f64,
    },
    /// An amount that must be finite and at least zero (zero turns it off).
    #[error("key `{key}`: expected {}, found {found}", EXPECTED_NON_NEGATIVE)]
    Negative {
        /// Spec key path, e.g. `augment.mixup_alpha`.
        key: &'static str,
        /// The value found.
        found: f64,
    },
    /// A probability that may be zero (off) but never one (dropping or smoothing everything
    /// cannot train, and a moment decay of 1 never forgets).
    #[error("key `{key}`: expected {}, found {found}", EXPECTED_PROBABILITY)]
    NotProbability {
        /// Spec key path, e.g. `model.dropout`.
        key: &'static str,
        /// The value found.
        found: f64,
    },
    /// A setting that has no meaning for the task kind: label smoothing or class weights for
    /// regression, whose targets are numbers, not classes.
    #[error(
        "key `{key}`: has no meaning for task.kind = \"{}\" (expected {expected}, found {found})",
        kind.name()
    )]
    NotForTask {
        /// Spec key path, e.g. `augment.label_smoothing`.
        key: &'static str,
        /// The task kind.
        kind: TaskKind,
        /// What the key must be for this kind, e.g. `0`.
        expected: &'static str,
        /// The value found.
        found: String,
    },
    /// A setting of the network that a linear model does not have.
    #[error(
        "key `{key}`: has no meaning for model.kind = \"linear\", which has no encoders to fuse (expected {}, found {found})",
        EXPECTED_LINEAR_FUSION
    )]
    NotForLinear {
        /// Spec key path: `model.fusion`.
        key: &'static str,
        /// The value found.
        found: String,
    },
    /// A `model.late` setting on a network whose fusion is not late.
    #[error(
        "key `{key}`: has no meaning for {model}, which has no per-modality classifiers (expected {}, found {found})",
        EXPECTED_LINEAR_FUSION
    )]
    NotForFusion {
        /// Spec key path, e.g. `model.late.combine`.
        key: &'static str,
        /// The model the spec chose, as its key says it: `model.fusion = "concat"`.
        model: String,
        /// The value found.
        found: String,
    },
    /// `schedule.eta_min` above `schedule.lr`: the floor of the cosine schedule would be above
    /// its top, so the rate would anneal upwards.
    #[error("key `schedule.eta_min`: expected {}, found {found}", eta_min_expected(*lr))]
    EtaMinAboveLr {
        /// The `eta_min` found.
        found: f64,
        /// The `lr` it is compared with.
        lr: f64,
    },
}

const EXPECTED_COUNT: &str = "a positive integer";
const EXPECTED_POSITIVE: &str = "a positive number";
const EXPECTED_NON_NEGATIVE: &str = "a number >= 0";
const EXPECTED_PROBABILITY: &str = "a number in [0, 1)";
const EXPECTED_LINEAR_FUSION: &str = "the key left out";

fn eta_min_expected(lr: f64) -> String {
    format!("at most schedule.lr ({lr}), the top of the cosine schedule")
}

impl SettingError {
    /// The dotted spec key path of the offending value.
    pub fn key(&self) -> &'static str {
        match self {
            SettingError::NotPositiveCount { key, .. }
            | SettingError::NotPositive { key, .. }
            | SettingError::Negative { key, .. }
            | SettingError::NotProbability { key, .. }
            | SettingError::NotForTask { key, .. }
            | SettingError::NotForLinear { key, .. }
            | SettingError::NotForFusion { key, .. } => key,
            SettingError::EtaMinAboveLr { .. } => "schedule.eta_min",
        }
    }

    /// What the key accepts, in words.
    pub fn expected(&self) -> String {
        match self {
            SettingError::NotPositiveCount { .. } => EXPECTED_COUNT.to_string(),
            SettingError::NotPositive { .. } => EXPECTED_POSITIVE.to_string(),
            SettingError::Negative { .. } => EXPECTED_NON_NEGATIVE.to_string(),
            SettingError::NotProbability { .. } => EXPECTED_PROBABILITY.to_string(),
            SettingError::EtaMinAboveLr { lr, .. } => eta_min_expected(*lr),
            SettingError::NotForTask { expected, .. } => expected.to_string(),
            SettingError::NotForLinear { .. } | SettingError::NotForFusion { .. } => {
                EXPECTED_LINEAR_FUSION.to_string()
            }
        }
    }

    /// The value found, as the spec layer prints it.
    pub fn found(&self) -> String {
        match self {
            SettingError::NotPositiveCount { found, .. } => found.to_string(),
            SettingError::NotPositive { found, .. }
            | SettingError::Negative { found, .. }
            | SettingError::NotProbability { found, .. }
            | SettingError::EtaMinAboveLr { found, .. } => found.to_string(),
            SettingError::NotForTask { found, .. }
            | SettingError::NotForLinear { found, .. }
            | SettingError::NotForFusion { found, .. } => found.clone(),
        }
    }
}

impl TrainSettings<'_> {
    /// Every broken rule, in section and key order (`[model]`, `[augment]`, `[schedule]`);
    /// empty when the settings are valid. The spec layer reports these with their origins.
    pub fn violations(&self) -> Vec<SettingError> {
        let mut rules = Rules(Vec::new());
        rules.model(self.model);
        rules.augment(self.augment);
        rules.schedule(self.schedule);
        rules.task(self.task, self.augment, self.schedule);
        rules.0
    }
}

/// The violations found so far. NaN fails every range rule.
struct Rules(Vec<SettingError>);

impl Rules {
    fn count(&mut self, key: &'static str, found: usize) {
        if found == 0 {
            self.0.push(SettingError::NotPositiveCount { key, found });
        }
    }

    fn positive(&mut self, key: &'static str, found: f64) {
        if !(found.is_finite() && found > 0.0) {
            self.0.push(SettingError::NotPositive { key, found });
        }
    }

    fn non_negative(&mut self, key: &'static str, found: f64) {
        if !(found.is_finite() && found >= 0.0) {
            self.0.push(SettingError::Negative { key, found });
        }
    }

    fn probability(&mut self, key: &'static str, found: f64) {
        if !(0.0..1.0).contains(&found) {
            self.0.push(SettingError::NotProbability { key, found });
        }
    }

    fn model(&mut self, model: &ModelSection) {
        self.count("model.encoder_layers", model.encoder_layers);
        self.count("model.encoder_width", model.encoder_width);
        // head_layers = 0 is a linear classifier on the fused embedding, which is valid.
        self.count("model.head_width", model.head_width);
        self.probability("model.dropout", model.dropout);
        // `concat` is the default, so only another choice can have been written.
        if model.kind == ModelKind::Linear && model.fusion != Fusion::Concat {
            self.0.push(SettingError::NotForLinear {
                key: "model.fusion",
                found: model.fusion.name().to_string(),
            });
        }
        self.late_only(model);
    }

    /// `model.late` keys set away from their defaults on another fusion (or a linear model).
    fn late_only(&mut self, model: &ModelSection) {
        if model.kind == ModelKind::Network && model.fusion == Fusion::Late {
            return;
        }
        let chosen = match model.kind {
            ModelKind::Linear => "model.kind = \"linear\"".to_string(),
            ModelKind::Network => format!("model.fusion = \"{}\"", model.fusion.name()),
        };
        let late = model.late;
        if late.training != LateTraining::default() {
            self.0.push(SettingError::NotForFusion {
                key: "model.late.training",
                model: chosen.clone(),
                found: late.training.name().to_string(),
            });
        }
        if late.combine != LateCombine::default() {
            self.0.push(SettingError::NotForFusion {
                key: "model.late.combine",
                model: chosen,
                found: late.combine.name().to_string(),
            });
        }
    }

    fn augment(&mut self, augment: &AugmentSection) {
        self.non_negative("augment.mixup_alpha", augment.mixup_alpha);
        self.probability("augment.label_smoothing", augment.label_smoothing);
        self.probability("augment.modality_dropout", augment.modality_dropout);
        self.non_negative("augment.feature_noise", augment.feature_noise);
    }

    /// Settings that only mean something for some task kinds.
    fn task(&mut self, task: &TaskSection, augment: &AugmentSection, s: &ScheduleSection) {
        if task.kind != TaskKind::Regression {
            return;
        }
        let kind = task.kind;
        if augment.label_smoothing != 0.0 {
            self.0.push(SettingError::NotForTask {
                key: "augment.label_smoothing",
                kind,
                expected: "0",
                found: augment.label_smoothing.to_string(),
            });
        }
        if s.class_weights {
            self.0.push(SettingError::NotForTask {
                key: "schedule.class_weights",
                kind,
                expected: "false",
                found: "true".into(),
            });
        }
    }

    fn schedule(&mut self, s: &ScheduleSection) {
        self.positive("schedule.lr", s.lr);
        self.non_negative("schedule.weight_decay", s.weight_decay);
        self.probability("schedule.beta1", s.beta1);
        self.probability("schedule.beta2", s.beta2);
        self.positive("schedule.eps", s.eps);
        self.count("schedule.batch_size", s.batch_size);
        self.count("schedule.epochs", s.epochs);
        self.count("schedule.t0", s.t0);
        self.count("schedule.t_mult", s.t_mult);
        self.non_negative("schedule.eta_min", s.eta_min);
        // eta_min == lr is valid: the cosine term is multiplied by lr - eta_min = 0, so the
        // rate is lr at every step, bit for bit the constant schedule (PyTorch accepts it too),
        // and a sweep whose lr reaches the floor should not fail; only eta_min > lr is wrong.
        // Compared only when both values passed their own rules, so one bad value is one problem.
        let lr_ok = s.lr.is_finite() && s.lr > 0.0;
        if lr_ok && s.eta_min.is_finite() && s.eta_min > s.lr {
            self.0.push(SettingError::EtaMinAboveLr {
                found: s.eta_min,
                lr: s.lr,
            });
        }
        if let Some(patience) = s.patience {
            self.count("schedule.patience", patience);
        }
    }
}
