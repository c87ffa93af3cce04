//! Sweeps: a spec's `[sweep]` expanded into named members with their overrides, every member
//! checked before anything runs, members sharing the cache (each extraction computed once,
//! modality subsets splitting the same songs), a summary folder, and a rerun that reuses the
//! members that finished.

mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mer::modality::Modality;
use mer::spec::{AudioSettings, SweepError, expand_sweep};
use util::{TestDir, output};

/// A spec over a dataset that need not exist (expansion never reads it).
fn spec(dir: &TestDir, sweep: &str) -> PathBuf {
    dir.write(
        "exp.toml",
        format!(
            "[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
             [modalities.audio]\n[modalities.lyrics]\n[modalities.midi]\n\n{sweep}"
        ),
    )
}

#[test]
fn variants_times_grid_give_named_members_with_their_overrides() {
    let dir = TestDir::new();
    let path = spec(
        &dir,
        "[sweep.grid]\n\"augment.mixup_alpha\" = [0.0, 0.4]\n\"schedule.epochs\" = [10, 20]\n\n\
         [[sweep.variant]]\nname = \"wide\"\nset = { \"model.encoder_width\" = 256 }\n\n\
         [[sweep.variant]]\nname = \"narrow\"\nset = { \"model.encoder_width\" = 32, \"schedule.lr\" = 0.01 }\n",
    );
    let sweep = expand_sweep(&path, &[]).unwrap();
    let names: Vec<&str> = sweep.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "wide,augment.mixup_alpha=0.0,schedule.epochs=10",
            "wide,augment.mixup_alpha=0.0,schedule.epochs=20",
            "wide,augment.mixup_alpha=0.4,schedule.epochs=10",
            "wide,augment.mixup_alpha=0.4,schedule.epochs=20",
            "narrow,augment.mixup_alpha=0.0,schedule.epochs=10",
            "narrow,augment.mixup_alpha=0.0,schedule.epochs=20",
            "narrow,augment.mixup_alpha=0.4,schedule.epochs=10",
            "narrow,augment.mixup_alpha=0.4,schedule.epochs=20",
        ]
    );
    for member in &sweep.members {
        let spec = &member.spec;
        let wide = member.name.starts_with("wide");
        assert_eq!(spec.model.encoder_width, if wide { 256 } else { 32 });
        assert_eq!(spec.schedule.lr, if wide { 1e-3 } else { 0.01 });
        let alpha = if member.name.contains("alpha=0.4") {
            0.4
        } else {
            0.0
        };
        assert_eq!(spec.augment.mixup_alpha, alpha);
        let epochs = if member.name.ends_with("=10") { 10 } else { 20 };
        assert_eq!(spec.schedule.epochs, epochs);
        assert_eq!(spec.name, format!("exp/{}", member.name));
        assert!(spec.sweep.is_empty(), "member specs carry no [sweep]");
        assert_eq!(spec.selected().len(), 3);
        assert_eq!(
            member.set["schedule.epochs"].as_integer(),
            Some(epochs as i64)
        );
        assert_eq!(member.hash(), spec.hash());
    }
    let hashes: BTreeSet<String> = sweep.members.iter().map(|m| m.hash()).collect();
    assert_eq!(hashes.len(), 8, "every member is its own experiment");
    assert_ne!(sweep.members[0].hash(), sweep.base.hash());

    // The same spec expands to the same members, names and identities.
    let again = expand_sweep(&path, &[]).unwrap();
    assert_eq!(again.members, sweep.members);
    // --set applies to every member; a member's own override wins over it.
    let set = expand_sweep(
        &path,
        &["schedule.batch_size=8".into(), "schedule.epochs=99".into()],
    )
    .unwrap();
    assert!(set.members.iter().all(|m| m.spec.schedule.batch_size == 8));
    assert_eq!(set.members[0].spec.schedule.epochs, 10);
    assert_ne!(set.members[0].hash(), sweep.members[0].hash());
}

#[test]
fn all_subsets_drops_modality_tables_but_keeps_the_same_songs() {
    let dir = TestDir::new();
    let path = dir.write(
        "exp.toml",
        "[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
         [modalities.audio]\nn_mels = 64\n[modalities.lyrics]\n[modalities.midi]\n\n\
         [sweep]\nmodalities = \"all-subsets\"\n",
    );
    let sweep = expand_sweep(&path, &[]).unwrap();
    let names: Vec<&str> = sweep.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "audio",
            "lyrics",
            "midi",
            "audio+lyrics",
            "audio+midi",
            "lyrics+midi",
            "audio+lyrics+midi"
        ]
    );
    for member in &sweep.members {
        let spec = &member.spec;
        assert_eq!(spec.selected().to_string(), member.name);
        assert_eq!(
            spec.dataset.songs_with.as_deref(),
            Some(&Modality::ALL[..]),
            "{}: every subset keeps the songs of the full set",
            member.name
        );
        if let Some(audio) = &spec.modalities.audio {
            let AudioSettings::Spectral(audio) = &audio.extractors[0] else {
                panic!("the sweep's audio extractor is spectral");
            };
            assert_eq!(audio.n_mels, 64, "a kept table keeps its settings");
        }
        let kept: Vec<&str> = member.set["modalities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(kept.join("+"), member.name);
    }
    // A plain spec keeps the songs with any of its own modalities, as before.
    assert_eq!(sweep.base.songs_with().to_string(), "audio+lyrics+midi");
    let lyrics_only = dir.write(
        "lyrics.toml",
        "[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n[modalities.lyrics]\n",
    );
    let spec = mer::spec::load_spec(&lyrics_only, &[]).unwrap();
    assert_eq!(spec.dataset.songs_with, Some(vec![Modality::Lyrics]));
}

#[test]
fn bad_member_overrides_name_the_members_and_the_key() {
    let dir = TestDir::new();
    let path = spec(
        &dir,
        "[sweep]\nmodalities = \"all-subsets\"\n\n[sweep.grid]\n\"schedule.epoch\" = [1, 2]\n",
    );
    let err = expand_sweep(&path, &[]).unwrap_err();
    let SweepError::Members { problems, members } = &err else {
        panic!("expected member problems, got {err}");
    };
    assert_eq!(*members, 14);
    assert_eq!(problems.len(), 1, "one typo, one problem: {err}");
    assert_eq!(problems[0].members.len(), 14);
    let text = err.to_string();
    assert!(text.contains("exp.toml:13:1 ([sweep])"), "{text}");
    assert!(text.contains("unknown key `schedule.epoch`"), "{text}");
    assert!(text.contains("did you mean `epochs`?"), "{text}");
    assert!(
        text.contains("in all 14 members"),
        "names the members: {text}"
    );

    let path = spec(
        &dir,
        "[[sweep.variant]]\nname = \"ok\"\n\n[[sweep.variant]]\nname = \"zero\"\nset = { \"schedule.epochs\" = 0 }\n",
    );
    let text = expand_sweep(&path, &[]).unwrap_err().to_string();
    assert!(
        text.contains("key `schedule.epochs`: expected a positive integer, found 0")
            && text.contains("in member `zero`")
            && text.contains("exp.toml:14:"),
        "{text}"
    );

    for (sweep, expected) in [
        ("", "no [sweep] section"),
        ("[sweep.grid]\n\"schedule.epochs\" = []\n", "non-empty list"),
        (
            "[[sweep.variant]]\nname = \"a/b\"\n",
            "sweep.variant.0.name",
        ),
        (
            "[[sweep.variant]]\nname = \"a\"\n[[sweep.variant]]\nname = \"a\"\n",
            "both named `a`",
        ),
    ] {
        let path = spec(&dir, sweep);
        let text = expand_sweep(&path, &[]).unwrap_err().to_string();
        assert!(text.contains(expected), "{sweep}: {text}");
    }
}

#[test]
fn an_invalid_override_stops_mer_sweep_before_anything_runs() {
    let dir = TestDir::new();
    spec(
        &dir,
        "[sweep]\nmodalities = \"all-subsets\"\n\n[sweep.grid]\n\"model.dropuot\" = [0.1]\n",
    );
    let (ok, _, stderr) = output(dir.mer().args(["sweep", "exp.toml"]));
    assert!(!ok);
    assert!(
        stderr.contains("unknown key `model.dropuot`")
            && stderr.contains("did you mean `dropout`?"),
        "{stderr}"
    );
    assert!(stderr.contains("in all 7 members"), "{stderr}");
    assert!(!dir.path("cache").exists(), "no cache entry was written");
    assert!(!dir.path("reports").exists(), "no report was written");
}

#[test]
fn a_selection_metric_of_another_task_kind_stops_mer_sweep_before_anything_runs() {
    let dir = TestDir::new();
    spec(
        &dir,
        "[sweep]\nmodalities = \"all-subsets\"\nselect = { metric = \"ccc\", on = \"cv\" }\n",
    );
    for command in ["sweep", "plan"] {
        let (ok, _, stderr) = output(dir.mer().args([command, "exp.toml"]));
        assert!(!ok, "{command}");
        assert!(
            stderr.contains(
                "key `sweep.select.metric`: expected a metric of task.kind = \"classification\""
            ) && stderr.contains("macro_f1")
                && stderr.contains("found \"ccc\""),
            "{command}: {stderr}"
        );
    }
    assert!(!dir.path("reports").exists(), "no report was written");
}

/// A 60-song demo dataset and a sweep spec over it: one seed, two folds, a short schedule.
fn demo(sweep: &str) -> TestDir {
    let dir = TestDir::new();
    dir.write_demo(60, 3, 3);
    dir.write(
        "ablation.toml",
        format!(
            "seed = 4\n\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
             [modalities.audio]\nn_mels = 32\n[modalities.lyrics]\nhash_dims = 256\n[modalities.midi]\n\n\
             [split]\nfolds = 2\n\n[schedule]\nepochs = 3\n\n[eval]\nbootstrap = 20\ntta_passes = 2\n\n{sweep}"
        ),
    );
    dir
}

/// Runs `mer sweep ablation.toml ARGS`; returns success, the summary folder and stderr.
fn sweep(dir: &TestDir, args: &[&str]) -> (bool, PathBuf, String) {
    let (ok, _, stderr) = output(dir.mer().args(["sweep", "ablation.toml"]).args(args));
    let folder = stderr
        .lines()
        .find_map(|l| l.split("summary: ").nth(1))
        .unwrap_or_else(|| panic!("no summary folder in: {stderr}"));
    (ok, dir.root().join(folder.trim()), stderr)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Member name -> (status, report folder) from `sweep.json`.
fn statuses(summary: &Path) -> BTreeMap<String, (String, Option<PathBuf>)> {
    let summary_json = json(&summary.join("sweep.json"));
    summary_json["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let report = m["report"].as_str().map(|r| summary.join(r));
            (
                m["name"].as_str().unwrap().to_string(),
                (m["status"].as_str().unwrap().to_string(), report),
            )
        })
        .collect()
}

/// (group, songs) rows of the headline model on the test set, from `metrics.csv`.
fn headline_groups(report: &Path) -> BTreeMap<String, usize> {
    let mut reader = csv::Reader::from_path(report.join("metrics.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (model, split, group, songs) = (at("model"), at("split"), at("group"), at("songs"));
    reader
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[model] == "ensemble+tta" && &r[split] == "test")
        .map(|r| (r[group].to_string(), r[songs].parse().unwrap()))
        .collect()
}

#[test]
fn modality_subsets_extract_each_modality_once_and_split_the_same_songs() {
    let dir = demo("[sweep]\nmodalities = \"all-subsets\"\n");
    // Before: every member to compute, shared stages counted for the first member only.
    let (ok, plan, stderr) = output(dir.mer().args(["plan", "ablation.toml"]));
    assert!(ok, "{stderr}");
    let block = |plan: &str, member: &str| -> String {
        let start = plan.find(&format!("\n{member} (spec")).map_or(0, |i| i + 1);
        plan[start..]
            .lines()
            .take_while(|l| l.starts_with(member) || l.starts_with("  "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let lyrics = block(&plan, "lyrics");
    assert!(
        lyrics.contains("extract.lyrics  1 miss (no entry ever)"),
        "{plan}"
    );
    assert!(
        lyrics.contains("split           1 computed first by audio"),
        "{plan}"
    );
    assert!(lyrics.contains("no estimate for"), "{plan}");
    assert!(
        plan.contains("3 shared with an earlier member")
            || plan.contains("shared with an earlier member"),
        "{plan}"
    );
    let (ok, folder, stderr) = sweep(&dir, &["--jobs", "3"]);
    assert!(ok, "{stderr}");
    let summary = json(&folder.join("sweep.json"));
    assert_eq!(summary["sweep"], "ablation");
    assert_eq!(summary["spec"], "ablation.toml");
    assert_eq!(summary["interrupted"], false);
    assert!(
        folder
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("sweep-")
    );
    let members = statuses(&folder);
    assert_eq!(members.len(), 7);

    let mut computed: BTreeMap<String, usize> = BTreeMap::new();
    let mut split_keys = BTreeSet::new();
    for (name, (status, report)) in &members {
        assert_eq!(status, "finished", "{name}");
        let report = report.as_ref().unwrap();
        let record = json(&report.join("run.json"));
        assert_eq!(record["experiment"], format!("ablation/{name}"));
        let entry = summary["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name.as_str())
            .unwrap();
        assert_eq!(entry["member_hash"], record["spec_hash"]);
        for stage in record["stages"].as_array().unwrap() {
            let kind = stage["stage"].as_str().unwrap();
            if kind.starts_with("extract.") {
                let modality = kind.trim_start_matches("extract.");
                assert!(name.contains(modality), "{name} extracts only its own");
                if matches!(stage["decision"].as_str(), Some("miss" | "forced")) {
                    *computed.entry(kind.to_string()).or_default() += 1;
                }
            }
            if kind == "split" {
                split_keys.insert(stage["key"].as_str().unwrap().to_string());
            }
        }
        assert!(report.join("index.html").is_file());
    }
    assert_eq!(
        computed,
        [
            ("extract.audio", 1),
            ("extract.lyrics", 1),
            ("extract.midi", 1)
        ]
        .map(|(k, n)| (k.to_string(), n))
        .into(),
        "each extraction runs once for the whole sweep"
    );
    assert_eq!(split_keys.len(), 1, "every subset splits the same songs");

    // Songs without lyrics stay in the lyrics-only member, scored as their own group.
    let full = headline_groups(members["audio+lyrics+midi"].1.as_ref().unwrap());
    let lyrics = headline_groups(members["lyrics"].1.as_ref().unwrap());
    assert_eq!(lyrics["all"], full["all"], "the same test songs");
    assert!(lyrics["no-modality"] > 0, "{lyrics:?}");
    assert_eq!(
        lyrics["all-modalities"] + lyrics["no-modality"],
        lyrics["all"]
    );
    assert!(!lyrics.contains_key("partial"), "{lyrics:?}");

    let table = std::fs::read_to_string(folder.join("members.csv")).unwrap();
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("name,status,macro_f1_mean,macro_f1_std,accuracy_mean,report")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 7);
    for row in rows {
        let f1: f64 = row.split(',').nth(2).unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&f1), "{row}");
    }
    let index = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(
        index.contains("../audio+lyrics/"),
        "links each member's report"
    );

    // Durations recorded by the run estimate what a change would cost, for a sweep and for
    // a plain spec.
    let (ok, plan, stderr) =
        output(
            dir.mer()
                .args(["plan", "ablation.toml", "--set", "schedule.epochs=4"]),
        );
    assert!(ok, "{stderr}");
    let midi = block(&plan, "midi");
    let train = midi.lines().find(|l| l.starts_with("  train")).unwrap();
    assert!(
        train.ends_with(" 2 miss (schedule.epochs changed (3 => 4))"),
        "{plan}"
    );
    assert_eq!(
        plan.matches("to compute; time: about ").count(),
        7,
        "{plan}"
    );
    let plain = std::fs::read_to_string(dir.path("ablation.toml"))
        .unwrap()
        .replace("[sweep]\nmodalities = \"all-subsets\"\n", "");
    dir.write("plain.toml", plain);
    let (ok, plan, stderr) = output(dir.mer().args(["plan", "plain.toml"]));
    assert!(ok, "{stderr}");
    assert!(
        plan.contains("0 of 9 stages would run; time: nothing to compute"),
        "the full-modality member is this spec's run under another name: {plan}"
    );
    let (ok, plan, stderr) =
        output(
            dir.mer()
                .args(["plan", "plain.toml", "--set", "schedule.epochs=4"]),
        );
    assert!(ok, "{stderr}");
    assert!(
        plan.contains("3 of 9 stages would run; time: about "),
        "the estimate comes from the sweep's stages: {plan}"
    );

    // Nothing left to do: the plan says so, and a rerun reuses every member.
    let (ok, plan, stderr) = output(dir.mer().args(["plan", "ablation.toml"]));
    assert!(ok, "{stderr}");
    assert_eq!(
        plan.matches(": reused, finished report").count(),
        7,
        "{plan}"
    );
    let (ok, again, stderr) = sweep(&dir, &[]);
    assert!(ok, "{stderr}");
    assert!(
        statuses(&again)
            .values()
            .all(|(status, _)| status == "reused")
    );
}

#[test]
fn a_failing_member_does_not_stop_the_others_and_a_rerun_reuses_the_finished_ones() {
    // 60 songs in 5 classes cannot make 40 folds: that member fails when it splits.
    let dir = demo(
        "[[sweep.variant]]\nname = \"base\"\n\n\
         [[sweep.variant]]\nname = \"too-many-folds\"\nset = { \"split.folds\" = 40 }\n\n\
         [[sweep.variant]]\nname = \"no-mixup\"\nset = { \"augment.mixup_alpha\" = 0.0 }\n",
    );
    let (ok, folder, stderr) = sweep(&dir, &["--jobs", "1"]);
    assert!(!ok, "a failed member fails the sweep: {stderr}");
    let first = statuses(&folder);
    assert_eq!(first["base"].0, "finished");
    assert_eq!(first["no-mixup"].0, "finished");
    assert_eq!(first["too-many-folds"].0, "failed");
    let summary = json(&folder.join("sweep.json"));
    let failed = summary["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "too-many-folds")
        .unwrap();
    assert!(
        failed["error"].as_str().unwrap().contains("folds"),
        "{failed}"
    );
    assert!(stderr.contains("too-many-folds failed"), "{stderr}");

    let (ok, again, _) = sweep(&dir, &[]);
    assert!(!ok);
    let second = statuses(&again);
    let canonical = |p: &Option<PathBuf>| p.as_ref().unwrap().canonicalize().unwrap();
    assert_eq!(second["base"].0, "reused");
    assert_eq!(canonical(&second["base"].1), canonical(&first["base"].1));
    assert_eq!(second["no-mixup"].0, "reused");
    assert_eq!(second["too-many-folds"].0, "failed", "it is tried again");
    let reports = std::fs::read_dir(dir.path("reports/ablation/base"))
        .unwrap()
        .count();
    assert_eq!(reports, 1, "the finished member did not run again");
}

#[test]
fn ctrl_c_stops_every_member_and_a_rerun_reuses_the_finished_ones() {
    // With one job, `quick` finishes first; `long` is training when the interrupt comes.
    let dir = demo(
        "[[sweep.variant]]\nname = \"quick\"\n\n\
         [[sweep.variant]]\nname = \"long\"\nset = { \"schedule.epochs\" = 4000 }\n\n\
         [[sweep.variant]]\nname = \"later\"\nset = { \"schedule.epochs\" = 2 }\n",
    );
    let child = dir
        .mer()
        .args(["sweep", "ablation.toml", "--jobs", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let quick_done = || {
        std::fs::read_dir(dir.path("reports/ablation/quick"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .any(|e| e.path().join("index.html").is_file())
    };
    let long_started = || dir.path("reports/ablation/long").is_dir();
    let waited = std::time::Instant::now();
    while !(quick_done() && long_started()) {
        assert!(waited.elapsed().as_secs() < 120, "quick never finished");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let folder = stderr
        .lines()
        .find_map(|l| l.split("summary: ").nth(1))
        .map(|f| dir.root().join(f.trim()))
        .unwrap_or_else(|| panic!("the summary is written: {stderr}"));
    assert_eq!(json(&folder.join("sweep.json"))["interrupted"], true);
    let statuses = statuses(&folder);
    assert_eq!(statuses["quick"].0, "finished");
    assert_eq!(statuses["long"].0, "interrupted");
    assert_eq!(statuses["later"].0, "not-run");

    let (ok, plan, stderr) = output(dir.mer().args(["plan", "ablation.toml"]));
    assert!(ok, "{stderr}");
    let line = |name: &str| {
        plan.lines()
            .find(|l| l.starts_with(&format!("{name} (spec")))
            .unwrap_or_else(|| panic!("no {name} in {plan}"))
            .to_string()
    };
    assert!(line("quick").contains("reused"), "{plan}");
    assert!(!line("long").contains("reused"), "{plan}");
    assert!(!line("later").contains("reused"), "{plan}");
}

/// Test `macro_f1` of `model` on `split` (all songs) per seed, from a report's `metrics.csv`.
fn macro_f1_by_seed(report: &Path, model: &str, split: &str) -> BTreeMap<u64, f64> {
    let mut reader = csv::Reader::from_path(report.join("metrics.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    (reader.records().map(Result::unwrap))
        .filter(|r| {
            &r[at("model")] == model && &r[at("split")] == split && &r[at("group")] == "all"
        })
        .map(|r| {
            (
                r[at("seed")].parse().unwrap(),
                r[at("macro_f1")].parse().unwrap(),
            )
        })
        .collect()
}

/// `experiments/demo-fusion.toml` on a small demo: every fusion design and the linear model
/// learn the demo's classes, and the selected result is, per seed, the member with the best
/// out-of-fold macro-F1, reported with that member's test score, which `mer compare` reads.
#[test]
fn the_fusion_sweep_learns_with_every_design_and_selects_on_cross_validation() {
    let dir = TestDir::new();
    dir.write_demo(150, 6, 5);
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/demo-fusion.toml"),
    )
    .unwrap();
    let spec = shipped
        .replace("seeds = [1, 2, 3, 4, 5]", "seeds = [1, 2]")
        .replace("root = \"../data/demo\"", "root = \"data\"")
        .replace(
            "folds = 5",
            "folds = 3\n\n[schedule]\nepochs = 20\n\n[eval]\nbootstrap = 20",
        );
    dir.write("ablation.toml", spec);
    let (ok, summary, stderr) = sweep(&dir, &[]);
    assert!(ok, "{stderr}");
    let members = statuses(&summary);
    let names: Vec<&str> = members.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "attention",
            "concat",
            "early",
            "gated",
            "late",
            "late-separate",
            "late-stacking",
            "linear"
        ]
    );
    let mut cv = BTreeMap::new();
    let mut test = BTreeMap::new();
    for (name, (status, report)) in &members {
        assert_eq!(status, "finished", "{name}");
        let report = report.as_deref().unwrap();
        let scores = macro_f1_by_seed(report, "ensemble+tta", "test");
        // Five classes: chance is 0.2.
        let mean = scores.values().sum::<f64>() / scores.len() as f64;
        assert!(mean > 0.4, "{name}: {scores:?}");
        // Gated and attention fusions and stacking report what they lean on: shares of one
        // per seed.
        let weights = report.join("modality_weights.csv");
        assert_eq!(
            weights.is_file(),
            ["gated", "attention", "late-stacking"].contains(&name.as_str()),
            "{name}"
        );
        if weights.is_file() {
            assert!(report.join("modality_weights.svg").is_file());
            let mut sums: BTreeMap<u64, f64> = BTreeMap::new();
            let mut reader = csv::Reader::from_path(&weights).unwrap();
            for row in reader.records().map(Result::unwrap) {
                *sums.entry(row[0].parse().unwrap()).or_default() += row[2].parse::<f64>().unwrap();
            }
            assert_eq!(sums.len(), 2, "{name}: {sums:?}");
            assert!(
                sums.values().all(|s| (s - 1.0).abs() < 1e-4),
                "{name}: {sums:?}"
            );
        }
        cv.insert(name.clone(), macro_f1_by_seed(report, "out-of-fold", "cv"));
        test.insert(name.clone(), scores);
    }
    // Stacking reweighs the same trained branches, so its scores differ from the plain mean's.
    assert_ne!(test["late-stacking"], test["late"]);
    assert_ne!(cv["late-stacking"], cv["late"]);
    let selection = &json(&summary.join("sweep.json"))["selection"];
    assert_eq!(selection["metric"], "macro_f1");
    for chosen in selection["seeds"].as_array().unwrap() {
        let seed = chosen["seed"].as_u64().unwrap();
        let member = chosen["member"].as_str().unwrap();
        let best = (cv.values().map(|by_seed| by_seed[&seed])).fold(f64::MIN, f64::max);
        assert_eq!(cv[member][&seed], best, "seed {seed}: {cv:?}");
        assert_eq!(chosen["test"].as_f64().unwrap(), test[member][&seed]);
    }
    let selected = std::fs::read_to_string(summary.join("selected.csv")).unwrap();
    assert!(
        selected.starts_with("seed,member,cv_macro_f1,test_macro_f1\n"),
        "{selected}"
    );

    let (ok, _, stderr) = output(dir.mer().args([
        "compare",
        summary.to_str().unwrap(),
        "--baseline",
        "concat",
        "--out",
        "compared",
    ]));
    assert!(ok, "{stderr}");
    let mut table = csv::Reader::from_path(dir.path("compared/comparison.csv")).unwrap();
    let header = table.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = (table.records().map(Result::unwrap))
        .find(|r| &r[at("run")] == "ablation:selected")
        .expect("the selected result is compared");
    let mean: f64 = row[at("macro_f1_mean")].parse().unwrap();
    assert!((mean - selection["test_mean"].as_f64().unwrap()).abs() < 1e-12);
}
