//! The report writer on synthetic results: the CSV files parse and agree with each other
//! (predictions.csv recomputes metrics.csv, summary.csv is the mean over seeds), the figures
//! exist, and index.html links only files that exist.

mod util;

use approx::assert_abs_diff_eq;
use mer::cache::StageKey;
use mer::eval::{bootstrap_intervals, score};
use mer::modality::{Modality, ModalityMask};
use mer::report::write_results;
use mer::results::{
    Decision, EpochPoint, FoldCurve, Model, ModelScore, Prediction, RunRecord, RunResults,
    SeedResults, SongGroup, Split, StageRecord,
};
use mer::rng::RandomStream;
use util::{TestDir, number, read_csv};

const CLASSES: usize = 3;

/// Probabilities for `n` songs of a model that is right about `skill` of the time.
fn model(seed: u64, name: &str, n: usize, skill: f64) -> (Vec<usize>, Vec<f32>) {
    let mut stream = RandomStream::new(seed, name);
    let truth: Vec<usize> = (0..n).map(|i| i % CLASSES).collect();
    let probabilities = truth
        .iter()
        .flat_map(|&t| {
            let guess = if stream.chance(skill) {
                t
            } else {
                stream.below(CLASSES)
            };
            let mut row = [0.1f32; CLASSES];
            row[guess] = 0.8;
            row
        })
        .collect();
    (truth, probabilities)
}

fn seed_results(seed: u64) -> SeedResults {
    let ids: Vec<String> = (0..30).map(|i| format!("song{i:02}")).collect();
    let mut scores = Vec::new();
    let mut predictions = Vec::new();
    let models = [
        ("fold 0", Model::Fold(0), 0.4),
        ("fold 1", Model::Fold(1), 0.5),
        ("ensemble", Model::Ensemble, 0.6),
    ];
    for (name, model_name, skill) in models {
        let (truth, probabilities) = model(seed, name, ids.len(), skill);
        let mut stream = RandomStream::new(seed, "bootstrap");
        let intervals = bootstrap_intervals(&truth, &probabilities, CLASSES, 200, &mut stream);
        scores.push(ModelScore {
            model: model_name,
            split: Split::Test,
            group: SongGroup::All,
            metrics: score(&truth, &probabilities, CLASSES),
            intervals: Some(intervals),
        });
        if name == "ensemble" {
            predictions = ids
                .iter()
                .zip(&truth)
                .zip(probabilities.chunks(CLASSES))
                .enumerate()
                .map(|(i, ((id, &t), p))| Prediction {
                    id: id.clone(),
                    truth: t,
                    probabilities: p.to_vec(),
                    modalities: if i % 2 == 0 {
                        [Modality::Audio, Modality::Lyrics].into_iter().collect()
                    } else {
                        [Modality::Audio].into_iter().collect()
                    },
                })
                .collect();
        }
    }
    let curves = (0..2)
        .map(|fold| FoldCurve {
            fold,
            best_epoch: 3,
            epochs: (1..=5)
                .map(|epoch| EpochPoint {
                    epoch,
                    train_loss: 1.0 / epoch as f64,
                    valid_loss: 1.1,
                    valid_accuracy: 0.4,
                    valid_macro_f1: 0.35,
                    lr: 1e-3,
                })
                .collect(),
        })
        .collect();
    SeedResults {
        modality_weights: None,
        seed,
        scores,
        curves,
        headline: Model::Ensemble,
        predictions,
    }
}

fn record(error: Option<&str>) -> RunRecord {
    RunRecord {
        experiment: "synthetic <exp>".to_string(),
        spec_hash: "0123abcd".to_string(),
        mer_version: "0.1.0".to_string(),
        host: "test".to_string(),
        seeds: vec![1, 2],
        started: "2026-11-24T00:00:00Z".to_string(),
        finished: "2026-11-24T00:00:01Z".to_string(),
        dry_run: false,
        stages: vec![StageRecord {
            instance: "extract.audio".to_string(),
            stage: "extract.audio".to_string(),
            key: StageKey([7; 32]),
            decision: Decision::Miss,
            reasons: vec!["no entry ever".to_string()],
            seconds: Some(0.5),
        }],
        error: error.map(str::to_string),
    }
}

fn results() -> RunResults {
    RunResults {
        classes: vec!["calm".into(), "happy".into(), "tense".into()],
        modalities: [Modality::Audio, Modality::Lyrics]
            .into_iter()
            .collect::<ModalityMask>(),
        seeds: vec![seed_results(1), seed_results(2)],
    }
}

#[test]
fn predictions_csv_recomputes_metrics_csv() {
    let dir = TestDir::new();
    let results = results();
    write_results(dir.root(), &record(None), Some(&results)).unwrap();

    let metrics = read_csv(&dir.path("metrics.csv"));
    assert_eq!(metrics.len(), 2 * 3, "one row per seed x model");
    let predictions = read_csv(&dir.path("predictions.csv"));
    assert_eq!(predictions.len(), 2 * 30);
    for seed in ["1", "2"] {
        let rows: Vec<_> = predictions.iter().filter(|r| r["seed"] == seed).collect();
        let truth: Vec<usize> = rows
            .iter()
            .map(|r| {
                results
                    .classes
                    .iter()
                    .position(|c| *c == r["true"])
                    .unwrap()
            })
            .collect();
        let probabilities: Vec<f32> = rows
            .iter()
            .flat_map(|r| {
                results
                    .classes
                    .iter()
                    .map(|c| number(r, &format!("p[{c}]")) as f32)
            })
            .collect();
        let recomputed = score(&truth, &probabilities, CLASSES);
        let row = metrics
            .iter()
            .find(|r| r["seed"] == seed && r["model"] == "ensemble" && r["split"] == "test")
            .unwrap();
        assert_eq!(number(row, "accuracy"), recomputed.accuracy);
        assert_eq!(number(row, "macro_f1"), recomputed.macro_f1);
        assert_eq!(number(row, "log_loss"), recomputed.log_loss);
        assert!(number(row, "macro_f1_low") <= recomputed.macro_f1);
        assert!(recomputed.macro_f1 <= number(row, "macro_f1_high"));
        for r in &rows {
            assert!(
                r["modalities"] == "audio+lyrics" || r["modalities"] == "audio",
                "{r:?}"
            );
        }
    }

    let summary = read_csv(&dir.path("summary.csv"));
    let ensemble = summary.iter().find(|r| r["model"] == "ensemble").unwrap();
    let accuracies: Vec<f64> = metrics
        .iter()
        .filter(|r| r["model"] == "ensemble")
        .map(|r| number(r, "accuracy"))
        .collect();
    let mean = accuracies.iter().sum::<f64>() / 2.0;
    assert_abs_diff_eq!(number(ensemble, "accuracy_mean"), mean, epsilon = 1e-12);
    // The sample standard deviation (n - 1).
    let std = ((accuracies[0] - mean).powi(2) + (accuracies[1] - mean).powi(2)).sqrt();
    assert_abs_diff_eq!(number(ensemble, "accuracy_std"), std, epsilon = 1e-12);

    let confusion = read_csv(&dir.path("confusion.csv"));
    assert_eq!(confusion.len(), 2 * CLASSES * CLASSES);
    let per_class = read_csv(&dir.path("per_class.csv"));
    assert_eq!(per_class.len(), 2 * 3 * CLASSES);
    let history = read_csv(&dir.path("history.csv"));
    assert_eq!(history.len(), 2 * 2 * 5);
    assert_eq!(
        history.iter().filter(|r| r["best"] == "true").count(),
        2 * 2
    );
}

/// Every `src="..."` and `href="..."` of the page, which must all be files in the folder.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for piece in html.split(attr).skip(1) {
            out.push(piece.split('"').next().unwrap().to_string());
        }
    }
    out
}

#[test]
fn index_html_links_only_files_that_exist_and_escapes_text() {
    let dir = TestDir::new();
    std::fs::write(dir.path("spec.toml"), "").unwrap();
    std::fs::write(dir.path("run.json"), "{}").unwrap();
    write_results(dir.root(), &record(None), Some(&results())).unwrap();
    let html = std::fs::read_to_string(dir.path("index.html")).unwrap();
    let links = links(&html);
    assert!(
        links.iter().any(|l| l.ends_with(".svg")),
        "figures shown: {links:?}"
    );
    assert!(links.iter().any(|l| l == "metrics.csv"));
    for link in &links {
        assert!(!link.contains("://"), "no external asset: {link}");
        assert!(dir.path(link).is_file(), "index.html links missing {link}");
    }
    for figure in [
        "learning_curves",
        "confusion",
        "calibration",
        "per_class_f1",
    ] {
        for ext in ["png", "svg"] {
            let name = format!("{figure}-seed2.{ext}");
            assert!(dir.path(&name).is_file(), "{name} written");
        }
    }
    assert!(html.contains("synthetic &lt;exp&gt;"), "text is escaped");
    assert!(html.contains("no entry ever"), "stage decisions shown");
}

#[test]
fn a_failed_run_still_gets_an_index_that_says_what_failed() {
    let dir = TestDir::new();
    write_results(
        dir.root(),
        &record(Some("train[2]@1 failed: out of memory")),
        None,
    )
    .unwrap();
    let html = std::fs::read_to_string(dir.path("index.html")).unwrap();
    assert!(html.contains("The run failed"));
    assert!(html.contains("train[2]@1 failed: out of memory"));
    assert!(!dir.path("metrics.csv").exists());
}
