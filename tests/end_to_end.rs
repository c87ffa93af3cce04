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
