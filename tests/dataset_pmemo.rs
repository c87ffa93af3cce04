//! Layout `pmemo`: the demo's stand-in in PMEmo 2019's exact layout (chorus MP3s, LRC lyrics,
//! the four annotation files, metadata.csv), read by `mer data inspect` and `mer run`; damaged
//! copies whose problems name file and line.

mod util;

use std::collections::BTreeMap;

use util::{TestDir, output};

const TOP: &str = "data/demo-pmemo/PMEmo2019";

/// The shipped experiment (one seed) and a 40-song stand-in of 3-s clips.
fn project() -> TestDir {
    util::shipped_demo("pmemo", 40, 3)
}

fn inspect(dir: &TestDir) -> (bool, String) {
    util::inspect_all(dir, "experiments/demo-pmemo.toml", &[])
}

/// The static file's rows by song: `(line, row)`.
fn static_rows(dir: &TestDir) -> BTreeMap<String, (usize, BTreeMap<String, String>)> {
    let rows = util::read_csv(&dir.path(&format!("{TOP}/annotations/static_annotations.csv")));
    (rows.into_iter().enumerate())
        .map(|(i, row)| (row["musicId"].clone(), (i + 2, row)))
        .collect()
}

#[test]
fn the_stand_in_runs_an_audio_and_lyrics_regression() {
    let dir = project();
    let rated = static_rows(&dir);
    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("Songs listed: {}", rated.len())),
        "{text}"
    );
    assert!(text.contains("Published: 794 chorus clips"), "{text}");
    assert!(
        text.contains("  valence: ")
            && text.contains(&format!("over {} songs (scale 0 to 1)", rated.len())),
        "{text}"
    );
    assert!(text.contains("valence_dynamic_mean: "), "{text}");
    // The stand-in's one unrated chorus is reported once, as a metadata row without ratings,
    // and the songs without lyrics in one line.
    assert!(
        text.contains("unknown id (1):") && text.contains("metadata.csv line"),
        "{text}"
    );
    assert!(text.contains("PMEmo 2019 has lyrics for 629"), "{text}");
    assert!(!text.contains("unlisted"), "{text}");

    let (ok, _, stderr) = output(dir.mer().args(["run", "experiments/demo-pmemo.toml"]));
    assert!(ok, "{stderr}");
    // Every chorus and every LRC file gives features.
    assert!(
        stderr.contains(&format!("{} songs x", rated.len())),
        "{stderr}"
    );
    assert_eq!(stderr.matches(", 0 skipped").count(), 2, "{stderr}");
    let predictions = util::read_csv(&dir.report_folder(&stderr).join("predictions.csv"));
    assert!(!predictions.is_empty());
    for row in &predictions {
        // Targets are the static means mapped from 0-1 onto [-1, 1].
        let (_, truth) = &rated[&row["id"]];
        let expected = 2.0 * util::number(truth, "Valence(mean)") - 1.0;
        assert!(
            (util::number(row, "true_valence") - expected).abs() < 1e-4,
            "{row:?}"
        );
    }
}

#[test]
fn damaged_copies_are_reported_naming_file_and_line() {
    let dir = project();
    let top = dir.path(TOP);
    let rated = static_rows(&dir);
    let mut ids = rated.keys();
    let (missing, bad, off) = (
        ids.next().unwrap(),
        ids.next().unwrap(),
        ids.next().unwrap(),
    );
    // A missing chorus, a static mean off the scale, a dynamic rating that is not a number,
    // a missing std file.
    std::fs::remove_file(top.join(format!("chorus/{missing}.mp3"))).unwrap();
    let path = top.join("annotations/static_annotations.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let text: Vec<String> = (text.lines())
        .map(|line| match line.split(',').next() {
            Some(id) if id == bad => format!("{id},0.5,1.4"),
            _ => line.to_string(),
        })
        .collect();
    std::fs::write(&path, text.join("\n")).unwrap();
    let path = top.join("annotations/dynamic_annotations.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(&format!("{off},")))
        .unwrap();
    lines[at] = format!("{off},15.5,x,0.5");
    std::fs::write(&path, lines.join("\n")).unwrap();
    std::fs::remove_file(top.join("annotations/static_annotations_std.csv")).unwrap();

    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(text.contains(&format!("chorus/{missing}.mp3")), "{text}");
    assert!(
        text.contains(&format!("static_annotations.csv line {}", rated[bad].0))
            && text.contains(&format!(
                "song {bad}: Valence(mean) is 1.4, outside the rating scale 0 to 1"
            )),
        "{text}"
    );
    assert!(
        text.contains(&format!("dynamic_annotations.csv line {}", at + 1))
            && text.contains(&format!("song {off}: Arousal(mean) is `x`, not a number")),
        "{text}"
    );
    assert!(text.contains("static_annotations_std.csv"), "{text}");
    assert!(
        text.contains(&format!("Songs listed: {}", rated.len() - 1)),
        "{text}"
    );

    // A wrong column is an error naming the file, the column and the header.
    let path = top.join("annotations/static_annotations.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("Valence(mean)", "Valence", 1)).unwrap();
    let (ok, text) = inspect(&dir);
    assert!(!ok);
    assert!(
        text.contains("static_annotations.csv line 1: no column \"Valence(mean)\", which layout \"pmemo\" reads")
            && text.contains("\"musicId\", \"Arousal(mean)\", \"Valence\""),
        "{text}"
    );
}
