//! The `mirex-like` layout against the dev copy of the real archive: 903 songs listed, media
//! for 200. Set `MER_MIREX_DEV` to its folder; by default `../shared/datasets/mirex-dev`
//! relative to the crate. A missing dataset fails the test rather than skipping it.

use std::collections::{BTreeMap, BTreeSet};

mod util;

use mer::dataset::{self, DatasetLoad, DatasetProblem, InspectReport, ProblemKind};
use mer::modality::{Modality, ModalityMask};
use mer::spec::sections::{DatasetSection, LabelConflictPolicy, Layout};

fn section() -> DatasetSection {
    DatasetSection {
        layout: Layout::MirexLike,
        root: util::mirex_dev(),
        labels: None,
        id_column: None,
        label_column: None,
        paths: BTreeMap::new(),
        on_label_conflict: LabelConflictPolicy::Fail,
        songs_with: None,
    }
}

fn mask(modalities: &[Modality]) -> ModalityMask {
    modalities.iter().copied().collect()
}

fn load_all() -> DatasetLoad {
    dataset::load(&section(), mask(&Modality::ALL)).expect("mirex-dev loads")
}

fn problems_of(load: &DatasetLoad, kind: ProblemKind) -> Vec<&DatasetProblem> {
    load.problems.iter().filter(|p| p.kind() == kind).collect()
}

#[test]
fn lists_903_songs_with_media_for_200() {
    let load = load_all();
    assert_eq!(load.listed.songs.len(), 903);
    let with = |m: Modality| {
        load.listed
            .songs
            .iter()
            .filter(|s| s.file(m).is_some())
            .count()
    };
    assert_eq!(with(Modality::Audio), 200);
    assert_eq!(with(Modality::Lyrics), 160);
    assert_eq!(with(Modality::Midi), 47);
    assert_eq!(load.manifest.songs.len(), 200);
    assert_eq!(load.dropped.len(), 703);
}

#[test]
fn labels_agree_with_all_three_bat_files() {
    // Policy `fail` would already have stopped the load; also check no source was skipped.
    let load = load_all();
    assert!(problems_of(&load, ProblemKind::LabelDisagreement).is_empty());
    assert!(problems_of(&load, ProblemKind::MetadataUnavailable).is_empty());
    assert!(problems_of(&load, ProblemKind::UnknownId).is_empty());
    assert!(problems_of(&load, ProblemKind::MalformedLine).is_empty());
    assert!(problems_of(&load, ProblemKind::DuplicateId).is_empty());
}

#[test]
fn class_counts_of_the_listed_songs() {
    let load = load_all();
    assert_eq!(
        load.listed.classes,
        [
            "Cluster 1",
            "Cluster 2",
            "Cluster 3",
            "Cluster 4",
            "Cluster 5"
        ]
    );
    assert_eq!(load.listed.class_counts(), [170, 164, 215, 191, 163]);
}

#[test]
fn subcategories_are_kept_as_written() {
    let load = load_all();
    let sub = |id: &str| {
        load.listed
            .song(id)
            .and_then(|s| s.subcategory.clone())
            .unwrap_or_default()
    };
    assert_eq!(sub("001"), "Boisterous");
    let names: BTreeSet<String> = load
        .listed
        .songs
        .iter()
        .filter_map(|s| s.subcategory.clone())
        .collect();
    for name in [
        "Tense - Anxious",
        "whimsical",
        "Agressive",
        "Amiable-good natured",
    ] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    assert_eq!(names.len(), 28);
}

#[test]
fn metadata_comes_from_dataset_info_and_the_ambiguous_title_is_reported() {
    let load = load_all();
    let first = load.listed.song("001").expect("song 001");
    assert_eq!(
        first.metadata["Title"],
        "(Mama) He Treats Your Daughter Mean"
    );
    assert_eq!(first.metadata["Artist"], "Brown, Ruth");
    assert_eq!(first.metadata["Year"], "1996");
    let odd = load.listed.song("782").expect("song 782");
    assert_eq!(odd.metadata["Title"], "World's a Mess; It's in My Kiss");
    assert_eq!(odd.metadata["Artist"], "X [1]");
    assert_eq!(odd.metadata["Filename"], "782.mp3");
    let ambiguous = problems_of(&load, ProblemKind::AmbiguousLine);
    assert_eq!(ambiguous.len(), 1);
    assert!(matches!(
        ambiguous[0],
        DatasetProblem::AmbiguousLine { line: 783, .. }
    ));
    assert!(problems_of(&load, ProblemKind::FilenameMismatch).is_empty());
}

#[test]
fn missing_media_is_reported_per_audio_file_and_summarised_for_lyrics_and_midi() {
    let load = load_all();
    assert_eq!(
        problems_of(&load, ProblemKind::ListedFileMissing).len(),
        703
    );
    let partial: Vec<String> = problems_of(&load, ProblemKind::ModalityPartial)
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        partial,
        [
            "lyrics: 743 of 903 listed songs have no file (the archive's lyrics and MIDI are partial)",
            "midi: 856 of 903 listed songs have no file (the archive's lyrics and MIDI are partial)",
        ]
    );
    assert!(problems_of(&load, ProblemKind::UnlistedFile).is_empty());
}

#[test]
fn selecting_only_midi_keeps_47_songs() {
    let midi = mask(&[Modality::Midi]);
    let load = dataset::load(&section(), midi).expect("mirex-dev loads");
    assert_eq!(load.manifest.songs.len(), 47);
    assert_eq!(load.dropped.len(), 856);
    assert_eq!(load.listed.songs.len(), 903);
    assert!(
        load.manifest
            .songs
            .iter()
            .all(|s| s.file(Modality::Midi).is_some())
    );

    let report = InspectReport::new(&load, midi).to_string();
    assert!(report.contains("Songs listed: 903"), "{report}");
    assert!(
        report.contains("dropped for the selection (no midi file): 856"),
        "{report}"
    );
}
