//! `mer demo` then `mer run` through the binary: the whole protocol learns the synthetic
//! classes (a misaligned label, feature row or fold would drop it to chance), writes a
//! complete report, and gives the same numbers on a second, uncached run.

mod util;

use util::{TestDir, output};

/// Writes a 150-song demo dataset and a spec over it with a short schedule.
fn setup() -> TestDir {
    let dir = TestDir::new();
    dir.write_demo(150, 10, 5);
    dir.write(
        "exp.toml",
        "[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
         [modalities.audio]\n[modalities.lyrics]\n[modalities.midi]\n\n\
         [split]\nfolds = 3\n\n[schedule]\nepochs = 20\n\n[eval]\nbootstrap = 200\n",
    );
    dir
}

fn run(dir: &TestDir, cache: &str) -> std::path::PathBuf {
    let (ok, _, stderr) = output(dir.mer().args(["--cache", cache, "run", "exp.toml"]));
    assert!(ok, "mer run failed: {stderr}");
    dir.report_folder(&stderr)
}

/// (model, split, group) -> macro-F1 from metrics.csv.
fn macro_f1s(folder: &std::path::Path) -> Vec<(String, f64)> {
    let mut reader = csv::Reader::from_path(folder.join("metrics.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (model, split, group, f1) = (at("model"), at("split"), at("group"), at("macro_f1"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                format!("{}/{}/{}", &r[model], &r[split], &r[group]),
                r[f1].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_demo_is_learned_reported_and_reproducible() {
    let dir = setup();
    let first = run(&dir, "cache-a");
    let scores = macro_f1s(&first);
    let get = |name: &str| {
        scores
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not in {scores:?}"))
            .1
    };
    eprintln!("macro-F1: {scores:?}");
    // Five classes: chance is 0.2. The demo's modalities are each clearly informative.
    assert!(get("out-of-fold/cv/all") > 0.45, "{scores:?}");
    assert!(get("ensemble+tta/test/all") > 0.45, "{scores:?}");
    for file in [
        "index.html",
        "spec.toml",
        "run.json",
        "summary.csv",
        "per_class.csv",
        "confusion.csv",
        "history.csv",
        "predictions.csv",
        "learning_curves-seed42.png",
        "confusion-seed42.svg",
    ] {
        assert!(first.join(file).is_file(), "{file} missing");
    }

    // A separate cache recomputes everything: the same spec and seed give the same numbers.
    let second = run(&dir, "cache-b");
    let read = |folder: &std::path::Path| std::fs::read_to_string(folder.join("metrics.csv"));
    assert_eq!(read(&first).unwrap(), read(&second).unwrap());
    let predictions =
        |folder: &std::path::Path| std::fs::read_to_string(folder.join("predictions.csv")).unwrap();
    assert_eq!(predictions(&first), predictions(&second));
}

/// The demo's table layout (`mer demo --layout table`) under `data-table/`, and `spec` (a
/// shipped experiment) pointed at it with a short schedule and one seed.
fn setup_table(experiment: &str) -> TestDir {
    let dir = TestDir::new();
    dir.write_demo_table(150, 4);
    let spec = util::shipped_on_demo_table(
        experiment,
        "\n[schedule]\nepochs = 20\n\n[eval]\nbootstrap = 200\n",
    );
    dir.write("exp.toml", &spec);
    dir
}

/// The ensemble+tta test row of `metrics.csv`, all songs, as column -> value.
fn headline_row(folder: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut reader = csv::Reader::from_path(folder.join("metrics.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[1] == "ensemble+tta" && &r[2] == "test" && &r[3] == "all")
        .map(|r| {
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .expect("a headline row")
}

#[test]
fn the_valence_arousal_regression_demo_is_learned_and_reported() {
    let dir = setup_table("demo-va.toml");
    let folder = run(&dir, "cache");
    let row = headline_row(&folder);
    let ccc: f64 = row["ccc"].parse().unwrap();
    // Predicting the mean scores 0; the sound carries arousal and the class valence.
    assert!(ccc > 0.4, "{row:?}");
    let (low, high): (f64, f64) = (
        row["ccc_low"].parse().unwrap(),
        row["ccc_high"].parse().unwrap(),
    );
    assert!(low < ccc && ccc < high, "{row:?}");
    for file in [
        "summary.csv",
        "per_target.csv",
        "predictions.csv",
        "history.csv",
    ] {
        assert!(folder.join(file).is_file(), "{file}");
    }
    for figure in [
        "scatter_valence-seed4.svg",
        "scatter_arousal-seed4.svg",
        "va_plane-seed4.svg",
    ] {
        assert!(folder.join(figure).is_file(), "{figure}");
    }
    let predictions = std::fs::read_to_string(folder.join("predictions.csv")).unwrap();
    assert!(predictions.starts_with(
        "seed,model,id,modalities,true_valence,true_arousal,predicted_valence,predicted_arousal\n"
    ));
    // The quadrant view scores the same predictions as four classes.
    let quadrants = std::fs::read_to_string(folder.join("quadrants.csv")).unwrap();
    let headline = (quadrants.lines())
        .find(|l| l.starts_with("4,ensemble+tta,test,all,"))
        .expect("the headline's quadrant row");
    let accuracy: f64 = headline.split(',').nth(4).unwrap().parse().unwrap();
    assert!(accuracy > 0.4, "{headline}");
    assert!(folder.join("quadrant_confusion-seed4.svg").is_file());
    compares_against_a_run_without_midi(&dir, &folder, "ccc");
}

/// Runs `exp.toml` without MIDI and compares it with `folder` in `metric` through `mer
/// compare`: the song bootstrap rescores the runs' predictions.csv, so each seed's score it
/// pairs must be the one metrics.csv reports (for tags, at the run's own threshold).
fn compares_against_a_run_without_midi(dir: &TestDir, folder: &std::path::Path, metric: &str) {
    let spec = std::fs::read_to_string(dir.path("exp.toml")).unwrap();
    dir.write("exp.toml", spec.replace("[modalities.midi]", ""));
    let other = run(dir, "cache");
    let (ok, stdout, stderr) = output(dir.mer().args([
        "compare",
        folder.to_str().unwrap(),
        other.to_str().unwrap(),
        "--metric",
        metric,
        "--out",
        "compared",
    ]));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(&format!("in {metric} (higher is better)")),
        "{stdout}"
    );
    let mut pairs = csv::Reader::from_path(dir.path("compared/pairs.csv")).unwrap();
    let header = pairs.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let song = (pairs.records().map(|r| r.unwrap()))
        .find(|r| &r[at("unit")] == "song-bootstrap")
        .expect("a song-bootstrap pair");
    for (column, report) in [("baseline_score", folder), ("run_score", &other)] {
        let reported: f64 = headline_row(report)[metric].parse().unwrap();
        let rescored: f64 = song[at(column)].parse().unwrap();
        assert!(
            (reported - rescored).abs() < 1e-12,
            "{column}: {reported} vs {rescored}"
        );
    }
    let paired = std::fs::read_to_string(dir.path("compared/paired.csv")).unwrap();
    assert_eq!(
        paired.lines().count(),
        4,
        "a header and three units: {paired}"
    );
}

#[test]
fn the_mood_tag_demo_is_learned_and_reported() {
    let dir = setup_table("demo-tags.toml");
    let folder = run(&dir, "cache");
    let row = headline_row(&folder);
    let auc: f64 = row["roc_auc_macro"].parse().unwrap();
    // Chance is 0.5: the lyrics carry the moods, the sound energetic and calm.
    assert!(auc > 0.75, "{row:?}");
    let per_tag = std::fs::read_to_string(folder.join("per_tag.csv")).unwrap();
    assert!(per_tag.contains(",energetic,"), "{per_tag}");
    assert!(folder.join("tag_auc-seed4.svg").is_file());
    let predictions = std::fs::read_to_string(folder.join("predictions.csv")).unwrap();
    assert!(predictions.lines().next().unwrap().contains("p_energetic"));
    compares_against_a_run_without_midi(&dir, &folder, "macro_f1");
}
