//! Non-fatal findings while loading a dataset. Each one is returned, never logged, so the CLI
//! decides how to show it, and each one's text says what is wrong and what to do about it.

use std::fmt;
use std::path::PathBuf;

use crate::modality::Modality;

/// One source's claim about a song's label, e.g. a `.bat` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelClaim {
    /// Where the claim comes from, with the line: `"clusters.txt line 17"`.
    pub source: String,
    /// The class this source gives.
    pub label: String,
    /// The subcategory this source gives, if it gives one.
    pub subcategory: Option<String>,
}

impl fmt::Display for LabelClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subcategory {
            Some(sub) => write!(f, "{} says \"{} / {sub}\"", self.source, self.label),
            None => write!(f, "{} says \"{}\"", self.source, self.label),
        }
    }
}

/// Songs of a [`RareClass`] its message lists.
const RARE_CLASS_SONGS_SHOWN: usize = 10;

/// A class with fewer songs than the split can stratify: fewer than one per fold plus its
/// share of the test set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RareClass {
    /// The class.
    pub class: String,
    /// Its songs: (id, the metadata line that labels it, e.g. `"clusters.txt line 17"`).
    pub songs: Vec<(String, String)>,
    /// Songs a class needs under the spec's split.
    pub needed: usize,
}

impl fmt::Display for RareClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut songs: Vec<String> = self
            .songs
            .iter()
            .take(RARE_CLASS_SONGS_SHOWN)
            .map(|(id, source)| format!("song {id} ({source})"))
            .collect();
        // A class of dozens of songs is rare only for a large fold count; its list says
        // nothing more after the first few.
        if self.songs.len() > RARE_CLASS_SONGS_SHOWN {
            songs.push(format!(
                "and {} more",
                self.songs.len() - RARE_CLASS_SONGS_SHOWN
            ));
        }
        write!(
            f,
            "class \"{}\" has {} song(s), fewer than the {} the split needs (one per fold plus its share of the test set): {}",
            self.class,
            self.songs.len(),
            self.needed,
            songs.join(", ")
        )
    }
}

/// A problem found while loading a dataset that does not stop the load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetProblem {
    /// Metadata lists a file for a song but the file is not there; the song lacks that modality.
    ListedFileMissing {
        /// The file's modality.
        modality: Modality,
        /// The song.
        id: String,
        /// Where the file was expected.
        path: PathBuf,
    },
    /// Many songs of one modality lack their file, summarised in one line because the archive
    /// is known to be partial for it (MIREX-like lyrics and MIDI).
    ModalityPartial {
        /// The modality.
        modality: Modality,
        /// Songs listed for it without a file.
        missing: usize,
        /// Songs listed for it.
        listed: usize,
        /// Why this is expected, or what to do.
        note: String,
    },
    /// A file in a media folder that no song's metadata lists; it is ignored.
    UnlistedFile {
        /// The file.
        path: PathBuf,
    },
    /// A `table` path template, or a song id put into one, that leads outside `dataset.root`:
    /// the file is used, but the dataset folder alone no longer holds the experiment's data,
    /// and a hostile labels file could point the extractors at any file.
    PathOutsideRoot {
        /// The template's modality.
        modality: Modality,
        /// The template as written.
        template: String,
        /// The song whose id leads outside; `None` when the template itself does.
        id: Option<String>,
        /// Where the path leads (for the template, with the first listed song's id).
        path: PathBuf,
    },
    /// A media folder of the layout is absent; no song has that modality.
    FolderMissing {
        /// The modality the folder holds.
        modality: Modality,
        /// Where the folder was expected.
        path: PathBuf,
    },
    /// An optional metadata file is absent or unreadable; what it would have given is missing.
    MetadataUnavailable {
        /// The file.
        path: PathBuf,
        /// Why it could not be used.
        reason: String,
        /// What is lost without it.
        consequence: String,
    },
    /// Label sources disagree about a song.
    LabelDisagreement {
        /// The song.
        id: String,
        /// Every claim about the song's label, the reference source first.
        claims: Vec<LabelClaim>,
        /// Whether the song was left out (`on_label_conflict = "drop"`).
        left_out: bool,
    },
    /// A metadata line that could not be read; it is skipped.
    MalformedLine {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A metadata line that was read with a guess, which the user should check.
    AmbiguousLine {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What was ambiguous and what was assumed.
        assumption: String,
    },
    /// A metadata row names another file than the song it describes.
    FilenameMismatch {
        /// The metadata file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The song the row belongs to by position.
        id: String,
        /// The file name the row should give.
        expected: String,
        /// The file name it gives.
        found: String,
    },
    /// An id listed twice; the first listing is kept.
    DuplicateId {
        /// The file.
        path: PathBuf,
        /// 1-based line of the repeat.
        line: usize,
        /// 1-based line of the first listing.
        first_line: usize,
        /// The id.
        id: String,
    },
    /// A song without a label; it is left out.
    EmptyLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The song.
        id: String,
    },
    /// A metadata line about a song that the labels file does not have; it is ignored.
    UnknownId {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The id it names.
        id: String,
        /// The file the songs come from.
        labels: PathBuf,
    },
    /// A class with fewer songs than the split can stratify; its songs are left out
    /// (`split.rare_classes = "drop"`).
    RareClass(RareClass),
    /// Two metadata files that should describe the same songs have different lengths.
    CountMismatch {
        /// The file whose songs are used.
        reference: PathBuf,
        /// Its number of entries.
        reference_count: usize,
        /// The other file.
        other: PathBuf,
        /// Its number of entries.
        other_count: usize,
    },
}

/// The kind of a [`DatasetProblem`], for grouping in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// [`DatasetProblem::LabelDisagreement`].
    LabelDisagreement,
    /// [`DatasetProblem::RareClass`].
    RareClass,
    /// [`DatasetProblem::EmptyLabel`].
    EmptyLabel,
    /// [`DatasetProblem::DuplicateId`].
    DuplicateId,
    /// [`DatasetProblem::MalformedLine`].
    MalformedLine,
    /// [`DatasetProblem::AmbiguousLine`].
    AmbiguousLine,
    /// [`DatasetProblem::FilenameMismatch`].
    FilenameMismatch,
    /// [`DatasetProblem::UnknownId`].
    UnknownId,
    /// [`DatasetProblem::CountMismatch`].
    CountMismatch,
    /// [`DatasetProblem::MetadataUnavailable`].
    MetadataUnavailable,
    /// [`DatasetProblem::FolderMissing`].
    FolderMissing,
    /// [`DatasetProblem::ListedFileMissing`].
    ListedFileMissing,
    /// [`DatasetProblem::ModalityPartial`].
    ModalityPartial,
    /// [`DatasetProblem::UnlistedFile`].
    UnlistedFile,
    /// [`DatasetProblem::PathOutsideRoot`].
    PathOutsideRoot,
}

impl ProblemKind {
    /// Heading for a group of problems of this kind.
    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::LabelDisagreement => "label disagreement",
            ProblemKind::RareClass => "class too small to split",
            ProblemKind::EmptyLabel => "empty label",
            ProblemKind::DuplicateId => "duplicate id",
            ProblemKind::MalformedLine => "malformed metadata line",
            ProblemKind::AmbiguousLine => "ambiguous metadata line",
            ProblemKind::FilenameMismatch => "file name mismatch",
            ProblemKind::UnknownId => "unknown id",
            ProblemKind::CountMismatch => "metadata length mismatch",
            ProblemKind::MetadataUnavailable => "metadata file unavailable",
            ProblemKind::FolderMissing => "media folder missing",
            ProblemKind::ListedFileMissing => "listed file missing",
            ProblemKind::ModalityPartial => "modality partially missing",
            ProblemKind::UnlistedFile => "unlisted file present",
            ProblemKind::PathOutsideRoot => "path outside dataset root",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

impl DatasetProblem {
    /// This problem's kind.
    pub fn kind(&self) -> ProblemKind {
        match self {
            DatasetProblem::ListedFileMissing { .. } => ProblemKind::ListedFileMissing,
            DatasetProblem::ModalityPartial { .. } => ProblemKind::ModalityPartial,
            DatasetProblem::UnlistedFile { .. } => ProblemKind::UnlistedFile,
            DatasetProblem::FolderMissing { .. } => ProblemKind::FolderMissing,
            DatasetProblem::PathOutsideRoot { .. } => ProblemKind::PathOutsideRoot,
            DatasetProblem::MetadataUnavailable { .. } => ProblemKind::MetadataUnavailable,
            DatasetProblem::LabelDisagreement { .. } => ProblemKind::LabelDisagreement,
            DatasetProblem::MalformedLine { .. } => ProblemKind::MalformedLine,
            DatasetProblem::AmbiguousLine { .. } => ProblemKind::AmbiguousLine,
            DatasetProblem::FilenameMismatch { .. } => ProblemKind::FilenameMismatch,
            DatasetProblem::DuplicateId { .. } => ProblemKind::DuplicateId,
            DatasetProblem::EmptyLabel { .. } => ProblemKind::EmptyLabel,
            DatasetProblem::UnknownId { .. } => ProblemKind::UnknownId,
            DatasetProblem::CountMismatch { .. } => ProblemKind::CountMismatch,
            DatasetProblem::RareClass(_) => ProblemKind::RareClass,
        }
    }
}

impl fmt::Display for DatasetProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatasetProblem::ListedFileMissing { modality, id, path } => write!(
                f,
                "song {id}: {modality} file {} is listed but missing; the song has no {modality}",
                path.display()
            ),
            DatasetProblem::ModalityPartial {
                modality,
                missing,
                listed,
                note,
            } => write!(
                f,
                "{modality}: {missing} of {listed} listed songs have no file ({note})"
            ),
            DatasetProblem::UnlistedFile { path } => write!(
                f,
                "{} is not listed in the dataset's metadata and is ignored; list it or move it out of the dataset",
                path.display()
            ),
            DatasetProblem::PathOutsideRoot {
                modality,
                template,
                id: None,
                path,
            } => write!(
                f,
                "dataset.paths.{modality} = \"{template}\" leads outside dataset.root (e.g. to {}); the files there are used, but move them under the root so the dataset folder holds all of its data",
                path.display()
            ),
            DatasetProblem::PathOutsideRoot {
                modality,
                template,
                id: Some(id),
                path,
            } => write!(
                f,
                "song {id}: its id takes dataset.paths.{modality} = \"{template}\" outside dataset.root, to {}; the file is used, but an id should name a song, not a path: rename the song",
                path.display()
            ),
            DatasetProblem::FolderMissing { modality, path } => write!(
                f,
                "folder {} not found, so no song has {modality}; restore it or deselect {modality}",
                path.display()
            ),
            DatasetProblem::MetadataUnavailable {
                path,
                reason,
                consequence,
            } => write!(f, "{}: {reason}; {consequence}", path.display()),
            DatasetProblem::LabelDisagreement {
                id,
                claims,
                left_out,
            } => {
                let claims: Vec<String> = claims.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "song {id}: label sources disagree: {}; ",
                    claims.join(", ")
                )?;
                if *left_out {
                    f.write_str("the song is left out (on_label_conflict = \"drop\"); fix the files to keep it")
                } else {
                    f.write_str("fix the files or set on_label_conflict = \"drop\"")
                }
            }
            DatasetProblem::MalformedLine { path, line, reason } => write!(
                f,
                "{} line {line}: {reason}; the line is skipped",
                path.display()
            ),
            DatasetProblem::AmbiguousLine {
                path,
                line,
                assumption,
            } => write!(
                f,
                "{} line {line}: {assumption}; check the line and fix the file if the guess is wrong",
                path.display()
            ),
            DatasetProblem::FilenameMismatch {
                path,
                line,
                id,
                expected,
                found,
            } => write!(
                f,
                "{} line {line}: row of song {id} names file \"{found}\", expected \"{expected}\"; its metadata may belong to another song",
                path.display()
            ),
            DatasetProblem::DuplicateId {
                path,
                line,
                first_line,
                id,
            } => write!(
                f,
                "{} line {line}: id {id} already listed on line {first_line}; the first listing is kept, remove the repeat",
                path.display()
            ),
            DatasetProblem::EmptyLabel { path, line, id } => write!(
                f,
                "{} line {line}: song {id} has an empty label and is left out; give it a label or remove the line",
                path.display()
            ),
            DatasetProblem::UnknownId {
                path,
                line,
                id,
                labels,
            } => write!(
                f,
                "{} line {line}: song {id} is not in {}; the line is ignored",
                path.display(),
                labels.display()
            ),
            DatasetProblem::RareClass(rare) => write!(
                f,
                "{rare}; they are left out (split.rare_classes = \"drop\"); add songs of the class to keep it"
            ),
            DatasetProblem::CountMismatch {
                reference,
                reference_count,
                other,
                other_count,
            } => write!(
                f,
                "{} has {other_count} entries but {} has {reference_count}; entries are matched by position, so check that the files belong together",
                other.display(),
                reference.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disagreement_names_every_source() {
        let problem = DatasetProblem::LabelDisagreement {
            id: "017".into(),
            claims: vec![
                LabelClaim {
                    source: "clusters.txt line 17".into(),
                    label: "Cluster 1".into(),
                    subcategory: Some("Rowdy".into()),
                },
                LabelClaim {
                    source: "split-by-categories-midi.bat line 45".into(),
                    label: "Cluster 2".into(),
                    subcategory: Some("Fun".into()),
                },
            ],
            left_out: true,
        };
        let text = problem.to_string();
        assert!(
            text.contains("clusters.txt line 17 says \"Cluster 1 / Rowdy\""),
            "{text}"
        );
        assert!(text.contains("split-by-categories-midi.bat line 45 says \"Cluster 2 / Fun\""));
        assert!(text.contains("left out"));
        assert_eq!(problem.kind(), ProblemKind::LabelDisagreement);
    }

    #[test]
    fn partial_modality_is_one_line() {
        let problem = DatasetProblem::ModalityPartial {
            modality: Modality::Lyrics,
            missing: 743,
            listed: 903,
            note: "the archive's lyrics and MIDI are partial".into(),
        };
        assert_eq!(
            problem.to_string(),
            "lyrics: 743 of 903 listed songs have no file (the archive's lyrics and MIDI are partial)"
        );
    }
}
