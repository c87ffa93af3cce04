//! Training speed and accuracy against PyTorch, in one invocation.
//!
//! Generates the 200-song demo dataset in a temporary folder, extracts real features with
//! `mer::features` (audio spectral, hashed lyrics, symbolic MIDI), and for each seed: splits
//! (80/20 hold-out, 5 stratified folds), standardizes each fold on its training songs, trains
//! the 5 folds of the baseline spec with `mer::model::train_folds`, writes the same fold data
//! for `scripts/train_reference.py` and runs it (PyTorch, the same architecture and recipe).
//! Prints both training times, their ratio and both macro-F1s per seed.
//!
//! With several seeds it ends with paired comparisons of the two implementations over seeds
//! (both means, the mean Rust - PyTorch difference with its 95 % t interval, the paired t-test
//! from `mer::compare`): macro-F1 of the best epochs and of the pooled out-of-fold predictions,
//! the learning curves' means (training loss, validation loss, validation macro-F1), which
//! are far less noisy and show a difference in the recipe first, and the kept and last epochs
//! (early stopping).
//!
//! `cargo bench --bench train`, with environment knobs:
//! - `MER_BENCH_THREADS` (default 2): threads for both rayon and torch; the accuracy
//!   comparison in the README uses 1, the speed figure 2;
//! - `MER_BENCH_SEEDS` (default `1,2,3`): seeds, as a list and/or ranges (`1-20`);
//! - `MER_BENCH_SET` (default none): settings for both sides, `section.field=value` separated
//!   by commas, e.g. `augment.mixup_alpha=0,model.dropout=0` (to compare one augmentation
//!   at a time);
//! - `MER_BENCH_PYTHON` (default `python3`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mer::compare::paired;
use mer::dataset::{self, Manifest};
use mer::demo::{DemoOptions, generate};
use mer::features::FeatureSource;
use mer::modality::{Modality, ModalityMask};
use mer::model::{FoldData, ModalityInput, Targets, TrainSettings, TrainedFold, train_folds};
use mer::spec::{
    AudioSection, AugmentSection, DatasetSection, LabelConflictPolicy, Layout, LyricsSection,
    MidiSection, ModalitySections, ModelSection, ScheduleSection, SplitSection, TaskSection,
};
use mer::split::split_manifest;
use rayon::prelude::*;
use serde_json::json;

/// Raw features of every song, per modality; `None` where the song lacks the modality.
struct RawFeatures {
    modality: Modality,
    width: usize,
    rows: Vec<Option<Vec<f32>>>,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn demo_manifest(dir: &Path) -> Manifest {
    let out = dir.join("demo");
    generate(&DemoOptions {
        out: out.clone(),
        ..DemoOptions::default()
    })
    .expect("demo dataset");
    let section = DatasetSection {
        layout: Layout::MirexLike,
        root: out,
        labels: None,
        id_column: None,
        label_column: None,
        paths: Default::default(),
        on_label_conflict: LabelConflictPolicy::Drop,
        songs_with: None,
    };
    let all: ModalityMask = Modality::ALL.into_iter().collect();
    dataset::load(&section, all).expect("demo loads").manifest
}

fn extract(manifest: &Manifest) -> Vec<RawFeatures> {
    let sections = ModalitySections {
        audio: Some(AudioSection::default()),
        lyrics: Some(LyricsSection::default()),
        midi: Some(MidiSection::default()),
    };
    Modality::ALL
        .into_iter()
        .map(|modality| {
            let [FeatureSource::Extractor(extractor)] = sections.sources(modality)[..] else {
                panic!("the demo spec uses built-in extractors");
            };
            let rows = (manifest.songs.par_iter())
                .map(|song| song.file(modality).and_then(|p| extractor.extract(p).ok()))
                .collect();
            RawFeatures {
                modality,
                width: extractor.feature_names().len(),
                rows,
            }
        })
        .collect()
}

/// Standardizes each feature on the present training rows (std 0 -> 1); absent rows stay 0.
fn standardize(raw: &RawFeatures, train: &[usize]) -> ModalityInput {
    let w = raw.width;
    let fitted: Vec<&Vec<f32>> = train.iter().filter_map(|&r| raw.rows[r].as_ref()).collect();
    let n = fitted.len().max(1) as f64;
    let mut mean = vec![0.0f64; w];
    let mut var = vec![0.0f64; w];
    for row in &fitted {
        for j in 0..w {
            mean[j] += f64::from(row[j]) / n;
        }
    }
    for row in &fitted {
        for j in 0..w {
            var[j] += (f64::from(row[j]) - mean[j]).powi(2) / n;
        }
    }
    let std: Vec<f64> = var
        .iter()
        .map(|v| if v.sqrt() > 1e-12 { v.sqrt() } else { 1.0 })
        .collect();
    let mut features = Vec::with_capacity(raw.rows.len() * w);
    for row in &raw.rows {
        match row {
            Some(values) => {
                features.extend((0..w).map(|j| ((f64::from(values[j]) - mean[j]) / std[j]) as f32))
            }
            None => features.extend(std::iter::repeat_n(0.0, w)),
        }
    }
    ModalityInput {
        modality: raw.modality,
        width: w,
        features,
        present: raw.rows.iter().map(Option::is_some).collect(),
    }
}

fn fold_data(manifest: &Manifest, raw: &[RawFeatures], seed: u64) -> Vec<FoldData> {
    let plan = split_manifest(manifest, &SplitSection::default(), seed).expect("split");
    let labels: Vec<usize> = manifest.songs.iter().map(|s| s.label).collect();
    plan.folds
        .iter()
        .map(|fold| FoldData {
            modalities: raw.iter().map(|r| standardize(r, &fold.train)).collect(),
            targets: Targets::Classes {
                count: manifest.classes.len(),
                labels: labels.clone(),
            },
            train_rows: fold.train.clone(),
            valid_rows: fold.valid.clone(),
        })
        .collect()
}

fn write_f32(path: &Path, values: &[f32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    fs::write(path, bytes).unwrap();
}

/// The fold data and settings as `scripts/train_reference.py` reads them, with fold 0's
/// trained weights and validation probabilities so the script can check that its network
/// computes what ours does (architecture parity, independent of training noise).
fn write_reference_input(
    dir: &Path,
    seed: u64,
    folds: &[FoldData],
    settings: &serde_json::Value,
    fold0: &TrainedFold,
) {
    fs::create_dir_all(dir).unwrap();
    let mut fold_meta = Vec::new();
    for (k, fold) in folds.iter().enumerate() {
        let mut modalities = Vec::new();
        for input in &fold.modalities {
            let file = format!("fold-{k}-{}.f32", input.modality);
            write_f32(&dir.join(&file), &input.features);
            modalities.push(json!({
                "name": input.modality.name(), "width": input.width, "file": file,
                "present": input.present,
            }));
        }
        fold_meta.push(json!({
            "train": fold.train_rows, "valid": fold.valid_rows, "modalities": modalities,
        }));
    }
    let weights: Vec<serde_json::Value> = (fold0.weights.0.iter())
        .map(|t| json!({"name": t.name, "shape": t.shape, "values": t.values}))
        .collect();
    let meta = json!({
        "seed": seed, "classes": folds[0].targets.width(), "labels": class_labels(&folds[0]),
        "folds": fold_meta, "settings": settings,
        "parity": {"weights": weights, "valid_probabilities": fold0.valid_probabilities},
    });
    fs::write(dir.join("meta.json"), serde_json::to_string(&meta).unwrap()).unwrap();
}

/// What the script reports.
struct Reference {
    seconds: f64,
    scores: Scores,
    /// Largest difference between our fold-0 probabilities and PyTorch's with our weights.
    parity: f64,
}

/// One implementation's results for one seed.
#[derive(Debug, Clone, Copy)]
struct Scores {
    /// Mean of the folds' best validation macro-F1.
    fold_f1: f64,
    /// Macro-F1 of the pooled out-of-fold predictions.
    oof_f1: f64,
    /// Means over folds and epochs of the learning curves: training loss, validation loss
    /// and validation macro-F1. Far less noisy than the best epoch's F1, so a difference in
    /// the recipe shows in them first.
    curves: [f64; 3],
    /// Mean over folds of the kept epoch and of the epochs run (early stopping).
    epochs: [f64; 2],
}

impl Scores {
    const NAMES: [&'static str; 7] = [
        "macro-F1, mean of folds' best epochs",
        "macro-F1, pooled out-of-fold",
        "training loss, mean over epochs",
        "validation loss, mean over epochs",
        "validation macro-F1, mean over epochs",
        "best epoch, mean of folds",
        "epochs run, mean of folds",
    ];

    fn all(&self) -> [f64; 7] {
        let [a, b, c] = self.curves;
        let [d, e] = self.epochs;
        [self.fold_f1, self.oof_f1, a, b, c, d, e]
    }
}

/// Mean over folds of the best epoch and of the number of epochs run.
fn epoch_means(best: &[f64], folds: &[Vec<[f64; 3]>]) -> [f64; 2] {
    let n = folds.len().max(1) as f64;
    let run = folds.iter().map(|f| f.len() as f64).sum::<f64>() / n;
    [best.iter().sum::<f64>() / n, run]
}

/// Means over folds and epochs of each column of per-epoch records.
fn curve_means(folds: &[Vec<[f64; 3]>]) -> [f64; 3] {
    let records: Vec<&[f64; 3]> = folds.iter().flatten().collect();
    let n = records.len().max(1) as f64;
    [0, 1, 2].map(|i| records.iter().map(|r| r[i]).sum::<f64>() / n)
}

fn run_reference(dir: &Path, threads: usize) -> Result<Reference, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/train_reference.py");
    let out = Command::new(env_or("MER_BENCH_PYTHON", "python3"))
        .arg(script)
        .arg(dir)
        .env("MER_BENCH_THREADS", threads.to_string())
        .output()
        .map_err(|e| format!("python not runnable: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .last()
            .map_or_else(|| out.status.to_string(), str::to_string);
        return Err(format!("reference failed: {last}"));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().ok_or("no output")?;
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let get = |k: &str| v[k].as_f64().ok_or(format!("no {k} in {line}"));
    let history: Vec<Vec<[f64; 3]>> =
        serde_json::from_value(v["history"].clone()).map_err(|e| format!("history: {e}"))?;
    Ok(Reference {
        seconds: get("train_seconds")?,
        scores: Scores {
            fold_f1: get("mean_fold_f1")?,
            oof_f1: get("oof_f1")?,
            curves: curve_means(&history),
            epochs: epoch_means(
                &serde_json::from_value::<Vec<f64>>(v["best_epochs"].clone())
                    .map_err(|e| format!("best_epochs: {e}"))?,
                &history,
            ),
        },
        parity: get("parity_max_abs_diff")?,
    })
}

/// A short fingerprint of every fold's weights and history, to compare runs bit for bit (e.g.
/// `MER_BENCH_THREADS=1` against `2`).
fn fingerprint(trained: &[TrainedFold]) -> String {
    let mut hasher = blake3::Hasher::new();
    for fold in trained {
        for tensor in &fold.weights.0 {
            hasher.update(tensor.name.as_bytes());
            for v in &tensor.values {
                hasher.update(&v.to_le_bytes());
            }
        }
        for record in &fold.history {
            hasher.update(&record.train_loss.to_le_bytes());
            hasher.update(&record.valid_score.to_le_bytes());
        }
    }
    hasher.finalize().to_hex()[..12].to_string()
}

/// The labels of classification fold data.
fn class_labels(fold: &FoldData) -> &[usize] {
    match &fold.targets {
        Targets::Classes { labels, .. } => labels,
        other => panic!("the bench trains classifiers, found {:?}", other.kind()),
    }
}

/// Our scores, computed as the script computes its own.
fn rust_scores(folds: &[FoldData], trained: &[TrainedFold]) -> Scores {
    let mean = trained
        .iter()
        .map(|t| t.history[t.best_epoch].valid_score)
        .sum::<f64>()
        / trained.len() as f64;
    let classes = folds[0].targets.width();
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    for (fold, t) in folds.iter().zip(trained) {
        for (row, p) in fold
            .valid_rows
            .iter()
            .zip(t.valid_probabilities.chunks(classes))
        {
            truth.push(class_labels(fold)[*row]);
            let best = (0..classes).fold(0, |b, c| if p[c] > p[b] { c } else { b });
            predicted.push(best);
        }
    }
    let history: Vec<Vec<[f64; 3]>> = (trained.iter())
        .map(|t| {
            (t.history.iter())
                .map(|e| [e.train_loss, e.valid_loss, e.valid_score])
                .collect()
        })
        .collect();
    Scores {
        fold_f1: mean,
        oof_f1: macro_f1(&truth, &predicted, classes),
        curves: curve_means(&history),
        epochs: epoch_means(
            &(trained
                .iter()
                .map(|t| t.best_epoch as f64)
                .collect::<Vec<_>>()),
            &history,
        ),
    }
}

fn macro_f1(truth: &[usize], predicted: &[usize], classes: usize) -> f64 {
    let scores: Vec<f64> = (0..classes)
        .filter_map(|c| {
            let tp = truth
                .iter()
                .zip(predicted)
                .filter(|(t, p)| **t == c && **p == c)
                .count();
            let actual = truth.iter().filter(|t| **t == c).count();
            let claimed = predicted.iter().filter(|p| **p == c).count();
            (actual + claimed > 0).then(|| 2.0 * tp as f64 / (actual + claimed) as f64)
        })
        .collect();
    scores.iter().sum::<f64>() / scores.len().max(1) as f64
}

/// `1,2,5-8` -> 1, 2, 5, 6, 7, 8.
fn parse_seeds(text: &str) -> Vec<u64> {
    let number = |s: &str| -> u64 { s.trim().parse().expect("MER_BENCH_SEEDS: numbers") };
    let mut seeds = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((low, high)) => seeds.extend(number(low)..=number(high)),
            None => seeds.push(number(part)),
        }
    }
    seeds
}

/// The default `[model]`, `[augment]` and `[schedule]` sections as JSON, with the
/// `section.field=value` overrides of `overrides` applied (a value is read as JSON, else as
/// a string: `model.norm=batch`).
fn settings_json(overrides: &str) -> serde_json::Value {
    let mut settings = json!({
        "model": serde_json::to_value(ModelSection::default()).unwrap(),
        "augment": serde_json::to_value(AugmentSection::default()).unwrap(),
        "schedule": serde_json::to_value(ScheduleSection::default()).unwrap(),
    });
    for assignment in overrides.split(',').filter(|a| !a.trim().is_empty()) {
        let (key, value) = assignment
            .split_once('=')
            .unwrap_or_else(|| panic!("MER_BENCH_SET: {assignment} is not key=value"));
        let (section, field) = key
            .trim()
            .split_once('.')
            .unwrap_or_else(|| panic!("MER_BENCH_SET: {key} is not section.field"));
        let value = serde_json::from_str(value.trim())
            .unwrap_or_else(|_| serde_json::Value::String(value.trim().to_string()));
        // Inserted, not only replaced: unset options (`schedule.patience`) are absent; a
        // misspelt field fails below, when the sections (deny_unknown_fields) are read back.
        settings
            .get_mut(section)
            .and_then(|s| s.as_object_mut())
            .unwrap_or_else(|| panic!("MER_BENCH_SET: no section {section}"))
            .insert(field.to_string(), value);
    }
    settings
}

/// Prints the paired comparison of one score over seeds.
fn print_paired(what: &str, rust: &[f64], torch: &[f64]) {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    match paired(torch, rust) {
        Ok(c) => println!(
            "{what}: rust {:.4}, pytorch {:.4}, rust - pytorch {:+.4} [95% CI {:+.4}, {:+.4}], paired t p = {:.3}, n = {}",
            mean(rust),
            mean(torch),
            c.mean_difference,
            c.ci_low,
            c.ci_high,
            c.t_p_value,
            c.n
        ),
        Err(why) => println!("{what}: no paired comparison ({why})"),
    }
}

fn main() {
    let threads: usize = env_or("MER_BENCH_THREADS", "2")
        .parse()
        .expect("MER_BENCH_THREADS");
    let seeds = parse_seeds(&env_or("MER_BENCH_SEEDS", "1,2,3"));
    let overrides = env_or("MER_BENCH_SET", "");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let manifest = pool.install(|| demo_manifest(dir.path()));
    let raw = pool.install(|| extract(&manifest));
    let widths: Vec<String> = raw
        .iter()
        .map(|r| format!("{} {}", r.modality, r.width))
        .collect();
    println!(
        "demo: {} songs, features {} (generated and extracted in {:.1} s), {threads} threads",
        manifest.songs.len(),
        widths.join(", "),
        started.elapsed().as_secs_f64()
    );

    // Both sides read the same JSON: what Rust trains with is what the script is told.
    let settings_json = settings_json(&overrides);
    let section = |name: &str| settings_json[name].clone();
    let model: ModelSection = serde_json::from_value(section("model")).expect("[model]");
    let augment: AugmentSection = serde_json::from_value(section("augment")).expect("[augment]");
    let schedule: ScheduleSection =
        serde_json::from_value(section("schedule")).expect("[schedule]");
    let settings = TrainSettings {
        model: &model,
        augment: &augment,
        schedule: &schedule,
        task: &TaskSection::default(),
    };
    if !overrides.is_empty() {
        println!("settings changed from the defaults: {overrides}");
    }

    println!(
        "{:>5} {:>9} {:>10} {:>7} {:>21} {:>21}  {:<12}",
        "seed",
        "rust_s",
        "pytorch_s",
        "ratio",
        "rust f1 fold/oof",
        "pytorch f1 fold/oof",
        "rust weights"
    );
    let (mut rust_total, mut torch_total, mut parity) = (0.0, 0.0, 0.0f64);
    // Per seed, for the paired comparison: (ours, PyTorch's).
    let mut scores: Vec<(Scores, Scores)> = Vec::new();
    for &seed in &seeds {
        let folds = fold_data(&manifest, &raw, seed);
        let started = Instant::now();
        let trained = pool
            .install(|| train_folds(&folds, &settings, seed))
            .expect("training");
        let rust_s = started.elapsed().as_secs_f64();
        rust_total += rust_s;
        let ours = rust_scores(&folds, &trained);
        let (rust_mean, rust_oof) = (ours.fold_f1, ours.oof_f1);
        let input: PathBuf = dir.path().join(format!("reference-seed-{seed}"));
        write_reference_input(&input, seed, &folds, &settings_json, &trained[0]);
        match run_reference(&input, threads) {
            Ok(reference) => {
                let theirs = reference.scores;
                let (torch_s, torch_mean, torch_oof) =
                    (reference.seconds, theirs.fold_f1, theirs.oof_f1);
                torch_total += torch_s;
                parity = parity.max(reference.parity);
                scores.push((ours, theirs));
                println!(
                    "{seed:>5} {rust_s:>9.3} {torch_s:>10.3} {:>6.1}x {rust_mean:>10.3} {rust_oof:>10.3} {torch_mean:>10.3} {torch_oof:>10.3}  {}",
                    torch_s / rust_s,
                    fingerprint(&trained)
                );
            }
            Err(why) => {
                println!(
                    "{seed:>5} {rust_s:>9.3} {:>10} {:>7} {rust_mean:>10.3} {rust_oof:>10.3} {:>21}  {}   (PyTorch half skipped: {why})",
                    "-",
                    "-",
                    "-",
                    fingerprint(&trained)
                );
            }
        }
    }
    if torch_total > 0.0 {
        println!(
            "total: rust {rust_total:.3} s, pytorch {torch_total:.3} s, ratio {:.1}x",
            torch_total / rust_total
        );
        println!(
            "parity: PyTorch with mer's fold-0 weights gives mer's validation probabilities within {parity:.2e}"
        );
        for (i, what) in Scores::NAMES.iter().enumerate() {
            let rust: Vec<f64> = scores.iter().map(|s| s.0.all()[i]).collect();
            let torch: Vec<f64> = scores.iter().map(|s| s.1.all()[i]).collect();
            print_paired(what, &rust, &torch);
        }
    } else {
        println!("total: rust {rust_total:.3} s (PyTorch not run: install torch for python3)");
    }
}
