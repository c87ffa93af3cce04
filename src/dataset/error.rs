//! Errors that stop a dataset from loading. Non-fatal findings are
//! [`DatasetProblem`](super::DatasetProblem)s instead.

use std::path::PathBuf;

use thiserror::Error;

use super::problem::DatasetProblem;
use crate::modality::ModalityMask;
use crate::text::TextError;

/// A dataset that cannot be loaded; the message names the file (and line), what was expected
/// and what to do.
#[derive(Debug, Error)]
pub enum DatasetError {
    /// `dataset.root` does not exist or is not a folder.
    #[error(
        "dataset root {} {what}; set dataset.root to the folder holding the dataset",
        root.display()
    )]
    RootMissing {
        /// The root as resolved.
        root: PathBuf,
        /// `"does not exist"` or `"is not a folder"`.
        what: &'static str,
    },
    /// A file the labels come from could not be read.
    #[error("cannot read labels file {}; {hint}", path.display())]
    LabelsUnreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
        /// What the layout expects there.
        hint: String,
    },
    /// A file the labels come from is not text in a known encoding.
    #[error("cannot decode labels file {}", path.display())]
    LabelsNotText {
        /// The file.
        path: PathBuf,
        /// Why decoding failed.
        source: TextError,
    },
    /// The labels CSV lacks a column the spec names.
    #[error(
        "{} line 1: no column \"{column}\" (dataset.{key}); the header has {}; rename the column or set dataset.{key}",
        path.display(),
        quote_list(found)
    )]
    MissingColumn {
        /// The labels CSV.
        path: PathBuf,
        /// The column looked for.
        column: String,
        /// The spec key naming it: `id_column` or `label_column`.
        key: &'static str,
        /// The header's columns.
        found: Vec<String>,
    },
    /// A file of a fixed layout lacks a column the layout reads.
    #[error(
        "{} line 1: no column \"{column}\", which layout \"{layout}\" reads; the header has {}; is dataset.root a copy of that dataset as distributed?",
        path.display(),
        quote_list(found)
    )]
    LayoutColumn {
        /// The file.
        path: PathBuf,
        /// The column looked for.
        column: String,
        /// The layout.
        layout: &'static str,
        /// The header's columns.
        found: Vec<String>,
    },
    /// The root holds several sets of a dataset distributed as separate sets (MERGE).
    #[error(
        "dataset root {} holds {} sets of layout \"{layout}\" ({}); set dataset.root to the one to use (their splits differ, so they are not merged)",
        root.display(),
        sets.len(),
        sets.join(", ")
    )]
    SeveralSets {
        /// The root.
        root: PathBuf,
        /// The layout.
        layout: &'static str,
        /// The sets' folders, by name.
        sets: Vec<String>,
    },
    /// The labels CSV could not be parsed at all.
    #[error("{} line {line}: {reason}", path.display())]
    MalformedLabels {
        /// The labels CSV.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What the parser found.
        reason: String,
    },
    /// A `dataset.paths` entry that is not a usable template.
    #[error(
        "dataset.paths.{key} = \"{template}\": {reason}; use a modality name (audio, lyrics, midi) and a path with {{id}}, e.g. \"audio/{{id}}.wav\""
    )]
    BadTemplate {
        /// The key.
        key: String,
        /// The template.
        template: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Label sources disagree and `on_label_conflict = "fail"`.
    #[error(
        "{} song(s) have conflicting labels (on_label_conflict = \"fail\"):\n{}\nfix the label files, or set dataset.on_label_conflict = \"drop\" to leave these songs out",
        conflicts.len(),
        bullet_list(conflicts)
    )]
    LabelConflicts {
        /// One [`DatasetProblem::LabelDisagreement`] per song.
        conflicts: Vec<DatasetProblem>,
    },
    /// No song is left to work with.
    #[error(
        "no songs left in {}: {listed} labelled song(s) listed, none with a file for the modalities that keep a song ({selected}); check dataset.root and dataset.paths, or select other modalities (dataset.songs_with, default the selected ones)",
        root.display()
    )]
    NoSongs {
        /// The dataset root.
        root: PathBuf,
        /// Labelled songs found.
        listed: usize,
        /// The modalities that keep a song (`dataset.songs_with`).
        selected: ModalityMask,
    },
}

fn quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|c| format!("\"{c}\"")).collect();
    quoted.join(", ")
}

fn bullet_list(problems: &[DatasetProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modality::Modality;

    #[test]
    fn missing_column_names_file_line_and_key() {
        let err = DatasetError::MissingColumn {
            path: "/d/labels.csv".into(),
            column: "label".into(),
            key: "label_column",
            found: vec!["id".into(), "mood".into()],
        };
        assert_eq!(
            err.to_string(),
            "/d/labels.csv line 1: no column \"label\" (dataset.label_column); the header has \"id\", \"mood\"; rename the column or set dataset.label_column"
        );
    }

    #[test]
    fn no_songs_names_selection() {
        let err = DatasetError::NoSongs {
            root: "/d".into(),
            listed: 3,
            selected: [Modality::Midi].into_iter().collect(),
        };
        assert!(err.to_string().contains("(midi)"));
    }
}
