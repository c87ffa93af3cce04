//! Report folders under crashes and full disks: a report is whole or absent, nothing reads a
//! cut-short one as a finished run (reuse, `mer compare`), and a rerun with nothing changed
//! points at the last whole report instead of writing another. Also the fold count a dataset
//! cannot fill, which must fail before any per-fold work is planned.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::project::{Outcome, Project};

/// The report folder a run names on stderr (`report: <path>`).
fn reported_folder(project: &Project, outcome: &Outcome) -> PathBuf {
    let line = outcome
        .stderr
        .lines()
        .find_map(|l| l.split("report: ").nth(1))
        .unwrap_or_else(|| panic!("no report path in:\n{}", outcome.stderr));
    project.root().join(line.trim())
}

/// Files in `folder` (names).
fn files(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|e| {
            e.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Starts `mer run exp.toml --new-report` and kills it (SIGKILL) as soon as a new report
/// folder holds more than its `spec.toml`: the moment the report is being written.
fn kill_while_the_report_is_written(project: &Project) {
    let before = project.report_folders("exp");
    let mut child = project
        .mer()
        .args(["run", "exp.toml", "--new-report"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mer");
    let started = Instant::now();
    let writing = || {
        project
            .report_folders("exp")
            .iter()
            .filter(|folder| !before.contains(folder))
            .any(|folder| files(folder).iter().any(|f| f != "spec.toml"))
    };
    while !writing() {
        assert!(
            child.try_wait().expect("poll mer").is_none(),
            "mer finished before it could be killed while writing its report"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "run too slow");
        std::thread::sleep(Duration::from_micros(500));
    }
    child.kill().expect("kill mer");
    child.wait().expect("reap mer");
}

#[test]
fn a_run_killed_while_writing_its_report_leaves_nothing_that_counts_as_finished() {
    let project = Project::new();
    let first = project.run(&["run", "exp.toml"]);
    assert!(first.ok(), "{}", first.stderr);
    let whole = reported_folder(&project, &first);
    for _ in 0..3 {
        kill_while_the_report_is_written(&project);
    }
    // Every folder the kills left is either whole or said to be unfinished by `mer compare`.
    let mut cut_short = 0;
    for folder in project.report_folders("exp") {
        let compare = project.run(&["compare", folder.to_str().unwrap(), "--out", "cmp"]);
        if folder != whole {
            cut_short += 1;
            assert!(
                !compare.ok(),
                "{} compared as a finished run",
                folder.display()
            );
            assert!(
                compare.stderr.contains("did not finish")
                    && compare.stderr.contains("stopped while writing"),
                "{}: {}",
                folder.display(),
                compare.stderr
            );
        }
    }
    assert!(cut_short >= 1, "the kills left no trace to check");
    // A rerun with nothing changed points at the whole report, never at a cut-short one.
    let rerun = project.run(&["run", "exp.toml"]);
    assert!(rerun.ok(), "{}", rerun.stderr);
    assert!(rerun.stderr.contains("up to date"), "{}", rerun.stderr);
    assert_eq!(reported_folder(&project, &rerun), whole);
}

/// `mer ARGS` in the project under a file-size limit of `kib` KiB, with SIGXFSZ ignored so an
/// oversized write fails with EFBIG as on a full disk, instead of killing the process.
fn run_with_file_limit(project: &Project, kib: u32, args: &str) -> Outcome {
    let out = Command::new("bash")
        .current_dir(project.root())
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" {args}"))
        .arg(env!("CARGO_BIN_EXE_mer"))
        .output()
        .expect("run bash");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_report_that_cannot_be_written_leaves_no_folder_behind() {
    let project = Project::new();
    let first = project.run(&["run", "exp.toml"]);
    assert!(first.ok(), "{}", first.stderr);
    let whole = reported_folder(&project, &first);
    let largest = files(&whole)
        .iter()
        .map(|f| std::fs::metadata(whole.join(f)).unwrap().len())
        .max()
        .unwrap();
    // Every stage is cached (their entries are not rewritten), so only the report's largest
    // files hit the limit, as a disk filling up while the report is written.
    let limit = u32::try_from(largest / 1024 / 2).unwrap().max(1);
    let full = run_with_file_limit(&project, limit, "run exp.toml --new-report");
    assert!(!full.ok(), "the run passed with a {limit} KiB file limit");
    assert!(
        full.stderr
            .contains("could not be written, so none was kept")
            && full.stderr.contains("File too large"),
        "{}",
        full.stderr
    );
    assert_eq!(
        project.report_folders("exp"),
        vec![whole.clone()],
        "the report that could not be written left a folder: {}",
        full.stderr
    );
    let rerun = project.run(&["run", "exp.toml"]);
    assert!(rerun.stderr.contains("up to date"), "{}", rerun.stderr);
    assert_eq!(reported_folder(&project, &rerun), whole);
}

#[test]
fn a_rerun_with_nothing_changed_points_at_the_last_report() {
    let project = Project::new();
    let first = project.run(&["run", "exp.toml"]);
    assert!(first.ok(), "{}", first.stderr);
    let report = reported_folder(&project, &first);

    let again = project.run(&["run", "exp.toml"]);
    assert!(again.ok(), "{}", again.stderr);
    assert!(again.stderr.contains("up to date"), "{}", again.stderr);
    assert_eq!(reported_folder(&project, &again), report);
    assert_eq!(project.report_folders("exp").len(), 1, "no new folder");

    // --new-report writes one anyway, with the same numbers.
    let forced = project.run(&["run", "exp.toml", "--new-report"]);
    assert!(forced.ok(), "{}", forced.stderr);
    let second = reported_folder(&project, &forced);
    assert_ne!(second, report);
    assert_eq!(
        std::fs::read(report.join("metrics.csv")).unwrap(),
        std::fs::read(second.join("metrics.csv")).unwrap()
    );

    // A changed input file is a change, though the spec is the same.
    let lyrics = project.path("data/Lyrics/001.txt");
    let mut text = std::fs::read_to_string(&lyrics).unwrap();
    text.push_str("\nand the night goes on\n");
    std::fs::write(&lyrics, text).unwrap();
    let changed = project.run(&["run", "exp.toml"]);
    assert!(changed.ok(), "{}", changed.stderr);
    assert!(!changed.stderr.contains("up to date"), "{}", changed.stderr);
    assert_eq!(project.report_folders("exp").len(), 3);

    // So is a changed spec value.
    let edited = project.run(&["run", "exp.toml", "--set", "schedule.epochs=2"]);
    assert!(!edited.stderr.contains("up to date"), "{}", edited.stderr);
}

#[test]
fn a_fold_count_the_data_cannot_fill_fails_before_any_stage_is_planned() {
    let project = Project::new();
    for command in ["run", "plan", "validate"] {
        // 8 GB of address space: planning two stages per fold for 10^7 folds needs more.
        let outcome = Command::new("bash")
            .current_dir(project.root())
            .arg("-c")
            .arg("ulimit -v 8000000; exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_mer"))
            .args([command, "exp.toml", "--set", "split.folds=10000000"])
            .output()
            .expect("run bash");
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        assert_eq!(outcome.status.code(), Some(2), "mer {command}: {stderr}");
        assert!(
            stderr.contains("split.folds = 10000000"),
            "mer {command}: {stderr}"
        );
    }
    let plan = project.run(&["plan", "exp.toml", "--set", "split.folds=100000"]);
    assert!(
        !plan.ok(),
        "mer plan accepted 100000 folds:\n{}",
        plan.stdout
    );
    assert!(!project.path("reports").exists(), "nothing was written");
}
