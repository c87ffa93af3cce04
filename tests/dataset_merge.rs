//! Layout `merge`: the demo's stand-in of MERGE's six sets (metadata, arousal-valence values,
//! quadrant folders, both split schemes), read by `mer data inspect` and `mer run`; damaged
//! copies whose problems name file and line.

mod util;

use std::path::Path;

use util::{TestDir, output};

const DATA: &str = "data/demo-merge";
const BIMODAL: &str = "data/demo-merge/MERGE_Bimodal_Complete";

/// The shipped experiment (one seed) and a 48-song stand-in of 3-s clips.
fn project() -> TestDir {
    util::shipped_demo("merge", 48, 3)
}

fn inspect(dir: &TestDir, root: &str) -> (bool, String) {
    let root = format!("dataset.root=../{root}");
    util::inspect_all(dir, "experiments/demo-merge.toml", &["--set", &root])
}

/// The `Song` column of a split file.
fn split_songs(set: &Path, scheme: &str, part: &str) -> Vec<String> {
    let name = set.file_name().unwrap().to_string_lossy().to_lowercase();
    let set_name = name.trim_start_matches("merge_");
    let file = format!("tvt_dataframes/tvt_{scheme}/tvt_{scheme}_{part}_{set_name}.csv");
    (util::read_csv(&set.join(file)).into_iter())
        .map(|row| row["Song"].clone())
        .collect()
}

#[test]
fn the_bimodal_set_runs_with_its_fixed_split() {
    let dir = project();
    let (ok, text) = inspect(&dir, BIMODAL);
    assert!(ok, "{text}");
    assert!(text.contains("Published: audio 3554 complete"), "{text}");
    // The values file's ratings, on its 0-1 scale.
    let songs = util::class_counts(&text, "total")[0];
    for rating in ["valence", "arousal"] {
        let line = format!("  {rating}: ");
        let range = text
            .lines()
            .find(|l| l.starts_with(&line))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            range.ends_with(&format!("over {songs} songs (scale 0 to 1)")),
            "{range}"
        );
    }
    assert!(text.contains("Problems: none"), "{text}");
    for quadrant in ["Q1", "Q2", "Q3", "Q4"] {
        // Every song of the bimodal set has its MP3 and its lyrics.
        let counts = util::class_counts(&text, quadrant);
        assert!(
            counts[0] > 0 && counts[1..3] == [counts[0], counts[0]],
            "{text}"
        );
    }

    let (ok, _, stderr) = output(dir.mer().args(["run", "experiments/demo-merge.toml"]));
    assert!(ok, "{stderr}");
    let report = dir.report_folder(&stderr);
    let predictions = util::read_csv(&report.join("predictions.csv"));
    let scored = util::scored_ids(&predictions);
    let mut expected = split_songs(&dir.path(BIMODAL), "70_15_15", "test");
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(scored, expected);

    // The other scheme, and valence-arousal regression on the values file's 0-1 scale.
    let spec = dir.path("experiments/demo-merge.toml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let text = text.replace(
        "method = \"fixed\"",
        "method = \"fixed\"\ncolumn = \"split_40_30_30\"\n\n[task]\nkind = \"regression\"\ntargets = [\"valence\", \"arousal\"]\nscales = { valence = [0, 1], arousal = [0, 1] }",
    );
    std::fs::write(&spec, text).unwrap();
    let (ok, _, stderr) =
        output(
            dir.mer()
                .args(["run", "experiments/demo-merge.toml", "--debug-mock-stages"]),
        );
    assert!(ok, "{stderr}");
    let report = dir.report_folder(&stderr);
    let predictions = util::read_csv(&report.join("predictions.csv"));
    let scored = util::scored_ids(&predictions);
    let mut expected = split_songs(&dir.path(BIMODAL), "40_30_30", "test");
    expected.sort();
    assert_eq!(scored, expected);
    let values = util::read_csv(
        &dir.path(BIMODAL)
            .join("merge_bimodal_complete_av_values.csv"),
    );
    for row in &predictions {
        let truth = values
            .iter()
            .find(|v| v["Audio_Song"] == row["id"])
            .unwrap();
        // Targets are mapped from 0-1 onto [-1, 1].
        let valence = 2.0 * util::number(truth, "Valence") - 1.0;
        assert!(
            (util::number(row, "true_valence") - valence).abs() < 1e-3,
            "{row:?}"
        );
    }
}

#[test]
fn every_set_loads_and_a_root_of_several_sets_is_refused() {
    let dir = project();
    for set in ["Audio", "Lyrics", "Bimodal"] {
        for balance in ["Complete", "Balanced"] {
            let root = format!("{DATA}/MERGE_{set}_{balance}");
            let (ok, text) = inspect(&dir, &root);
            assert!(ok && text.contains("Problems: none"), "{root}: {text}");
            let songs: Vec<usize> = (["Q1", "Q2", "Q3", "Q4"].iter())
                .map(|q| util::class_counts(&text, q)[0])
                .collect();
            if balance == "Balanced" {
                assert!(songs.iter().all(|&n| n == songs[0]), "{root}: {text}");
            }
        }
    }
    let (ok, text) = inspect(&dir, DATA);
    assert!(!ok);
    assert!(
        text.contains(
            "holds 6 sets of layout \"merge\" (MERGE_Audio_Balanced, MERGE_Audio_Complete"
        ) && text.contains("set dataset.root to the one to use"),
        "{text}"
    );
}

#[test]
fn damaged_copies_are_reported_naming_file_and_line() {
    let dir = project();
    let set = dir.path(BIMODAL);
    let metadata_path = set.join("merge_bimodal_complete_metadata.csv");
    let rows = util::read_csv(&metadata_path);
    let song = |i: usize| {
        (
            rows[i]["Audio_Song"].clone(),
            rows[i]["Lyric_Song"].clone(),
            rows[i]["Quadrant"].clone(),
        )
    };
    // A missing lyrics file; an MP3 in another quadrant's folder.
    let (_, lyric, quadrant) = song(0);
    std::fs::remove_file(set.join(format!("lyrics/{quadrant}/{lyric}.txt"))).unwrap();
    let (moved, _, quadrant) = song(1);
    let other = if quadrant == "Q4" { "Q1" } else { "Q4" };
    std::fs::rename(
        set.join(format!("audio/{quadrant}/{moved}.mp3")),
        set.join(format!("audio/{other}/{moved}.mp3")),
    )
    .unwrap();
    // A quadrant out of range on line 4 (song 2), a values row of an unknown id, a missing
    // split file.
    let (bad, _, quadrant) = song(2);
    let text = std::fs::read_to_string(&metadata_path).unwrap();
    let text = text.replacen(&format!(",{quadrant},"), ",Q7,", 3);
    let lines: Vec<&str> = text.lines().collect();
    let original: Vec<String> = std::fs::read_to_string(&metadata_path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let fixed: Vec<String> = (lines.iter().enumerate())
        .map(|(i, line)| {
            if i == 3 {
                line.to_string()
            } else {
                original[i].clone()
            }
        })
        .collect();
    std::fs::write(&metadata_path, fixed.join("\n")).unwrap();
    let values = set.join("merge_bimodal_complete_av_values.csv");
    let mut text = std::fs::read_to_string(&values).unwrap();
    text.push_str("MT0000000001,MT0000000001,0.5,0.5\n");
    let values_lines = text.lines().count();
    std::fs::write(&values, text).unwrap();
    let split = set.join("tvt_dataframes/tvt_40_30_30/tvt_40_30_30_validate_bimodal_complete.csv");
    std::fs::remove_file(&split).unwrap();

    let (ok, text) = inspect(&dir, BIMODAL);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("lyrics/{}/{}.txt", song(0).2, song(0).1)),
        "{text}"
    );
    assert!(
        text.contains(&format!("folder {other}/{moved}.mp3")),
        "{text}"
    );
    assert!(
        text.contains("merge_bimodal_complete_metadata.csv line 4")
            && text.contains(&format!("song {bad}: the quadrant is `Q7`")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "merge_bimodal_complete_av_values.csv line {values_lines}"
        )) && text.contains("MT0000000001"),
        "{text}"
    );
    assert!(
        text.contains("tvt_40_30_30_validate_bimodal_complete.csv"),
        "{text}"
    );

    // A wrong column is an error naming the file, the column and the header.
    let text = std::fs::read_to_string(&metadata_path).unwrap();
    std::fs::write(&metadata_path, text.replacen("Quadrant", "Quad", 1)).unwrap();
    let (ok, text) = inspect(&dir, BIMODAL);
    assert!(!ok);
    assert!(
        text.contains("merge_bimodal_complete_metadata.csv line 1: no column \"Quadrant\", which layout \"merge\" reads")
            && text.contains("\"Audio_Song\", \"Lyric_Song\", \"Quad\""),
        "{text}"
    );
}
