//! Layout `4q`: the demo's stand-in in the 4Q audio emotion dataset's exact layout (MP3 clips
//! in quadrant folders, the annotations and metadata CSVs), with the quirks of real copies
//! added here, read by `mer data inspect` and `mer run`; damaged copies whose problems name
//! file and line.

mod util;

use std::path::{Path, PathBuf};

use util::{TestDir, output};

const TOP: &str = "data/demo-4q/MER_audio_taffc_dataset";
const ANNOTATIONS: &str = "panda_dataset_taffc_annotations.csv";
const METADATA: &str = "panda_dataset_taffc_metadata.csv";

/// The shipped experiment (one seed) and a 40-song stand-in of 3-s clips.
fn project() -> TestDir {
    util::shipped_demo("4q", 40, 3)
}

fn inspect(dir: &TestDir) -> (bool, String) {
    util::inspect_all(dir, "experiments/demo-4q.toml", &[])
}

/// The annotation rows, `(song, quadrant)`.
fn annotations(top: &Path) -> Vec<(String, String)> {
    (util::read_csv(&top.join(ANNOTATIONS)).into_iter())
        .map(|row| (row["Song"].clone(), row["Quadrant"].clone()))
        .collect()
}

fn clip(top: &Path, (song, quadrant): &(String, String)) -> PathBuf {
    top.join(quadrant).join(format!("{song}.mp3"))
}

#[test]
fn the_demo_stand_in_loads_and_runs_with_the_shipped_experiment() {
    let dir = project();
    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(text.contains("Songs listed: 40"), "{text}");
    assert!(text.contains("Published: 900 clips"), "{text}");
    for quadrant in ["Q1", "Q2", "Q3", "Q4"] {
        // songs, audio, lyrics, midi: about ten clips each (a few labels are wrong on
        // purpose), every one with its MP3.
        let counts = util::class_counts(&text, quadrant);
        assert!((8..=12).contains(&counts[0]), "{text}");
        assert_eq!(&counts[1..4], [counts[0], 0, 0], "{text}");
    }
    assert!(text.contains("Problems: none"), "{text}");

    let (ok, _, stderr) = output(dir.mer().args(["run", "experiments/demo-4q.toml"]));
    assert!(ok, "{stderr}");
    // Every clip decodes, mono and stereo, at both rates.
    assert!(
        stderr.contains("40 songs x") && stderr.contains(" 0 skipped"),
        "{stderr}"
    );
    let report = dir.report_folder(&stderr);
    let listed = annotations(&dir.path(TOP));
    let predictions = util::read_csv(&report.join("predictions.csv"));
    assert!(!predictions.is_empty());
    for row in &predictions {
        let truth = listed.iter().find(|(song, _)| *song == row["id"]).unwrap();
        assert_eq!(row["true"], truth.1, "{row:?}");
    }
}

#[test]
fn quirks_of_real_copies_are_tolerated() {
    let dir = project();
    let top = dir.path(TOP);
    // A BOM, CRLF and spaces around the header's names; a quoted title holding a comma.
    let first = annotations(&top)[0].clone();
    let text = std::fs::read_to_string(top.join(ANNOTATIONS)).unwrap();
    let text = text.replacen("Song,Quadrant", " Song , Quadrant ", 1);
    std::fs::write(
        top.join(ANNOTATIONS),
        format!("\u{feff}{}", text.replace('\n', "\r\n")),
    )
    .unwrap();
    let metadata = std::fs::read_to_string(top.join(METADATA)).unwrap();
    let rows: Vec<String> = (metadata.lines().enumerate())
        .map(|(i, line)| match i {
            1 => {
                let mut cells: Vec<&str> = line.splitn(4, "\",\"").collect();
                cells[2] = "Hello, Goodbye";
                cells.join("\",\"")
            }
            _ => line.to_string(),
        })
        .collect();
    std::fs::write(top.join(METADATA), rows.join("\n")).unwrap();
    // A mixed-case extension and macOS debris.
    let path = clip(&top, &first);
    std::fs::rename(&path, path.with_extension("MP3")).unwrap();
    dir.write(&format!("{TOP}/Q1/._{}.mp3", first.0), b"\0\x05\x16\x07");
    dir.write(&format!("{TOP}/.DS_Store"), b"\0");
    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(text.contains("Songs listed: 40"), "{text}");
    assert_eq!(util::class_counts(&text, "total")[1], 40, "{text}");
    assert!(text.contains("Problems: none"), "{text}");

    // dataset.root may also be the dataset's own folder.
    let spec = dir.path("experiments/demo-4q.toml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace("../data/demo-4q", "../data/demo-4q/MER_audio_taffc_dataset"),
    )
    .unwrap();
    let (ok, text) = inspect(&dir);
    assert!(ok && text.contains("Songs listed: 40"), "{text}");
}

#[test]
fn damaged_copies_are_reported_naming_file_and_line() {
    let dir = project();
    let top = dir.path(TOP);
    let listed = annotations(&top);
    let in_quadrant = |q: &str| -> Vec<&(String, String)> {
        listed
            .iter()
            .filter(|(_, quadrant)| quadrant == q)
            .collect()
    };
    // A missing clip; a clip in another quadrant's folder; a file no row lists.
    let missing = in_quadrant("Q1")[0];
    std::fs::remove_file(clip(&top, missing)).unwrap();
    let moved = in_quadrant("Q1")[1];
    std::fs::rename(
        clip(&top, moved),
        top.join("Q3").join(format!("{}.mp3", moved.0)),
    )
    .unwrap();
    std::fs::copy(
        clip(&top, in_quadrant("Q2")[0]),
        top.join("Q2/MT9999999999.mp3"),
    )
    .unwrap();
    // A quadrant out of range (line 6: the header is line 1) and a metadata row that
    // contradicts the annotations.
    let text = std::fs::read_to_string(top.join(ANNOTATIONS)).unwrap();
    let bad = &listed[4];
    let text = text.replace(&format!("{},{}", bad.0, bad.1), &format!("{},Q5", bad.0));
    std::fs::write(top.join(ANNOTATIONS), text).unwrap();
    let contradicted = in_quadrant("Q4")[0];
    let metadata = std::fs::read_to_string(top.join(METADATA)).unwrap();
    let (mut contradicting_line, mut rows) = (0, Vec::new());
    for (i, row) in metadata.lines().enumerate() {
        if row.starts_with(&format!("\"{}\"", contradicted.0)) {
            contradicting_line = i + 1;
            rows.push(row.replacen("\"Q4\"", "\"Q2\"", 1));
        } else {
            rows.push(row.to_string());
        }
    }
    std::fs::write(top.join(METADATA), rows.join("\n")).unwrap();

    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(text.contains(&format!("Q1/{}.mp3", missing.0)), "{text}");
    assert!(
        text.contains(&format!("folder Q3/{}.mp3", moved.0)),
        "{text}"
    );
    assert!(text.contains("Q2/MT9999999999.mp3"), "{text}");
    assert!(
        text.contains(&format!("{ANNOTATIONS} line 6"))
            && text.contains(&format!(
                "song {}: the quadrant is `Q5`, expected Q1, Q2, Q3 or Q4",
                bad.0
            )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{METADATA} line {contradicting_line}"))
            && text.contains(&contradicted.0),
        "{text}"
    );
    // Of 40, the bad row is skipped and the two conflicted songs are left out.
    assert!(text.contains("Songs listed: 37"), "{text}");

    // A wrong column is an error naming the file, the column and the header.
    let text = std::fs::read_to_string(top.join(ANNOTATIONS)).unwrap();
    std::fs::write(top.join(ANNOTATIONS), text.replacen("Quadrant", "Quad", 1)).unwrap();
    let (ok, text) = inspect(&dir);
    assert!(!ok);
    assert!(
        text.contains(&format!(
            "{ANNOTATIONS} line 1: no column \"Quadrant\", which layout \"4q\" reads"
        )) && text.contains("\"Song\", \"Quad\""),
        "{text}"
    );
}
