//! The command line as a user meets it: help with examples, plain output when piped.

mod util;

use util::{TestDir, output};

const COMMANDS: &[&[&str]] = &[
    &["validate"],
    &["run"],
    &["sweep"],
    &["plan"],
    &["explain"],
    &["compare"],
    &["data", "inspect"],
    &["cache", "ls"],
    &["cache", "verify"],
    &["cache", "gc"],
    &["demo"],
];

#[test]
fn every_command_has_help_with_an_example() {
    let dir = TestDir::new();
    for command in COMMANDS {
        let (ok, stdout, stderr) = output(dir.mer().args(*command).arg("--help"));
        assert!(ok, "mer {command:?} --help failed: {stderr}");
        assert!(
            stdout.contains("Example"),
            "mer {command:?} --help has no example:\n{stdout}"
        );
        assert!(stdout.contains("mer "), "{stdout}");
    }
}

#[test]
fn no_ansi_codes_when_output_is_not_a_terminal() {
    let dir = TestDir::new();
    let (ok, stdout, stderr) = output(dir.mer().args(["validate", "missing.toml"]));
    assert!(!ok);
    assert!(
        !stderr.contains('\u{1b}') && !stdout.contains('\u{1b}'),
        "{stderr:?}"
    );
    assert!(stderr.contains("missing.toml' not found"), "{stderr}");
}

fn mirex_dev_spec(dir: &TestDir) {
    let root = util::mirex_dev();
    dir.write(
        "mirex.toml",
        format!(
            "[dataset]\nlayout = \"mirex-like\"\nroot = \"{}\"\n\n[modalities.audio]\n[modalities.lyrics]\n[modalities.midi]\n",
            root.display()
        ),
    );
}

#[test]
fn validate_checks_the_spec_against_the_mirex_dev_set() {
    let dir = TestDir::new();
    mirex_dev_spec(&dir);
    let (ok, stdout, stderr) = output(dir.mer().args(["validate", "mirex.toml"]));
    assert!(ok, "{stderr}");
    let resolved: toml::Table = stdout.parse().expect("validate prints TOML");
    assert_eq!(resolved["split"]["folds"].as_integer(), Some(5));
    assert!(stderr.contains("200 of 903 listed songs"), "{stderr}");

    // 40 songs per class in the dev media, 32 of them left after the 20 % hold-out.
    let (ok, _, stderr) =
        output(
            dir.mer()
                .args(["validate", "mirex.toml", "--set", "split.folds=33"]),
        );
    assert!(!ok);
    assert!(
        stderr.contains("split.folds = 33") && stderr.contains("at most 32"),
        "{stderr}"
    );
}

#[test]
fn data_inspect_prints_class_by_modality_counts_and_problems() {
    let dir = TestDir::new();
    mirex_dev_spec(&dir);
    let (ok, stdout, stderr) = output(dir.mer().args(["data", "inspect", "mirex.toml"]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Songs listed: 903"), "{stdout}");
    let total = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("total"))
        .expect("a total row");
    let numbers: Vec<&str> = total.split_whitespace().skip(1).collect();
    assert_eq!(numbers, ["903", "200", "160", "47", "46", "200"], "{total}");
    assert!(
        stdout.contains("line 783"),
        "the ambiguous info.csv line is reported:\n{stdout}"
    );
    assert!(
        stdout.contains("... and 693 more (--all lists all)"),
        "{stdout}"
    );
    let (ok, all, _) = output(dir.mer().args(["data", "inspect", "mirex.toml", "--all"]));
    assert!(ok && all.lines().count() > stdout.lines().count() + 600);
}

#[test]
fn run_on_the_mirex_dev_set_writes_a_report_and_a_rerun_computes_nothing() {
    let dir = TestDir::new();
    mirex_dev_spec(&dir);
    let run = |extra: &[&str]| {
        output(
            dir.mer()
                .args(["run", "mirex.toml", "--set", "seeds=[1, 2]"])
                // Few epochs: this checks the pipeline end to end, not the model's quality.
                .args(["--set", "schedule.epochs=4"])
                .args(extra),
        )
    };
    let (ok, _, stderr) = run(&[]);
    assert!(ok, "{stderr}");
    // 3 extractions + 2 seeds x (split + 5 normalize + 5 train + evaluate).
    assert!(stderr.contains("27 of 27 stages computed"), "{stderr}");
    for seed in [1, 2] {
        assert!(
            stderr.contains(&format!("seed {seed}: ensemble+tta on 40 test songs")),
            "each seed's headline is logged: {stderr}"
        );
    }
    // Nothing changed: the rerun points at the report it would write again.
    let (ok, _, stderr) = run(&[]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("up to date"), "{stderr}");
    let (ok, _, stderr) = run(&["--new-report"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("all 27 stages cached; nothing ran"),
        "{stderr}"
    );
    let reports = std::fs::read_dir(dir.path("reports/mirex"))
        .unwrap()
        .count();
    assert_eq!(reports, 2, "one report folder per run");
    let folder = std::fs::read_dir(dir.path("reports/mirex"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    for file in [
        "index.html",
        "metrics.csv",
        "predictions.csv",
        "history.csv",
    ] {
        assert!(
            folder.join(file).is_file(),
            "{file} in {}",
            folder.display()
        );
    }
    let metrics = std::fs::read_to_string(folder.join("metrics.csv")).unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("2,ensemble+tta,test,all,"))
    );
}

#[test]
fn a_closed_output_pipe_stops_mer_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = TestDir::new();
    mirex_dev_spec(&dir);
    let mut child = dir
        .mer()
        .args(["data", "inspect", "mirex.toml", "--all"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: the pipe closes while mer still has ~700 lines to print.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(first.starts_with("Songs listed"), "{first}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn explain_on_a_folder_without_a_run_record_says_what_a_report_folder_is() {
    let dir = TestDir::new();
    let (ok, _, stderr) = output(dir.mer().args(["explain", "."]));
    assert!(!ok);
    assert!(
        stderr.contains("is not a report folder (it has no run.json)"),
        "{stderr}"
    );
}

#[test]
fn an_override_that_adds_a_modality_table_is_warned_about() {
    let dir = TestDir::new();
    let root = util::mirex_dev();
    dir.write(
        "audio.toml",
        format!(
            "[dataset]\nlayout = \"mirex-like\"\nroot = \"{}\"\n\n[modalities.audio]\n",
            root.display()
        ),
    );
    let warning = "no [modalities.lyrics] table in the file";
    let (ok, stdout, stderr) = output(dir.mer().args([
        "validate",
        "audio.toml",
        "--set",
        "modalities.lyrics.hash_dims=512",
    ]));
    assert!(ok, "{stderr}");
    assert!(stderr.contains(warning), "{stderr}");
    let resolved: toml::Table = stdout.parse().expect("validate prints TOML");
    assert!(resolved["modalities"].get("lyrics").is_some());

    // Tuning a table the file has, or no override at all, says nothing.
    for args in [
        &[
            "validate",
            "audio.toml",
            "--set",
            "modalities.audio.n_mfcc=13",
        ][..],
        &["validate", "audio.toml"][..],
    ] {
        let (ok, _, stderr) = output(dir.mer().args(args));
        assert!(ok, "{stderr}");
        assert!(!stderr.contains("no [modalities."), "{args:?}: {stderr}");
    }
}

#[test]
fn a_modality_too_rare_to_normalize_in_a_fold_is_a_clear_error() {
    let dir = TestDir::new();
    dir.write_demo(20, 2, 1);
    // One MIDI file left: no fold has two training songs with MIDI to scale features by.
    let midi = dir.path("data/MIDIs");
    let mut files: Vec<_> = std::fs::read_dir(&midi)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for extra in &files[1..] {
        std::fs::remove_file(extra).unwrap();
    }
    dir.write(
        "midi.toml",
        "[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\
         songs_with = [\"audio\", \"lyrics\", \"midi\"]\n\n[modalities.midi]\n\n[split]\nfolds = 2\n",
    );
    let (ok, _, stderr) = output(dir.mer().args(["run", "midi.toml"]));
    assert!(!ok);
    assert!(
        stderr.contains("no midi feature varies over the") && stderr.contains("lower split.folds"),
        "{stderr}"
    );
}
