//! What a gated, attention or stacked late fusion leans on: `modality_weights.csv` (per seed, each selected
//! modality's mean weight over the test songs that have every one of them) and the figure
//! `modality_weights` (one bar group per modality, one bar per seed). Nothing is written for
//! designs that learn no such weight.

use std::path::Path;

use crate::modality::ModalityMask;
use crate::report::ReportError;
use crate::report::plots::{ScoreBars, render};
use crate::results::number;

use super::{Exporter, ReportInput};

/// The file names (the figure as `.png` and `.svg` beside the table).
pub const STEM: &str = "modality_weights";

/// Seeds with their mean weight per modality, in the order of the selected modalities.
type SeedWeights = Vec<(u64, Vec<f64>)>;

/// The selected modalities and each seed's weights, of whichever kind of results the run has.
fn weights_of(input: &ReportInput<'_>) -> Option<(ModalityMask, SeedWeights)> {
    let seeds_of = |seeds: Vec<(u64, &Option<Vec<f64>>)>| -> SeedWeights {
        (seeds.into_iter())
            .filter_map(|(seed, weights)| Some((seed, weights.clone()?)))
            .collect()
    };
    let (modalities, seeds) = match (input.results, input.targets) {
        (Some(r), _) => (
            r.modalities,
            seeds_of(
                r.seeds
                    .iter()
                    .map(|s| (s.seed, &s.modality_weights))
                    .collect(),
            ),
        ),
        (None, Some(t)) => (
            t.modalities,
            seeds_of(
                t.seeds
                    .iter()
                    .map(|s| (s.seed, &s.modality_weights))
                    .collect(),
            ),
        ),
        (None, None) => return None,
    };
    Some((modalities, seeds))
}

/// Writes the table and the figure of the fusion's weights per modality.
pub struct ModalityWeights;

impl Exporter for ModalityWeights {
    fn write(
        &self,
        folder: &Path,
        input: &ReportInput<'_>,
        _: &[String],
    ) -> Result<Vec<String>, ReportError> {
        let Some((modalities, seeds)) = weights_of(input) else {
            return Ok(Vec::new());
        };
        if seeds.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = modalities.iter().map(|m| m.name().to_string()).collect();
        let table = format!("{STEM}.csv");
        super::csv::write_csv(folder, &table, |out| {
            out.write_record(["seed", "modality", "mean_weight"])?;
            for (seed, weights) in &seeds {
                for (name, &weight) in names.iter().zip(weights) {
                    out.write_record([seed.to_string(), name.clone(), number(weight)])?;
                }
            }
            Ok(())
        })?;
        let series: Vec<(String, Vec<f64>)> = (seeds.iter())
            .map(|(seed, weights)| (format!("seed {seed}"), weights.clone()))
            .collect();
        let caption = "Mean fusion weight per modality (test songs with every modality)";
        let paths = render(
            &folder.join(STEM),
            &ScoreBars {
                caption,
                class_names: &names,
                series: &series,
            },
        )?;
        let mut written = vec![table];
        written.extend(paths.iter().map(|p| {
            (p.file_name().unwrap_or_default())
                .to_string_lossy()
                .into_owned()
        }));
        Ok(written)
    }
}
