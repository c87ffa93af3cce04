//! The named vector the feature groups write into.

/// Feature names and values in push order; non-finite values are stored as 0 so a vector is
/// always usable downstream.
#[derive(Debug, Default)]
pub(crate) struct FeatureVector {
    pub(crate) names: Vec<String>,
    pub(crate) values: Vec<f32>,
}

impl FeatureVector {
    /// Appends one feature.
    pub(crate) fn push(&mut self, name: impl Into<String>, value: f64) {
        self.names.push(name.into());
        self.values
            .push(if value.is_finite() { value as f32 } else { 0.0 });
    }
}
