//! Layout `deam`: the demo's stand-in in DEAM's exact layout (MP3 excerpts, the static and
//! dynamic rating files, the years' metadata files), read by `mer data inspect` and
//! `mer run`, as distributed and nested as community copies are; damaged copies whose
//! problems name file and line.

mod util;

use std::collections::BTreeMap;
use std::path::Path;

use util::{TestDir, output};

const DATA: &str = "data/demo-deam";
const AVERAGED: &str = "annotations/annotations averaged per song";
const STATIC: &str = "static_annotations_averaged_songs_1_2000.csv";

/// The shipped experiment (one seed) and a 40-song stand-in of 3-s clips.
fn project() -> TestDir {
    util::shipped_demo("deam", 40, 3)
}

fn inspect(dir: &TestDir) -> (bool, String) {
    util::inspect_all(dir, "experiments/demo-deam.toml", &[])
}

/// Each song's value in `column` of a static or dynamic file (a dynamic row: its mean).
fn per_song(path: &Path, column: Option<&str>) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|h| h.trim().to_string())
        .collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let value = match column {
                Some(column) => cells[header.iter().position(|h| h == column).unwrap()]
                    .parse()
                    .unwrap(),
                None => {
                    let rated: Vec<f64> = cells[1..]
                        .iter()
                        .filter(|c| !c.is_empty())
                        .map(|c| c.parse().unwrap())
                        .collect();
                    rated.iter().sum::<f64>() / rated.len() as f64
                }
            };
            (cells[0].to_string(), value)
        })
        .collect()
}

fn run_predictions(dir: &TestDir, extra: &[&str]) -> Vec<BTreeMap<String, String>> {
    let mut args = vec!["run", "experiments/demo-deam.toml"];
    args.extend(extra);
    let (ok, _, stderr) = output(dir.mer().args(&args));
    assert!(ok, "{stderr}");
    util::read_csv(&dir.report_folder(&stderr).join("predictions.csv"))
}

#[test]
fn the_stand_in_runs_regressions_on_static_and_dynamic_ratings() {
    let dir = project();
    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(
        text.contains("Songs listed: 40") && text.contains("Published: 1802 songs"),
        "{text}"
    );
    assert!(text.contains("Ratings:\n  valence: "), "{text}");
    assert!(text.contains("over 40 songs (scale 1 to 9)"), "{text}");
    assert!(
        text.contains("valence_dynamic_mean: ") && text.contains("over 40 songs (scale -1 to 1)"),
        "{text}"
    );
    assert!(text.contains("Problems: none"), "{text}");
    assert_eq!(util::class_counts(&text, "total")[..2], [40, 40], "{text}");

    // The shipped experiment: every MP3 decodes (mono and stereo, both rates), and the
    // targets are the static means mapped from 1-9 onto [-1, 1].
    let (ok, _, stderr) = output(dir.mer().args(["run", "experiments/demo-deam.toml"]));
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("40 songs x") && stderr.contains(" 0 skipped"),
        "{stderr}"
    );
    let predictions = util::read_csv(&dir.report_folder(&stderr).join("predictions.csv"));
    let song_level = dir.path(&format!("{DATA}/{AVERAGED}/song_level"));
    let mut valence = per_song(&song_level.join(STATIC), Some("valence_mean"));
    valence.extend(per_song(
        &song_level.join("static_annotations_averaged_songs_2000_2058.csv"),
        Some("valence_mean"),
    ));
    assert!(!predictions.is_empty());
    for row in &predictions {
        let expected = (valence[&row["id"]] - 5.0) / 4.0;
        assert!(
            (util::number(row, "true_valence") - expected).abs() < 1e-4,
            "{row:?}"
        );
    }

    // The 2 Hz ratings' per-song means are targets as they are (on [-1, 1]).
    let dynamic = per_song(
        &dir.path(&format!(
            "{DATA}/{AVERAGED}/dynamic (per second annotations)/valence.csv"
        )),
        None,
    );
    let spec = dir.path("experiments/demo-deam.toml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let text = text
        .replace(
            "targets = [\"valence\", \"arousal\"]",
            "targets = [\"valence_dynamic_mean\"]",
        )
        .replace("scales = { valence = [1, 9], arousal = [1, 9] }", "");
    std::fs::write(&spec, text).unwrap();
    let predictions = run_predictions(&dir, &["--debug-mock-stages"]);
    for row in &predictions {
        let expected = dynamic[&row["id"]];
        assert!(
            (util::number(row, "true_valence_dynamic_mean") - expected).abs() < 1e-3,
            "{row:?}"
        );
    }
}

#[test]
fn a_nested_copy_with_crlf_and_a_bom_loads_alike() {
    let dir = project();
    let data = dir.path(DATA);
    // As community copies nest them: DEAM_audio/MEMD_audio/, DEAM_Annotations/annotations/,
    // metadata/metadata/.
    for (from, to) in [
        ("MEMD_audio", "DEAM_audio/MEMD_audio"),
        ("annotations", "DEAM_Annotations/annotations"),
        ("metadata", "metadata.tmp"),
    ] {
        std::fs::create_dir_all(data.join(to).parent().unwrap()).unwrap();
        std::fs::rename(data.join(from), data.join(to)).unwrap();
    }
    std::fs::create_dir(data.join("metadata")).unwrap();
    std::fs::rename(data.join("metadata.tmp"), data.join("metadata/metadata")).unwrap();
    let path = data.join(format!("DEAM_Annotations/{AVERAGED}/song_level/{STATIC}"));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("\u{feff}{}", text.replace('\n', "\r\n"))).unwrap();
    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(
        text.contains("Songs listed: 40") && text.contains("Problems: none"),
        "{text}"
    );
    assert_eq!(util::class_counts(&text, "total")[..2], [40, 40], "{text}");
}

#[test]
fn damaged_copies_are_reported_naming_file_and_line() {
    let dir = project();
    let data = dir.path(DATA);
    let song_level = data.join(format!("{AVERAGED}/song_level"));
    let static_path = song_level.join(STATIC);
    let text = std::fs::read_to_string(&static_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let missing = lines[1].split(',').next().unwrap().to_string();
    let bad = lines[3].split(',').next().unwrap().to_string();
    // A missing MP3; a static mean that is not a number (line 4); a dynamic rating off the
    // scale; a missing metadata file.
    std::fs::remove_file(data.join(format!("MEMD_audio/{missing}.mp3"))).unwrap();
    let damaged: Vec<String> = (lines.iter().enumerate())
        .map(|(i, line)| {
            if i == 3 {
                let mut cells: Vec<&str> = line.split(',').collect();
                cells[1] = "n/a";
                cells.join(",")
            } else {
                line.to_string()
            }
        })
        .collect();
    std::fs::write(&static_path, damaged.join("\n")).unwrap();
    let dynamic = data.join(format!(
        "{AVERAGED}/dynamic (per second annotations)/arousal.csv"
    ));
    let text = std::fs::read_to_string(&dynamic).unwrap();
    let mut rows: Vec<String> = text.lines().map(String::from).collect();
    let off = rows[2].split(',').next().unwrap().to_string();
    let cells: Vec<String> = rows[2].split(',').map(String::from).collect();
    rows[2] = format!("{},1.5,{}", cells[0], cells[2..].join(","));
    std::fs::write(&dynamic, rows.join("\n")).unwrap();
    std::fs::remove_file(data.join("metadata/metadata_2014.csv")).unwrap();

    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("MEMD_audio/{missing}.mp3")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{STATIC} line 4"))
            && text.contains(&format!("song {bad}: valence_mean is `n/a`, not a number")),
        "{text}"
    );
    assert!(
        text.contains("arousal.csv line 3")
            && text.contains(&format!(
                "song {off}: a dynamic rating is 1.5, outside the rating scale -1 to 1"
            )),
        "{text}"
    );
    assert!(text.contains("metadata_2014.csv"), "{text}");
    assert!(text.contains("Songs listed: 39"), "{text}");

    // A wrong column is an error naming the file, the column and the header.
    let text = std::fs::read_to_string(&static_path).unwrap();
    std::fs::write(
        &static_path,
        text.replacen("arousal_mean", "arousal_avg", 1),
    )
    .unwrap();
    let (ok, text) = inspect(&dir);
    assert!(!ok);
    assert!(
        text.contains(&format!(
            "{STATIC} line 1: no column \"arousal_mean\", which layout \"deam\" reads"
        )) && text.contains("\"valence_std\", \"arousal_avg\""),
        "{text}"
    );
}
