//! `mer compare` through the binary: report folders written here with chosen scores (so every
//! expected statistic is computed in the test, by formula), the split check and its reasons,
//! the spec differences, sweep folders, the refusals, and one real end-to-end comparison of two
//! small demo runs.

mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mer::cache::StageKey;
use mer::results::{Decision, RunRecord, StageRecord};
use util::{TestDir, number, output, read_csv, write_file};

const CLASSES: [&str; 2] = ["calm", "tense"];
const TEST_SONGS: usize = 10;

/// A report folder as `mer run` writes it, with chosen scores.
#[derive(Clone)]
struct Report {
    experiment: String,
    seeds: Vec<u64>,
    /// Test macro-F1 of `fold-k`, per seed then fold.
    folds: Vec<Vec<f64>>,
    /// Test macro-F1 of `ensemble+tta` per seed.
    headline: Vec<f64>,
    /// Per seed: which of the test songs the headline predicts right.
    right: Vec<Vec<bool>>,
    /// Songs of the whole run (test plus out-of-fold).
    songs: usize,
    /// Runs with the same value have the same split keys and test songs.
    split: u8,
    /// The resolved spec.
    spec: String,
    dry_run: bool,
    error: Option<String>,
}

const SPEC: &str = "[dataset]\nlayout = \"mirex-like\"\nroot = \"/data/set\"\n\n\
    [modalities.audio]\nn_mels = 128\n\n[modalities.lyrics]\nhash_dims = 2048\n\n\
    [schedule]\nepochs = 60\nlr = 0.001\n\n[split]\ntest_fraction = 0.2\nfolds = 3\n";

impl Report {
    fn new(experiment: &str, folds: Vec<Vec<f64>>, headline: Vec<f64>) -> Report {
        let seeds: Vec<u64> = (1..=headline.len() as u64).collect();
        Report {
            experiment: experiment.to_string(),
            right: seeds.iter().map(|_| vec![true; TEST_SONGS]).collect(),
            seeds,
            folds,
            headline,
            songs: 50,
            split: 1,
            spec: SPEC.to_string(),
            dry_run: false,
            error: None,
        }
    }

    fn test_ids(&self, seed: u64) -> Vec<String> {
        (0..TEST_SONGS)
            .map(|i| format!("{}-{seed}-{i:03}", self.split))
            .collect()
    }

    /// Writes the folder `root/name` and returns it.
    fn write(&self, root: &Path, name: &str) -> PathBuf {
        let folder = root.join(name);
        let stages = self
            .seeds
            .iter()
            .map(|&seed| {
                let mut key = [self.split; 32];
                key[0] = seed as u8;
                StageRecord {
                    instance: format!("split@{seed}"),
                    stage: "split".to_string(),
                    key: StageKey(key),
                    decision: Decision::Hit,
                    reasons: Vec::new(),
                    seconds: None,
                }
            })
            .collect();
        let record = RunRecord {
            experiment: self.experiment.clone(),
            spec_hash: format!("{:08x}", fxhash(&self.spec)),
            mer_version: "0.1.0".to_string(),
            host: "test".to_string(),
            seeds: self.seeds.clone(),
            started: "2026-11-24T00:00:00.000Z".to_string(),
            finished: "2026-11-24T00:00:01.000Z".to_string(),
            dry_run: self.dry_run,
            stages,
            error: self.error.clone(),
        };
        write_file(
            &folder,
            "run.json",
            serde_json::to_string_pretty(&record).unwrap(),
        );
        let seeds = self.seeds.iter().map(u64::to_string).collect::<Vec<_>>();
        write_file(
            &folder,
            "spec.toml",
            format!(
                "name = \"{}\"\nseeds = [{}]\n\n{}",
                self.experiment,
                seeds.join(", "),
                self.spec
            ),
        );
        write_file(&folder, "metrics.csv", self.metrics_csv());
        write_file(&folder, "per_class.csv", self.per_class_csv());
        write_file(&folder, "history.csv", self.history_csv());
        write_file(&folder, "predictions.csv", self.predictions_csv());
        folder
    }

    fn metrics_csv(&self) -> String {
        let mut text = String::from(
            "seed,model,split,group,accuracy,balanced_accuracy,macro_f1,weighted_f1,log_loss,brier,ece,songs,accuracy_low,accuracy_high,macro_f1_low,macro_f1_high\n",
        );
        let row = |seed: u64, model: &str, split: &str, f1: f64, songs: usize| {
            format!(
                "{seed},{model},{split},all,{},{f1},{f1},{f1},0.9,0.5,0.1,{songs},,,,\n",
                f1 + 0.05
            )
        };
        for (s, &seed) in self.seeds.iter().enumerate() {
            for (k, &f1) in self.folds[s].iter().enumerate() {
                text += &row(seed, &format!("fold-{k}"), "test", f1, TEST_SONGS);
            }
            text += &row(seed, "ensemble+tta", "test", self.headline[s], TEST_SONGS);
            text += &row(seed, "out-of-fold", "cv", 0.5, self.songs - TEST_SONGS);
        }
        text
    }

    fn per_class_csv(&self) -> String {
        let mut text = String::from("seed,model,split,group,class,precision,recall,f1,support\n");
        for (s, &seed) in self.seeds.iter().enumerate() {
            for (c, class) in CLASSES.iter().enumerate() {
                let f1 = self.headline[s] + 0.1 * c as f64;
                text += &format!("{seed},ensemble+tta,test,all,{class},{f1},{f1},{f1},5\n");
            }
        }
        text
    }

    fn history_csv(&self) -> String {
        let mut text = String::from(
            "seed,fold,epoch,train_loss,valid_loss,valid_accuracy,valid_macro_f1,lr,best\n",
        );
        for &seed in &self.seeds {
            for fold in 0..self.folds[0].len() {
                for epoch in 1..=3 {
                    let f1 = 0.3 + 0.1 * epoch as f64;
                    text += &format!("{seed},{fold},{epoch},1.0,1.1,{f1},{f1},0.001,false\n");
                }
            }
        }
        text
    }

    fn predictions_csv(&self) -> String {
        let mut text = String::from("seed,model,id,true,predicted,p[calm],p[tense],modalities\n");
        for (s, &seed) in self.seeds.iter().enumerate() {
            for (i, id) in self.test_ids(seed).iter().enumerate() {
                let truth = i % 2;
                let predicted = if self.right[s][i] { truth } else { 1 - truth };
                let p = if predicted == 0 {
                    [0.9, 0.1]
                } else {
                    [0.1, 0.9]
                };
                text += &format!(
                    "{seed},ensemble+tta,{id},{},{},{},{},audio\n",
                    CLASSES[truth], CLASSES[predicted], p[0], p[1]
                );
            }
        }
        text
    }
}

/// A stand-in spec hash: different specs get different hashes.
fn fxhash(text: &str) -> u32 {
    text.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

/// A CSV file as rows of column -> cell.
/// The row of `paired.csv` for `run` and `unit`.
fn paired_row<'a>(
    rows: &'a [BTreeMap<String, String>],
    run: &str,
    unit: &str,
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["run"] == run && r["unit"] == unit)
        .unwrap_or_else(|| panic!("no {run}/{unit} row in {rows:#?}"))
}

fn close(a: f64, b: f64, tolerance: f64, what: &str) {
    assert!((a - b).abs() <= tolerance, "{what}: {a} vs {b}");
}

/// Runs `mer compare ARGS --out out` in `dir`; returns (stdout, paired.csv rows).
fn compare_ok(dir: &TestDir, args: &[&str]) -> (String, Vec<BTreeMap<String, String>>) {
    let (ok, stdout, stderr) = output(dir.mer().arg("compare").args(args).args(["--out", "out"]));
    assert!(ok, "mer compare failed: {stderr}");
    (stdout, read_csv(&dir.path("out/paired.csv")))
}

fn compare_fails(dir: &TestDir, args: &[&str]) -> String {
    let (ok, stdout, stderr) = output(dir.mer().arg("compare").args(args));
    assert!(!ok, "mer compare should have failed:\n{stdout}");
    stderr
}

/// Mean, sample standard deviation and standard error of `values`.
fn moments(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (mean, sd, sd / n.sqrt())
}

/// Two-sided p of Student's t with 5 degrees of freedom, by its closed form for odd df:
/// F(t) = 1/2 + (θ + sin θ cos θ (1 + 2/3 cos² θ)) / π with θ = atan(t / √5).
fn t5_two_sided(t: f64) -> f64 {
    let theta = (t.abs() / 5f64.sqrt()).atan();
    let (s, c) = theta.sin_cos();
    1.0 - 2.0 / std::f64::consts::PI * (theta + s * c * (1.0 + 2.0 / 3.0 * c * c))
}

const BASE_FOLDS: [[f64; 3]; 2] = [[0.50, 0.55, 0.60], [0.52, 0.58, 0.54]];
const BASE_HEADLINE: [f64; 2] = [0.60, 0.62];

fn baseline() -> Report {
    Report::new(
        "base",
        BASE_FOLDS.iter().map(|f| f.to_vec()).collect(),
        BASE_HEADLINE.to_vec(),
    )
}

/// The baseline's scores plus `fold_gain` (per seed, per fold) and `headline_gain` per seed.
fn better(name: &str, fold_gain: [[f64; 3]; 2], headline_gain: [f64; 2]) -> Report {
    let folds = BASE_FOLDS
        .iter()
        .zip(fold_gain)
        .map(|(f, g)| f.iter().zip(g).map(|(a, b)| a + b).collect())
        .collect();
    let headline = BASE_HEADLINE
        .iter()
        .zip(headline_gain)
        .map(|(a, b)| a + b)
        .collect();
    Report::new(name, folds, headline)
}

#[test]
fn paired_statistics_are_the_hand_computed_tests_over_seed_fold_and_seed_pairs() {
    let dir = TestDir::new();
    let gains = [[0.02, 0.05, -0.01], [0.04, 0.03, 0.00]];
    baseline().write(dir.root(), "base");
    better("plus", gains, [0.05, 0.02]).write(dir.root(), "plus");
    // A second run, worse everywhere, for Holm's correction across the two.
    better("minus", [[-0.03; 3]; 2], [-0.01, -0.04]).write(dir.root(), "minus");
    let (stdout, rows) = compare_ok(&dir, &["base", "plus", "minus"]);
    assert!(stdout.contains("base (baseline)"), "{stdout}");

    // (seed, fold) pairs: n = 2 seeds x 3 folds; t = mean / (sd / sqrt n), df = 5.
    let differences: Vec<f64> = gains.iter().flatten().copied().collect();
    let (mean, _, se) = moments(&differences);
    let row = paired_row(&rows, "plus", "seed-fold");
    assert_eq!(row["pairs"], "6");
    close(
        number(row, "mean_difference"),
        mean,
        1e-12,
        "mean difference",
    );
    close(number(row, "t_statistic"), mean / se, 1e-9, "t");
    close(
        number(row, "t_p"),
        t5_two_sided(mean / se),
        1e-9,
        "t-test p",
    );
    // t_{0.975, 5} from a table (SciPy: t.ppf(0.975, 5)).
    let half = 2.570_581_835_636_314_6 * se;
    close(number(row, "ci_low"), mean - half, 1e-12, "CI low");
    close(number(row, "ci_high"), mean + half, 1e-12, "CI high");

    // Seed pairs of the headline: differences 0.05 and 0.02, df = 1, where the t
    // distribution is Cauchy: p = 1 - 2/π atan|t|, t_{0.975} = tan(0.475 π).
    let (mean, _, se) = moments(&[0.05, 0.02]);
    let row = paired_row(&rows, "plus", "seed");
    assert_eq!(
        (row["pairs"].as_str(), row["model"].as_str()),
        ("2", "ensemble+tta")
    );
    close(
        number(row, "mean_difference"),
        0.035,
        1e-12,
        "seed mean difference",
    );
    let t = mean / se;
    close(number(row, "t_statistic"), t, 1e-9, "seed t");
    close(
        number(row, "t_p"),
        1.0 - 2.0 / std::f64::consts::PI * t.atan(),
        1e-9,
        "seed p",
    );
    let half = (0.475 * std::f64::consts::PI).tan() * se;
    close(number(row, "ci_high"), mean + half, 1e-8, "seed CI");

    // Holm over the two compared runs, per unit and test: the smaller p doubled, the larger
    // kept at least as large.
    for (unit, test) in [
        ("seed-fold", "t_p"),
        ("seed-fold", "wilcoxon_p"),
        ("seed", "t_p"),
    ] {
        let p = [
            number(paired_row(&rows, "plus", unit), test),
            number(paired_row(&rows, "minus", unit), test),
        ];
        let (low, high) = if p[0] <= p[1] { (0, 1) } else { (1, 0) };
        let mut expected = [0.0; 2];
        expected[low] = (2.0 * p[low]).min(1.0);
        expected[high] = p[high].max(expected[low]).min(1.0);
        for (run, want) in ["plus", "minus"].iter().zip(expected) {
            let got = number(paired_row(&rows, run, unit), &format!("{test}_holm"));
            close(got, want, 1e-12, &format!("{run} {unit} {test} Holm"));
        }
    }

    // Every pair is written out: (seed, fold) pairs for the fold models.
    let pairs = read_csv(&dir.path("out/pairs.csv"));
    let mut fold_pairs: Vec<(String, String, f64)> = pairs
        .iter()
        .filter(|r| r["run"] == "plus" && r["unit"] == "seed-fold")
        .map(|r| {
            (
                r["seed"].clone(),
                r["fold"].clone(),
                number(r, "difference"),
            )
        })
        .collect();
    fold_pairs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let expected: Vec<(String, String, f64)> = [1, 2]
        .iter()
        .flat_map(|&seed| (0..3).map(move |fold| (seed, fold)))
        .map(|(seed, fold)| (seed.to_string(), fold.to_string(), gains[seed - 1][fold]))
        .collect();
    assert_eq!(fold_pairs.len(), expected.len());
    for (got, want) in fold_pairs.iter().zip(&expected) {
        assert_eq!((&got.0, &got.1), (&want.0, &want.1));
        close(got.2, want.2, 1e-12, "pair difference");
    }
}

#[test]
fn the_song_bootstrap_pairs_the_same_songs_and_works_with_one_seed() {
    let dir = TestDir::new();
    let mut base = Report::new("base", vec![vec![0.5, 0.6, 0.7]], vec![0.6]);
    let mut other = Report::new("other", vec![vec![0.6, 0.6, 0.8]], vec![0.7]);
    // Accuracy 2/10 against 10/10 on the same ten songs.
    base.right = vec![(0..TEST_SONGS).map(|i| i < 2).collect()];
    other.right = vec![vec![true; TEST_SONGS]];
    base.write(dir.root(), "base");
    other.write(dir.root(), "other");
    let (stdout, rows) = compare_ok(&dir, &["base", "other", "--metric", "accuracy"]);

    let row = paired_row(&rows, "other", "song-bootstrap");
    close(
        number(row, "mean_difference"),
        0.8,
        1e-12,
        "observed difference",
    );
    // A resample's difference is the share of the 8 improved songs among 10 draws.
    assert!(
        number(row, "ci_low") > 0.3 && number(row, "ci_high") <= 1.0,
        "{row:?}"
    );
    assert!(number(row, "bootstrap_p") < 0.01, "{row:?}");
    assert_eq!(row["bootstrap_resamples"], "2000");
    // One seed: a test over seeds is not possible, and says so instead of printing numbers.
    let seed = paired_row(&rows, "other", "seed");
    assert!(seed["t_p"].is_empty(), "{seed:?}");
    assert!(
        seed["note"].contains("not possible with 1 pair"),
        "{seed:?}"
    );
    assert!(
        stdout.contains("other, seed: not possible with 1 pair"),
        "{stdout}"
    );

    // The same folders give the same numbers.
    let (_, again) = compare_ok(&dir, &["base", "other", "--metric", "accuracy"]);
    assert_eq!(rows, again);
}

#[test]
fn runs_whose_splits_differ_are_refused_with_the_reason() {
    let dir = TestDir::new();
    baseline().write(dir.root(), "base");
    let gains = [[0.01; 3]; 2];

    let mut fewer = better("fewer-songs", gains, [0.0; 2]);
    (fewer.split, fewer.songs) = (2, 42);
    fewer.write(dir.root(), "fewer-songs");

    let mut folds = better("more-folds", gains, [0.0; 2]);
    folds.split = 3;
    folds.spec = SPEC.replace("folds = 3", "folds = 5");
    folds.write(dir.root(), "more-folds");

    let mut seeds = better("other-seeds", gains, [0.0; 2]);
    seeds.seeds = vec![7, 8];
    seeds.write(dir.root(), "other-seeds");

    // Equal split keys but other test songs: a folder that does not match its run.json.
    let tampered = better("tampered", gains, [0.0; 2]);
    tampered.write(dir.root(), "tampered");
    let predictions = dir.path("tampered/predictions.csv");
    let text = std::fs::read_to_string(&predictions).unwrap();
    std::fs::write(&predictions, text.replace("1-1-000", "9-9-999")).unwrap();

    better("same", gains, [0.0; 2]).write(dir.root(), "same");

    let (stdout, rows) = compare_ok(
        &dir,
        &[
            "base",
            "fewer-songs",
            "more-folds",
            "other-seeds",
            "tampered",
            "same",
        ],
    );
    let note = |run: &str| {
        rows.iter()
            .find(|r| r["run"] == run && r["unit"].is_empty())
            .map(|r| r["note"].clone())
            .unwrap_or_else(|| panic!("{run} was not refused: {rows:#?}"))
    };
    assert_eq!(
        note("fewer-songs"),
        "different song sets: 50 vs 42 songs (baseline vs this run)"
    );
    assert_eq!(
        note("more-folds"),
        "different split settings: split.folds 3 vs 5"
    );
    assert_eq!(
        note("other-seeds"),
        "seeds not shared: the baseline ran seeds [1, 2], this run [7, 8]"
    );
    assert!(
        note("tampered").starts_with("different test songs for seed 1: 2 of 10 test songs differ"),
        "{}",
        note("tampered")
    );
    for run in ["fewer-songs", "more-folds", "other-seeds", "tampered"] {
        assert!(
            !rows
                .iter()
                .any(|r| r["run"] == run && !r["unit"].is_empty()),
            "{run} got statistics"
        );
        assert!(
            stdout.contains(&format!("{run}: not paired with the baseline: ")),
            "{stdout}"
        );
    }
    // The one run with the same split is paired, and Holm counts only it.
    let row = paired_row(&rows, "same", "seed-fold");
    assert_eq!(row["t_p"], row["t_p_holm"]);
}

#[test]
fn the_table_shows_only_the_spec_keys_that_differ_including_a_dropped_modality() {
    let dir = TestDir::new();
    baseline().write(dir.root(), "all");
    let mut audio = better("audio", [[0.0; 3]; 2], [0.0; 2]);
    audio.spec = SPEC
        .replace("[modalities.lyrics]\nhash_dims = 2048\n", "")
        .replace("epochs = 60", "epochs = 20");
    audio.write(dir.root(), "audio");
    let mut same_name = better("base", [[0.0; 3]; 2], [0.0; 2]);
    same_name.spec = SPEC.replace("lr = 0.001", "lr = 0.01");
    same_name.write(dir.root(), "again");

    let (stdout, _) = compare_ok(&dir, &["all", "audio", "again"]);
    let table = read_csv(&dir.path("out/comparison.csv"));
    let header: Vec<&String> = table[0].keys().collect();
    let spec_columns: Vec<&str> = header
        .iter()
        .map(|k| k.as_str())
        .filter(|k| k.contains('.'))
        .collect();
    assert_eq!(
        spec_columns,
        ["modalities.lyrics", "schedule.epochs", "schedule.lr"],
        "{header:?}"
    );
    let by_run: BTreeMap<&str, &BTreeMap<String, String>> =
        table.iter().map(|r| (r["run"].as_str(), r)).collect();
    // Two runs named `base`: labelled with their spec hashes.
    let labels: Vec<&&str> = by_run.keys().collect();
    assert_eq!(labels.len(), 3);
    assert!(
        labels.iter().filter(|l| l.starts_with("base@")).count() == 2,
        "{labels:?}"
    );
    assert_eq!(by_run["audio"]["modalities.lyrics"], "absent");
    assert_eq!(by_run["audio"]["schedule.epochs"], "20");
    assert!(
        stdout.contains("modalities.lyrics") && stdout.contains("absent"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("hash_dims"),
        "keys of the dropped table are not listed:\n{stdout}"
    );
    // The table's numbers: mean and std over seeds, the fold spread over seeds x folds.
    let all = by_run.values().find(|r| r["baseline"] == "true").unwrap();
    let (mean, sd, _) = moments(&BASE_HEADLINE);
    close(number(all, "macro_f1_mean"), mean, 1e-12, "mean");
    close(number(all, "macro_f1_std"), sd, 1e-12, "std");
    let folds: Vec<f64> = BASE_FOLDS.iter().flatten().copied().collect();
    let (_, fold_sd, _) = moments(&folds);
    close(
        number(all, "macro_f1_fold_std"),
        fold_sd,
        1e-12,
        "fold spread",
    );
}

#[test]
fn sort_puts_the_best_run_first() {
    let dir = TestDir::new();
    baseline().write(dir.root(), "base");
    better("up", [[0.1; 3]; 2], [0.1, 0.1]).write(dir.root(), "up");
    better("down", [[-0.1; 3]; 2], [-0.1, -0.1]).write(dir.root(), "down");
    compare_ok(
        &dir,
        &[
            "down",
            "base",
            "up",
            "--sort",
            "macro_f1",
            "--baseline",
            "base",
        ],
    );
    let table = read_csv(&dir.path("out/comparison.csv"));
    let order: Vec<&str> = table.iter().map(|r| r["run"].as_str()).collect();
    assert_eq!(order, ["up", "base", "down"]);
    assert_eq!(table[1]["baseline"], "true");
}

#[test]
fn a_sweep_folder_contributes_its_members_with_reports() {
    let dir = TestDir::new();
    baseline().write(dir.root(), "reports/audio/20261124T000000Z-aaaa");
    better("x", [[0.02; 3]; 2], [0.01, 0.03])
        .write(dir.root(), "reports/all/20261124T000001Z-bbbb");
    // Listed as finished, but its run.json records an error: left out, not fatal.
    let mut broken = baseline();
    broken.error = Some("train[1]@1 failed: loss is NaN".to_string());
    broken.write(dir.root(), "reports/audio+midi/20261124T000002Z-eeee");
    dir.write(
        "reports/ablation/sweep-20261124T000000Z/sweep.json",
        r#"{"sweep": "ablation", "spec": "experiments/ablation.toml",
            "started": "2026-11-24T00:00:00Z", "finished": "2026-11-24T00:01:00Z",
            "interrupted": true,
            "members": [
              {"name": "audio", "member_hash": "aaaa", "set": {"modalities": "audio"},
               "status": "finished", "report": "../../audio/20261124T000000Z-aaaa", "error": null},
              {"name": "audio+lyrics+midi", "member_hash": "bbbb", "set": {},
               "status": "reused", "report": "../../all/20261124T000001Z-bbbb", "error": null},
              {"name": "lyrics", "member_hash": "cccc", "set": {}, "status": "failed",
               "report": null, "error": "extract.lyrics: no lyrics files"},
              {"name": "midi", "member_hash": "dddd", "set": {}, "status": "not-run",
               "report": null, "error": null},
              {"name": "audio+midi", "member_hash": "eeee", "set": {}, "status": "finished",
               "report": "../../audio+midi/20261124T000002Z-eeee", "error": null}
            ]}"#,
    );
    let (stdout, rows) = compare_ok(&dir, &["reports/ablation/sweep-*"]);
    let table = read_csv(&dir.path("out/comparison.csv"));
    let labels: Vec<&str> = table.iter().map(|r| r["run"].as_str()).collect();
    assert_eq!(labels, ["audio", "audio+lyrics+midi"]);
    assert!(
        rows.iter()
            .any(|r| r["run"] == "audio+lyrics+midi" && r["unit"] == "seed-fold")
    );
    assert!(
        stdout.contains(
            "Not compared: sweep member lyrics (failed: extract.lyrics: no lyrics files)."
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Not compared: sweep member midi (not-run)."),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Not compared: sweep member audio+midi (did not finish: train[1]@1 failed: loss is NaN)."
        ),
        "{stdout}"
    );
    assert!(stdout.contains("was interrupted"), "{stdout}");
    let page = std::fs::read_to_string(dir.path("out/index.html")).unwrap();
    assert!(
        page.contains("sweep member lyrics"),
        "the page lists it too"
    );
}

#[test]
fn what_cannot_be_compared_is_refused_clearly() {
    let dir = TestDir::new();
    baseline().write(dir.root(), "reports/exp/a");
    better("b", [[0.0; 3]; 2], [0.0; 2]).write(dir.root(), "reports/exp/b");

    let stderr = compare_fails(&dir, &["reports/exp/a"]);
    assert!(stderr.contains("1 run(s) to compare"), "{stderr}");

    let stderr = compare_fails(&dir, &["reports/exp", "reports/exp/a"]);
    assert!(
        stderr.contains("'reports/exp' is not a report folder")
            && stderr.contains("it holds 2 report or sweep folders")
            && stderr.contains("reports/exp/*"),
        "{stderr}"
    );
    let stderr = compare_fails(&dir, &["reports/nothing-*", "reports/exp/a"]);
    assert!(
        stderr.contains("'reports/nothing-*' matches no file"),
        "{stderr}"
    );

    let mut plan = baseline();
    plan.dry_run = true;
    plan.write(dir.root(), "plan");
    let stderr = compare_fails(&dir, &["plan", "reports/exp/a"]);
    assert!(
        stderr.contains("'plan' is the record of a dry run"),
        "{stderr}"
    );

    let mut failed = baseline();
    failed.error = Some("interrupted before train[2]@1 computed".to_string());
    failed.write(dir.root(), "failed");
    let stderr = compare_fails(&dir, &["failed", "reports/exp/a"]);
    assert!(
        stderr.contains("did not finish (interrupted before train[2]@1 computed)")
            && stderr.contains("Run the same command again"),
        "{stderr}"
    );

    let both = ["reports/exp/a", "reports/exp/b"];
    let stderr = compare_fails(&dir, &[&both[..], &["--metric", "f2"]].concat());
    assert!(
        stderr.contains("metric `f2` is not in")
            && stderr.contains("available: accuracy, balanced_accuracy, macro_f1, weighted_f1, log_loss, brier, ece"),
        "{stderr}"
    );
    let stderr = compare_fails(&dir, &[&both[..], &["--model", "ensemble"]].concat());
    assert!(
        stderr.contains("model `ensemble` has no test scores")
            && stderr.contains("available: fold-0, fold-1, fold-2, ensemble+tta"),
        "{stderr}"
    );
    let stderr = compare_fails(&dir, &[&both[..], &["--baseline", "zzz"]].concat());
    assert!(stderr.contains("labels: base, b"), "{stderr}");
    // The baseline by folder works as well as by label.
    let (ok, _, stderr) = output(dir.mer().arg("compare").args(both).args([
        "--baseline",
        "reports/exp/b",
        "--out",
        "out",
    ]));
    assert!(ok, "{stderr}");
    let table = read_csv(&dir.path("out/comparison.csv"));
    assert_eq!(table[1]["baseline"], "true");
}

/// Writes a small demo dataset and two specs that differ in one setting (MIDI dropped).
fn demo_specs(dir: &TestDir) {
    dir.write_demo(60, 3, 3);
    let spec = |modalities: &str| {
        format!(
            "seeds = [1, 2]\n\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n{modalities}\n\
             [split]\nfolds = 3\n\n[schedule]\nepochs = 4\n\n[eval]\nbootstrap = 50\ntta_passes = 2\n"
        )
    };
    dir.write(
        "all.toml",
        spec("[modalities.audio]\n[modalities.lyrics]\n[modalities.midi]\n"),
    );
    dir.write(
        "no-midi.toml",
        spec("[modalities.audio]\n[modalities.lyrics]\n"),
    );
}

fn run(dir: &TestDir, spec: &str) -> PathBuf {
    let (ok, _, stderr) = output(dir.mer().args(["run", spec]));
    assert!(ok, "mer run {spec} failed: {stderr}");
    dir.report_folder(&stderr)
}

#[test]
fn two_real_demo_runs_compare_end_to_end() {
    let dir = TestDir::new();
    demo_specs(&dir);
    let all = run(&dir, "all.toml");
    let no_midi = run(&dir, "no-midi.toml");
    let (ok, stdout, stderr) = output(
        dir.mer()
            .arg("compare")
            .args([&all, &no_midi])
            .args(["--resamples", "300"]),
    );
    assert!(ok, "{stderr}");
    let out = stderr
        .lines()
        .find_map(|l| l.split("wrote ").nth(1))
        .and_then(|l| l.split(" (").next())
        .unwrap_or_else(|| panic!("no output folder in: {stderr}"));
    let out = dir.root().join(out);
    assert!(
        out.starts_with(dir.path("reports"))
            && out
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("compare-"),
        "{}",
        out.display()
    );
    for file in [
        "comparison.csv",
        "paired.csv",
        "pairs.csv",
        "index.html",
        "macro_f1_by_run.png",
        "macro_f1_by_run.svg",
        "per_class_f1_by_run.png",
        "per_class_f1_by_run.svg",
        "learning_curves_by_run.png",
        "learning_curves_by_run.svg",
    ] {
        let size = std::fs::metadata(out.join(file))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 100, "{file} missing or empty");
    }
    // The one change: MIDI dropped, which also drops it from the default `dataset.songs_with`.
    // Every demo song has audio, so the splits still match.
    let table = read_csv(&out.join("comparison.csv"));
    let spec_columns: Vec<&String> = table[0].keys().filter(|k| k.contains('.')).collect();
    assert_eq!(spec_columns, ["dataset.songs_with", "modalities.midi"]);
    assert_eq!(table[1]["modalities.midi"], "absent");
    assert!(stdout.contains("modalities.midi"), "{stdout}");

    // Pairs are (seed, fold) pairs of the fold models: 2 seeds x 3 folds, each once, and the
    // scores are those metrics.csv holds.
    let metrics = |folder: &Path| -> BTreeMap<(String, String), f64> {
        read_csv(&folder.join("metrics.csv"))
            .into_iter()
            .filter(|r| r["split"] == "test" && r["group"] == "all")
            .map(|r| {
                (
                    (r["seed"].clone(), r["model"].clone()),
                    number(&r, "macro_f1"),
                )
            })
            .collect()
    };
    let (base_metrics, other_metrics) = (metrics(&all), metrics(&no_midi));
    let pairs = read_csv(&out.join("pairs.csv"));
    let fold_pairs: Vec<&BTreeMap<String, String>> =
        pairs.iter().filter(|r| r["unit"] == "seed-fold").collect();
    let mut keys: Vec<(String, String)> = fold_pairs
        .iter()
        .map(|r| (r["seed"].clone(), r["fold"].clone()))
        .collect();
    keys.sort();
    let expected: Vec<(String, String)> = ["1", "2"]
        .iter()
        .flat_map(|s| ["0", "1", "2"].map(|f| (s.to_string(), f.to_string())))
        .collect();
    assert_eq!(keys, expected);
    for r in &fold_pairs {
        let key = (r["seed"].clone(), format!("fold-{}", r["fold"]));
        assert_eq!(r["model"], key.1);
        close(
            number(r, "baseline_score"),
            base_metrics[&key],
            0.0,
            "baseline score",
        );
        close(
            number(r, "run_score"),
            other_metrics[&key],
            0.0,
            "run score",
        );
    }
    let paired = read_csv(&out.join("paired.csv"));
    let fold_row = paired_row(&paired, &table[1]["run"], "seed-fold");
    assert_eq!(fold_row["pairs"], "6");
    // The song bootstrap recomputes the headline's macro-F1 from predictions.csv: its observed
    // difference is the seed unit's mean difference, from metrics.csv.
    let seed_row = paired_row(&paired, &table[1]["run"], "seed");
    let boot_row = paired_row(&paired, &table[1]["run"], "song-bootstrap");
    close(
        number(boot_row, "mean_difference"),
        number(seed_row, "mean_difference"),
        1e-9,
        "bootstrap vs seed mean difference",
    );
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    for needle in [
        "macro_f1_by_run.svg",
        "paired.csv",
        "seed-fold",
        "modalities.midi",
    ] {
        assert!(page.contains(needle), "index.html lacks {needle}");
    }
}
