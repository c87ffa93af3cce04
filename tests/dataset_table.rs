//! The `table` layout on a fixture written into a temporary folder: labels CSV with extra
//! columns, path templates, missing and unlisted files, dropping for the selection.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

mod util;

use mer::dataset::{self, DatasetError, DatasetProblem, InspectReport, ProblemKind};
use mer::modality::{Modality, ModalityMask};
use mer::spec::sections::{DatasetSection, LabelConflictPolicy, Layout};
use tempfile::TempDir;
use util::write_file as write;

/// Songs a..e: `a` has all three modalities, `b` audio only, `c` lyrics only, `d` nothing
/// (its audio is listed but missing), `e` audio with an upper-case extension. `z.wav` and
/// `notes.md` sit in `audio/` without a row.
fn fixture() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "labels.csv",
        "id,title,label,subcategory\n\
         a,First,happy,joyful\n\
         b,Second,sad,\n\
         c,Third,happy,calm\n\
         d,Fourth,sad,\n\
         e,Fifth,angry,\n",
    );
    for id in ["a", "b", "z"] {
        write(root, &format!("audio/{id}.wav"), "RIFF");
    }
    write(root, "audio/e.WAV", "RIFF");
    write(root, "audio/notes.md", "not audio");
    for id in ["a", "c"] {
        write(root, &format!("lyrics/{id}.txt"), "la la la");
    }
    write(root, "midi/a.mid", "MThd");
    dir
}

fn section(root: &Path) -> DatasetSection {
    DatasetSection {
        layout: Layout::Table,
        root: root.to_path_buf(),
        labels: None,
        id_column: None,
        label_column: None,
        paths: BTreeMap::from([
            ("audio".to_string(), "audio/{id}.wav".to_string()),
            ("lyrics".to_string(), "lyrics/{id}.txt".to_string()),
            ("midi".to_string(), "midi/{id}.mid".to_string()),
        ]),
        on_label_conflict: LabelConflictPolicy::Drop,
        songs_with: None,
    }
}

fn mask(modalities: &[Modality]) -> ModalityMask {
    modalities.iter().copied().collect()
}

#[test]
fn manifest_has_labels_metadata_and_files() {
    let dir = fixture();
    let load = dataset::load(&section(dir.path()), mask(&Modality::ALL)).expect("loads");
    let listed = &load.listed;
    assert_eq!(listed.classes, ["angry", "happy", "sad"]);
    let ids: Vec<&str> = listed.songs.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);

    let a = listed.song("a").expect("a");
    assert_eq!(listed.class_name(a), "happy");
    assert_eq!(a.subcategory.as_deref(), Some("joyful"));
    assert_eq!(a.metadata["title"], "First");
    assert!(!a.metadata.contains_key("label"));
    assert_eq!(a.present().len(), 3);
    assert_eq!(
        a.file(Modality::Audio),
        Some(dir.path().join("audio/a.wav").as_path())
    );
    assert_eq!(listed.song("b").expect("b").subcategory, None);
    assert_eq!(
        listed.song("e").expect("e").file(Modality::Audio),
        Some(dir.path().join("audio/e.WAV").as_path())
    );
    assert_eq!(listed.song("d").expect("d").present(), ModalityMask::NONE);
}

#[test]
fn missing_and_unlisted_files_are_reported() {
    let dir = fixture();
    let load = dataset::load(&section(dir.path()), mask(&Modality::ALL)).expect("loads");
    let missing: Vec<(Modality, &str)> = load
        .problems
        .iter()
        .filter_map(|p| match p {
            DatasetProblem::ListedFileMissing { modality, id, .. } => {
                Some((*modality, id.as_str()))
            }
            _ => None,
        })
        .collect();
    assert!(missing.contains(&(Modality::Audio, "c")));
    assert!(missing.contains(&(Modality::Audio, "d")));
    assert!(missing.contains(&(Modality::Midi, "b")));
    assert!(!missing.iter().any(|(_, id)| *id == "a"));
    assert_eq!(missing.len(), 2 + 3 + 4);

    let unlisted: Vec<String> = load
        .problems
        .iter()
        .filter(|p| p.kind() == ProblemKind::UnlistedFile)
        .map(|p| p.to_string())
        .collect();
    // notes.md does not match the template, so it is not taken for a song.
    assert_eq!(unlisted.len(), 1, "{unlisted:?}");
    assert!(unlisted[0].contains("z.wav"), "{unlisted:?}");
}

#[test]
fn songs_without_a_selected_modality_are_dropped() {
    let dir = fixture();
    let load = dataset::load(&section(dir.path()), mask(&[Modality::Lyrics])).expect("loads");
    let kept: Vec<&str> = load.manifest.songs.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(kept, ["a", "c"]);
    assert_eq!(load.dropped, ["b", "d", "e"]);
    assert_eq!(load.listed.songs.len(), 5);
    assert_eq!(load.manifest.classes, load.listed.classes);

    let report = InspectReport::new(&load, mask(&[Modality::Lyrics])).to_string();
    assert!(report.contains("Songs listed: 5"), "{report}");
    assert!(
        report.contains("dropped for the selection (no lyrics file): 3"),
        "{report}"
    );
}

#[test]
fn no_song_left_is_an_error() {
    let dir = fixture();
    fs::remove_file(dir.path().join("midi/a.mid")).expect("remove");
    let err = dataset::load(&section(dir.path()), mask(&[Modality::Midi])).unwrap_err();
    assert!(
        matches!(err, DatasetError::NoSongs { listed: 5, .. }),
        "{err}"
    );
}

#[test]
fn custom_columns_and_labels_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "meta/moods.csv", "track,mood,bpm\nt1,calm,80\n");
    write(dir.path(), "wav/t1.wav", "RIFF");
    let mut section = section(dir.path());
    section.labels = Some("meta/moods.csv".into());
    section.id_column = Some("track".into());
    section.label_column = Some("mood".into());
    section.paths = BTreeMap::from([("audio".to_string(), "wav/{id}.wav".to_string())]);
    let load = dataset::load(&section, mask(&[Modality::Audio])).expect("loads");
    let song = &load.manifest.songs[0];
    assert_eq!(song.id, "t1");
    assert_eq!(load.manifest.class_name(song), "calm");
    assert_eq!(song.metadata["bpm"], "80");
    assert!(load.problems.is_empty(), "{:?}", load.problems);
}

#[test]
fn wrong_column_and_missing_labels_file_are_errors_naming_the_file() {
    let dir = fixture();
    let mut wrong_column = section(dir.path());
    wrong_column.label_column = Some("mood".into());
    let err = dataset::load(&wrong_column, mask(&Modality::ALL)).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("labels.csv line 1"), "{text}");
    assert!(text.contains("dataset.label_column"), "{text}");

    let mut missing_file = section(dir.path());
    missing_file.labels = Some("nope.csv".into());
    let err = dataset::load(&missing_file, mask(&Modality::ALL)).unwrap_err();
    assert!(err.to_string().contains("nope.csv"), "{err}");

    let err =
        dataset::load(&section(&dir.path().join("absent")), mask(&Modality::ALL)).unwrap_err();
    assert!(matches!(err, DatasetError::RootMissing { .. }), "{err}");
}

#[test]
fn conflicting_duplicate_rows_follow_the_policy() {
    let dir = fixture();
    let labels = fs::read_to_string(dir.path().join("labels.csv")).expect("read");
    fs::write(
        dir.path().join("labels.csv"),
        format!("{labels}a,Again,sad,\n"),
    )
    .expect("write");

    let load = dataset::load(&section(dir.path()), mask(&Modality::ALL)).expect("loads");
    assert!(load.listed.song("a").is_none());
    assert!(load.problems.iter().any(|p| matches!(
        p,
        DatasetProblem::LabelDisagreement { id, left_out: true, .. } if id == "a"
    )));

    let mut strict = section(dir.path());
    strict.on_label_conflict = LabelConflictPolicy::Fail;
    let err = dataset::load(&strict, mask(&Modality::ALL)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("labels.csv line 2 says \"happy / joyful\""),
        "{text}"
    );
    assert!(text.contains("labels.csv line 7 says \"sad\""), "{text}");
}

#[test]
fn an_absent_template_folder_is_one_problem() {
    let dir = fixture();
    let mut section = section(dir.path());
    section
        .paths
        .insert("midi".to_string(), "scores/{id}.mid".to_string());
    let load = dataset::load(&section, mask(&Modality::ALL)).expect("loads");
    let midi_problems: Vec<&DatasetProblem> = load
        .problems
        .iter()
        .filter(|p| {
            matches!(
                p,
                DatasetProblem::FolderMissing {
                    modality: Modality::Midi,
                    ..
                }
            ) || matches!(
                p,
                DatasetProblem::ListedFileMissing {
                    modality: Modality::Midi,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(midi_problems.len(), 1, "{midi_problems:?}");
    assert!(midi_problems[0].to_string().contains("scores"));
    assert!(
        load.listed
            .songs
            .iter()
            .all(|s| s.file(Modality::Midi).is_none())
    );
}

/// The demo's table layout, loaded like any table: its ratings read as regression targets on
/// [-1, 1] and its tags as tag sets, with the labels file's line in every song's source.
#[test]
fn the_demo_table_gives_valence_arousal_targets_and_mood_tags() {
    use mer::dataset::targets::{TargetColumn, tag_sets, target_values};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    mer::demo::generate(&mer::demo::DemoOptions {
        out: root.clone(),
        songs: 24,
        seconds: 2.0,
        layout: mer::demo::DemoLayout::Table,
        ..mer::demo::DemoOptions::default()
    })
    .unwrap();
    let loaded = dataset::load(&section(&root), mask(&[Modality::Audio])).unwrap();
    let manifest = &loaded.manifest;
    assert_eq!(manifest.songs.len(), 24);
    let ratings = ["valence", "arousal"].map(|column| TargetColumn {
        column: column.into(),
        scale: (1.0, 9.0),
    });
    let values = target_values(manifest, &ratings).unwrap();
    assert_eq!(values.len(), 48);
    assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)));
    // Not a constant: the ratings spread over the scale.
    let spread = values.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
    assert!(spread > 0.5, "{values:?}");
    let tags = tag_sets(manifest, "tags", ";", None).unwrap();
    assert!(
        tags.vocabulary.contains(&"energetic".to_string()),
        "{tags:?}"
    );
    let per_song = |row: usize| {
        tags.carried[row * tags.vocabulary.len()..][..tags.vocabulary.len()]
            .iter()
            .filter(|&&c| c)
            .count()
    };
    assert!((0..24).all(|row| (1..=3).contains(&per_song(row))));
    // Read on the unit scale, a rating outside 1-9 would be named with its line.
    let unit = ratings.map(|r| TargetColumn {
        scale: (-1.0, 1.0),
        ..r
    });
    let error = target_values(manifest, &unit).unwrap_err().to_string();
    assert!(
        error.starts_with("labels.csv line 2: column `valence` holds "),
        "{error}"
    );
}
