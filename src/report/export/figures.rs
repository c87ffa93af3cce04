//! The report's figures, per seed: learning curves, the headline model's confusion matrix and
//! calibration, and per-class F1 of each test-scored model, each as PNG and SVG (drawn by
//! [`crate::report::plots`]).

use std::path::{Path, PathBuf};

use crate::report::ReportError;
use crate::report::plots;
use crate::results::{RunResults, SongGroup, Split};

use super::{Exporter, ReportInput};

/// Draws the figures of a run that finished.
pub struct Figures;

impl Exporter for Figures {
    fn write(
        &self,
        folder: &Path,
        input: &ReportInput<'_>,
        _: &[String],
    ) -> Result<Vec<String>, ReportError> {
        match input.results {
            Some(results) => write_figures(folder, results),
            None => Ok(Vec::new()),
        }
    }
}

fn write_figures(folder: &Path, results: &RunResults) -> Result<Vec<String>, ReportError> {
    let mut written = Vec::new();
    let mut keep = |paths: [PathBuf; 2]| {
        for path in paths {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            written.push(name.into_owned());
        }
    };
    for seed in &results.seeds {
        let stem = |name: &str| folder.join(format!("{name}-seed{}", seed.seed));
        keep(plots::learning_curves(
            &stem("learning_curves"),
            &seed.curves,
        )?);
        if let Some(headline) = seed.headline_score() {
            keep(plots::confusion_heatmap(
                &stem("confusion"),
                &headline.metrics.confusion,
                &results.classes,
            )?);
            let truth: Vec<usize> = seed.predictions.iter().map(|p| p.truth).collect();
            let probabilities: Vec<f32> = seed
                .predictions
                .iter()
                .flat_map(|p| p.probabilities.iter().copied())
                .collect();
            let bins = crate::eval::reliability(&truth, &probabilities, results.classes.len());
            keep(plots::calibration_curve(
                &stem("calibration"),
                &bins,
                headline.metrics.ece,
            )?);
        }
        let models: Vec<(String, Vec<f64>)> = seed
            .scores
            .iter()
            .filter(|s| s.split == Split::Test && s.group == SongGroup::All)
            .map(|s| {
                let f1 = s.metrics.per_class.iter().map(|c| c.f1).collect();
                (s.model.to_string(), f1)
            })
            .collect();
        keep(plots::per_class_f1(
            &stem("per_class_f1"),
            &results.classes,
            &models,
        )?);
    }
    Ok(written)
}
