//! `mer validate`: the resolved spec, or every reason it is not valid.

use std::process::ExitCode;

use clap::Args;

use super::{SpecArgs, load_experiment};
use crate::experiment::check_splits;
use crate::spec::load_spec;

/// Arguments of `mer validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// Check the spec alone, without reading its dataset (the fold count against the smallest
    /// class is then not checked).
    #[arg(long)]
    spec_only: bool,
}

/// Prints the resolved spec as TOML on stdout, after checking that its dataset loads and that
/// every seed's split can be drawn. Spec errors already name the file.
pub fn validate(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let spec = if args.spec_only {
        load_spec(&args.spec.spec, &args.spec.sets)?
    } else {
        let (spec, data) = load_experiment(&args.spec)?;
        check_splits(&spec, &data)?;
        spec
    };
    print!("{}", spec.to_toml());
    Ok(ExitCode::SUCCESS)
}
