//! The `mer` command line.

use std::process::ExitCode;

/// Parses the command line and runs the command.
pub fn run() -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
