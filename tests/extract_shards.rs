//! Extraction in shards (`[executor] extract_shards = N`): each shard its own cached stage,
//! joined into exactly the unsharded extraction's arrays under its key, so sharded and
//! unsharded runs share everything downstream; a song changed recomputes only its shard.

mod util;

use std::collections::BTreeMap;
use std::path::Path;

use mer::cache::{ArtifactStore, Lookup, StageKey};
use mer::results::RunRecord;
use util::{TestDir, output};

const SPEC: &str = r#"
[dataset]
layout = "mirex-like"
root = "data"

[modalities.audio]
extractor = ["spectral", "onnx"]
on_error = "skip"

[modalities.audio.spectral]
n_mels = 32
pooling = ["mean", "std"]

[modalities.audio.onnx]
model = "mel.onnx"
n_mels = 40

[modalities.lyrics]
[modalities.midi]

[split]
test_fraction = 0.25
folds = 2
"#;

fn project() -> TestDir {
    let dir = TestDir::new();
    dir.write_demo(24, 3, 5);
    dir.copy_mel_onnx();
    // A song whose audio cannot be read: skipped, with its reason, in both runs.
    dir.write("data/Audio/007.wav", b"not a wav file");
    dir.write("exp.toml", SPEC);
    dir
}

/// `mer run` with stand-ins for train and evaluate, into `cache`; its run record.
fn run(dir: &TestDir, cache: &str, extra: &[&str]) -> RunRecord {
    let mut command = dir.mer();
    command.args(["--cache", cache, "run", "exp.toml", "--debug-mock-stages"]);
    let (ok, _, stderr) = output(command.args(extra));
    assert!(ok, "{stderr}");
    let text = std::fs::read_to_string(dir.report_folder(&stderr).join("run.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn keys(record: &RunRecord) -> BTreeMap<String, (StageKey, String)> {
    (record.stages.iter())
        .map(|s| (s.instance.clone(), (s.key, format!("{:?}", s.decision))))
        .collect()
}

/// Every array of the artifact under `key` in the cache at `root`, as text.
fn arrays(root: &Path, key: &StageKey) -> BTreeMap<String, String> {
    let store = ArtifactStore::open(root).unwrap();
    let Lookup::Hit(artifact) = store.get(key).unwrap() else {
        panic!("{} not in {}", key.short(), root.display());
    };
    (artifact.arrays())
        .map(|(name, array)| (name.to_string(), format!("{array:?}")))
        .collect()
}

#[test]
fn shards_join_into_the_unsharded_artifacts_under_their_keys() {
    let dir = project();
    let sharded = run(&dir, "sharded", &["--set", "executor.extract_shards=4"]);
    let whole = run(&dir, "whole", &[]);
    let (sharded, whole) = (keys(&sharded), keys(&whole));

    // Four shards of each per-song extraction, computed; none in the unsharded run.
    for extraction in [
        "extract.audio.spectral",
        "extract.audio.onnx",
        "extract.lyrics",
        "extract.midi",
    ] {
        for shard in 0..4 {
            let instance = format!("{extraction}.shard[{shard}]");
            assert_eq!(sharded[&instance].1, "Miss", "{instance}");
            assert!(!whole.contains_key(&instance));
        }
    }
    // Every other stage has the same key: sharding is not part of what is computed.
    for (instance, (key, _)) in &whole {
        assert_eq!(sharded[instance].0, *key, "{instance}");
    }
    // And the same arrays, skipped song and its reason included.
    for extraction in [
        "extract.audio.spectral",
        "extract.audio.onnx",
        "extract.audio",
        "extract.lyrics",
        "extract.midi",
    ] {
        let key = whole[extraction].0;
        let (a, b) = (
            arrays(&dir.path("sharded"), &key),
            arrays(&dir.path("whole"), &key),
        );
        assert_eq!(a, b, "{extraction}");
        if extraction == "extract.audio" {
            assert!(a["skipped_ids"].contains("007"), "{a:?}");
        }
    }
}

/// `mer plan`'s decision per stage instance.
fn plan(dir: &TestDir, cache: &str, extra: &[&str]) -> BTreeMap<String, String> {
    let mut command = dir.mer();
    command.args(["--cache", cache, "plan", "exp.toml"]);
    let (ok, stdout, stderr) = output(command.args(extra));
    assert!(ok, "{stderr}");
    (stdout.lines())
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let instance = words.next()?;
            let decision = words.nth(1)?; // after the key
            instance
                .starts_with("extract")
                .then(|| (instance.to_string(), decision.to_string()))
        })
        .collect()
}

#[test]
fn a_changed_song_reruns_only_its_shard_and_a_cached_join_needs_no_shards() {
    let dir = project();
    let shards = ["--set", "executor.extract_shards=4"];
    run(&dir, "cache", &shards);

    // A joined extraction already cached (here, by the unsharded run into another cache)
    // resolves none of its shards.
    run(&dir, "whole", &[]);
    let planned = plan(&dir, "whole", &shards);
    assert_eq!(planned["extract.lyrics"], "hit");
    assert!(
        !planned.keys().any(|i| i.contains(".shard[")),
        "{planned:?}"
    );

    // One song's lyrics edited: its shard and the join rerun, the other shards are reused.
    let mut files: Vec<_> = std::fs::read_dir(dir.path("data/Lyrics"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let lyrics = &files[0];
    let text = std::fs::read_to_string(lyrics).unwrap();
    std::fs::write(lyrics, text + "\nand one more line\n").unwrap();
    let planned = plan(&dir, "cache", &shards);
    assert_eq!(planned["extract.lyrics"], "miss");
    let missed: Vec<&String> = (planned.iter())
        .filter(|(i, d)| i.starts_with("extract.lyrics.shard[") && *d == "miss")
        .map(|(i, _)| i)
        .collect();
    let hits = (planned.iter())
        .filter(|(i, d)| i.starts_with("extract.lyrics.shard[") && *d == "hit")
        .count();
    assert_eq!((missed.len(), hits), (1, 3), "{planned:?}");
    // The audio and MIDI extractions did not change.
    assert_eq!(planned["extract.audio"], "hit");
    assert_eq!(planned["extract.midi"], "hit");

    // --force on a sharded extraction re-extracts its shards, not only the join.
    let record = run(
        &dir,
        "cache",
        &[
            "--set",
            "executor.extract_shards=4",
            "--force",
            "extract.midi",
        ],
    );
    let forced = (record.stages.iter())
        .filter(|s| {
            s.instance.starts_with("extract.midi") && format!("{:?}", s.decision) == "Forced"
        })
        .count();
    assert_eq!(forced, 5, "four shards and the join");
}

#[test]
fn only_shard_and_cached_only_compute_what_they_name_and_nothing_else() {
    let dir = project();
    let mer = |args: &[&str]| {
        let mut command = dir.mer();
        command.args(["--cache", "cache", "run", "exp.toml", "--debug-mock-stages"]);
        output(command.args(args))
    };
    // Nothing cached: a report job's run refuses, naming the first stage it lacks.
    let (ok, _, stderr) = mer(&["--cached-only"]);
    assert!(!ok);
    assert!(
        stderr.contains("is not in the cache and this run may only reuse cached stages"),
        "{stderr}"
    );

    // A shard task is never submitted to Slurm as a whole run.
    let shards = ["--set", "executor.extract_shards=3"];
    let (ok, _, stderr) = mer(&[&shards[..], &["--shard", "1", "--executor", "slurm"]].concat());
    assert!(!ok);
    assert!(
        stderr.contains("--shard and --cached-only are not available with --executor slurm"),
        "{stderr}"
    );

    // One shard task: shard 2 of each sharded extraction, nothing else, no report.
    let reports = || std::fs::read_dir(dir.path("reports/exp")).unwrap().count();
    let before = reports();
    let (ok, _, stderr) = mer(&[&shards[..], &["--shard", "2"]].concat());
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("4 stages computed, 0 cached; no report"),
        "{stderr}"
    );
    assert_eq!(reports(), before);
    let planned = plan(&dir, "cache", &shards);
    let hits: Vec<&String> = (planned.iter())
        .filter(|(_, d)| *d == "hit")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        hits,
        [
            "extract.audio.onnx.shard[2]",
            "extract.audio.spectral.shard[2]",
            "extract.lyrics.shard[2]",
            "extract.midi.shard[2]"
        ]
    );

    // One seed's stages (`--only evaluate@<seed>`), then the report from the cache alone.
    let (ok, _, stderr) = mer(&[&shards[..], &["--only", "evaluate@42"]].concat());
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = mer(&[&shards[..], &["--cached-only"]].concat());
    assert!(ok, "{stderr}");
    assert!(stderr.contains("stages cached; nothing ran"), "{stderr}");

    // With the extractions joined, a shard task has nothing left to do.
    let (ok, _, stderr) = mer(&[&shards[..], &["--shard", "0"]].concat());
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("shard 0: no extraction to compute"),
        "{stderr}"
    );
}
