//! `mer run`: the experiment, as far as the pipeline goes.

use std::process::ExitCode;

use tracing::{info, warn};

use super::{Folders, SpecArgs, load_experiment};
use crate::split::split_manifest;

/// Loads the spec and dataset, draws the split of every seed and says what it found.
pub fn run(args: &SpecArgs, _folders: &Folders) -> anyhow::Result<ExitCode> {
    let (spec, data) = load_experiment(args)?;
    let manifest = &data.manifest;
    for &seed in &spec.seeds {
        let plan = split_manifest(manifest, &spec.split, seed)?;
        let sizes: Vec<usize> = plan.folds.iter().map(|f| f.valid.len()).collect();
        info!(
            "seed {seed}: {} test songs, {} folds of {} to {} validation songs",
            plan.test.len(),
            plan.folds.len(),
            sizes.iter().min().unwrap_or(&0),
            sizes.iter().max().unwrap_or(&0),
        );
    }
    warn!(
        "the pipeline currently ends after the split: feature extraction, training and \
         evaluation stages are not built yet, so no report was written"
    );
    Ok(ExitCode::SUCCESS)
}
