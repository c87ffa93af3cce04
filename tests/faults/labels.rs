//! Labels the split cannot stratify: a song whose class no other song has (an edited or
//! mistyped `clusters.txt` line). The class is reported with its songs by id and the metadata
//! line that labels them, before any stage runs, in `mer validate`, `mer plan` and `mer run`
//! alike; by default its songs are left out and the run goes on with the other classes
//! (`split.rare_classes = "drop"`), with `"fail"` every command stops. No message suggests a
//! value that `mer validate` rejects.

use std::path::Path;

use crate::project::{Outcome, Project};

/// The class given to song 001 alone.
const LONE_CLASS: &str = "Cluster 9";

/// The demo project with song 001 relabelled to a class of its own, consistently in
/// `clusters.txt` and every `.bat` file (so it is not a label disagreement).
fn project_with_a_lone_song() -> Project {
    let project = Project::new();
    let data = project.path("data");
    let clusters = std::fs::read_to_string(data.join("clusters.txt")).unwrap();
    let old_class = clusters.lines().next().unwrap().trim().to_string();
    let relabelled: Vec<&str> = std::iter::once(LONE_CLASS)
        .chain(clusters.lines().skip(1))
        .collect();
    std::fs::write(data.join("clusters.txt"), relabelled.join("\n") + "\n").unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "bat") {
            relabel_bat(&path, &old_class);
        }
    }
    project
}

/// Rewrites the `move 001.ext "<class>\..."` line of a `.bat` file to the lone class.
fn relabel_bat(path: &Path, old_class: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with("move 001.") {
                line.replace(&format!("\"{old_class}\\"), &format!("\"{LONE_CLASS}\\"))
            } else {
                line.to_string()
            }
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Whether `text` names the lone class, its song and the line that labels it.
fn names_the_lone_song(text: &str) -> bool {
    text.contains(&format!("\"{LONE_CLASS}\""))
        && text.contains("song 001 (clusters.txt")
        && text.contains("line 1)")
}

/// Cache entries written (any file under `cache/` but the stat cache of input files).
fn artifacts(project: &Project) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![project.root().join("cache")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "h5") {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[test]
fn a_class_of_one_song_is_reported_and_left_out_and_the_run_goes_on() {
    let project = project_with_a_lone_song();
    for command in ["validate", "plan"] {
        let outcome = project.run(&[command, "exp.toml"]);
        assert!(outcome.ok(), "mer {command}: {}", outcome.stderr);
        assert!(
            names_the_lone_song(&outcome.stderr) && outcome.stderr.contains("left out"),
            "mer {command} must report the lone song: {}",
            outcome.stderr
        );
    }
    let run = project.run(&["run", "exp.toml"]);
    assert!(
        run.ok(),
        "the run must go on without the class: {}",
        run.stderr
    );
    assert!(names_the_lone_song(&run.stderr), "{}", run.stderr);
    let report = project
        .report_folders("exp")
        .pop()
        .expect("a report folder");
    let predictions = std::fs::read_to_string(report.join("predictions.csv")).unwrap();
    let header = predictions.lines().next().unwrap();
    assert!(!header.contains(LONE_CLASS), "{header}");
    assert_eq!(header.matches("p[").count(), 5, "{header}");
}

#[test]
fn with_rare_classes_fail_every_command_stops_before_any_stage_with_advice_validation_accepts() {
    let project = project_with_a_lone_song();
    let fail = ["--set", "split.rare_classes=\"fail\""];
    for command in ["validate", "plan", "run"] {
        let outcome = project.run(&[&[command, "exp.toml"], &fail[..]].concat());
        assert!(
            !outcome.ok() && outcome.code.is_some() && !outcome.stderr.contains("panicked"),
            "mer {command} must stop: exit {:?}, {}",
            outcome.code,
            outcome.stderr
        );
        assert!(
            names_the_lone_song(&outcome.stderr),
            "mer {command}: {}",
            outcome.stderr
        );
        assert_eq!(
            artifacts(&project),
            Vec::<String>::new(),
            "mer {command} ran a stage"
        );
        assert!(
            project.report_folders("exp").is_empty(),
            "mer {command} wrote a report"
        );
        assert_suggestions_validate(&project, &outcome, &fail);
    }
}

/// Every `set split.<key> = <value>` (or `to at most <value>`) the message suggests passes
/// `mer validate`.
fn assert_suggestions_validate(project: &Project, outcome: &Outcome, base: &[&str]) {
    let suggestions: Vec<String> = outcome
        .stderr
        .split("set split.")
        .skip(1)
        .map(|rest| {
            let end = rest.find([',', '\n', ' ']).unwrap_or(rest.len());
            let (key, value) = (&rest[..end], rest[end..].trim_start());
            let value = value
                .strip_prefix("= ")
                .or_else(|| value.strip_prefix("to at most "))
                .unwrap_or(value);
            let value_end = value.find([',', '\n', ' ']).unwrap_or(value.len());
            format!("split.{key}={}", &value[..value_end])
        })
        .collect();
    assert!(!suggestions.is_empty(), "no advice: {}", outcome.stderr);
    for suggestion in suggestions {
        let validated =
            project.run(&[&["validate", "exp.toml"], base, &["--set", &suggestion]].concat());
        assert!(
            validated.ok(),
            "suggested `{suggestion}` is refused: {}",
            validated.stderr
        );
    }
}
