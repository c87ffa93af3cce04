//! Why a report folder could not be read back: the one error type of every reader in
//! `compare` (run records, CSV tables, sweep folders), each naming the file and what to do.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a report folder could not be read.
#[derive(Debug, Error)]
pub enum ReadError {
    /// Neither `run.json` nor `sweep.json`.
    #[error(
        "'{}' is not a report folder or a sweep folder (it has no run.json or sweep.json){hint}",
        path.display()
    )]
    NotAReport {
        /// The path given.
        path: PathBuf,
        /// A suggestion (e.g. the report folders it holds), starting with "; ".
        hint: String,
    },
    /// A glob that matched nothing.
    #[error("'{pattern}' matches no file or folder")]
    NoMatch {
        /// The pattern.
        pattern: String,
    },
    /// A plan written by `--dry-run`.
    #[error(
        "'{}' is the record of a dry run: nothing was computed, so there is nothing to compare; pass the report folder of a real run",
        path.display()
    )]
    DryRun {
        /// The report folder.
        path: PathBuf,
    },
    /// A run that failed or was interrupted: it wrote no metrics.
    #[error(
        "'{}' is a run that did not finish ({error}); it has no metrics to compare. Run the same command again (finished stages come from the cache) and compare the new report folder",
        path.display()
    )]
    Unfinished {
        /// The report folder.
        path: PathBuf,
        /// The run's error, from run.json.
        error: String,
    },
    /// `--selected` given a sweep without a selected result.
    #[error(
        "'{}' has no selected result: its spec's [sweep] has no `select = {{ metric = \"...\", on = \"cv\" }}`; add one and run the sweep again (finished members come from the cache)",
        path.display()
    )]
    NoSelection {
        /// The sweep folder.
        path: PathBuf,
    },
    /// A file could not be read.
    #[error("could not read '{}'", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A number that `mer run` cannot have written: not finite, or outside the column's range.
    #[error(
        "'{}' line {line}, column `{column}`: {found} is not {expected}; the file is damaged or was edited: re-run the experiment (finished stages come from the cache) and compare the new report folder",
        path.display()
    )]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The column.
        column: String,
        /// The cell, or what the row adds up to.
        found: String,
        /// What the column holds, in words.
        expected: String,
    },
    /// A file that does not have the shape `mer run` writes.
    #[error("'{}' is not as mer writes it: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
}

/// A file that is not as `mer run` writes it.
pub(super) fn malformed(path: &Path, message: impl Into<String>) -> ReadError {
    ReadError::Malformed {
        path: path.to_path_buf(),
        message: message.into(),
    }
}
