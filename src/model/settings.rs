//! Checked training settings: the spec's `[model]`, `[augment]` and `[schedule]` sections after
//! every rule below holds. Training code receives only [`CheckedSettings`].
//!
//! One rule per check, one error per rule (tested in `tests/model_settings.rs`):
//! sizes are at least 1, probabilities lie in `[0, 1)`, rates are finite and positive where
//! zero would mean "never learns".

use crate::spec::{AugmentSection, ModelSection, ScheduleSection};

use super::ModelError;

/// The spec sections training reads, as the researcher wrote them (defaults applied).
#[derive(Debug, Clone, Copy)]
pub struct TrainSettings<'a> {
    /// `[model]`: encoder and head sizes, norm, activation, dropout.
    pub model: &'a ModelSection,
    /// `[augment]`: mixup, label smoothing, modality dropout, feature noise.
    pub augment: &'a AugmentSection,
    /// `[schedule]`: AdamW, batch size, epochs, learning-rate schedule, early stopping.
    pub schedule: &'a ScheduleSection,
}

/// Settings that passed [`TrainSettings::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSettings {
    pub(crate) model: ModelSection,
    pub(crate) augment: AugmentSection,
    pub(crate) schedule: ScheduleSection,
}

impl CheckedSettings {
    /// The `[model]` section.
    pub fn model(&self) -> &ModelSection {
        &self.model
    }
}

impl TrainSettings<'_> {
    /// Checks every rule; the first violation is returned.
    pub fn check(&self) -> Result<CheckedSettings, ModelError> {
        check_model(self.model)?;
        check_augment(self.augment)?;
        check_schedule(self.schedule)?;
        Ok(CheckedSettings {
            model: self.model.clone(),
            augment: self.augment.clone(),
            schedule: self.schedule.clone(),
        })
    }
}

fn out_of_range(key: &'static str, value: impl ToString, expected: &'static str) -> ModelError {
    ModelError::OutOfRange {
        key,
        value: value.to_string(),
        expected,
    }
}

fn at_least_one(key: &'static str, value: usize) -> Result<(), ModelError> {
    if value == 0 {
        return Err(out_of_range(key, value, "at least 1"));
    }
    Ok(())
}

/// `[0, 1)`: a probability that must leave something (dropping everything cannot train).
fn probability(key: &'static str, value: f64) -> Result<(), ModelError> {
    if !(0.0..1.0).contains(&value) {
        return Err(out_of_range(key, value, "a probability in [0, 1)"));
    }
    Ok(())
}

fn non_negative(key: &'static str, value: f64) -> Result<(), ModelError> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(out_of_range(key, value, "a finite number >= 0"));
    }
    Ok(())
}

fn positive(key: &'static str, value: f64) -> Result<(), ModelError> {
    if !(value.is_finite() && value > 0.0) {
        return Err(out_of_range(key, value, "a finite number > 0"));
    }
    Ok(())
}

fn check_model(model: &ModelSection) -> Result<(), ModelError> {
    at_least_one("model.encoder_layers", model.encoder_layers)?;
    at_least_one("model.encoder_width", model.encoder_width)?;
    // head_layers = 0 is a linear classifier on the fused embedding, which is valid.
    at_least_one("model.head_width", model.head_width)?;
    probability("model.dropout", model.dropout)
}

fn check_augment(augment: &AugmentSection) -> Result<(), ModelError> {
    non_negative("augment.mixup_alpha", augment.mixup_alpha)?;
    probability("augment.label_smoothing", augment.label_smoothing)?;
    probability("augment.modality_dropout", augment.modality_dropout)?;
    non_negative("augment.feature_noise", augment.feature_noise)
}

fn check_schedule(schedule: &ScheduleSection) -> Result<(), ModelError> {
    positive("schedule.lr", schedule.lr)?;
    non_negative("schedule.weight_decay", schedule.weight_decay)?;
    probability("schedule.beta1", schedule.beta1)?;
    probability("schedule.beta2", schedule.beta2)?;
    positive("schedule.eps", schedule.eps)?;
    at_least_one("schedule.batch_size", schedule.batch_size)?;
    at_least_one("schedule.epochs", schedule.epochs)?;
    at_least_one("schedule.t0", schedule.t0)?;
    at_least_one("schedule.t_mult", schedule.t_mult)?;
    non_negative("schedule.eta_min", schedule.eta_min)?;
    if schedule.eta_min > schedule.lr {
        return Err(out_of_range(
            "schedule.eta_min",
            schedule.eta_min,
            "at most schedule.lr (it is the floor of the cosine schedule)",
        ));
    }
    if let Some(patience) = schedule.patience {
        at_least_one("schedule.patience", patience)?;
    }
    Ok(())
}
