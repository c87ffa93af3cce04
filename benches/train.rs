//! Training speed and accuracy against PyTorch, in one invocation.
//!
//! Generates the 200-song demo dataset in a temporary folder, extracts real features with
//! `mer::features` (audio spectral, hashed lyrics, symbolic MIDI), and for each seed: splits
//! (80/20 hold-out, 5 stratified folds), standardizes each fold on its training songs, trains
//! the 5 folds of the baseline spec with `mer::model::train_folds`, writes the same fold data
//! for `scripts/train_reference.py` and runs it (PyTorch, the same architecture and recipe).
//! Prints both training times, their ratio and both macro-F1s per seed.
//!
//! `cargo bench --bench train` (threads: `MER_BENCH_THREADS`, default 2, for both rayon and
//! torch; seeds: `MER_BENCH_SEEDS`, default `1,2,3`; `MER_BENCH_PYTHON`, default `python3`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mer::dataset::{self, Manifest};
use mer::demo::{DemoOptions, generate};
use mer::features::Extractor;
use mer::modality::{Modality, ModalityMask};
use mer::model::{FoldData, ModalityInput, TrainSettings, TrainedFold, train_folds};
use mer::spec::{
    AudioSection, AugmentSection, DatasetSection, LabelConflictPolicy, Layout, LyricsSection,
    MidiSection, ModalitySections, ModelSection, ScheduleSection, SplitSection,
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
            let extractor = Extractor::for_modality(modality, &sections)
                .expect("the demo spec uses built-in extractors");
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
            classes: manifest.classes.len(),
            modalities: raw.iter().map(|r| standardize(r, &fold.train)).collect(),
            labels: labels.clone(),
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
        "seed": seed, "classes": folds[0].classes, "labels": folds[0].labels,
        "folds": fold_meta, "settings": settings,
        "parity": {"weights": weights, "valid_probabilities": fold0.valid_probabilities},
    });
    fs::write(dir.join("meta.json"), serde_json::to_string(&meta).unwrap()).unwrap();
}

/// What the script reports.
struct Reference {
    seconds: f64,
    /// Mean of the folds' best validation macro-F1.
    mean_f1: f64,
    /// Macro-F1 of the pooled out-of-fold predictions.
    oof_f1: f64,
    /// Largest difference between our fold-0 probabilities and PyTorch's with our weights.
    parity: f64,
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
    Ok(Reference {
        seconds: get("train_seconds")?,
        mean_f1: get("mean_fold_f1")?,
        oof_f1: get("oof_f1")?,
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
            hasher.update(&record.valid_macro_f1.to_le_bytes());
        }
    }
    hasher.finalize().to_hex()[..12].to_string()
}

/// Mean of the folds' best validation macro-F1, and macro-F1 of the pooled out-of-fold
/// predictions, both as the script computes them.
fn rust_scores(folds: &[FoldData], trained: &[TrainedFold]) -> (f64, f64) {
    let mean = trained
        .iter()
        .map(|t| t.history[t.best_epoch].valid_macro_f1)
        .sum::<f64>()
        / trained.len() as f64;
    let classes = folds[0].classes;
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    for (fold, t) in folds.iter().zip(trained) {
        for (row, p) in fold
            .valid_rows
            .iter()
            .zip(t.valid_probabilities.chunks(classes))
        {
            truth.push(fold.labels[*row]);
            let best = (0..classes).fold(0, |b, c| if p[c] > p[b] { c } else { b });
            predicted.push(best);
        }
    }
    (mean, macro_f1(&truth, &predicted, classes))
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

fn main() {
    let threads: usize = env_or("MER_BENCH_THREADS", "2")
        .parse()
        .expect("MER_BENCH_THREADS");
    let seeds: Vec<u64> = env_or("MER_BENCH_SEEDS", "1,2,3")
        .split(',')
        .map(|s| s.trim().parse().expect("MER_BENCH_SEEDS"))
        .collect();
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

    let (model, augment, schedule) = (
        ModelSection::default(),
        AugmentSection::default(),
        ScheduleSection::default(),
    );
    let settings = TrainSettings {
        model: &model,
        augment: &augment,
        schedule: &schedule,
    };
    let settings_json = json!({
        "model": model_json(&model), "augment": serde_json::to_value(&augment).unwrap(),
        "schedule": serde_json::to_value(&schedule).unwrap(),
    });

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
    for &seed in &seeds {
        let folds = fold_data(&manifest, &raw, seed);
        let started = Instant::now();
        let trained = pool
            .install(|| train_folds(&folds, &settings, seed))
            .expect("training");
        let rust_s = started.elapsed().as_secs_f64();
        rust_total += rust_s;
        let (rust_mean, rust_oof) = rust_scores(&folds, &trained);
        let input: PathBuf = dir.path().join(format!("reference-seed-{seed}"));
        write_reference_input(&input, seed, &folds, &settings_json, &trained[0]);
        match run_reference(&input, threads) {
            Ok(reference) => {
                let (torch_s, torch_mean, torch_oof) =
                    (reference.seconds, reference.mean_f1, reference.oof_f1);
                torch_total += torch_s;
                parity = parity.max(reference.parity);
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
    } else {
        println!("total: rust {rust_total:.3} s (PyTorch not run: install torch for python3)");
    }
}

/// The `[model]` section as the script reads it (enum names as in the spec).
fn model_json(model: &ModelSection) -> serde_json::Value {
    serde_json::to_value(model).unwrap()
}
