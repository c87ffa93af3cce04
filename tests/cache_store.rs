//! The HDF5 artifact store and its locks: round trips, corruption, races, stale locks.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, SystemTime};

use mer::cache::{
    Acquired, ArrayData, Artifact, ArtifactStore, ConfigSlice, FileHash, Lookup, StageInputs,
    StageKey, StoreOptions,
};

/// Short timings so tests take milliseconds.
fn fast() -> StoreOptions {
    StoreOptions {
        lock_poll: Duration::from_millis(10),
        heartbeat: Duration::from_millis(50),
        stale_after: Duration::from_secs(2),
    }
}

fn inputs(name: &str) -> StageInputs {
    StageInputs::new("extract.audio", 4)
        .config(
            ConfigSlice::new()
                .with("extract.audio.n_mels", 64_i64)
                .with("id", name),
        )
        .upstream("dataset", StageKey([7; 32]))
        .file("001", FileHash([9; 32]))
}

fn sample(name: &str) -> Artifact {
    let mut artifact = Artifact::new(&inputs(name));
    artifact
        .put_f32(
            "features",
            &[2, 3],
            vec![1.0, -0.0, f32::NAN, 4.5, f32::MAX, 1e-30],
        )
        .put_f64("stats", &[3], vec![0.1, f64::INFINITY, -2.0])
        .put_i64("labels", &[4], vec![0, 4, -1, i64::MAX])
        .put_u8("mask", &[2, 2], vec![1, 0, 0, 1])
        .put_u8("empty", &[0, 5], vec![])
        .put_f64("scalar", &[], vec![42.0])
        .put_strings(
            "song_ids",
            vec!["001".into(), "Ünïcode ✓".into(), String::new()],
        );
    artifact
}

fn stored(store: &ArtifactStore, name: &str) -> Artifact {
    store
        .put(sample(name), Duration::from_millis(1500))
        .unwrap()
}

#[test]
fn every_array_type_and_the_metadata_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    let written = stored(&store, "a");
    let key = inputs("a").key();
    assert!(store.entry_path(&key).is_file());
    let read = store.get(&key).unwrap().hit().expect("a hit");

    // NaN != NaN, so compare bit patterns of the f32 array and everything else directly.
    let bits = |a: &Artifact| -> Vec<u32> {
        let values = a.array("features").unwrap().as_f32().unwrap();
        values.iter().map(|x| x.to_bits()).collect()
    };
    assert_eq!(bits(&read), bits(&written));
    for name in ["stats", "labels", "mask", "empty", "scalar", "song_ids"] {
        assert_eq!(read.array(name), written.array(name), "array {name}");
    }
    assert_eq!(read.array("features").unwrap().shape, [2, 3]);
    assert_eq!(read.array("empty").unwrap().shape, [0, 5]);
    assert_eq!(read.array("scalar").unwrap().shape, Vec::<usize>::new());
    assert_eq!(
        read.array("song_ids").unwrap().as_str().unwrap()[1],
        "Ünïcode ✓"
    );

    let meta = &read.meta;
    assert_eq!(meta, &written.meta);
    assert_eq!(meta.key, key);
    assert_eq!(meta.stage, "extract.audio");
    assert_eq!(meta.version, 4);
    assert_eq!(meta.config_json, r#"{"extract.audio.n_mels":64,"id":"a"}"#);
    assert_eq!(meta.upstream["dataset"], StageKey([7; 32]));
    assert_eq!(meta.files["001"], FileHash([9; 32]));
    assert_eq!(meta.duration_s, 1.5);
    assert_eq!(meta.mer_version, env!("CARGO_PKG_VERSION"));
    assert!(
        meta.created.ends_with('Z') && meta.created.len() == 24,
        "{}",
        meta.created
    );
    assert_eq!(meta.checksum.len(), 64);
}

#[test]
fn missing_key_is_a_miss_and_malformed_artifacts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    assert!(matches!(
        store.get(&StageKey([3; 32])).unwrap(),
        Lookup::Miss
    ));

    let mut bad = Artifact::new(&inputs("bad"));
    bad.put_f32("x", &[2, 2], vec![1.0]);
    let err = store.put(bad, Duration::ZERO).unwrap_err().to_string();
    assert!(
        err.contains("shape [2, 2]") && err.contains("bug in that stage"),
        "{err}"
    );
    let mut bad = Artifact::new(&inputs("bad"));
    bad.insert("a/b", vec![1], ArrayData::U8(vec![1]));
    assert!(store.put(bad, Duration::ZERO).is_err());
    assert!(
        store.list().unwrap().is_empty(),
        "a refused artifact leaves nothing behind"
    );
}

fn assert_quarantined(store: &ArtifactStore, key: &StageKey, expect_in_reason: &str) {
    match store.get(key).unwrap() {
        Lookup::Quarantined { reason, moved_to } => {
            assert!(reason.contains(expect_in_reason), "reason: {reason}");
            assert!(moved_to.starts_with(store.root().join("quarantine")));
            assert!(moved_to.is_file());
            let note = fs::read_to_string(moved_to.with_extension("txt")).unwrap();
            assert!(note.contains(&key.to_string()));
        }
        other => panic!("expected quarantine, got {other:?}"),
    }
    assert!(!store.entry_path(key).exists());
    assert!(
        matches!(store.get(key).unwrap(), Lookup::Miss),
        "then it is a plain miss"
    );
}

#[test]
fn truncated_entry_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    stored(&store, "t");
    let key = inputs("t").key();
    let path = store.entry_path(&key);
    let len = fs::metadata(&path).unwrap().len();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    assert_quarantined(&store, &key, "");
}

#[test]
fn flipped_byte_in_a_dataset_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    let mut artifact = Artifact::new(&inputs("f"));
    // A recognizable pattern so the test can find the dataset's bytes in the file.
    let marker: Vec<u8> = (0..64).map(|i| (i * 7 + 3) as u8).collect();
    artifact.put_u8("blob", &[64], marker.clone());
    store.put(artifact, Duration::ZERO).unwrap();
    let key = inputs("f").key();
    let path = store.entry_path(&key);
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes
        .windows(64)
        .position(|w| w == marker)
        .expect("raw data in file");
    bytes[at + 10] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    assert_quarantined(&store, &key, "checksum mismatch");
}

/// Rewrites a scalar attribute of an entry in place, as a flipped byte on disk would.
fn set_attr<T: hdf5::H5Type>(path: &Path, name: &str, value: T) {
    let file = hdf5::File::open_rw(path).unwrap();
    file.attr(name).unwrap().write_scalar(&value).unwrap();
}

#[test]
fn a_changed_attribute_is_quarantined_and_hidden_from_listings() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    stored(&store, "d");
    let key = inputs("d").key();
    set_attr(&store.entry_path(&key), "duration_s", 1e12_f64);
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (&listed[0].stage, listed[0].duration_s),
        (&None, None),
        "nothing unverified is listed"
    );
    assert_quarantined(&store, &key, "checksum mismatch");
}

#[test]
fn an_entry_of_the_previous_format_is_recomputed_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    let key = inputs("old").key();
    // Format 1 had no header and checksummed only the datasets: its attributes cannot be
    // trusted.
    let path = store.entry_path(&key);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let old = hdf5::File::create(&path).unwrap();
    old.new_attr::<u32>()
        .create("format")
        .unwrap()
        .write_scalar(&1_u32)
        .unwrap();
    old.close().unwrap();
    assert_quarantined(&store, &key, "entry format 1");
    stored(&store, "old");
    assert!(matches!(store.get(&key).unwrap(), Lookup::Hit(_)));
}

#[test]
fn entry_under_the_wrong_name_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    stored(&store, "x");
    let (real, fake) = (inputs("x").key(), StageKey([0xab; 32]));
    fs::create_dir_all(store.entry_path(&fake).parent().unwrap()).unwrap();
    fs::copy(store.entry_path(&real), store.entry_path(&fake)).unwrap();
    assert_quarantined(&store, &fake, "file holds key");
}

#[test]
fn list_verify_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    stored(&store, "1");
    stored(&store, "2");
    let (k1, k2) = (inputs("1").key(), inputs("2").key());

    // A crashed writer's temp file and a lock are not entries.
    let shard = store.entry_path(&k1).parent().unwrap().to_path_buf();
    fs::write(shard.join(format!(".{k1}.h5.99999.0.tmp")), b"half a file").unwrap();
    fs::write(store.lock_path(&k2), b"{}").unwrap();

    let listed = store.list().unwrap();
    let mut expected = vec![k1, k2];
    expected.sort();
    assert_eq!(listed.iter().map(|e| e.key).collect::<Vec<_>>(), expected);
    assert!(
        listed
            .iter()
            .all(|e| e.stage.as_deref() == Some("extract.audio") && e.size > 0)
    );

    let report = store.verify_all().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!((report.ok, report.temp_files), (2, 1));

    assert!(store.remove(&k1).unwrap());
    assert!(!store.remove(&k1).unwrap());
    assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn a_hit_updates_last_used() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    stored(&store, "u");
    let key = inputs("u").key();
    let long_ago = SystemTime::now() - Duration::from_secs(86_400);
    let file = fs::File::open(store.entry_path(&key)).unwrap();
    file.set_times(fs::FileTimes::new().set_accessed(long_ago))
        .unwrap();
    let before = store.list().unwrap()[0].last_used;
    assert!(before <= long_ago + Duration::from_secs(1));
    store.get(&key).unwrap().hit().unwrap();
    let after = store.list().unwrap()[0].last_used;
    assert!(after > long_ago + Duration::from_secs(3600));
}

#[test]
fn stale_temp_files_are_swept_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    stored(&store, "s");
    let shard = store
        .entry_path(&inputs("s").key())
        .parent()
        .unwrap()
        .to_path_buf();
    let old = shard.join(".dead.h5.1.0.tmp");
    let young = shard.join(".alive.h5.2.0.tmp");
    fs::write(&old, b"x").unwrap();
    fs::write(&young, b"x").unwrap();
    let long_ago = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options()
        .append(true)
        .open(&old)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    ArtifactStore::open_with(dir.path(), fast()).unwrap();
    assert!(!old.exists());
    assert!(young.exists(), "a live writer's temp file is left alone");
}

/// The compute path shared by the thread and process races: count, pause, commit.
fn compute_once(store: &ArtifactStore, count_dir: &Path, who: &str) -> Artifact {
    let key = inputs("race").key();
    match store.acquire(&key).unwrap() {
        Acquired::Ready(artifact) => artifact,
        Acquired::Compute(guard) => {
            fs::write(count_dir.join(format!("computed-{who}")), b"").unwrap();
            // Long enough that every racer reaches the lock while we hold it, and spans
            // several heartbeats.
            thread::sleep(Duration::from_millis(300));
            guard.commit(sample("race")).unwrap()
        }
    }
}

fn computations(count_dir: &Path) -> usize {
    fs::read_dir(count_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("computed-")
        })
        .count()
}

#[test]
fn racing_threads_compute_once() {
    let dir = tempfile::tempdir().unwrap();
    let counts = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            let counts = counts.path().to_path_buf();
            thread::spawn(move || {
                barrier.wait();
                compute_once(&store, &counts, &format!("thread-{i}"))
            })
        })
        .collect();
    let results: Vec<Artifact> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(computations(counts.path()), 1);
    assert!(
        results
            .iter()
            .all(|a| a.meta.checksum == results[0].meta.checksum)
    );
    assert!(
        !store.lock_path(&inputs("race").key()).exists(),
        "lock released"
    );
}

const CHILD_ENV: &str = "MER_CACHE_TEST_CHILD";

/// Not a test of its own: the body of a child process in `racing_processes_compute_once`.
#[test]
fn child_process_entry() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (root, counts) = spec.split_once('|').unwrap();
    let store = ArtifactStore::open_with(root, fast()).unwrap();
    let who = format!("process-{}", std::process::id());
    let artifact = compute_once(&store, Path::new(counts), &who);
    assert_eq!(artifact.meta.key, inputs("race").key());
}

#[test]
fn racing_processes_compute_once() {
    let dir = tempfile::tempdir().unwrap();
    let counts = tempfile::tempdir().unwrap();
    let spec = format!("{}|{}", dir.path().display(), counts.path().display());
    let children: Vec<_> = (0..3)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "child_process_entry", "--test-threads=1"])
                .env(CHILD_ENV, &spec)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(computations(counts.path()), 1);
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    assert!(store.verify_all().unwrap().is_clean());
    assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn stale_lock_of_a_dead_process_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    let key = inputs("stale").key();
    // A pid that surely exited: a child we waited for.
    let mut child = Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    fs::create_dir_all(store.lock_path(&key).parent().unwrap()).unwrap();
    let info = format!(
        r#"{{"host":"{}","pid":{dead_pid},"started":"2026-01-01T00:00:00.000Z"}}"#,
        mer::cache::lock::hostname()
    );
    fs::write(store.lock_path(&key), info).unwrap();

    let started = std::time::Instant::now();
    let Acquired::Compute(guard) = store.acquire(&key).unwrap() else {
        panic!("expected to compute");
    };
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no waiting for stale_after"
    );
    let lock = fs::read_to_string(store.lock_path(&key)).unwrap();
    assert!(
        lock.contains(&format!("\"pid\":{}", std::process::id())),
        "{lock}"
    );
    drop(guard);
    assert!(
        !store.lock_path(&key).exists(),
        "dropping the guard releases the lock"
    );
}

#[test]
fn lock_of_another_host_is_taken_over_only_when_its_heartbeat_stops() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        stale_after: Duration::from_millis(300),
        ..fast()
    };
    let store = ArtifactStore::open_with(dir.path(), options).unwrap();
    let key = inputs("remote").key();
    fs::create_dir_all(store.lock_path(&key).parent().unwrap()).unwrap();
    let info = r#"{"host":"elsewhere.invalid","pid":1,"started":"2026-01-01T00:00:00.000Z"}"#;
    fs::write(store.lock_path(&key), info).unwrap();

    let started = std::time::Instant::now();
    let Acquired::Compute(_guard) = store.acquire(&key).unwrap() else {
        panic!("expected to compute");
    };
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "waited for the timeout"
    );
}

#[test]
fn a_holders_heartbeat_keeps_waiters_waiting() {
    let dir = tempfile::tempdir().unwrap();
    // stale_after is 10 heartbeats: a loaded CI machine may delay a few, not ten.
    let options = StoreOptions {
        stale_after: Duration::from_millis(500),
        ..fast()
    };
    let store = ArtifactStore::open_with(dir.path(), options).unwrap();
    let key = inputs("slow").key();
    let Acquired::Compute(guard) = store.acquire(&key).unwrap() else {
        panic!("empty store");
    };
    let waiter = {
        let store = store.clone();
        thread::spawn(move || store.acquire(&key).unwrap())
    };
    // Far longer than stale_after: only the heartbeat keeps the lock alive.
    thread::sleep(Duration::from_millis(1200));
    assert!(
        !waiter.is_finished(),
        "the waiter must not break a live lock"
    );
    guard.commit(sample("slow")).unwrap();
    assert!(matches!(waiter.join().unwrap(), Acquired::Ready(_)));
}

const CRASH_ENV: &str = "MER_CACHE_TEST_CRASH";

/// Not a test of its own: a child that takes the lock, starts writing, and hangs until killed.
#[test]
fn crashing_child_entry() {
    let Ok(root) = std::env::var(CRASH_ENV) else {
        return;
    };
    let store = ArtifactStore::open_with(&root, fast()).unwrap();
    let key = inputs("crash").key();
    let Acquired::Compute(_guard) = store.acquire(&key).unwrap() else {
        panic!("the parent left the key missing");
    };
    let shard = store.entry_path(&key).parent().unwrap().to_path_buf();
    let pid = std::process::id();
    fs::write(
        shard.join(format!(".{key}.h5.{pid}.0.tmp")),
        b"\x89HDF half",
    )
    .unwrap();
    fs::write(Path::new(&root).join("child-ready"), b"").unwrap();
    thread::sleep(Duration::from_secs(30));
}

#[test]
fn a_writer_killed_mid_write_leaves_nothing_that_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crashing_child_entry", "--test-threads=1"])
        .env(CRASH_ENV, dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = dir.path().join("child-ready");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "child never got the lock"
        );
        thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL: no destructors, the lock and temp file stay
    child.wait().unwrap();

    let store = ArtifactStore::open_with(dir.path(), fast()).unwrap();
    let key = inputs("crash").key();
    assert!(store.lock_path(&key).exists());
    let report = store.verify_all().unwrap();
    assert!(
        report.is_clean() && report.ok == 0 && report.temp_files == 1,
        "{report:?}"
    );
    assert!(matches!(store.get(&key).unwrap(), Lookup::Miss));

    let Acquired::Compute(guard) = store.acquire(&key).unwrap() else {
        panic!("expected to take over the dead writer's lock");
    };
    guard.commit(sample("crash")).unwrap();
    assert!(store.get(&key).unwrap().hit().is_some());
}
