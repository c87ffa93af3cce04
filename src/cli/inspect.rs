//! `mer data inspect`: what a dataset holds and every problem found in it.

use std::process::ExitCode;

use clap::Args;

use super::{SpecArgs, load_experiment};
use crate::dataset::{InspectReport, published_counts, rating_scales};

/// Arguments of `mer data inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// List every problem instead of the first few of each kind.
    #[arg(long)]
    all: bool,
}

/// Prints class x modality counts, the all-modality intersection and the problems.
pub fn inspect(args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let (spec, data) = load_experiment(&args.spec)?;
    let report = InspectReport::new(&data, spec.selected())
        .verbose(args.all)
        .published(published_counts(spec.dataset.layout))
        .ratings(&data, rating_scales(spec.dataset.layout));
    print!("{report}");
    Ok(ExitCode::SUCCESS)
}
