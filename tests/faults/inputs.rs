//! Hostile input files (issue 15, items 5, 6, 7 and part of 11): lyrics in UTF-16 without a
//! byte-order mark or of binary garbage, truncated and empty audio, oversized lyrics and MIDI,
//! terminal escape sequences in labels and ids, and path templates or ids that lead outside
//! `dataset.root`. Each test writes the hostile files into a generated dataset and runs the
//! `mer` binary; what was extracted or skipped is read back from the cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mer::cache::{Artifact, ArtifactStore, StageKey};

use crate::project::{Outcome, Project};

/// Runs `mer ARGS`, which must succeed, and returns its run record and standard error.
fn run_record(project: &Project, args: &[&str]) -> (serde_json::Value, String) {
    let outcome = project.run(args);
    assert!(outcome.ok(), "mer {args:?} failed: {}", outcome.stderr);
    (record_of(project, &outcome), outcome.stderr)
}

/// The run record of the report folder a finished run names.
fn record_of(project: &Project, outcome: &Outcome) -> serde_json::Value {
    assert!(outcome.ok(), "mer failed: {}", outcome.stderr);
    let folder = outcome
        .stderr
        .lines()
        .find_map(|l| l.split("report: ").nth(1))
        .unwrap_or_else(|| panic!("no report folder in: {}", outcome.stderr));
    let text = std::fs::read_to_string(project.path(folder.trim()).join("run.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The artifact of stage `instance` of a run record, read back through the cache.
fn artifact(project: &Project, record: &serde_json::Value, instance: &str) -> Artifact {
    let stage = record["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["instance"] == instance)
        .unwrap_or_else(|| panic!("no stage {instance} in the run record"));
    let key: StageKey = stage["key"].as_str().unwrap().parse().unwrap();
    let store = ArtifactStore::open(project.path("cache")).unwrap();
    store.get(&key).unwrap().hit().expect("entry verifies")
}

fn strings(artifact: &Artifact, name: &str) -> Vec<String> {
    artifact.array(name).unwrap().as_str().unwrap().to_vec()
}

/// Extracted feature rows by song id.
fn rows(artifact: &Artifact) -> BTreeMap<String, Vec<f32>> {
    let features = artifact.array("features").unwrap();
    let width = features.shape[1];
    let values = features.as_f32().unwrap();
    strings(artifact, "ids")
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, values[i * width..(i + 1) * width].to_vec()))
        .collect()
}

/// Skipped songs by id, with their reasons.
fn skipped(artifact: &Artifact) -> BTreeMap<String, String> {
    strings(artifact, "skipped_ids")
        .into_iter()
        .zip(strings(artifact, "skipped_reasons"))
        .collect()
}

/// Files of a dataset folder, sorted.
fn files_in(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn utf16_lyrics_without_bom_are_decoded_and_garbage_is_skipped() {
    let project = Project::new();
    let (before, _) = run_record(&project, &["run", "exp.toml"]);
    let plain = rows(&artifact(&project, &before, "extract.lyrics"));
    let lyrics = files_in(&project.path("data/Lyrics"));
    assert!(lyrics.len() >= 16, "{} lyrics files", lyrics.len());
    let (utf16, rest) = lyrics.split_at(10);
    let (garbage, cut) = (&rest[..3], &rest[3..6]);
    // The demo writes a few lyrics in UTF-16 with a byte-order mark; start from the text.
    let text_of = |path: &Path| mer::dataset::decode_text(&std::fs::read(path).unwrap()).unwrap();
    for (i, path) in utf16.iter().enumerate() {
        let text = text_of(path);
        let to_bytes = if i % 2 == 0 {
            u16::to_le_bytes
        } else {
            u16::to_be_bytes
        };
        let bytes: Vec<u8> = text.encode_utf16().flat_map(to_bytes).collect();
        std::fs::write(path, bytes).unwrap();
    }
    for path in garbage {
        // Valid UTF-8, every character a control character: what a binary file can look like.
        let bytes: Vec<u8> = (0..3000u32)
            .map(|i| [1, 2, 7, 8, 27, 31][i as usize % 6])
            .collect();
        std::fs::write(path, bytes).unwrap();
    }
    for path in cut {
        // UTF-16 without a byte-order mark, cut inside a code unit: no byte order is certain.
        let text = text_of(path);
        let mut bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        bytes.pop();
        std::fs::write(path, bytes).unwrap();
    }

    let (after, _) = run_record(&project, &["run", "exp.toml"]);
    let extracted = artifact(&project, &after, "extract.lyrics");
    let decoded = rows(&extracted);
    let skipped = skipped(&extracted);
    for path in utf16 {
        let id = stem(path);
        assert_eq!(
            decoded.get(&id),
            plain.get(&id),
            "song {id}: UTF-16 lyrics without BOM give the features of their UTF-8 text"
        );
    }
    for path in garbage {
        let reason = &skipped[&stem(path)];
        assert!(reason.contains("control characters"), "{reason}");
        assert!(reason.contains(&*path.to_string_lossy()), "{reason}");
    }
    for path in cut {
        let reason = &skipped[&stem(path)];
        assert!(
            reason.contains("UTF-16 without a byte-order mark"),
            "{reason}"
        );
    }
    assert_eq!(skipped.len(), garbage.len() + cut.len(), "{skipped:?}");
}

/// A demo WAV (canonical 44-byte header, 16-bit mono) cut to its first `seconds`, the header
/// still declaring the whole length.
fn truncate_wav(path: &Path, seconds: f64) {
    let bytes = std::fs::read(path).unwrap();
    let samples = (seconds * 22_050.0).round() as usize;
    std::fs::write(path, &bytes[..44 + 2 * samples]).unwrap();
}

#[test]
fn truncated_audio_is_warned_about_and_skipped_below_min_seconds() {
    let project = Project::new();
    let audio = files_in(&project.path("data/Audio"));
    let (cut_short, cut_long, empty) = (&audio[0], &audio[1], &audio[2]);
    truncate_wav(cut_short, 0.022);
    truncate_wav(cut_long, 1.5);
    std::fs::write(empty, b"").unwrap();

    let (record, stderr) = run_record(&project, &["run", "exp.toml"]);
    let extracted = artifact(&project, &record, "extract.audio");
    let skipped = skipped(&extracted);
    let kept = rows(&extracted);

    let short = &skipped[&stem(cut_short)];
    assert!(short.contains("modalities.audio.min_seconds"), "{short}");
    assert!(
        short.contains("0.022 s") && short.contains("2.000 s"),
        "{short}"
    );
    assert!(kept.contains_key(&stem(cut_long)), "1.5 s is enough audio");
    for (path, decoded) in [(cut_short, "0.022 s"), (cut_long, "1.500 s")] {
        let name = path.to_string_lossy();
        assert!(
            stderr.lines().any(|l| l.contains("WARN")
                && l.contains(&*name)
                && l.contains(decoded)
                && l.contains("2.000 s")
                && l.contains("truncated")),
            "a warning names {name}, both lengths and the truncation:\n{stderr}"
        );
    }
    let empty_reason = &skipped[&stem(empty)];
    assert!(
        empty_reason.contains("is empty (0 bytes)"),
        "{empty_reason}"
    );
    assert!(
        !empty_reason.contains("no suitable format reader"),
        "{empty_reason}"
    );
    assert_eq!(skipped.len(), 2, "{skipped:?}");
}

#[test]
fn a_50_mb_lyrics_file_is_skipped_and_memory_stays_bounded() {
    let project = Project::new();
    let victim = files_in(&project.path("data/Lyrics")).remove(0);
    let verse = "oh the night is long and the road is cold\nwe sing until the morning comes\n";
    let huge = verse.repeat(50_000_000 / verse.len() + 1);
    std::fs::write(&victim, huge).unwrap();

    let (outcome, peak) = project.run_measuring_memory(&["run", "exp.toml"]);
    let record = record_of(&project, &outcome);
    let extracted = artifact(&project, &record, "extract.lyrics");
    let reason = &skipped(&extracted)[&stem(&victim)];
    assert!(
        reason.contains("modalities.lyrics.max_bytes") && reason.contains("50000"),
        "{reason}"
    );
    // Without a cap the tokenizer held about 1.7 GB for this file; the run itself needs ~50 MB.
    assert!(peak < 400, "peak memory of a mer run: {peak} MiB");
}

#[test]
fn midi_size_and_event_caps_and_the_audio_cap_bound_each_song() {
    let project = Project::new();
    let midi = files_in(&project.path("data/MIDIs"));
    let big = &midi[0];
    let mut bytes = std::fs::read(big).unwrap();
    bytes.resize(64 * 1024, 0);
    std::fs::write(big, bytes).unwrap();
    let events_of = |path: &Path| {
        let bytes = std::fs::read(path).unwrap();
        let smf = midly::Smf::parse(&bytes).unwrap();
        smf.tracks.iter().map(Vec::len).sum::<usize>()
    };
    let counts: Vec<usize> = midi[1..].iter().map(|p| events_of(p)).collect();
    // Just under the longest file: too many skips would leave the folds without MIDI.
    let cap = counts.iter().max().unwrap() - 1;
    let over: Vec<String> = midi[1..]
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n > cap)
        .map(|(p, _)| stem(p))
        .collect();
    assert!(!over.is_empty(), "demo MIDI files differ in length");

    let (record, stderr) = run_record(
        &project,
        &[
            "run",
            "exp.toml",
            "--set",
            "modalities.midi.max_bytes=32768",
            "--set",
            &format!("modalities.midi.max_events={cap}"),
            "--set",
            "modalities.audio.max_seconds=1",
        ],
    );
    let midi_skips = skipped(&artifact(&project, &record, "extract.midi"));
    let reason = &midi_skips[&stem(big)];
    assert!(
        reason.contains("modalities.midi.max_bytes") && reason.contains("65536"),
        "{reason}"
    );
    for id in &over {
        let reason = &midi_skips[id];
        assert!(reason.contains("modalities.midi.max_events"), "{reason}");
    }
    assert_eq!(midi_skips.len(), over.len() + 1, "{midi_skips:?}");

    // Two-second songs under a one-second cap: only the first second is decoded, as with
    // `duration = 1`, and the user is told.
    let capped = rows(&artifact(&project, &record, "extract.audio"));
    assert!(
        stderr.contains("modalities.audio.max_seconds"),
        "the cap is named in a warning:\n{stderr}"
    );
    let (windowed, _) = run_record(
        &project,
        &["run", "exp.toml", "--set", "modalities.audio.duration=1"],
    );
    assert_eq!(
        capped,
        rows(&artifact(&project, &windowed, "extract.audio"))
    );
}

#[test]
fn new_input_limits_are_validated_naming_the_key() {
    let project = Project::new();
    for (set, key) in [
        (
            "modalities.audio.min_seconds=-1",
            "modalities.audio.min_seconds",
        ),
        (
            "modalities.audio.max_seconds=0",
            "modalities.audio.max_seconds",
        ),
        (
            "modalities.lyrics.max_bytes=0",
            "modalities.lyrics.max_bytes",
        ),
        ("modalities.midi.max_bytes=0", "modalities.midi.max_bytes"),
        ("modalities.midi.max_events=0", "modalities.midi.max_events"),
    ] {
        let outcome = project.run(&["validate", "exp.toml", "--set", set]);
        assert!(!outcome.ok(), "--set {set} is rejected");
        assert!(outcome.stderr.contains(key), "{set}: {}", outcome.stderr);
    }
    // A window shorter than the minimum would skip every song; longer than the cap, never read.
    let outcome = project.run(&[
        "validate",
        "exp.toml",
        "--set",
        "modalities.audio.duration=0.25",
    ]);
    assert!(!outcome.ok());
    assert!(
        outcome.stderr.contains("modalities.audio.min_seconds"),
        "{}",
        outcome.stderr
    );
    let outcome = project.run(&[
        "validate",
        "exp.toml",
        "--set",
        "modalities.audio.duration=4000",
    ]);
    assert!(!outcome.ok());
    assert!(
        outcome.stderr.contains("modalities.audio.max_seconds"),
        "{}",
        outcome.stderr
    );
}

/// A `table`-layout demo dataset in `data/` and a spec `table.toml` over it, with `paths`
/// replaced by `paths` when given.
fn table_project(paths: Option<&str>) -> Project {
    let project = Project::new();
    std::fs::remove_dir_all(project.root().join("data")).unwrap();
    let outcome = project.run(&[
        "demo",
        "--out",
        "data",
        "--songs",
        "40",
        "--seconds",
        "2",
        "--seed",
        "11",
        "--layout",
        "table",
    ]);
    assert!(outcome.ok(), "{}", outcome.stderr);
    let paths = paths.unwrap_or(
        "audio = \"audio/{id}.wav\"\nlyrics = \"lyrics/{id}.txt\"\nmidi = \"midi/{id}.mid\"",
    );
    project.dir.write(
        "table.toml",
        format!(
            "seed = 4\n\n[dataset]\nlayout = \"table\"\nroot = \"data\"\n\n[dataset.paths]\n{paths}\n\n\
             [modalities.audio]\nn_mels = 32\n[modalities.lyrics]\nhash_dims = 256\n\
             [modalities.midi]\n\n[split]\nfolds = 2\n\n[schedule]\nepochs = 3\n\n\
             [eval]\nbootstrap = 20\ntta_passes = 2\n"
        ),
    );
    project
}

fn assert_no_control_characters(what: &str, outcome: &Outcome) {
    for (stream, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        let raw: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert!(
            raw.is_empty(),
            "{what} {stream} prints raw control characters {raw:?}:\n{text:?}"
        );
    }
}

#[test]
fn escape_sequences_in_labels_and_ids_are_printed_escaped() {
    let project = table_project(None);
    let labels = std::fs::read_to_string(project.path("data/labels.csv")).unwrap();
    let mut lines: Vec<String> = labels.lines().map(str::to_string).collect();
    let label_at = lines[0].split(',').position(|h| h == "label").unwrap();
    // Every song of the first row's class gets a label that clears the screen and turns red.
    let first_label = lines[1].split(',').nth(label_at).unwrap().to_string();
    let hostile = "\u{1b}[2J\u{1b}[31mcalm\u{1b}[0m";
    let with_label = |line: &str, label: &str| {
        let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
        fields[label_at] = format!("\"{label}\"");
        fields.join(",")
    };
    for line in lines.iter_mut().skip(1) {
        if line.split(',').nth(label_at) == Some(first_label.as_str()) {
            *line = with_label(line, hostile);
        }
    }
    // An id that sets the terminal title, listed twice: problem lines name it.
    let template = lines[1].clone();
    let (_, rest) = template.split_once(',').unwrap();
    let hostile_id = format!("\"s\u{1b}]0;owned\u{7}\",{rest}");
    lines.extend([hostile_id.clone(), hostile_id]);
    // A song whose label sources disagree, one of them hostile: the error names both.
    let conflict = format!("c1,{rest}");
    lines.extend([conflict.clone(), with_label(&conflict, "\u{1b}[2Jevil")]);
    std::fs::write(project.path("data/labels.csv"), lines.join("\n") + "\n").unwrap();

    let inspect = project.run(&["data", "inspect", "table.toml", "--all"]);
    assert!(inspect.ok(), "{}", inspect.stderr);
    assert_no_control_characters("mer data inspect", &inspect);
    for shown in [
        "\\u{1b}[2J\\u{1b}[31mcalm\\u{1b}[0m",
        "s\\u{1b}]0;owned\\u{7}",
        "\\u{1b}[2Jevil",
    ] {
        assert!(
            inspect.stdout.contains(shown),
            "{shown} is shown escaped:\n{}",
            inspect.stdout
        );
    }
    let run = project.run(&[
        "run",
        "table.toml",
        "--set",
        "dataset.on_label_conflict=fail",
    ]);
    assert!(!run.ok(), "the label conflict stops the run");
    assert_no_control_characters("mer run", &run);
    assert!(run.stderr.contains("\\u{1b}[2Jevil"), "{}", run.stderr);
}

#[test]
fn paths_outside_the_dataset_root_are_reported() {
    // Audio one level above the root, through the template; lyrics per song folder, where an
    // id with `..` leads out of the root.
    let project = table_project(Some(
        "audio = \"../outside/{id}.wav\"\nlyrics = \"songs/{id}/lyrics.txt\"\nmidi = \"midi/{id}.mid\"",
    ));
    std::fs::rename(project.path("data/audio"), project.path("outside")).unwrap();
    for path in files_in(&project.path("data/lyrics")) {
        let folder = project.path("data/songs").join(stem(&path));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::rename(&path, folder.join("lyrics.txt")).unwrap();
    }
    let labels = std::fs::read_to_string(project.path("data/labels.csv")).unwrap();
    let first = labels.lines().nth(1).unwrap().to_string();
    let (id, rest) = first.split_once(',').unwrap();
    let escaping_id = "../../escaped";
    std::fs::write(
        project.path("data/labels.csv"),
        format!("{labels}{escaping_id},{rest}\n"),
    )
    .unwrap();
    project.dir.write(
        "escaped/lyrics.txt",
        std::fs::read(project.path("data/songs").join(id).join("lyrics.txt")).unwrap(),
    );

    let inspect = project.run(&["data", "inspect", "table.toml", "--all"]);
    assert!(inspect.ok(), "{}", inspect.stderr);
    let out = &inspect.stdout;
    assert!(out.contains("path outside dataset root"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("dataset.paths.audio") && l.contains("../outside/{id}.wav")),
        "the template is named:\n{out}"
    );
    assert!(
        out.lines().any(|l| l.contains("song ../../escaped")
            && l.contains("dataset.paths.lyrics")
            && l.contains("outside")),
        "the id is named:\n{out}"
    );
    let run = project.run(&["run", "table.toml"]);
    assert!(run.ok(), "{}", run.stderr);
    assert!(run.stderr.contains("dataset problems"), "{}", run.stderr);
    assert_eq!(project.report_folders("table").len(), 1, "the run reports");
}
