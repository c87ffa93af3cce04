//! Checked training settings: the spec's `[model]`, `[augment]`, `[schedule]` and `[task]`
//! sections after every rule of [`TrainSettings::violations`] holds (the linfa pattern: the
//! unchecked [`TrainSettings`] wrap into [`CheckedSettings`] through one
//! [`CheckedSettings::new`]).
//! Training code receives only [`CheckedSettings`]; the rules themselves live with the spec
//! (`spec::training`), which reports the same violations with their origins.

use crate::spec::{AugmentSection, ModelSection, ScheduleSection, TaskSection, TrainSettings};

use super::ModelError;

/// Settings that passed every rule of [`TrainSettings::violations`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSettings {
    pub(crate) model: ModelSection,
    pub(crate) augment: AugmentSection,
    pub(crate) schedule: ScheduleSection,
    pub(crate) task: TaskSection,
}

impl CheckedSettings {
    /// Checks every rule and wraps the sections; on failure the error lists every violation
    /// ([`ModelError::InvalidSettings`]).
    pub fn new(settings: &TrainSettings<'_>) -> Result<CheckedSettings, ModelError> {
        let violations = settings.violations();
        if !violations.is_empty() {
            return Err(ModelError::InvalidSettings(violations));
        }
        Ok(CheckedSettings {
            model: settings.model.clone(),
            augment: settings.augment.clone(),
            schedule: settings.schedule.clone(),
            task: settings.task.clone(),
        })
    }

    /// The `[model]` section.
    pub fn model(&self) -> &ModelSection {
        &self.model
    }
}
