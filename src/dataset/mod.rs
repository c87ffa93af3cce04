//! Datasets: reading a dataset layout into a [`Manifest`] of labelled songs and their files,
//! and reporting every problem found on the way.
//!
//! Layouts: `mirex-like` (the MIREX-like mood archive as distributed), `table` (a labels CSV
//! plus path templates) and `emopia` (EMOPIA's MIDI clips as distributed). [`targets`] reads regression targets and tag sets from the songs'
//! metadata columns. [`load`] is the entry point; fatal conditions are [`DatasetError`]s,
//! everything else a [`DatasetProblem`] the caller shows to the user.

mod deam;
mod emopia;
mod error;
mod four_q;
pub mod inspect;
mod media;
mod merge;
mod mirex;
mod mtg_jamendo;
mod pmemo;
mod problem;
mod quadrant_folders;
mod ratings;
mod table;
pub mod targets;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use crate::text::{TextError, decode_text};
pub use error::DatasetError;
pub use inspect::InspectReport;
pub use problem::{DatasetProblem, LabelClaim, ProblemKind, RareClass};

use crate::modality::{Modality, ModalityMask, PerModality};
use crate::spec::sections::{DatasetSection, LabelConflictPolicy, Layout};

/// One labelled song and its files.
#[derive(Debug, Clone, PartialEq)]
pub struct Song {
    /// Dataset id, e.g. `"001"`.
    pub id: String,
    /// Index into [`Manifest::classes`].
    pub label: usize,
    /// Finer label where the dataset has one (MIREX-like: the mood adjective).
    pub subcategory: Option<String>,
    /// The metadata line the label comes from, e.g. `"clusters.txt line 17"`.
    pub label_source: String,
    /// File per modality; `None` when absent.
    pub files: PerModality<Option<PathBuf>>,
    /// Modalities whose precomputed feature file (`extractor = "precomputed"`) has a row for
    /// this song. Such a modality counts as present whether or not a media file exists: a
    /// row of CNN14 embeddings is the song's audio as far as the experiment is concerned.
    pub rows: ModalityMask,
    /// Extra metadata columns (title, artist, ...).
    pub metadata: BTreeMap<String, String>,
}

impl Song {
    /// The song's file for `modality`, if it has one.
    pub fn file(&self, modality: Modality) -> Option<&Path> {
        self.files[modality].as_deref()
    }

    /// The modalities this song has a file or a precomputed row for.
    pub fn present(&self) -> ModalityMask {
        Modality::ALL
            .into_iter()
            .filter(|m| self.file(*m).is_some() || self.rows.contains(*m))
            .collect()
    }
}

/// The songs of an experiment, with their class names.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Class names, sorted; a song's `label` indexes this.
    pub classes: Vec<String>,
    /// Songs in dataset order.
    pub songs: Vec<Song>,
}

impl Manifest {
    /// The class name of `song`.
    pub fn class_name(&self, song: &Song) -> &str {
        &self.classes[song.label]
    }

    /// The song with `id`, if listed.
    pub fn song(&self, id: &str) -> Option<&Song> {
        self.songs.iter().find(|s| s.id == id)
    }

    /// Number of songs per class, indexed like [`Manifest::classes`].
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for song in &self.songs {
            counts[song.label] += 1;
        }
        counts
    }

    /// The songs with a file for at least one `selected` modality, and the ids of the others.
    /// Classes are kept as they are, so labels mean the same in both manifests.
    pub fn select(&self, selected: ModalityMask) -> (Manifest, Vec<String>) {
        let (kept, dropped): (Vec<&Song>, Vec<&Song>) = self
            .songs
            .iter()
            .partition(|s| !s.present().intersection(selected).is_empty());
        let manifest = Manifest {
            classes: self.classes.clone(),
            songs: kept.into_iter().cloned().collect(),
        };
        (
            manifest,
            dropped.into_iter().map(|s| s.id.clone()).collect(),
        )
    }

    /// The manifest without the classes in `left_out` (indices into [`Manifest::classes`])
    /// and their songs; the remaining classes keep their order and are renumbered.
    pub fn without_classes(&self, left_out: &[usize]) -> Manifest {
        let kept: Vec<usize> = (0..self.classes.len())
            .filter(|c| !left_out.contains(c))
            .collect();
        let songs = self
            .songs
            .iter()
            .filter_map(|song| {
                let label = kept.iter().position(|&c| c == song.label)?;
                Some(Song {
                    label,
                    ..song.clone()
                })
            })
            .collect();
        Manifest {
            classes: kept.iter().map(|&c| self.classes[c].clone()).collect(),
            songs,
        }
    }
}

/// A loaded dataset: the songs an experiment uses, the songs the dataset lists, and what was
/// wrong on the way.
#[derive(Debug, Clone)]
pub struct DatasetLoad {
    /// Songs with a file for at least one modality of `dataset.songs_with` (default: the
    /// selected ones), less the classes too small to split (`split.rare_classes`), whose
    /// classes are then not `listed`'s.
    pub manifest: Manifest,
    /// Every labelled song with all its modalities, before dropping for the selection (songs
    /// left out for conflicting labels are not in it).
    pub listed: Manifest,
    /// Ids dropped for having no file of a `dataset.songs_with` modality.
    pub dropped: Vec<String>,
    /// Non-fatal findings, in the order found.
    pub problems: Vec<DatasetProblem>,
    /// Regression targets or tags of `manifest`'s songs (set by the experiment from the
    /// spec's `[task]`); [`targets::SongTargets::Classes`] as loaded.
    pub targets: targets::SongTargets,
}

/// Reads the dataset `section` describes and keeps the songs with a file for at least one
/// modality of `section.songs_with` (default: the `selected` ones). `section.root` must be
/// absolute (the spec loader resolves it).
pub fn load(section: &DatasetSection, selected: ModalityMask) -> Result<DatasetLoad, DatasetError> {
    load_with_rows(section, selected, &|_, _| false)
}

/// [`load`], where `has_row(modality, id)` says whether a precomputed feature file has a row
/// for a listed song: such a song has that modality even without a media file (see
/// [`Song::rows`]).
pub fn load_with_rows(
    section: &DatasetSection,
    selected: ModalityMask,
    has_row: &dyn Fn(Modality, &str) -> bool,
) -> Result<DatasetLoad, DatasetError> {
    check_root(&section.root)?;
    let listing = match section.layout {
        Layout::MirexLike => mirex::read(section)?,
        Layout::Table => table::read(section)?,
        Layout::Emopia => emopia::read(&section.root)?,
        Layout::FourQ => four_q::read(&section.root)?,
        Layout::Merge => merge::read(&section.root)?,
        Layout::Deam => deam::read(&section.root)?,
        Layout::Pmemo => pmemo::read(&section.root)?,
        Layout::MtgJamendo => mtg_jamendo::read(&section.root)?,
    };
    let Listing {
        mut songs,
        mut problems,
        conflicts,
    } = listing;
    apply_conflict_policy(
        section.on_label_conflict,
        conflicts,
        &mut songs,
        &mut problems,
    )?;
    let mut listed = build_manifest(songs);
    for song in &mut listed.songs {
        song.rows = selected.iter().filter(|m| has_row(*m, &song.id)).collect();
    }
    let keep = section
        .songs_with
        .as_ref()
        .map_or(selected, |list| list.iter().copied().collect());
    let (manifest, dropped) = listed.select(keep);
    if manifest.songs.is_empty() {
        return Err(DatasetError::NoSongs {
            root: section.root.clone(),
            listed: listed.songs.len(),
            selected: keep,
        });
    }
    Ok(DatasetLoad {
        manifest,
        listed,
        dropped,
        problems,
        targets: targets::SongTargets::Classes,
    })
}

fn check_root(root: &Path) -> Result<(), DatasetError> {
    let what = if !root.exists() {
        "does not exist"
    } else if !root.is_dir() {
        "is not a folder"
    } else {
        return Ok(());
    };
    Err(DatasetError::RootMissing {
        root: root.to_path_buf(),
        what,
    })
}

/// The text of the file the labels come from, or an error naming it with `hint` (what the
/// layout expects there) when it cannot be read.
fn read_labels(path: &Path, hint: impl FnOnce() -> String) -> Result<String, DatasetError> {
    let bytes = std::fs::read(path).map_err(|source| DatasetError::LabelsUnreadable {
        path: path.to_path_buf(),
        source,
        hint: hint(),
    })?;
    decode_text(&bytes).map_err(|source| DatasetError::LabelsNotText {
        path: path.to_path_buf(),
        source,
    })
}

/// The counts a layout's dataset is published with, for `mer data inspect` to set a copy's
/// against; `None` for layouts of no one dataset.
pub fn published_counts(layout: Layout) -> Option<&'static str> {
    match layout {
        Layout::Emopia => Some(emopia::PUBLISHED),
        Layout::FourQ => Some(four_q::PUBLISHED),
        Layout::Merge => Some(merge::PUBLISHED),
        Layout::Deam => Some(deam::PUBLISHED),
        Layout::Pmemo => Some(pmemo::PUBLISHED),
        Layout::MtgJamendo => Some(mtg_jamendo::PUBLISHED),
        Layout::MirexLike | Layout::Table => None,
    }
}

/// The rating columns a layout gives its songs, each with the scale the dataset rates on
/// (`mer data inspect` shows their ranges; a regression's `task.scales` takes the same).
pub fn rating_scales(layout: Layout) -> &'static [(&'static str, (f64, f64))] {
    match layout {
        Layout::Deam => &deam::RATINGS,
        Layout::Pmemo => &pmemo::RATINGS,
        Layout::Merge => &merge::RATINGS,
        Layout::MirexLike | Layout::Table | Layout::Emopia | Layout::FourQ | Layout::MtgJamendo => {
            &[]
        }
    }
}

/// The dataset folder under `root`: `root` itself when it holds `marker` (a file every copy
/// has), else the one folder inside it that does (archives differ in whether they carry a
/// top folder); `root` when neither does, so the error names the file where it was expected.
fn dataset_folder(root: &Path, marker: &str) -> PathBuf {
    if root.join(marker).is_file() {
        return root.to_path_buf();
    }
    let inside: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join(marker).is_file())
        .collect();
    match &inside[..] {
        [only] => only.clone(),
        _ => root.to_path_buf(),
    }
}

/// A song as a layout reads it, with its class still a name.
#[derive(Debug, Clone, PartialEq)]
struct LabelledSong {
    id: String,
    label: String,
    subcategory: Option<String>,
    /// Where the label comes from, as [`Song::label_source`].
    label_source: String,
    files: PerModality<Option<PathBuf>>,
    metadata: BTreeMap<String, String>,
}

/// Label sources disagreeing about one song; the layout's reference source first.
#[derive(Debug, Clone, PartialEq)]
struct Conflict {
    id: String,
    claims: Vec<LabelClaim>,
}

impl Conflict {
    /// `song`'s own label (from its labels file) against another source's claim `label`.
    fn against(song: &LabelledSong, source: String, label: String) -> Conflict {
        let claim = |source, label| LabelClaim {
            source,
            label,
            subcategory: None,
        };
        Conflict {
            id: song.id.clone(),
            claims: vec![
                claim(song.label_source.clone(), song.label.clone()),
                claim(source, label),
            ],
        }
    }
}

/// What a layout reader returns; the conflict policy is applied by [`load`] for every layout.
#[derive(Debug, Default)]
struct Listing {
    songs: Vec<LabelledSong>,
    problems: Vec<DatasetProblem>,
    conflicts: Vec<Conflict>,
}

impl Listing {
    /// Each song's position in `songs`, by id, for files that name songs by id.
    fn song_index(&self) -> HashMap<String, usize> {
        (self.songs.iter().enumerate())
            .map(|(i, song)| (song.id.clone(), i))
            .collect()
    }
}

fn apply_conflict_policy(
    policy: LabelConflictPolicy,
    conflicts: Vec<Conflict>,
    songs: &mut Vec<LabelledSong>,
    problems: &mut Vec<DatasetProblem>,
) -> Result<(), DatasetError> {
    let left_out = policy == LabelConflictPolicy::Drop;
    let reported: Vec<DatasetProblem> = conflicts
        .iter()
        .map(|c| DatasetProblem::LabelDisagreement {
            id: c.id.clone(),
            claims: c.claims.clone(),
            left_out,
        })
        .collect();
    if !left_out && !reported.is_empty() {
        return Err(DatasetError::LabelConflicts {
            conflicts: reported,
        });
    }
    let conflicted: HashSet<&str> = conflicts.iter().map(|c| c.id.as_str()).collect();
    songs.retain(|s| !conflicted.contains(s.id.as_str()));
    problems.extend(reported);
    Ok(())
}

fn build_manifest(songs: Vec<LabelledSong>) -> Manifest {
    let classes: Vec<String> = songs
        .iter()
        .map(|s| s.label.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let songs = songs
        .into_iter()
        .map(|s| Song {
            // Every label came from `songs`, so the search cannot miss.
            label: classes.binary_search(&s.label).unwrap_or_default(),
            id: s.id,
            subcategory: s.subcategory,
            label_source: s.label_source,
            files: s.files,
            rows: ModalityMask::NONE,
            metadata: s.metadata,
        })
        .collect();
    Manifest { classes, songs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song(id: &str, label: &str, files: [Option<&str>; 3]) -> LabelledSong {
        LabelledSong {
            id: id.into(),
            label: label.into(),
            subcategory: None,
            label_source: format!("labels.csv line {id}"),
            files: PerModality::from(files.map(|f| f.map(PathBuf::from))),
            metadata: BTreeMap::new(),
        }
    }

    #[test]
    fn classes_are_sorted_and_labels_index_them() {
        let manifest = build_manifest(vec![
            song("a", "sad", [Some("a.wav"), None, None]),
            song("b", "happy", [None, Some("b.txt"), None]),
            song("c", "sad", [None, None, None]),
        ]);
        assert_eq!(manifest.classes, ["happy", "sad"]);
        assert_eq!(manifest.class_counts(), [1, 2]);
        assert_eq!(manifest.class_name(&manifest.songs[0]), "sad");
    }

    #[test]
    fn select_keeps_classes_and_reports_dropped_ids() {
        let manifest = build_manifest(vec![
            song("a", "sad", [Some("a.wav"), None, None]),
            song("b", "happy", [None, Some("b.txt"), None]),
        ]);
        let (kept, dropped) = manifest.select([Modality::Lyrics].into_iter().collect());
        assert_eq!(kept.classes, manifest.classes);
        assert_eq!(kept.songs.len(), 1);
        assert_eq!(kept.songs[0].id, "b");
        assert_eq!(dropped, ["a"]);
    }

    #[test]
    fn fail_policy_errors_and_drop_policy_leaves_song_out() {
        let conflict = Conflict {
            id: "a".into(),
            claims: vec![],
        };
        let mut songs = vec![song("a", "x", [None; 3]), song("b", "y", [None; 3])];
        let mut problems = vec![];
        let err = apply_conflict_policy(
            LabelConflictPolicy::Fail,
            vec![conflict.clone()],
            &mut songs,
            &mut problems,
        );
        assert!(matches!(err, Err(DatasetError::LabelConflicts { .. })));
        apply_conflict_policy(
            LabelConflictPolicy::Drop,
            vec![conflict],
            &mut songs,
            &mut problems,
        )
        .unwrap();
        assert_eq!(songs.len(), 1);
        assert!(matches!(
            problems[0],
            DatasetProblem::LabelDisagreement { left_out: true, .. }
        ));
    }
}
