//! The stage graph against the cache, through the `mer` binary: only changed stages rerun, the
//! run says why, corrupt entries are recomputed, concurrent runs compute each stage once.

mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mer::cache::{Artifact, ArtifactStore, StageKey};
use util::{TestDir, output};

/// A table-layout dataset of 20 songs in 2 classes with audio (half-second sines of different
/// pitch, real WAV files the extractor decodes) for all and lyrics for half.
fn dataset(dir: &TestDir, folder: &str) {
    let mut labels = String::from("id,label\n");
    for i in 0..20 {
        let id = format!("s{i:02}");
        labels.push_str(&format!(
            "{id},{}\n",
            if i % 2 == 0 { "calm" } else { "tense" }
        ));
        let tone = util::sine(220.0 + 20.0 * i as f64, 22_050, 0.5, 0.3);
        dir.write(
            &format!("{folder}/audio/{id}.wav"),
            util::wav_bytes(22_050, 1, &tone),
        );
        if i % 2 == 0 {
            dir.write(&format!("{folder}/lyrics/{id}.txt"), format!("line {i}\n"));
        }
    }
    dir.write(&format!("{folder}/labels.csv"), labels);
}

fn spec(dir: &TestDir, folder: &str) {
    dir.write(
        "exp.toml",
        format!(
            "[dataset]\nlayout = \"table\"\nroot = \"{folder}\"\n\
             paths = {{ audio = \"audio/{{id}}.wav\", lyrics = \"lyrics/{{id}}.txt\" }}\n\n\
             [modalities.audio]\n[modalities.lyrics]\n\n[split]\nfolds = 3\n\n\
             [schedule]\nepochs = 6\n"
        ),
    );
}

fn setup() -> TestDir {
    let dir = TestDir::new();
    dataset(&dir, "data");
    spec(&dir, "data");
    dir
}

/// Runs `mer run exp.toml ARGS` and returns the run record it wrote.
fn run(dir: &TestDir, args: &[&str]) -> serde_json::Value {
    run_with_report(dir, args).0
}

/// Runs `mer run exp.toml ARGS` and returns the run record and its report folder. Always a
/// new report: these tests read the stage decisions of each run (a rerun with nothing changed
/// would otherwise point at the last report; `tests/faults/report.rs` covers that).
fn run_with_report(dir: &TestDir, args: &[&str]) -> (serde_json::Value, PathBuf) {
    let (ok, _, stderr) = output(
        dir.mer()
            .args(["run", "exp.toml", "--new-report"])
            .args(args),
    );
    assert!(ok, "mer run failed: {stderr}");
    let folder = stderr
        .lines()
        .find_map(|l| l.split("report: ").nth(1))
        .unwrap_or_else(|| panic!("no report folder in: {stderr}"));
    let folder = dir.root().join(folder.trim());
    let text = std::fs::read_to_string(folder.join("run.json")).unwrap();
    (serde_json::from_str(&text).unwrap(), folder)
}

/// Stage instance -> (decision, reasons) of a run record.
fn decisions(record: &serde_json::Value) -> BTreeMap<String, (String, Vec<String>)> {
    record["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let reasons = s["reasons"]
                .as_array()
                .map(|r| r.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (
                s["instance"].as_str().unwrap().to_string(),
                (s["decision"].as_str().unwrap().to_string(), reasons),
            )
        })
        .collect()
}

fn misses(record: &serde_json::Value) -> Vec<String> {
    decisions(record)
        .into_iter()
        .filter(|(_, (d, _))| d != "hit")
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn a_rerun_with_nothing_changed_runs_nothing() {
    let dir = setup();
    let first = run(&dir, &[]);
    // 2 extractions, split, 3 x (normalize, train), evaluate.
    assert_eq!(misses(&first).len(), 10, "{first:#}");
    assert!(
        decisions(&first)
            .values()
            .all(|(_, r)| r == &["no entry ever"])
    );
    let second = run(&dir, &[]);
    assert_eq!(misses(&second), Vec::<String>::new(), "{second:#}");
}

#[test]
fn editing_a_training_value_reruns_only_training_and_evaluation() {
    let dir = setup();
    run(&dir, &[]);
    let edited = run(&dir, &["--set", "schedule.epochs=8"]);
    let decided = decisions(&edited);
    assert_eq!(
        misses(&edited),
        ["evaluate@42", "train[0]@42", "train[1]@42", "train[2]@42"]
    );
    assert_eq!(
        decided["train[1]@42"].1,
        ["schedule.epochs changed (6 => 8)"]
    );
    assert!(decided["evaluate@42"].1[0].starts_with("upstream train[0]@42 changed"));
}

#[test]
fn plan_lists_misses_with_the_changed_path_and_both_values() {
    let dir = setup();
    run(&dir, &[]);
    let (ok, stdout, stderr) =
        output(
            dir.mer()
                .args(["plan", "exp.toml", "--set", "modalities.audio.n_mels=64"]),
        );
    assert!(ok, "{stderr}");
    let line = |instance: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(instance))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("extract.audio").contains("miss    modalities.audio.n_mels changed (128 => 64)"),
        "{stdout}"
    );
    assert!(
        line("extract.lyrics").contains("hit"),
        "lyrics must not re-extract:\n{stdout}"
    );
    assert!(line("split@42").contains("hit"), "{stdout}");
    assert!(
        line("normalize[0]@42").contains("upstream extract.audio changed"),
        "{stdout}"
    );
    assert!(stdout.contains("8 of 10 stages would run"), "{stdout}");
    // Nothing ran: a real run still hits everything.
    assert!(misses(&run(&dir, &[])).is_empty());
}

#[test]
fn moving_the_dataset_keeps_the_features_but_a_changed_file_re_extracts() {
    let dir = setup();
    run(&dir, &[]);
    std::fs::rename(dir.path("data"), dir.path("moved")).unwrap();
    spec(&dir, "moved");
    assert!(
        misses(&run(&dir, &[])).is_empty(),
        "renaming the folder must not invalidate anything"
    );

    dir.write("moved/lyrics/s04.txt", "a different line\n");
    let changed = run(&dir, &[]);
    let decided = decisions(&changed);
    assert_eq!(decided["extract.lyrics"].0, "miss");
    assert_eq!(
        decided["extract.lyrics"].1,
        ["input files changed (0 new, 0 removed, 1 modified, e.g. s04)"]
    );
    assert_eq!(decided["extract.audio"].0, "hit");
}

#[test]
fn a_corrupt_entry_is_quarantined_and_recomputed() {
    let dir = setup();
    let first = run(&dir, &[]);
    let entry = entry_path(&dir.path("cache"), &decisions_key(&first, "split@42"));
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();

    let second = run(&dir, &[]);
    let decided = decisions(&second);
    assert_eq!(
        misses(&second),
        ["split@42"],
        "only the corrupt entry recomputes"
    );
    assert!(
        decided["split@42"].1[0].starts_with("cached entry failed verification"),
        "{second:#}"
    );
    assert!(
        std::fs::read_dir(dir.path("cache/quarantine"))
            .unwrap()
            .count()
            > 0
    );
    let (ok, _, stderr) = output(dir.mer().args(["cache", "verify"]));
    assert!(ok, "the recomputed cache verifies clean: {stderr}");
}

#[test]
fn cache_verify_fails_on_a_flipped_byte() {
    let dir = setup();
    let record = run(&dir, &[]);
    let split = decisions_key(&record, "split@42");
    let entry = entry_path(&dir.path("cache"), &split);
    let mut bytes = std::fs::read(&entry).unwrap();
    // A byte inside the stored song ids, which the checksum covers.
    let at = bytes
        .windows(3)
        .position(|w| w == b"s07")
        .expect("ids stored as text");
    bytes[at + 2] = b'8';
    std::fs::write(&entry, bytes).unwrap();
    let (ok, _, stderr) = output(dir.mer().args(["cache", "verify"]));
    assert!(!ok, "verify must fail on corruption: {stderr}");
    assert!(stderr.contains("1 quarantined"), "{stderr}");
}

#[test]
fn force_recomputes_the_named_stage_only() {
    let dir = setup();
    run(&dir, &[]);
    let forced = run(&dir, &["--force", "train[1]"]);
    assert_eq!(misses(&forced), ["train[1]@42"]);
    assert_eq!(decisions(&forced)["train[1]@42"].0, "forced");
    let (ok, _, stderr) = output(dir.mer().args(["run", "exp.toml", "--force", "trian"]));
    assert!(!ok && stderr.contains("no such stage"), "{stderr}");
}

#[test]
fn a_malformed_force_selector_is_a_clear_error() {
    let dir = setup();
    for selector in ["train[x]", "train[1", "train@"] {
        let (ok, _, stderr) = output(dir.mer().args(["run", "exp.toml", "--force", selector]));
        assert!(!ok, "{selector} accepted");
        assert!(
            stderr.contains(&format!("`{selector}` is malformed"))
                && stderr.contains("train[2]@42"),
            "{stderr}"
        );
    }
}

#[test]
fn explain_prints_a_past_runs_decisions() {
    let dir = setup();
    run(&dir, &[]);
    let (_, report) = run_with_report(&dir, &["--set", "schedule.lr=0.01"]);
    let (ok, stdout, stderr) = output(dir.mer().arg("explain").arg(&report));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("schedule.lr changed (0.001 => 0.01)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("10 stages: 6 cached, 4 computed"),
        "{stdout}"
    );
}

#[test]
fn gc_removes_only_what_no_report_references() {
    let dir = setup();
    run(&dir, &[]);
    let (_, second) = run_with_report(&dir, &["--set", "schedule.epochs=5"]);
    // Forget the second run: its 4 train/evaluate entries are no longer referenced.
    std::fs::remove_dir_all(second).unwrap();
    let (ok, stdout, _) = output(dir.mer().args(["cache", "gc", "--dry-run"]));
    assert!(ok);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("would remove"))
            .count(),
        4,
        "{stdout}"
    );
    let (ok, _, stderr) = output(dir.mer().args(["cache", "gc"]));
    assert!(ok, "{stderr}");
    assert!(
        misses(&run(&dir, &[])).is_empty(),
        "gc kept what the first report references"
    );
}

#[test]
fn two_concurrent_runs_compute_each_stage_once() {
    let dir = setup();
    let spawn = || {
        dir.mer()
            .args(["run", "exp.toml"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    let mut computed = 0;
    for report in std::fs::read_dir(dir.path("reports/exp")).unwrap() {
        let text = std::fs::read_to_string(report.unwrap().path().join("run.json")).unwrap();
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        computed += decisions(&record)
            .values()
            .filter(|(d, _)| d == "miss")
            .count();
    }
    assert_eq!(
        computed, 10,
        "each of the 10 stages computed by exactly one of the two runs"
    );
}

fn decisions_key(record: &serde_json::Value, instance: &str) -> String {
    let stages = record["stages"].as_array().unwrap();
    let stage = stages.iter().find(|s| s["instance"] == instance).unwrap();
    stage["key"].as_str().unwrap().to_string()
}

fn entry_path(cache: &Path, key: &str) -> PathBuf {
    cache.join(&key[..2]).join(format!("{key}.h5"))
}

#[test]
fn cache_and_reports_folders_move_with_flags_and_environment() {
    let dir = setup();
    let (ok, _, stderr) =
        output(
            dir.mer()
                .args(["run", "exp.toml", "--cache", "c1", "--reports", "r1"]),
        );
    assert!(ok, "{stderr}");
    assert!(dir.path("c1/lineage").is_dir() && dir.path("r1/exp").is_dir());
    let (ok, _, stderr) = output(
        dir.mer()
            .args(["run", "exp.toml"])
            .env("MER_CACHE", "c2")
            .env("MER_REPORTS", "r2"),
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("10 of 10 stages computed"),
        "a new cache starts empty: {stderr}"
    );
    assert!(dir.path("c2/lineage").is_dir() && dir.path("r2/exp").is_dir());
    assert!(!dir.path("cache").exists() && !dir.path("reports").exists());
}

/// Each spec path a stage reads changes that stage's key (and so everything downstream);
/// paths it does not read leave it alone.
#[test]
fn each_config_path_invalidates_exactly_the_stages_that_read_it() {
    let dir = setup();
    run(&dir, &[]);
    let cases: &[(&str, &[&str])] = &[
        (
            "modalities.audio.n_mels=64",
            &["extract.audio", "normalize", "train", "evaluate"],
        ),
        (
            "modalities.lyrics.hash_dims=64",
            &["extract.lyrics", "normalize", "train", "evaluate"],
        ),
        (
            "split.test_fraction=0.3",
            &["split", "normalize", "train", "evaluate"],
        ),
        ("seed=7", &["split", "normalize", "train", "evaluate"]),
        (
            "normalize.method=robust",
            &["normalize", "train", "evaluate"],
        ),
        (
            "normalize.lyrics=\"l2\"",
            &["normalize", "train", "evaluate"],
        ),
        ("normalize.tfidf=false", &["normalize", "train", "evaluate"]),
        ("model.dropout=0.1", &["train", "evaluate"]),
        ("augment.mixup_alpha=0.2", &["train", "evaluate"]),
        ("schedule.batch_size=16", &["train", "evaluate"]),
        ("eval.tta_passes=3", &["evaluate"]),
        ("name=\"exp\"", &[]),
    ];
    for (set, expected) in cases {
        let (ok, stdout, stderr) = output(dir.mer().args(["plan", "exp.toml", "--set", set]));
        assert!(ok, "{set}: {stderr}");
        let mut missed: Vec<&str> = stdout
            .lines()
            .skip(1)
            .filter(|l| l.split_whitespace().nth(2) == Some("miss"))
            .map(|l| l.split(['[', '@', ' ']).next().unwrap())
            .collect();
        missed.sort();
        missed.dedup();
        let mut expected = expected.to_vec();
        expected.sort();
        assert_eq!(missed, expected, "--set {set}:\n{stdout}");
    }
}

/// The artifact a run record names for `instance`, read back through the store.
fn artifact(dir: &TestDir, record: &serde_json::Value, instance: &str) -> Artifact {
    let key: StageKey = decisions_key(record, instance).parse().unwrap();
    let store = ArtifactStore::open(dir.path("cache")).unwrap();
    store
        .get(&key)
        .unwrap()
        .hit()
        .expect("entry exists and verifies")
}

fn strings(artifact: &Artifact, name: &str) -> Vec<String> {
    artifact.array(name).unwrap().as_str().unwrap().to_vec()
}

#[test]
fn extraction_stores_named_features_and_skips_an_unreadable_file() {
    let dir = setup();
    dir.write("data/audio/s03.wav", b"RIFF but not a wave file");
    let record = run(&dir, &[]);

    let audio = artifact(&dir, &record, "extract.audio");
    let ids = strings(&audio, "ids");
    assert_eq!(ids.len(), 19);
    assert!(!ids.contains(&"s03".to_string()));
    assert_eq!(strings(&audio, "skipped_ids"), ["s03"]);
    let reason = &strings(&audio, "skipped_reasons")[0];
    assert!(
        reason.contains("s03.wav"),
        "the reason names the file: {reason}"
    );
    let names = strings(&audio, "feature_names");
    let features = audio.array("features").unwrap();
    assert_eq!(features.shape, [19, names.len()]);
    assert!(names.iter().any(|n| n.starts_with("mfcc")), "{names:?}");
    let values = features.as_f32().unwrap();
    assert!(values.iter().all(|v| v.is_finite()));
    // Different pitches give different songs: the extractor really read the files.
    let width = names.len();
    assert_ne!(values[..width], values[width..2 * width]);

    let lyrics = artifact(&dir, &record, "extract.lyrics");
    assert_eq!(strings(&lyrics, "ids").len(), 10);
    assert_eq!(strings(&lyrics, "feature_names")[0], "bow_0");

    let (ok, _, stderr) = output(dir.mer().args([
        "run",
        "exp.toml",
        "--set",
        "modalities.audio.on_error=\"fail\"",
    ]));
    assert!(!ok, "on_error = fail stops the run");
    assert!(
        stderr.contains("s03") && stderr.contains("s03.wav"),
        "the error names the song and its file: {stderr}"
    );
}

#[test]
fn the_lexicon_enters_the_lyrics_key_by_content_not_by_path() {
    let dir = setup();
    dir.write("lex.csv", "word,valence\nline,0.5\n");
    let with_lexicon = |path: &str| {
        let text = std::fs::read_to_string(dir.path("exp.toml")).unwrap();
        let text = text.replace(
            "[modalities.lyrics]\n",
            &format!("[modalities.lyrics]\nlexicon = \"{path}\"\n"),
        );
        std::fs::write(dir.path("exp-lex.toml"), text).unwrap();
    };
    let run_lex = || {
        let (ok, _, stderr) = output(dir.mer().args(["run", "exp-lex.toml"]));
        assert!(ok, "{stderr}");
        let folder = stderr
            .lines()
            .find_map(|l| l.split("report: ").nth(1))
            .unwrap()
            .trim()
            .to_string();
        let text = std::fs::read_to_string(dir.root().join(folder).join("run.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    with_lexicon("lex.csv");
    let first = run_lex();
    let lyrics = artifact(&dir, &first, "extract.lyrics");
    let names = strings(&lyrics, "feature_names");
    assert!(names.contains(&"lexicon_valence_mean".to_string()));

    std::fs::rename(dir.path("lex.csv"), dir.path("moved-lex.csv")).unwrap();
    with_lexicon("moved-lex.csv");
    assert_eq!(decisions(&run_lex())["extract.lyrics"].0, "hit");

    dir.write("moved-lex.csv", "word,valence\nline,0.9\n");
    let edited = decisions(&run_lex());
    assert_eq!(edited["extract.lyrics"].0, "miss");
    assert_eq!(edited["extract.audio"].0, "hit");
}

/// CNN14-like embeddings for s00..s19 as CSV: `e0` = i, `e1` = i² mod 7, `e2` constant; no
/// row for s05, a NaN row for s07, and a row for x99, a song the dataset does not list.
fn embeddings(dir: &TestDir, path: &str, edit: impl Fn(usize, &mut [f64; 3])) {
    let mut csv = String::from("id,e0,e1,e2\n");
    for i in (0..20).filter(|&i| i != 5) {
        let mut row = [i as f64, ((i * i) % 7) as f64, 1.0];
        edit(i, &mut row);
        let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        let cells = if i == 7 {
            "nan,1,1".to_string()
        } else {
            cells.join(",")
        };
        csv.push_str(&format!("s{i:02},{cells}\n"));
    }
    csv.push_str("x99,0,0,1\n");
    dir.write(path, csv);
}

/// The standard dataset with audio from a precomputed matrix; `media` keeps the audio path
/// template (each listed WAV then counts as audio too).
fn precomputed_setup(media: bool) -> TestDir {
    let dir = TestDir::new();
    dataset(&dir, "data");
    embeddings(&dir, "emb/cnn14.csv", |_, _| {});
    precomputed_spec(&dir, "emb/cnn14.csv", media);
    dir
}

fn precomputed_spec(dir: &TestDir, matrix: &str, media: bool) {
    let audio = if media {
        "audio = \"audio/{id}.wav\", "
    } else {
        ""
    };
    dir.write(
        "exp.toml",
        format!(
            "[dataset]\nlayout = \"table\"\nroot = \"data\"\n\
             paths = {{ {audio}lyrics = \"lyrics/{{id}}.txt\" }}\n\n\
             [modalities.audio]\nextractor = \"precomputed\"\n\
             precomputed = {{ path = \"{matrix}\" }}\n\n\
             [modalities.lyrics]\n\n[split]\nfolds = 3\n"
        ),
    );
}

#[test]
fn a_precomputed_matrix_is_matched_to_the_songs_by_id() {
    let dir = precomputed_setup(true);
    let record = run(&dir, &[]);
    let audio = artifact(&dir, &record, "extract.audio");
    assert_eq!(strings(&audio, "feature_names"), ["e0", "e1", "e2"]);
    let ids = strings(&audio, "ids");
    assert_eq!(ids.len(), 18, "20 songs less s05 (no row) and s07 (NaN)");
    let at = ids.iter().position(|id| id == "s03").unwrap();
    let values = audio.array("features").unwrap().as_f32().unwrap();
    assert_eq!(values[at * 3..at * 3 + 3], [3.0, 2.0, 1.0]);
    assert_eq!(strings(&audio, "skipped_ids"), ["s05", "s07"]);
    let reasons = strings(&audio, "skipped_reasons");
    assert!(
        reasons[0].starts_with("no row in") && reasons[0].contains("cnn14.csv"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("NaN"), "{reasons:?}");
    assert_eq!(strings(&audio, "unknown_ids"), ["x99"]);

    let (ok, _, stderr) = output(dir.mer().args([
        "run",
        "exp.toml",
        "--set",
        "modalities.audio.on_error=\"fail\"",
    ]));
    assert!(!ok, "on_error = fail stops at the first song without a row");
    assert!(
        stderr.contains("song s05") && stderr.contains("no row in"),
        "{stderr}"
    );
}

#[test]
fn a_song_with_a_row_has_audio_without_a_media_file() {
    let dir = precomputed_setup(false);
    let record = run(&dir, &[]);
    let audio = artifact(&dir, &record, "extract.audio");
    assert_eq!(strings(&audio, "ids").len(), 18);
    // s05 has neither a WAV path nor a row: it simply has no audio, like a song without a file.
    assert_eq!(strings(&audio, "skipped_ids"), ["s07"]);
    let split = artifact(&dir, &record, "split@42");
    let songs = strings(&split, "ids");
    assert_eq!(songs.len(), 19, "every song with a row or lyrics");
    assert!(!songs.contains(&"s05".to_string()));
}

#[test]
fn the_matrix_enters_the_key_by_content_not_by_path() {
    let dir = precomputed_setup(true);
    run(&dir, &[]);
    std::fs::rename(dir.path("emb"), dir.path("moved")).unwrap();
    precomputed_spec(&dir, "moved/cnn14.csv", true);
    assert!(misses(&run(&dir, &[])).is_empty(), "moving the matrix");
    // Spectral settings do not apply to precomputed audio: since the extractor settings are
    // tagged (issue 16), setting one is a spec error naming the key, not a silent no-op.
    let (ok, _, stderr) =
        output(
            dir.mer()
                .args(["run", "exp.toml", "--set", "modalities.audio.n_mels=64"]),
        );
    assert!(!ok);
    assert!(
        stderr.contains(
            "--set modalities.audio.n_mels=64: unknown key `modalities.audio.n_mels`: expected a key of extractor = \"precomputed\""
        ),
        "{stderr}"
    );

    embeddings(&dir, "moved/cnn14.csv", |i, row| row[0] += i as f64);
    let edited = run(&dir, &[]);
    let decided = decisions(&edited);
    assert_eq!(decided["extract.audio"].0, "miss");
    assert!(
        decided["extract.audio"].1[0]
            .starts_with("modalities.audio.precomputed.path changed (\"blake3:"),
        "{:?}",
        decided["extract.audio"].1
    );
    assert_eq!(decided["extract.lyrics"].0, "hit");
    assert_eq!(decided["split@42"].0, "hit");
    assert_eq!(decided["normalize[0]@42"].0, "miss");
}

/// Fold `fold`'s training, validation or test songs (`role`) among `ids`, from the split.
fn songs_in(split: &Artifact, fold: i64, role: &str) -> Vec<String> {
    let folds = split.array("fold").unwrap().as_i64().unwrap();
    strings(split, "ids")
        .into_iter()
        .zip(folds)
        .filter(|(_, f)| match role {
            "train" => **f >= 0 && **f != fold,
            "valid" => **f == fold,
            _ => **f == -1,
        })
        .map(|(id, _)| id)
        .collect()
}

fn f64s(artifact: &Artifact, name: &str) -> Vec<f64> {
    artifact.array(name).unwrap().as_f64().unwrap().to_vec()
}

#[test]
fn normalize_is_fitted_on_the_folds_training_songs_only() {
    let dir = precomputed_setup(true);
    let first = run(&dir, &[]);
    let split = artifact(&dir, &first, "split@42");
    let normalize = artifact(&dir, &first, "normalize[0]@42");
    // s05 has no row and s07 a NaN one: every other song has audio features, test songs too.
    let mut expected: Vec<String> = strings(&split, "ids");
    expected.retain(|id| id != "s05" && id != "s07");
    let mut ids = strings(&normalize, "audio.ids");
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(strings(&normalize, "audio.feature_names"), ["e0", "e1"]);
    assert_eq!(
        normalize.array("audio.kept").unwrap().as_i64().unwrap(),
        [0, 1],
        "the constant e2 is dropped"
    );
    // e0 = i: the mean over the fold's training songs, by hand.
    let training: Vec<String> = songs_in(&split, 0, "train")
        .into_iter()
        .filter(|id| id != "s05" && id != "s07")
        .collect();
    let mean = training
        .iter()
        .map(|id| id[1..].parse::<f64>().unwrap())
        .sum::<f64>()
        / training.len() as f64;
    assert!((f64s(&normalize, "audio.center")[0] - mean).abs() < 1e-9);

    let center = f64s(&normalize, "audio.center");
    let scale = f64s(&normalize, "audio.scale");
    let shift = |who: Vec<String>| {
        move |i: usize, row: &mut [f64; 3]| {
            if who.contains(&format!("s{i:02}")) {
                row[0] += 100.0;
            }
        }
    };
    let held_out: Vec<String> = songs_in(&split, 0, "test")
        .into_iter()
        .chain(songs_in(&split, 0, "valid"))
        .collect();
    embeddings(&dir, "emb/cnn14.csv", shift(held_out));
    let second = run(&dir, &[]);
    let after = artifact(&dir, &second, "normalize[0]@42");
    assert_eq!(
        f64s(&after, "audio.center"),
        center,
        "test and validation songs leak nothing"
    );
    assert_eq!(f64s(&after, "audio.scale"), scale);
    assert_ne!(
        after.array("audio.features").unwrap().as_f32().unwrap(),
        normalize.array("audio.features").unwrap().as_f32().unwrap(),
        "their own rows are transformed with the training parameters"
    );

    embeddings(&dir, "emb/cnn14.csv", shift(training[..1].to_vec()));
    let third = run(&dir, &[]);
    let after = artifact(&dir, &third, "normalize[0]@42");
    assert_ne!(
        f64s(&after, "audio.center"),
        center,
        "a training song's row counts"
    );
}

#[test]
fn hashed_lyrics_get_idf_over_the_bow_columns_and_all_zero_columns_are_dropped() {
    let dir = setup();
    let record = run(&dir, &[]);
    let extract = artifact(&dir, &record, "extract.lyrics");
    let normalize = artifact(&dir, &record, "normalize[1]@42");
    let bow = normalize.array("lyrics.bow").unwrap().as_i64().unwrap();
    assert_eq!(bow.len(), 2048, "idf covers every hashed column");
    assert_eq!(f64s(&normalize, "lyrics.idf").len(), 2048);
    let kept = normalize.array("lyrics.kept").unwrap().as_i64().unwrap();
    let names = strings(&normalize, "lyrics.feature_names");
    assert_eq!(kept.len(), names.len());
    let extracted = strings(&extract, "feature_names");
    for (&j, name) in kept.iter().zip(&names) {
        assert_eq!(&extracted[j as usize], name);
    }
    // Ten one-line lyrics use a handful of the 2048 buckets; the rest are zero everywhere.
    let kept_bow = names.iter().filter(|n| n.starts_with("bow_")).count();
    assert!(kept_bow > 0 && kept_bow < 50, "{kept_bow} bow columns kept");
    let features = normalize.array("lyrics.features").unwrap();
    assert_eq!(features.shape, [10, kept.len()]);
    assert!(features.as_f32().unwrap().iter().all(|v| v.is_finite()));
    assert_eq!(strings(&normalize, "lyrics.method"), ["standard"]);
    assert!(
        normalize.array("audio.idf").is_none(),
        "TF-IDF is for lyrics only"
    );
}

#[test]
fn ctrl_c_stops_between_stages_keeps_finished_ones_and_still_writes_the_report() {
    let dir = setup();
    // Long training, so the interrupt lands while folds train.
    let child = dir
        .mer()
        .args(["run", "exp.toml", "--set", "schedule.epochs=4000"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let split_done = || {
        walkdir::WalkDir::new(dir.path("cache"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "h5"))
            .count()
            >= 4
    };
    let waited = std::time::Instant::now();
    while !split_done() {
        assert!(waited.elapsed().as_secs() < 60, "extraction never finished");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an interrupted run fails: {stderr}");
    assert!(stderr.contains("interrupted before"), "{stderr}");
    let folder = std::fs::read_dir(dir.path("reports/exp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("run.json")).unwrap()).unwrap();
    assert!(record["error"].as_str().unwrap().contains("interrupted"));
    assert!(folder.join("index.html").is_file());

    let (ok, stdout, stderr) =
        output(
            dir.mer()
                .args(["plan", "exp.toml", "--set", "schedule.epochs=4000"]),
        );
    assert!(ok, "{stderr}");
    for stage in ["extract.audio", "extract.lyrics", "split@42"] {
        let line = stdout.lines().find(|l| l.starts_with(stage)).unwrap();
        assert!(line.contains("hit"), "finished stages stay cached: {line}");
    }
}

#[test]
fn mock_stages_run_graph_cache_and_report_without_training_and_never_serve_a_real_run() {
    let dir = setup();
    let mock = ["--debug-mock-stages"];
    let (first, report) = run_with_report(&dir, &mock);
    assert_eq!(misses(&first).len(), 10, "{first:#}");
    let metrics = std::fs::read_to_string(report.join("metrics.csv")).unwrap();
    assert!(metrics.contains("ensemble+tta"), "{metrics}");
    let again = run(&dir, &mock);
    assert_eq!(misses(&again), Vec::<String>::new(), "{again:#}");
    let forced = run(&dir, &["--debug-mock-stages", "--force", "train[1]"]);
    assert_eq!(misses(&forced), ["train[1]@42"]);
    assert_eq!(decisions(&forced)["train[1]@42"].0, "forced");

    // A real run shares extraction, split and normalization, but no mock artifact.
    let (ok, plan, stderr) = output(dir.mer().args(["plan", "exp.toml"]));
    assert!(ok, "{stderr}");
    for instance in decisions(&first).keys() {
        let line = plan
            .lines()
            .find(|l| l.starts_with(&format!("{instance} ")))
            .unwrap_or_else(|| panic!("{instance} not planned:\n{plan}"));
        let computed_for_real = instance.starts_with("train") || instance.starts_with("evaluate");
        let expected = if computed_for_real { " miss " } else { " hit " };
        assert!(line.contains(expected), "{instance}:\n{plan}");
    }
}
