//! `mer predict` and `mer export` through the binary: a run's own test songs, predicted from
//! its report folder (the run's cache) and from an exported bundle (a fresh cache), come out
//! exactly as its `predictions.csv` has them; new songs in a folder are predicted from the
//! modalities they have, unreadable files counted; bundles of another format are refused.

mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use util::{TestDir, output, read_csv};

/// A finished three-modality run on a small demo dataset, two seeds, with test-time
/// augmentation (the default), and its report folder.
struct Trained {
    dir: TestDir,
    report: PathBuf,
}

fn trained() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        let dir = TestDir::new();
        dir.write_demo(60, 4, 11);
        dir.write(
            "exp.toml",
            "seeds = [1, 2]\n\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
             [modalities.audio]\n[modalities.lyrics]\n[modalities.midi]\n\n\
             [split]\nfolds = 3\n\n[schedule]\nepochs = 6\n\n[eval]\nbootstrap = 20\n",
        );
        let (ok, _, stderr) = output(dir.mer().args(["--cache", "cache", "run", "exp.toml"]));
        assert!(ok, "mer run failed: {stderr}");
        let report = dir.report_folder(&stderr);
        Trained { dir, report }
    })
}

/// A song's file of a modality in the demo layout, if it has one.
fn demo_file(root: &Path, id: &str, folder: &str, extension: &str) -> Option<String> {
    let path = root
        .join("data")
        .join(folder)
        .join(format!("{id}.{extension}"));
    path.is_file().then(|| path.display().to_string())
}

/// `predictions.csv`'s rows of `seed`.
fn report_rows(trained: &Trained, seed: &str) -> Vec<BTreeMap<String, String>> {
    let rows = read_csv(&trained.report.join("predictions.csv"));
    rows.into_iter().filter(|r| r["seed"] == seed).collect()
}

/// Writes a CSV of the songs `ids` (paths per modality) and returns its path.
fn songs_csv(dir: &TestDir, name: &str, ids: &[&str]) -> PathBuf {
    let mut text = String::from("id,audio,lyrics,midi\n");
    for id in ids {
        let cell =
            |folder, extension| demo_file(dir.root(), id, folder, extension).unwrap_or_default();
        text += &format!(
            "{id},{},{},{}\n",
            cell("Audio", "wav"),
            cell("Lyrics", "txt"),
            cell("MIDIs", "mid")
        );
    }
    dir.write(name, text)
}

/// `predictions.csv`'s rows without the truth (`true`, `true_<output>`): the columns
/// `mer predict` writes.
fn without_truth(rows: &[BTreeMap<String, String>]) -> Vec<BTreeMap<String, String>> {
    rows.iter()
        .map(|row| {
            row.iter()
                .filter(|(column, _)| !column.starts_with("true"))
                .map(|(c, v)| (c.clone(), v.clone()))
                .collect()
        })
        .collect()
}

fn predict(dir: &TestDir, args: &[&str]) -> (bool, String) {
    let (ok, _, stderr) = output(dir.mer().arg("predict").args(args));
    (ok, stderr)
}

#[test]
fn a_runs_test_songs_come_out_as_its_predictions_from_its_report_and_from_its_bundle() {
    let trained = trained();
    let dir = &trained.dir;
    let report = trained.report.display().to_string();
    let (ok, _, stderr) = output(
        dir.mer()
            .args(["--cache", "cache", "export", &report, "--out", "model.h5"]),
    );
    assert!(ok, "mer export failed: {stderr}");
    for seed in ["1", "2"] {
        let expected = report_rows(trained, seed);
        assert!(expected.len() >= 10, "{} test songs", expected.len());
        let ids: Vec<&str> = expected.iter().map(|r| r["id"].as_str()).collect();
        let csv = songs_csv(dir, &format!("test-{seed}.csv"), &ids);
        let csv = csv.display().to_string();
        let from_report = format!("report-{seed}.csv");
        let (ok, stderr) = predict(
            dir,
            &[
                "--cache",
                "cache",
                &report,
                &csv,
                "--seed",
                seed,
                "--out",
                &from_report,
            ],
        );
        assert!(ok, "predict from the report: {stderr}");
        assert_eq!(
            read_csv(&dir.path(&from_report)),
            without_truth(&expected),
            "seed {seed}, from the report folder"
        );
        // A fresh cache: nothing of the run, the features extracted anew.
        let from_bundle = format!("bundle-{seed}.csv");
        let (ok, stderr) = predict(
            dir,
            &[
                "--cache",
                &format!("fresh-{seed}"),
                "model.h5",
                &csv,
                "--seed",
                seed,
                "--out",
                &from_bundle,
            ],
        );
        assert!(ok, "predict from the bundle: {stderr}");
        assert_eq!(
            read_csv(&dir.path(&from_bundle)),
            without_truth(&expected),
            "seed {seed}, from the bundle"
        );
    }
}

#[test]
fn json_output_holds_the_same_probabilities_and_every_seed_by_default() {
    let trained = trained();
    let dir = &trained.dir;
    let expected = report_rows(trained, "1");
    let ids: Vec<&str> = expected.iter().map(|r| r["id"].as_str()).take(4).collect();
    let csv = songs_csv(dir, "four.csv", &ids).display().to_string();
    let report = trained.report.display().to_string();
    let (ok, stderr) = predict(
        dir,
        &["--cache", "cache", &report, &csv, "--out", "four.json"],
    );
    assert!(ok, "{stderr}");
    let (ok, stderr) = predict(
        dir,
        &["--cache", "cache", &report, &csv, "--out", "four.csv"],
    );
    assert!(ok, "{stderr}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("four.json")).unwrap()).unwrap();
    let songs = json["songs"].as_array().unwrap();
    let rows = read_csv(&dir.path("four.csv"));
    // Both seeds' models, each song once per seed, in input order.
    assert_eq!(songs.len(), 8);
    assert_eq!(rows.len(), 8);
    for (song, row) in songs.iter().zip(&rows) {
        assert_eq!(song["id"].as_str().unwrap(), row["id"]);
        assert_eq!(song["seed"].to_string(), row["seed"]);
        assert_eq!(song["predicted"].as_str().unwrap(), row["predicted"]);
        for (class, p) in song["probabilities"].as_object().unwrap() {
            let cell: f64 = row[&format!("p[{class}]")].parse().unwrap();
            assert_eq!(p.as_f64().unwrap(), cell, "{class}");
        }
    }
    assert_eq!(json["model"], "ensemble+tta");
}

/// The first demo song with every modality, and the first with lyrics.
fn demo_songs(root: &Path) -> (String, String) {
    let ids = || (1..=60).map(|i| format!("{i:03}"));
    let has = |id: &str, folder, extension| demo_file(root, id, folder, extension).is_some();
    let whole = ids()
        .find(|id| has(id, "Audio", "wav") && has(id, "Lyrics", "txt") && has(id, "MIDIs", "mid"))
        .expect("a demo song with every modality");
    let lyrics = ids().find(|id| has(id, "Lyrics", "txt")).unwrap();
    (whole, lyrics)
}

#[test]
fn a_folder_of_new_songs_is_predicted_from_the_modalities_each_has() {
    let trained = trained();
    let dir = &trained.dir;
    let (whole, lyrics) = demo_songs(dir.root());
    let copy = |id: &str, (folder, extension): (&str, &str), to: &str| {
        let from = demo_file(dir.root(), id, folder, extension).unwrap();
        let to = dir.path(&format!("new/{to}"));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    };
    // `full` has every modality, `words` lyrics only, `broken` an unreadable audio file and
    // lyrics; the liner notes are no song at all.
    copy(&whole, ("Audio", "wav"), "full.wav");
    copy(&whole, ("Lyrics", "txt"), "full.txt");
    copy(&whole, ("MIDIs", "mid"), "sub/full.mid");
    copy(&lyrics, ("Lyrics", "txt"), "words.txt");
    copy(&lyrics, ("Lyrics", "txt"), "broken.txt");
    dir.write("new/broken.wav", b"RIFF not really a wave file");
    dir.write("new/notes.md", "liner notes");
    let report = trained.report.display().to_string();
    let (ok, stderr) = predict(
        dir,
        &[
            "--cache", "cache", &report, "new", "--seed", "2", "--out", "new.csv",
        ],
    );
    assert!(ok, "{stderr}");
    let rows = read_csv(&dir.path("new.csv"));
    let modalities: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["id"].as_str(), r["modalities"].as_str()))
        .collect();
    // In file name order, each song once.
    assert_eq!(
        modalities,
        [
            ("broken", "lyrics"),
            ("full", "audio+lyrics+midi"),
            ("words", "lyrics")
        ]
    );
    assert!(
        rows.iter()
            .all(|r| r["seed"] == "2" && r["model"] == "ensemble+tta")
    );
    assert!(
        stderr.contains("audio of song broken skipped"),
        "the unreadable file is reported: {stderr}"
    );
    assert!(
        stderr.contains("1 file(s) in the given folders are not audio"),
        "{stderr}"
    );
}

#[test]
fn a_bundle_of_another_format_or_changed_after_export_is_refused() {
    let trained = trained();
    let dir = &trained.dir;
    let report = trained.report.display().to_string();
    let (ok, _, stderr) = output(
        dir.mer()
            .args(["--cache", "cache", "export", &report, "--out", "old.h5"]),
    );
    assert!(ok, "{stderr}");
    let path = dir.path("old.h5");
    let mut bundle = mer::cache::sealed::read_sealed(&path).unwrap();
    bundle.meta.version += 1;
    let future = bundle.meta.version;
    mer::cache::sealed::write_sealed(&path, bundle).unwrap();
    let (lyrics, _) = demo_songs(dir.root());
    let song = demo_file(dir.root(), &lyrics, "Lyrics", "txt").unwrap();
    let (ok, stderr) = predict(dir, &["--cache", "cache", "old.h5", &song]);
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "bundle format {future} (this mer reads format {})",
            future - 1
        )),
        "{stderr}"
    );

    // Features extracted now would differ from the trained ones (another extractor version).
    let mut bundle = mer::cache::sealed::read_sealed(&path).unwrap();
    bundle.meta.version -= 1;
    let settings = bundle
        .array("extractor_settings")
        .unwrap()
        .as_str()
        .unwrap();
    let changed: Vec<String> = settings
        .iter()
        .map(|s| s.replace("\"extractor_version\":", "\"extractor_version\":1"))
        .collect();
    bundle.insert(
        "extractor_settings",
        vec![changed.len()],
        mer::cache::ArrayData::Str(changed),
    );
    mer::cache::sealed::write_sealed(&path, bundle).unwrap();
    let (ok, stderr) = predict(dir, &["--cache", "cache", "old.h5", &song]);
    assert!(!ok);
    assert!(
        stderr.contains(
            "extract.audio would now extract other features than the model was trained on"
        ),
        "{stderr}"
    );

    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let (ok, stderr) = predict(dir, &["--cache", "cache", "old.h5", &song]);
    assert!(!ok);
    assert!(stderr.contains("is not an intact mer file"), "{stderr}");
}

#[test]
fn a_report_whose_stages_are_not_in_the_cache_says_so() {
    let trained = trained();
    let dir = &trained.dir;
    let report = trained.report.display().to_string();
    let (lyrics, _) = demo_songs(dir.root());
    let song = demo_file(dir.root(), &lyrics, "Lyrics", "txt").unwrap();
    let (ok, stderr) = predict(dir, &["--cache", "empty-cache", &report, &song]);
    assert!(!ok);
    assert!(stderr.contains("is not in the cache"), "{stderr}");
    assert!(stderr.contains("predict from a bundle"), "{stderr}");
}

/// A shipped spec over the demo's table layout, one seed and a short schedule, trained, with
/// its report folder.
fn trained_table_run(dir: &TestDir, experiment: &str) -> PathBuf {
    let spec = util::shipped_on_demo_table(
        experiment,
        "\n[schedule]\nepochs = 5\n\n[eval]\nbootstrap = 20\n",
    )
    .replace("folds = 5", "folds = 3");
    dir.write(experiment, &spec);
    let (ok, _, stderr) = output(dir.mer().args(["--cache", "cache", "run", experiment]));
    assert!(ok, "mer run {experiment}: {stderr}");
    dir.report_folder(&stderr)
}

#[test]
fn regression_and_multilabel_runs_test_songs_come_out_as_their_predictions() {
    let dir = TestDir::new();
    dir.write_demo_table(80, 3);
    for experiment in ["demo-va.toml", "demo-tags.toml"] {
        let report = trained_table_run(&dir, experiment);
        let expected = read_csv(&report.join("predictions.csv"));
        let mut text = String::from("id,audio,lyrics,midi\n");
        for row in &expected {
            let id = &row["id"];
            let cell = |folder: &str, extension: &str| {
                let path = dir.path(&format!("data-table/{folder}/{id}.{extension}"));
                match path.is_file() {
                    true => path.display().to_string(),
                    false => String::new(),
                }
            };
            text += &format!(
                "{id},{},{},{}\n",
                cell("audio", "wav"),
                cell("lyrics", "txt"),
                cell("midi", "mid")
            );
        }
        let songs = dir.write(&format!("{experiment}.csv"), text);
        let out = format!("{experiment}.out.csv");
        let (ok, stderr) = predict(
            &dir,
            &[
                "--cache",
                "cache",
                &report.display().to_string(),
                &songs.display().to_string(),
                "--out",
                &out,
            ],
        );
        assert!(ok, "{experiment}: {stderr}");
        let predicted = read_csv(&dir.path(&out));
        // Besides the report's columns: values on their native scales, or the tags called.
        let report_columns: Vec<BTreeMap<String, String>> = (predicted.iter())
            .map(|row| {
                (row.iter())
                    .filter(|(c, _)| !c.starts_with("native_") && c.as_str() != "predicted")
                    .map(|(c, v)| (c.clone(), v.clone()))
                    .collect()
            })
            .collect();
        assert_eq!(report_columns, without_truth(&expected), "{experiment}");
        let threshold = read_csv(&report.join("metrics.csv"))
            .first()
            .and_then(|row| row.get("threshold").map(|t| t.parse::<f64>().unwrap()));
        if threshold.is_some() {
            assert!(
                predicted.iter().any(|row| !row["predicted"].is_empty()),
                "some test song gets a tag: {predicted:?}"
            );
        }
        for row in &predicted {
            match threshold {
                // demo-va.toml rates both targets on [1, 9].
                None => {
                    for target in ["valence", "arousal"] {
                        let unit = util::number(row, &format!("predicted_{target}"));
                        let native = util::number(row, &format!("native_{target}"));
                        assert!((native - (5.0 + 4.0 * unit)).abs() < 1e-12, "{row:?}");
                    }
                }
                Some(threshold) => {
                    let called: Vec<&str> = (row.iter())
                        .filter(|(c, v)| {
                            c.starts_with("p_") && v.parse::<f64>().unwrap() >= threshold
                        })
                        .map(|(c, _)| &c[2..])
                        .collect();
                    let mut listed: Vec<&str> = row["predicted"]
                        .split(';')
                        .filter(|t| !t.is_empty())
                        .collect();
                    listed.sort();
                    assert_eq!(listed, called, "threshold {threshold}: {row:?}");
                }
            }
        }
    }
}

#[test]
fn stacked_late_fusion_comes_out_as_its_predictions_from_its_bundle() {
    let trained = trained();
    let dir = &trained.dir;
    dir.write(
        "late.toml",
        "seeds = [3]\n\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
         [modalities.audio]\n[modalities.lyrics]\n[modalities.midi]\n\n\
         [model]\nfusion = \"late\"\nlate = { training = \"separate\", combine = \"stacking\" }\n\n\
         [split]\nfolds = 3\n\n[schedule]\nepochs = 6\n\n[eval]\nbootstrap = 20\n",
    );
    let (ok, _, stderr) = output(dir.mer().args(["--cache", "cache", "run", "late.toml"]));
    assert!(ok, "mer run failed: {stderr}");
    let report = dir.report_folder(&stderr).display().to_string();
    let (ok, _, stderr) = output(
        dir.mer()
            .args(["--cache", "cache", "export", &report, "--out", "late.h5"]),
    );
    assert!(ok, "{stderr}");
    let expected = read_csv(&Path::new(&report).join("predictions.csv"));
    let ids: Vec<&str> = expected.iter().map(|r| r["id"].as_str()).collect();
    let csv = songs_csv(dir, "late-test.csv", &ids).display().to_string();
    let (ok, stderr) = predict(
        dir,
        &[
            "--cache",
            "late-fresh",
            "late.h5",
            &csv,
            "--out",
            "late-out.csv",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        read_csv(&dir.path("late-out.csv")),
        without_truth(&expected)
    );
}
