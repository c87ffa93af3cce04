//! `mer sweep --executor slurm` and `mer status` on a real Slurm cluster: the throwaway
//! single-node one `scripts/slurm-cluster.sh` starts (`make test` runs these through
//! `scripts/cluster-tests.sh`; they are `#[ignore]`d for machines without it).

mod util;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use util::{TestDir, output, read_csv};

/// A demo dataset and an audio/lyrics ablation spec over it (three members).
fn setup(extra: &str) -> TestDir {
    let dir = TestDir::new();
    dir.write_demo(40, 3, 5);
    dir.write(
        "abl.toml",
        format!(
            "seeds = [1]\n\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
             [modalities.audio]\n{extra}\n[modalities.lyrics]\n\n[split]\nfolds = 3\n\n\
             [schedule]\nepochs = 4\n\n[eval]\nbootstrap = 20\n\n\
             [sweep]\nmodalities = \"all-subsets\"\n"
        ),
    );
    dir
}

/// Submits the sweep (`args`: `--executor slurm` unless the spec says so); returns its folder (the one line `mer sweep --executor slurm` prints).
fn submit(dir: &TestDir, args: &[&str]) -> PathBuf {
    let (ok, stdout, stderr) = output(
        dir.mer()
            .args([
                "--cache",
                "cache",
                "--reports",
                "reports",
                "sweep",
                "abl.toml",
            ])
            .args(args),
    );
    assert!(ok, "submission failed: {stderr}");
    assert!(stderr.contains("summary job"), "{stderr}");
    PathBuf::from(stdout.trim())
}

/// `mer status` of `folder`: (success, its output).
fn status(dir: &TestDir, folder: &Path) -> (bool, String) {
    let (ok, stdout, stderr) = output(dir.mer().arg("status").arg(folder));
    assert!(!stderr.contains("error"), "{stderr}");
    (ok, stdout)
}

/// Polls `mer status` until `done` holds for its output; returns every output seen.
fn wait_for(dir: &TestDir, folder: &Path, done: impl Fn(&str) -> bool) -> Vec<String> {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        let (_, out) = status(dir, folder);
        let finished = done(&out);
        seen.push(out);
        if finished {
            return seen;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "not done in 10 minutes: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Polls `mer status` until the sweep's summary is written.
fn wait_for_summary(dir: &TestDir, folder: &Path) -> Vec<String> {
    wait_for(dir, folder, |out| {
        out.contains("summary") && out.contains(": written")
    })
}

/// The members a submission queued, from its `slurm.json`.
fn queued_members(folder: &Path) -> Vec<String> {
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("slurm.json")).unwrap()).unwrap();
    record["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["queued"] == true)
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

/// The (one) sweep folder a local sweep wrote under `experiment_reports`.
fn sweep_folder_in(experiment_reports: &Path) -> PathBuf {
    std::fs::read_dir(experiment_reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("sweep-")
        })
        .unwrap()
}

/// members.csv's rows by member name: (status, macro-F1, accuracy).
fn members(folder: &Path) -> Vec<(String, String, String, String)> {
    read_csv(&folder.join("members.csv"))
        .into_iter()
        .map(|r| {
            (
                r["name"].clone(),
                r["status"].clone(),
                r["macro_f1_mean"].clone(),
                r["accuracy_mean"].clone(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs a Slurm cluster: scripts/cluster-tests.sh starts one and runs these"]
fn a_slurm_sweep_runs_as_a_job_array_and_matches_a_local_sweep() {
    let dir = setup("");
    // Slurm settings from the spec, which leaves the members' identities as they were.
    let spec = std::fs::read_to_string(dir.path("abl.toml")).unwrap()
        + "\n[executor]\nkind = \"slurm\"\nextract_shards = 2\n\n\
           [executor.slurm]\npartition = \"debug\"\nmax_parallel = 2\n";
    dir.write("abl.toml", spec);
    let folder = submit(&dir, &[]);
    let script = std::fs::read_to_string(folder.join("run-members.sh")).unwrap();
    assert!(script.contains("#SBATCH --array=0,1,2%2\n"), "{script}");
    assert!(script.contains("#SBATCH --partition=debug\n"), "{script}");
    let seen = wait_for_summary(&dir, &folder);
    assert!(
        seen.iter()
            .any(|s| s.contains("queued") || s.contains("running")),
        "the members were followed while they ran: {seen:?}"
    );
    let (ok, last) = status(&dir, &folder);
    assert!(ok, "{last}");
    // Two extraction shards (each over every member), then the three members.
    assert_eq!(last.matches("finished").count(), 2 + 3, "{last}");
    assert!(
        last.starts_with("shard 0 of 2  finished\nshard 1 of 2  finished\n"),
        "{last}"
    );
    let on_slurm = members(&folder);
    assert!(on_slurm.iter().all(|m| m.1 == "finished"), "{on_slurm:?}");

    // Two tasks ran side by side on one cache: each stage computed once, by one of them.
    let computed_extractions: usize = on_slurm
        .iter()
        .map(|m| {
            let report = read_csv(&folder.join("members.csv"))
                .into_iter()
                .find(|r| r["name"] == m.0)
                .unwrap()["report"]
                .clone();
            let run: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(folder.join(report).join("run.json")).unwrap(),
            )
            .unwrap();
            run["stages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["instance"] == "extract.audio" && s["decision"] == "miss")
                .count()
        })
        .sum();
    assert_eq!(computed_extractions, 1);

    // The same sweep here (the command line over the spec's executor), into other reports:
    // the same numbers.
    let (ok, _, stderr) = output(dir.mer().args([
        "--cache",
        "cache",
        "--reports",
        "local",
        "sweep",
        "abl.toml",
        "--executor",
        "local",
    ]));
    assert!(ok, "{stderr}");
    let local_folder = sweep_folder_in(&dir.path("local/abl"));
    let local = members(&local_folder);
    let numbers = |rows: &[(String, String, String, String)]| -> Vec<(String, String, String)> {
        rows.iter()
            .map(|(n, _, f1, acc)| (n.clone(), f1.clone(), acc.clone()))
            .collect()
    };
    assert_eq!(numbers(&on_slurm), numbers(&local));

    // Submitting again queues nothing: every member has its report.
    let again = submit(&dir, &["--executor", "slurm"]);
    wait_for_summary(&dir, &again);
    assert!(members(&again).iter().all(|m| m.1 == "reused"));
}

#[test]
#[ignore = "needs a Slurm cluster: scripts/cluster-tests.sh starts one and runs these"]
fn a_failed_member_is_reported_with_its_exit_code_and_alone_resubmitted() {
    let dir = setup("on_error = \"fail\"\n");
    // One unreadable audio file stops every member that extracts audio.
    let wav = dir.path("data/Audio/001.wav");
    let original = std::fs::read(&wav).unwrap();
    std::fs::write(&wav, b"RIFF, but not a wave").unwrap();
    let folder = submit(&dir, &["--executor", "slurm"]);
    wait_for_summary(&dir, &folder);
    let (ok, out) = status(&dir, &folder);
    assert!(!ok, "a failed member fails `mer status`: {out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not in {out}"))
            .to_string()
    };
    assert!(line("lyrics").contains("finished"), "{out}");
    for name in ["audio", "audio+lyrics"] {
        assert!(
            line(name).contains("failed (exit 2)"),
            "mer run exits 2 on a failed stage: {out}"
        );
        assert!(line(name).contains("logs/member-"), "{out}");
    }
    let summary = members(&folder);
    assert_eq!(
        summary.iter().map(|m| m.1.as_str()).collect::<Vec<_>>(),
        ["failed", "finished", "failed"]
    );
    let log = std::fs::read_to_string(folder.join("logs/member-0.log")).unwrap();
    assert!(
        log.contains("001"),
        "the member's log names the file: {log}"
    );

    // Mended, the sweep submitted again runs only the two that failed.
    std::fs::write(&wav, original).unwrap();
    let again = submit(&dir, &["--executor", "slurm"]);
    let queued = queued_members(&again);
    assert_eq!(queued, ["audio", "audio+lyrics"]);
    wait_for_summary(&dir, &again);
    assert_eq!(
        members(&again)
            .iter()
            .map(|m| m.1.as_str())
            .collect::<Vec<_>>(),
        ["finished", "reused", "finished"]
    );
}

#[test]
#[ignore = "needs a Slurm cluster: scripts/cluster-tests.sh starts one and runs these"]
fn a_member_cancelled_while_running_shows_as_killed_and_is_resubmitted() {
    let dir = setup("");
    // Long enough to be caught running: a thousand epochs (seconds).
    let spec = std::fs::read_to_string(dir.path("abl.toml"))
        .unwrap()
        .replace("epochs = 4", "epochs = 1000");
    dir.write("abl.toml", spec);
    let folder = submit(&dir, &["--executor", "slurm", "--max-parallel", "1"]);
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("slurm.json")).unwrap()).unwrap();
    let array = record["array_job"].as_str().unwrap().to_string();
    let start = Instant::now();
    while !status(&dir, &folder)
        .1
        .lines()
        .next()
        .unwrap()
        .contains("running")
    {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "member 0 never ran"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let cancelled = std::process::Command::new("scancel")
        .arg(format!("{array}_0"))
        .status()
        .unwrap();
    assert!(cancelled.success());
    let seen = wait_for_summary(&dir, &folder);
    let last = seen.last().unwrap();
    let first = last.lines().next().unwrap();
    assert!(
        first.starts_with("audio ") && first.contains("killed"),
        "{last}"
    );
    assert!(
        !status(&dir, &folder).0,
        "a killed member fails `mer status`"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("sweep.json")).unwrap()).unwrap();
    let error = summary["members"][0]["error"].as_str().unwrap();
    assert!(error.contains("killed"), "{error}");

    // Submitted again, only the killed member runs.
    let again = submit(&dir, &["--executor", "slurm"]);
    let queued = queued_members(&again);
    assert_eq!(queued, ["audio"]);
    wait_for_summary(&dir, &again);
    assert!(status(&dir, &again).0);
}

/// Polls `mer status` of a Slurm run until its report job has ended.
fn wait_for_report(dir: &TestDir, folder: &Path) -> Vec<String> {
    wait_for(dir, folder, |out| {
        let line = out.lines().find(|l| l.starts_with("report (job")).unwrap();
        !line.contains("queued") && !line.contains("running")
    })
}

#[test]
#[ignore = "needs a Slurm cluster: scripts/cluster-tests.sh starts one and runs these"]
fn a_slurm_run_computes_shards_and_seeds_as_array_tasks_and_matches_a_local_run() {
    let dir = TestDir::new();
    dir.write_demo(40, 3, 5);
    let spec = "seeds = [1, 2]\n\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
                [modalities.audio]\n[modalities.lyrics]\n\n[split]\nfolds = 3\n\n\
                [schedule]\nepochs = 4\n\n[eval]\nbootstrap = 20\n\n\
                [executor]\nkind = \"slurm\"\nextract_shards = 3\n";
    dir.write("one.toml", spec);
    let mer = |reports: &str, cache: &str, args: &[&str]| {
        let (ok, stdout, stderr) = output(
            dir.mer()
                .args(["--cache", cache, "--reports", reports, "run", "one.toml"])
                .args(args),
        );
        assert!(ok, "{stderr}");
        (stdout, stderr)
    };
    let (stdout, stderr) = mer("reports", "cache", &[]);
    assert!(
        stderr.contains("3 of 3 shards and 2 of 2 seeds submitted"),
        "{stderr}"
    );
    let folder = PathBuf::from(stdout.trim());
    let script = |name: &str| std::fs::read_to_string(folder.join(name)).unwrap();
    assert!(script("extract-shards.sh").contains("#SBATCH --array=0,1,2\n"));
    assert!(script("extract-shards.sh").contains(" --shard $i\n"));
    assert!(script("run-seeds.sh").contains("#SBATCH --array=0,1\n"));
    assert!(script("report.sh").contains("--cached-only"));

    let seen = wait_for_report(&dir, &folder);
    let (ok, last) = status(&dir, &folder);
    assert!(ok, "{last}");
    for task in [
        "shard 0 of 3",
        "shard 2 of 3",
        "seed 1",
        "seed 2",
        "report (job",
    ] {
        let line = last.lines().find(|l| l.starts_with(task)).unwrap();
        assert!(line.contains("finished"), "{task}: {last}");
    }
    assert!(
        seen.iter()
            .any(|s| s.contains("queued") || s.contains("running")),
        "{seen:?}"
    );
    // The shard tasks extracted; the seed tasks joined and trained; the report job only read.
    let shard_log = std::fs::read_to_string(folder.join("logs/shard-0.log")).unwrap();
    assert!(
        shard_log.contains("extract.audio.shard[0]: "),
        "{shard_log}"
    );
    let report = last
        .lines()
        .find_map(|l| l.strip_prefix("report: "))
        .map(PathBuf::from)
        .expect("the report is named");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("run.json")).unwrap()).unwrap();
    let stages = run["stages"].as_array().unwrap();
    assert!(stages.iter().all(|s| s["decision"] == "hit"), "{run}");
    assert!(
        !stages
            .iter()
            .any(|s| s["instance"].as_str().unwrap().contains("shard"))
    );

    // The same run here, unsharded, in a fresh cache: the same numbers.
    let (_, stderr) = mer(
        "local",
        "local-cache",
        &["--executor", "local", "--set", "executor.extract_shards=1"],
    );
    let local = dir.report_folder(&stderr);
    for file in ["metrics.csv", "predictions.csv"] {
        assert_eq!(
            read_csv(&report.join(file)),
            read_csv(&local.join(file)),
            "{file}"
        );
    }

    // Submitted again with everything done, nothing is queued: the report is up to date.
    let (stdout, stderr) = mer("reports", "cache", &[]);
    assert!(
        stdout.trim().is_empty() && stderr.contains("up to date"),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs a Slurm cluster: scripts/cluster-tests.sh starts one and runs these"]
fn the_shipped_demo_ablation_on_slurm_matches_a_local_sweep() {
    let dir = TestDir::new();
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/demo-ablation.toml"
    );
    dir.write(
        "experiments/demo-ablation.toml",
        std::fs::read(shipped).unwrap(),
    );
    // The demo dataset as `make demo` writes it.
    let (ok, _, stderr) = output(dir.mer().args(["demo", "--out", "data/demo"]));
    assert!(ok, "{stderr}");
    // Each in a cache of its own, so that both compute everything.
    let sweep = |reports: &str, executor: &str| {
        let (ok, stdout, stderr) = output(dir.mer().args([
            "--cache",
            &format!("{reports}-cache"),
            "--reports",
            reports,
            "sweep",
            "experiments/demo-ablation.toml",
            "--executor",
            executor,
        ]));
        assert!(ok, "{stderr}");
        stdout
    };
    let submitted = Instant::now();
    let folder = PathBuf::from(sweep("reports", "slurm").trim());
    assert!(
        submitted.elapsed() < Duration::from_secs(30),
        "submitting returns at once"
    );
    let seen = wait_for_summary(&dir, &folder);
    assert!(
        seen.iter().any(|s| s.contains("running")),
        "the members were seen progressing: {seen:?}"
    );
    let (ok, last) = status(&dir, &folder);
    assert!(ok, "{last}");
    assert_eq!(last.matches("finished").count(), 7, "{last}");

    sweep("local", "local");
    let local = sweep_folder_in(&dir.path("local/demo-ablation"));
    let numbers = |folder: &Path| -> Vec<(String, String, String)> {
        members(folder)
            .into_iter()
            .map(|(n, _, f1, acc)| (n, f1, acc))
            .collect()
    };
    assert_eq!(numbers(&folder), numbers(&local));

    // mer compare's paired statistics against audio alone: the same.
    let compare = |sweep: &Path, out: &str| {
        let (ok, _, stderr) =
            output(
                dir.mer()
                    .arg("compare")
                    .arg(sweep)
                    .args(["--baseline", "audio", "--out", out]),
            );
        assert!(ok, "{stderr}");
        read_csv(&dir.path(out).join("paired.csv"))
    };
    assert_eq!(compare(&folder, "cmp-slurm"), compare(&local, "cmp-local"));
}
