//! Stage keys (golden values and sensitivity) and the input file hasher.

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, SystemTime};

use mer::cache::{ConfigSlice, ConfigValue, FileHash, FileHasher, StageInputs, StageKey};
use serde::Serialize;

fn audio_inputs() -> StageInputs {
    StageInputs::new("extract.audio", 1)
        .config(
            ConfigSlice::new()
                .with("extract.audio.n_mels", 64_i64)
                .with("extract.audio.sample_rate", 22_050_i64)
                .with("extract.audio.hop", 0.5)
                .with("extract.audio.kind", "mel"),
        )
        .file("001", FileHash([1; 32]))
        .file("002", FileHash([2; 32]))
}

fn key_of(config: ConfigSlice) -> StageKey {
    StageInputs::new("normalize[1]", 3).config(config).key()
}

// Golden values: a failure here means the key encoding changed and every existing cache is
// silently invalidated. If that is intended, bump KEY_CONTEXT and update these literals.
#[test]
fn golden_empty_stage_key() {
    assert_eq!(
        StageInputs::new("report", 1).key().to_string(),
        "dc35cc903995ff531446bdfa1c1e4b48b29d7e5e36468275311d2ae2a13cba03"
    );
}

/// The encoding spelled out byte by byte, so the documented format and the code agree.
#[test]
fn encoding_matches_its_documentation() {
    let mut bytes = Vec::new();
    bytes.push(4); // STR tag
    bytes.extend(6_u64.to_le_bytes());
    bytes.extend(b"report");
    bytes.push(8); // U32 tag
    bytes.extend(1_u32.to_le_bytes());
    for _ in 0..3 {
        bytes.push(6); // MAP tag: config, upstream, files, all empty
        bytes.extend(0_u64.to_le_bytes());
    }
    let expected = blake3::derive_key(mer::cache::key::KEY_CONTEXT, &bytes);
    assert_eq!(StageInputs::new("report", 1).key(), StageKey(expected));
}

#[test]
fn golden_extract_key() {
    assert_eq!(
        audio_inputs().key().to_string(),
        "2481ffa45075c473894fa23d5087f8a0d09c5a667456c6278955da2a1e0feea0"
    );
}

#[test]
fn golden_downstream_key() {
    let inputs = StageInputs::new("split", 2)
        .config(ConfigSlice::new().with("split.folds", 5_i64).with(
            "split.holdout",
            ConfigValue::List(vec![
                ConfigValue::Float(0.2),
                ConfigValue::Null,
                true.into(),
            ]),
        ))
        .upstream("extract.audio", audio_inputs().key());
    assert_eq!(
        inputs.key().to_string(),
        "06ef869eddc55d9a07b4a9893b73618b6e6d1b43adb525cd71f6d01b43b3ef2f"
    );
}

#[test]
fn display_short_and_parse_round_trip() {
    let key = audio_inputs().key();
    let hex = key.to_string();
    assert_eq!(hex.len(), 64);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(key.short(), hex[..12]);
    assert_eq!(hex.parse::<StageKey>().unwrap(), key);
    assert_eq!(hex.to_uppercase().parse::<StageKey>().unwrap(), key);
    assert!("abc".parse::<StageKey>().is_err());
    assert!("g".repeat(64).parse::<StageKey>().is_err());
}

#[test]
fn every_config_value_changes_the_key() {
    let base = audio_inputs();
    let variants = [
        ("extract.audio.n_mels", ConfigValue::from(128_i64)),
        ("extract.audio.sample_rate", 44_100_i64.into()),
        ("extract.audio.hop", 0.25.into()),
        ("extract.audio.kind", "mfcc".into()),
    ];
    for (path, value) in variants {
        let mut changed = base.clone();
        changed.config.insert(path, value);
        assert_ne!(
            changed.key(),
            base.key(),
            "changing {path} must change the key"
        );
    }
    let mut added = base.clone();
    added
        .config
        .insert("extract.audio.extra", ConfigValue::Null);
    assert_ne!(added.key(), base.key(), "adding a path must change the key");
}

#[test]
fn name_version_upstream_and_files_change_the_key() {
    let base = audio_inputs();
    let mut other = base.clone();
    other.stage = "extract.lyrics".into();
    assert_ne!(other.key(), base.key());
    let mut other = base.clone();
    other.version = 2;
    assert_ne!(other.key(), base.key());
    let other = base.clone().upstream("x", StageKey([0; 32]));
    assert_ne!(other.key(), base.key());
    let other = base.clone().file("002", FileHash([3; 32]));
    assert_ne!(other.key(), base.key(), "new content for a song");
    let mut other = base.clone();
    let hash = other.files.remove("002").unwrap();
    other.files.insert("003".into(), hash);
    assert_ne!(
        other.key(),
        base.key(),
        "same content under another song id"
    );
}

#[test]
fn insertion_order_does_not_matter() {
    let a = ConfigSlice::new().with("a.x", 1_i64).with("a.y", 2_i64);
    let b = ConfigSlice::new().with("a.y", 2_i64).with("a.x", 1_i64);
    assert_eq!(key_of(a), key_of(b));
    let mut m1 = BTreeMap::new();
    m1.insert("p".to_owned(), ConfigValue::from(1_i64));
    m1.insert("q".to_owned(), ConfigValue::from(2_i64));
    let mut m2 = BTreeMap::new();
    m2.insert("q".to_owned(), ConfigValue::from(2_i64));
    m2.insert("p".to_owned(), ConfigValue::from(1_i64));
    let wrap = |m| ConfigSlice::new().with("a.list", ConfigValue::List(vec![ConfigValue::Map(m)]));
    assert_eq!(key_of(wrap(m1)), key_of(wrap(m2)));
}

#[test]
fn floats_are_keyed_canonically() {
    let k = |x: f64| key_of(ConfigSlice::new().with("a.lr", x));
    assert_eq!(k(0.0), k(-0.0));
    assert_eq!(k(f64::NAN), k(-f64::NAN));
    assert_eq!(k(f64::NAN), k(f64::from_bits(0x7ff0_0000_0000_0001)));
    assert_ne!(k(1.0), k(1.000_000_000_000_000_2));
    assert_ne!(k(f64::INFINITY), k(f64::NEG_INFINITY));
}

#[test]
fn types_are_tagged() {
    let k = |v: ConfigValue| key_of(ConfigSlice::new().with("a.v", v));
    assert_ne!(k(1_i64.into()), k(1.0.into()));
    assert_ne!(k("1".into()), k(1_i64.into()));
    assert_ne!(k(true.into()), k(1_i64.into()));
    assert_eq!(k(20_i64.into()), k(20_u64.into()));
    // Length prefixes: moving a boundary between strings changes the key.
    let list = |a: &str, b: &str| ConfigValue::List(vec![a.into(), b.into()]);
    assert_ne!(k(list("ab", "c")), k(list("a", "bc")));
}

#[derive(Serialize)]
struct Mfcc {
    n_mfcc: usize,
    lifter: f64,
}

#[derive(Serialize)]
struct AudioSection {
    sample_rate: u32,
    mfcc: Mfcc,
    features: Vec<String>,
    window: Option<String>,
}

#[test]
fn from_serialize_flattens_into_dotted_paths() {
    let section = AudioSection {
        sample_rate: 22_050,
        mfcc: Mfcc {
            n_mfcc: 20,
            lifter: 22.0,
        },
        features: vec!["mfcc".into(), "chroma".into()],
        window: None,
    };
    let slice = ConfigSlice::from_serialize("extract.audio", &section).unwrap();
    let paths: Vec<&str> = slice.iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "extract.audio.features",
            "extract.audio.mfcc.lifter",
            "extract.audio.mfcc.n_mfcc",
            "extract.audio.sample_rate",
            "extract.audio.window",
        ]
    );
    let by_hand = ConfigSlice::new()
        .with("extract.audio.sample_rate", 22_050_i64)
        .with("extract.audio.mfcc.n_mfcc", 20_i64)
        .with("extract.audio.mfcc.lifter", 22.0)
        .with(
            "extract.audio.features",
            ConfigValue::List(vec!["mfcc".into(), "chroma".into()]),
        )
        .with("extract.audio.window", ConfigValue::Null);
    assert_eq!(key_of(slice), key_of(by_hand));
}

#[test]
fn file_hasher_uses_the_stat_cache_and_sees_changes() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let data = dir.path().join("data");
    fs::create_dir_all(&data).unwrap();
    let old = SystemTime::now() - Duration::from_secs(3600);
    let paths: Vec<_> = (0..20).map(|i| data.join(format!("{i:03}.txt"))).collect();
    for (i, path) in paths.iter().enumerate() {
        fs::write(path, format!("song {i}")).unwrap();
        fs::File::options()
            .append(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    let mut hasher = FileHasher::open(&cache);
    let first = hasher.hash_files(&paths).unwrap();
    assert_eq!(first[3], FileHash(*blake3::hash(b"song 3").as_bytes()));
    assert_eq!(hasher.stats().read, 20);
    hasher.save();

    // A fresh hasher (a later run) reads nothing that did not change.
    fs::write(&paths[5], "song 5, re-tagged").unwrap();
    let mut hasher = FileHasher::open(&cache);
    let second = hasher.hash_files(&paths).unwrap();
    assert_eq!(hasher.stats().read, 1, "only the modified file is re-read");
    assert_eq!(hasher.stats().from_stat_cache, 19);
    assert_ne!(second[5], first[5]);
    assert_eq!(
        second[5],
        FileHash(*blake3::hash(b"song 5, re-tagged").as_bytes())
    );
    for i in (0..20).filter(|&i| i != 5) {
        assert_eq!(second[i], first[i]);
    }
}

#[test]
fn runs_sharing_a_cache_never_overwrite_each_others_stat_cache_entries() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let old = SystemTime::now() - Duration::from_secs(3600);
    let paths: Vec<_> = (0..40)
        .map(|i| {
            let path = dir.path().join(format!("{i:03}.txt"));
            fs::write(&path, format!("song {i}")).unwrap();
            let file = fs::File::options().append(true).open(&path).unwrap();
            file.set_modified(old).unwrap();
            path
        })
        .collect();
    // Two runs open the cache at once (two Slurm tasks), hash different songs, and save.
    let mut a = FileHasher::open(&cache);
    let mut b = FileHasher::open(&cache);
    a.hash_files(&paths[..20]).unwrap();
    b.hash_files(&paths[20..]).unwrap();
    a.save();
    b.save();
    let mut later = FileHasher::open(&cache);
    later.hash_files(&paths).unwrap();
    assert_eq!(later.stats().read, 0, "both runs' entries were kept");

    // Many small files are merged into one by the run that finds too many.
    for path in &paths {
        let mut run = FileHasher::open(&cache);
        fs::write(path, "changed").unwrap();
        let file = fs::File::options().append(true).open(path).unwrap();
        file.set_modified(old).unwrap();
        run.hash_file(path).unwrap();
        run.save();
    }
    let files = || fs::read_dir(cache.join("files")).unwrap().count();
    assert!(files() <= mer::cache::files::COMPACT_AT + 1, "{}", files());
    let mut last = FileHasher::open(&cache);
    last.hash_files(&paths).unwrap();
    assert_eq!(last.stats().read, 0, "compaction lost no entry");
}

#[test]
fn file_hasher_does_not_trust_racy_mtimes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.txt");
    fs::write(&path, "just written").unwrap();
    let mut hasher = FileHasher::open(dir.path()); // default 2 s racy window
    hasher.hash_file(&path).unwrap();
    hasher.hash_file(&path).unwrap();
    assert_eq!(
        hasher.stats().read,
        2,
        "a file modified this instant is never cached"
    );

    let mut hasher = FileHasher::open(dir.path()).racy_window(Duration::ZERO);
    hasher.hash_file(&path).unwrap();
    hasher.hash_file(&path).unwrap();
    assert_eq!(hasher.stats().read, 1);
}

#[test]
fn moving_the_dataset_keeps_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("dataset-a");
    fs::create_dir_all(&a).unwrap();
    fs::write(a.join("001.mp3"), b"ID3...").unwrap();
    let mut hasher = FileHasher::open(dir.path());
    let before = StageInputs::new("extract.audio", 1)
        .file("001", hasher.hash_file(&a.join("001.mp3")).unwrap())
        .key();
    let b = dir.path().join("renamed");
    fs::rename(&a, &b).unwrap();
    let after = StageInputs::new("extract.audio", 1)
        .file("001", hasher.hash_file(&b.join("001.mp3")).unwrap())
        .key();
    assert_eq!(before, after);
}

#[test]
fn dirty_reasons_name_what_changed() {
    use mer::cache::{Artifact, dirty_reasons};
    let old_inputs = audio_inputs().upstream("dataset", StageKey([1; 32]));
    let old = Artifact::new(&old_inputs).meta;
    assert!(dirty_reasons(&old, &old_inputs).is_empty());

    let mut new = old_inputs.clone();
    new.version = 2;
    new.config.insert("extract.audio.n_mels", 128_i64);
    new.config.insert("extract.audio.fmax", 8000.0);
    new.upstream.insert("dataset".into(), StageKey([2; 32]));
    new.files.insert("002".into(), FileHash([5; 32]));
    new.files.insert("003".into(), FileHash([5; 32]));
    let text: Vec<String> = dirty_reasons(&old, &new)
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(
        text,
        [
            "stage implementation changed (version 1 => 2)",
            "extract.audio.fmax changed (unset => 8000.0)",
            "extract.audio.n_mels changed (64 => 128)",
            "upstream dataset changed (010101010101 => 020202020202)",
            "input files changed (1 new, 0 removed, 1 modified, e.g. 003, 002)",
        ]
    );
}
