//! The `mirex-like` layout on a small archive written into a temporary folder, in the real
//! archive's formats (UTF-16 LE CSV with BOM and CRLF, Windows `.bat` files), to exercise what
//! the real data does not: label disagreements under both policies, unlisted files, a missing
//! `.bat` file.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

mod util;

use mer::dataset::{self, DatasetError, DatasetLoad, DatasetProblem, ProblemKind};
use mer::modality::{Modality, ModalityMask};
use mer::spec::sections::{DatasetSection, LabelConflictPolicy, Layout};
use tempfile::TempDir;
use util::write_file as write;

const CLUSTERS: [&str; 4] = ["Cluster 1", "Cluster 1", "Cluster 2", "Cluster 3"];
const CATEGORIES: [&str; 4] = ["Boisterous", "Rowdy", "whimsical", "Tense - Anxious"];

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

fn dataset_info() -> Vec<u8> {
    let rows = [
        "Title;Artist;Album;Track;Year;Length;Size;Last Modified;Filename;",
        "Song One;Artist A;Album A;1;1990;30;352,00 KB;09-09-2010;001.mp3;",
        "Two; The Sequel;Artist B;Album B;2;1991;30;352,00 KB;09-09-2010;002.mp3;",
        "Song Three;Artist \"C\";Album C;3;1992;30;352,00 KB;09-09-2010;003.mp3;",
        "Song Four;Artist D;Album D;4;1993;30;352,00 KB;09-09-2010;005.mp3;",
    ];
    utf16le_with_bom(&(rows.join("\r\n") + "\r\n"))
}

/// A `.bat` file moving every song into its folder, with `overrides` replacing
/// `(cluster, subcategory)` for some 0-based song positions.
fn bat(extension: &str, overrides: &[(usize, &str, &str)]) -> String {
    let mut lines = vec!["mkdir \"Cluster 1\\Boisterous\\\"".to_string()];
    for (i, (cluster, category)) in CLUSTERS.iter().zip(CATEGORIES).enumerate() {
        let (cluster, category) = overrides
            .iter()
            .find(|(at, _, _)| *at == i)
            .map_or((*cluster, category), |(_, c, s)| (*c, *s));
        let id = format!("{:03}", i + 1);
        lines.push(format!(
            "move {id}.{extension} \"{cluster}\\{category}\\{id}.{extension}\""
        ));
    }
    lines.join("\r\n") + "\r\n"
}

/// Four songs; the MIDI `.bat` files song 002 under another cluster. Audio for 001-003 (003 as
/// `.MP3`), plus unlisted `999.mp3` and `notes.txt`; lyrics for 001 only; MIDI for 002 only.
fn fixture() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "clusters.txt", CLUSTERS.join("\n") + "\n");
    write(root, "categories.txt", CATEGORIES.join("\r\n") + "\r\n");
    write(root, "dataset info.csv", dataset_info());
    write(root, "split-by-categories-audio.bat", bat("mp3", &[]));
    write(root, "split-by-categories-lyrics.bat", bat("txt", &[]));
    write(
        root,
        "split-by-categories-midi.bat",
        bat("mid", &[(1, "Cluster 2", "Fun")]),
    );
    for name in ["001.mp3", "002.mp3", "003.MP3", "999.mp3", "notes.txt"] {
        write(root, &format!("Audio/{name}"), "ID3");
    }
    write(root, "Lyrics/001.txt", "words");
    write(root, "MIDIs/002.mid", "MThd");
    dir
}

fn section(root: &Path, policy: LabelConflictPolicy) -> DatasetSection {
    DatasetSection {
        layout: Layout::MirexLike,
        root: root.to_path_buf(),
        labels: None,
        id_column: None,
        label_column: None,
        paths: BTreeMap::new(),
        on_label_conflict: policy,
        songs_with: None,
    }
}

fn all() -> ModalityMask {
    Modality::ALL.into_iter().collect()
}

fn load_dropping(root: &Path) -> DatasetLoad {
    dataset::load(&section(root, LabelConflictPolicy::Drop), all()).expect("fixture loads")
}

#[test]
fn disagreement_under_drop_leaves_the_song_out_and_reports_it() {
    let dir = fixture();
    let load = load_dropping(dir.path());
    let ids: Vec<&str> = load.listed.songs.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["001", "003", "004"]);
    let disagreements: Vec<String> = load
        .problems
        .iter()
        .filter(|p| p.kind() == ProblemKind::LabelDisagreement)
        .map(ToString::to_string)
        .collect();
    assert_eq!(disagreements.len(), 1);
    let text = &disagreements[0];
    assert!(text.starts_with("song 002"), "{text}");
    assert!(
        text.contains("clusters.txt/categories.txt line 2 says \"Cluster 1 / Rowdy\""),
        "{text}"
    );
    assert!(
        text.contains("split-by-categories-midi.bat line 3 says \"Cluster 2 / Fun\""),
        "{text}"
    );
    assert!(text.contains("left out"), "{text}");
}

#[test]
fn disagreement_under_fail_stops_the_load_listing_the_conflict() {
    let dir = fixture();
    let err = dataset::load(&section(dir.path(), LabelConflictPolicy::Fail), all()).unwrap_err();
    let DatasetError::LabelConflicts { conflicts } = &err else {
        panic!("expected LabelConflicts, got {err}");
    };
    assert_eq!(conflicts.len(), 1);
    let text = err.to_string();
    assert!(text.contains("song 002"), "{text}");
    assert!(text.contains("on_label_conflict = \"drop\""), "{text}");
}

#[test]
fn labels_subcategories_metadata_and_files() {
    let dir = fixture();
    let load = load_dropping(dir.path());
    let listed = &load.listed;
    assert_eq!(listed.classes, ["Cluster 1", "Cluster 2", "Cluster 3"]);
    let song = |id: &str| listed.song(id).expect("song listed");
    assert_eq!(listed.class_name(song("004")), "Cluster 3");
    assert_eq!(song("004").subcategory.as_deref(), Some("Tense - Anxious"));
    assert_eq!(song("003").subcategory.as_deref(), Some("whimsical"));
    assert_eq!(song("003").metadata["Artist"], "Artist \"C\"");
    assert_eq!(song("001").metadata["Title"], "Song One");
    assert_eq!(
        song("003").file(Modality::Audio),
        Some(dir.path().join("Audio/003.MP3").as_path())
    );
    assert_eq!(song("001").present().len(), 2);
    assert_eq!(song("004").present(), ModalityMask::NONE);
    // 004 has no file at all, so it is dropped even with every modality selected.
    assert_eq!(load.dropped, ["004"]);
}

#[test]
fn csv_oddities_are_reported_with_lines() {
    let dir = fixture();
    let load = load_dropping(dir.path());
    assert!(load.problems.iter().any(|p| matches!(
        p,
        DatasetProblem::AmbiguousLine { line: 3, assumption, .. }
            if assumption.contains("\"Two; The Sequel\"")
    )));
    assert!(load.problems.iter().any(|p| matches!(
        p,
        DatasetProblem::FilenameMismatch { line: 5, id, found, .. }
            if id == "004" && found == "005.mp3"
    )));
}

#[test]
fn missing_and_unlisted_media_are_reported() {
    let dir = fixture();
    let load = load_dropping(dir.path());
    let of = |kind: ProblemKind| -> Vec<String> {
        load.problems
            .iter()
            .filter(|p| p.kind() == kind)
            .map(ToString::to_string)
            .collect()
    };
    let missing = of(ProblemKind::ListedFileMissing);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0].starts_with("song 004: audio file"),
        "{missing:?}"
    );

    let partial = of(ProblemKind::ModalityPartial);
    assert!(
        partial.contains(
            &"lyrics: 3 of 4 listed songs have no file (the archive's lyrics and MIDI are partial)"
                .to_string()
        ),
        "{partial:?}"
    );
    assert!(
        partial.iter().any(|p| p.starts_with("midi: 3 of 4")),
        "{partial:?}"
    );

    let unlisted = of(ProblemKind::UnlistedFile);
    assert_eq!(unlisted.len(), 2, "{unlisted:?}");
    assert!(unlisted[0].contains("999.mp3"), "{unlisted:?}");
    assert!(unlisted[1].contains("notes.txt"), "{unlisted:?}");
}

#[test]
fn a_missing_bat_file_is_a_problem_not_an_error() {
    let dir = fixture();
    fs::remove_file(dir.path().join("split-by-categories-lyrics.bat")).expect("remove");
    let load = load_dropping(dir.path());
    assert!(load.problems.iter().any(|p| matches!(
        p,
        DatasetProblem::MetadataUnavailable { path, .. }
            if path.ends_with("split-by-categories-lyrics.bat")
    )));
    assert_eq!(load.listed.songs.len(), 3);
}

#[test]
fn missing_clusters_file_is_an_error_naming_it() {
    let dir = fixture();
    fs::remove_file(dir.path().join("clusters.txt")).expect("remove");
    let err = dataset::load(&section(dir.path(), LabelConflictPolicy::Drop), all()).unwrap_err();
    assert!(
        matches!(err, DatasetError::LabelsUnreadable { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("clusters.txt"), "{err}");
}

#[test]
fn audio_in_any_decodable_format_is_found() {
    let dir = fixture();
    write(dir.path(), "Audio/004.wav", b"RIFF");
    let load = load_dropping(dir.path());
    let song = load.listed.song("004").expect("song listed");
    assert_eq!(
        song.file(Modality::Audio),
        Some(dir.path().join("Audio/004.wav").as_path())
    );
    assert!(
        load.dropped.is_empty(),
        "004 now has audio: {:?}",
        load.dropped
    );
    let unlisted: Vec<String> = load
        .problems
        .iter()
        .filter(|p| p.kind() == ProblemKind::UnlistedFile)
        .map(ToString::to_string)
        .collect();
    assert!(
        unlisted.iter().all(|p| !p.contains("004.wav")),
        "{unlisted:?}"
    );
}
