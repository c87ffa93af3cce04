//! `mer validate`: the resolved spec, or every reason it is not valid.

use std::process::ExitCode;

use super::SpecArgs;
use crate::spec::load_spec;

/// Prints the resolved spec as TOML on stdout. Spec errors already name the file.
pub fn validate(args: &SpecArgs) -> anyhow::Result<ExitCode> {
    let spec = load_spec(&args.spec, &args.sets)?;
    print!("{}", spec.to_toml());
    Ok(ExitCode::SUCCESS)
}
