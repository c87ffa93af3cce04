//! Layout `mtg-jamendo`: the demo's stand-in in the mood/theme subset's exact layout (the
//! metadata repository's TSV files with CRLF and a field per tag, split-0, the audio as the
//! tars unpack), read by `mer data inspect` and `mer run`; damaged copies whose problems name
//! file and line.

mod util;

use util::{TestDir, output};

const TOP: &str = "data/demo-mtg-jamendo/mtg-jamendo-dataset";

/// The shipped experiment (one seed) and a 40-song stand-in of 10-s clips.
fn project() -> TestDir {
    util::shipped_demo("mtg-jamendo", 40, 10)
}

fn inspect(dir: &TestDir) -> (bool, String) {
    util::inspect_all(dir, "experiments/demo-mtg-jamendo.toml", &[])
}

/// The `TRACK_ID`s and tags (prefix removed) of a tracks file: a tag per field from the sixth.
fn tracks(dir: &TestDir, file: &str) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(dir.path(&format!("{TOP}/data/{file}"))).unwrap();
    (text.lines().skip(1))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let tags = fields[5..]
                .iter()
                .map(|t| t.trim_start_matches("mood/theme---").to_string());
            (fields[0].to_string(), tags.collect())
        })
        .collect()
}

#[test]
fn the_stand_in_runs_a_multilabel_task_on_split_0() {
    let dir = project();
    let all = tracks(&dir, "autotagging_moodtheme.tsv");
    assert!(
        all.iter().any(|(_, tags)| tags.len() >= 3),
        "rows with three tags: {all:?}"
    );
    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(text.contains("Published: 18486 tracks"), "{text}");
    // The track carrying only `horror` (which the splits drop) is named and left out.
    assert!(text.contains("Songs listed: 39"), "{text}");
    assert!(
        text.contains("carries only tags the splits drop (horror)") && text.contains("Problems: 1"),
        "{text}"
    );

    let (ok, _, stderr) = output(dir.mer().args(["run", "experiments/demo-mtg-jamendo.toml"]));
    assert!(ok, "{stderr}");
    let report = dir.report_folder(&stderr);
    let predictions = util::read_csv(&report.join("predictions.csv"));
    let scored = util::scored_ids(&predictions);
    let test = tracks(&dir, "splits/split-0/autotagging_moodtheme-test.tsv");
    let mut expected: Vec<&str> = test.iter().map(|(id, _)| id.as_str()).collect();
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(scored, expected);
    // Every tag of the splits is an output, and the dropped one is not.
    let columns: Vec<String> = predictions[0].keys().cloned().collect();
    let split_tags: std::collections::BTreeSet<String> =
        test.into_iter().flat_map(|(_, tags)| tags).collect();
    for tag in &split_tags {
        assert!(
            columns.iter().any(|c| c.ends_with(&format!("_{tag}"))),
            "{tag}: {columns:?}"
        );
    }
    assert!(!columns.iter().any(|c| c.contains("horror")), "{columns:?}");
}

#[test]
fn damaged_copies_are_reported_naming_file_and_line() {
    let dir = project();
    let top = dir.path(TOP);
    let all = tracks(&dir, "autotagging_moodtheme.tsv");
    let number = |id: &str| id.trim_start_matches("track_").parse::<u32>().unwrap();
    let (missing, low) = (number(&all[0].0), number(&all[1].0));
    // A missing MP3, and a low-quality one in its place (found as well); audio/ instead of
    // audios/.
    std::fs::remove_file(top.join(format!("audios/{:02}/{missing}.mp3", missing % 100))).unwrap();
    let high = top.join(format!("audios/{:02}/{low}.mp3", low % 100));
    std::fs::rename(&high, high.with_extension("low.mp3")).unwrap();
    std::fs::rename(top.join("audios"), top.join("audio")).unwrap();
    // A malformed track id on line 4; a missing split file.
    let path = top.join("data/autotagging_moodtheme.tsv");
    let text = std::fs::read_to_string(&path).unwrap();
    let bad = &all[2].0;
    std::fs::write(&path, text.replacen(bad.as_str(), "track_x", 1)).unwrap();
    std::fs::remove_file(top.join("data/splits/split-0/autotagging_moodtheme-validation.tsv"))
        .unwrap();

    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("audio/{:02}/{missing}.mp3", missing % 100)),
        "{text}"
    );
    assert!(
        !text.contains(&format!("{low}.mp3")),
        "the low-quality file is found: {text}"
    );
    assert!(
        text.contains(
            "autotagging_moodtheme.tsv line 4: TRACK_ID is `track_x`, expected track_ and a number"
        ),
        "{text}"
    );
    assert!(
        text.contains("autotagging_moodtheme-validation.tsv"),
        "{text}"
    );
    assert!(text.contains("Songs listed: 38"), "{text}");
    assert_eq!(util::class_counts(&text, "total")[1], 37, "{text}");

    // A wrong column is an error naming the file, the column and the header.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\tTAGS", "\tTAG", 1)).unwrap();
    let (ok, text) = inspect(&dir);
    assert!(!ok);
    assert!(
        text.contains("autotagging_moodtheme.tsv line 1: no column \"TAGS\", which layout \"mtg-jamendo\" reads")
            && text.contains("\"DURATION\", \"TAG\""),
        "{text}"
    );
}
