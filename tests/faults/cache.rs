//! Faults of the artifact cache: a cache the run cannot write (a read-only mount, another
//! user's shared cache), changed bytes in an entry's attributes, malformed arrays in an entry
//! that passes its checksum, a lock held by a zombie or a live process, and a full disk.
//!
//! Read-only-ness and a full disk are real where the machine allows an unprivileged mount
//! namespace (`unshare --user --map-root-user --mount`): a read-only bind mount and a tiny
//! tmpfs stop root as well as anyone. `chmod a-w` would not (these tests may run as root), so
//! the portable test makes the writes a fully cached run attempts fail another way (the
//! lineage folder is a file, the stat cache is a folder).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use hdf5::types::VarLenUnicode;
use mer::cache::lock::{LockInfo, hostname};
use mer::cache::{ArrayData, ArtifactStore, Lookup, StageKey};
use mer::report::read_run;

use crate::project::{Outcome, Project};

/// Exit code of a Rust panic.
const PANIC: Option<i32> = Some(101);

/// A project after one complete run, so every stage is cached.
fn cached_project() -> Project {
    let project = Project::new();
    let first = project.run(&["run", "exp.toml"]);
    assert!(first.ok(), "first run failed: {}", first.stderr);
    project
}

/// (stage, instance, key) of every stage of the latest run.
fn stages(project: &Project) -> Vec<(String, String, StageKey)> {
    let folder = project
        .report_folders("exp")
        .pop()
        .expect("a report folder");
    read_run(&folder)
        .expect("run.json")
        .stages
        .into_iter()
        .map(|s| (s.stage, s.instance, s.key))
        .collect()
}

fn key_of(project: &Project, instance: &str) -> StageKey {
    stages(project)
        .into_iter()
        .find(|(_, i, _)| i.starts_with(instance))
        .unwrap_or_else(|| panic!("no stage {instance}"))
        .2
}

fn store(project: &Project) -> ArtifactStore {
    ArtifactStore::open(project.path("cache")).unwrap()
}

fn assert_no_panic(outcome: &Outcome, what: &str) {
    assert_ne!(outcome.code, PANIC, "{what} panicked: {}", outcome.stderr);
    assert!(
        !outcome.stderr.contains("panicked"),
        "{what} panicked: {}",
        outcome.stderr
    );
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

// ---------------------------------------------------------------------------------------------
// A cache the run cannot write

#[test]
fn a_fully_cached_run_writes_nothing_it_needs_into_the_cache() {
    let project = cached_project();
    let cache = project.path("cache");
    // Every write a fully cached run attempts now fails: lineage files cannot be created (the
    // folder is a file) and the stat cache cannot be added to (its folder is a file).
    fs::remove_dir_all(cache.join("lineage")).unwrap();
    fs::write(cache.join("lineage"), "not a folder").unwrap();
    let _ = fs::remove_dir_all(cache.join("files"));
    fs::write(cache.join("files"), "not a folder").unwrap();
    // Input files older than the stat cache's racy window, so this run has hashes to save.
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for entry in walkdir::WalkDir::new(project.path("data")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let file = fs::File::options().write(true).open(entry.path()).unwrap();
            file.set_modified(an_hour_ago).unwrap();
        }
    }

    let rerun = project.run(&["run", "exp.toml", "--new-report"]);
    assert!(rerun.ok(), "a fully cached run failed: {}", rerun.stderr);
    assert!(
        rerun.stderr.contains("stages cached; nothing ran"),
        "{}",
        rerun.stderr
    );
    assert_eq!(
        count(&rerun.stderr, "lineage"),
        1,
        "one warning about lineage, not one per stage: {}",
        rerun.stderr
    );
    assert_eq!(
        count(&rerun.stderr, "stat cache not saved"),
        1,
        "one warning about the stat cache: {}",
        rerun.stderr
    );
}

/// Runs `sh -c script` with `$MER` set, in a private user and mount namespace, in the project
/// folder; `None` where this machine does not allow one (the calling test then says so).
fn in_mount_namespace(project: &Project, script: &str) -> Option<Outcome> {
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg("mount -t tmpfs tmpfs \"$1\"")
        .args(["sh", project.root().to_str().unwrap()])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: this machine allows no unprivileged mount namespace");
        return None;
    }
    let cmd = project.mer();
    let mer = cmd.get_program().to_owned();
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .env("MER", mer)
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env_remove("MER_CACHE")
        .env_remove("MER_REPORTS")
        .env_remove("MER_LOG")
        .current_dir(project.root())
        .output()
        .expect("run unshare");
    Some(Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

const READ_ONLY_RUN: &str = "mount --bind cache cache && mount -o remount,bind,ro cache && exec \"$MER\" run exp.toml --new-report";

#[test]
fn a_read_only_cache_serves_hits_and_names_itself_when_it_lacks_a_stage() {
    let project = cached_project();
    let Some(hits) = in_mount_namespace(&project, READ_ONLY_RUN) else {
        return;
    };
    assert!(
        hits.ok(),
        "a fully cached run on a read-only cache failed: {}",
        hits.stderr
    );
    assert!(
        hits.stderr.contains("stages cached; nothing ran"),
        "{}",
        hits.stderr
    );
    // Every stage ran with the inputs its lineage file records: nothing to write, no warning.
    assert_eq!(count(&hits.stderr, "lineage"), 0, "{}", hits.stderr);

    let evaluate = key_of(&project, "evaluate");
    assert!(store(&project).remove(&evaluate).unwrap());
    let miss = in_mount_namespace(&project, READ_ONLY_RUN).unwrap();
    assert_no_panic(&miss, "a miss on a read-only cache");
    assert!(!miss.ok(), "a miss on a read-only cache cannot succeed");
    assert!(
        miss.stderr
            .contains("the cache folder 'cache' is read-only"),
        "the error names the cache folder: {}",
        miss.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Changed attribute bytes, malformed arrays

/// Every attribute an entry holds.
const ATTRIBUTES: [&str; 10] = [
    "format",
    "key",
    "stage",
    "version",
    "config",
    "upstream",
    "files",
    "created",
    "duration_s",
    "mer_version",
];

/// Changes one byte of attribute `name` of the HDF5 file at `path`, in place (a flipped bit in
/// a string's last character, in a number's highest byte), through libhdf5.
fn change_one_byte(path: &Path, name: &str) {
    let file = hdf5::File::open_rw(path).unwrap();
    let attr = file.attr(name).unwrap();
    let dtype = attr.dtype().unwrap();
    if dtype.is::<VarLenUnicode>() {
        let mut text = attr
            .read_scalar::<VarLenUnicode>()
            .unwrap()
            .as_str()
            .to_owned();
        let last = text.pop().expect("a non-empty attribute");
        text.push(char::from(last as u8 ^ 0x01));
        attr.write_scalar(&VarLenUnicode::from_str(&text).unwrap())
            .unwrap();
    } else if dtype.is::<f64>() {
        let value: f64 = attr.read_scalar().unwrap();
        let mut bytes = value.to_le_bytes();
        bytes[7] ^= 0x40;
        attr.write_scalar(&f64::from_le_bytes(bytes)).unwrap();
    } else {
        let value: u32 = attr.read_scalar().unwrap();
        attr.write_scalar(&(value ^ 0x01)).unwrap();
    }
}

#[test]
fn a_changed_byte_in_any_attribute_is_quarantined_and_recomputed() {
    let project = cached_project();
    let entries = stages(&project);
    let store = store(&project);
    let mut table = Vec::new();
    for (i, name) in ATTRIBUTES.iter().enumerate() {
        // A different entry for each attribute, so every stage kind gets some.
        let (stage, instance, key) = &entries[i * 7 % entries.len()];
        change_one_byte(&store.entry_path(key), name);
        let verify = project.run(&["cache", "verify"]);
        assert_no_panic(&verify, "mer cache verify");
        assert_eq!(
            verify.code,
            Some(1),
            "a changed byte in attribute '{name}' of {instance} passed verification: {}",
            verify.stderr
        );
        assert!(verify.stderr.contains(&key.short()), "{}", verify.stderr);
        assert!(!store.entry_path(key).exists(), "{instance} still in place");
        let rerun = project.run(&["run", "exp.toml", "--new-report"]);
        assert_no_panic(&rerun, "the run after quarantine");
        assert!(rerun.ok(), "{}", rerun.stderr);
        assert!(
            matches!(store.get(key).unwrap(), Lookup::Hit(_)),
            "{instance} recomputed"
        );
        table.push(format!("{name} of {stage}: quarantined, recomputed"));
    }
    eprintln!("{}", table.join("\n"));
}

/// Bytes at the start of an entry that hold its checksum; the rest of its 512-byte header is
/// zero padding that nothing reads.
const HEADER_TEXT: usize = 16 + 64 + 1;

#[test]
fn a_flipped_bit_anywhere_in_an_entry_is_quarantined_and_never_crashes_the_process() {
    // libhdf5 trusts its own metadata: fed a flipped bit in the wrong place it dies of SIGSEGV
    // or SIGABRT. Every entry of a real run, one bit at a time, at about 40 places spread
    // over each.
    let project = cached_project();
    let store = store(&project);
    let mut tries = 0;
    for (_, instance, key) in stages(&project) {
        let path = store.entry_path(&key);
        let original = fs::read(&path).unwrap();
        let stride = original.len() / 40 + 1;
        let offsets = (0..HEADER_TEXT).chain(512..original.len()).step_by(stride);
        for (n, at) in offsets.enumerate() {
            let mut bytes = original.clone();
            bytes[at] ^= 1 << (n % 8);
            fs::write(&path, &bytes).unwrap();
            let found = match store.get(&key).unwrap() {
                Lookup::Quarantined { .. } => "quarantined",
                Lookup::Hit(_) => "a hit",
                Lookup::Miss => "a miss",
            };
            assert_eq!(
                found,
                "quarantined",
                "{instance}: bit {} of byte {at}",
                n % 8
            );
            fs::write(&path, &original).unwrap();
            tries += 1;
        }
    }
    eprintln!("{tries} single-bit flips, all quarantined");
}

#[test]
fn a_changed_stage_attribute_never_panics_the_stage_that_reads_it() {
    let project = cached_project();
    let store = store(&project);
    let audio = key_of(&project, "extract.audio");
    change_one_byte(&store.entry_path(&audio), "stage");
    let rerun = project.run(&["run", "exp.toml", "--force", "normalize"]);
    assert_no_panic(&rerun, "normalize over a changed extract.audio entry");
    assert!(rerun.ok(), "{}", rerun.stderr);
}

#[test]
fn a_changed_duration_never_reaches_the_plan_estimate() {
    let project = cached_project();
    let store = store(&project);
    // train[0] is the only train entry left, and its recorded duration is absurd.
    change_one_byte(
        &store.entry_path(&key_of(&project, "train[0]")),
        "duration_s",
    );
    assert!(store.remove(&key_of(&project, "train[1]")).unwrap());
    let plan = project.run(&["plan", "exp.toml"]);
    assert!(plan.ok(), "{}", plan.stderr);
    assert!(
        plan.stdout.contains("no estimate for train"),
        "an entry whose attributes fail their checksum gives no duration: {}",
        plan.stdout
    );
}

/// Rewrites `instance`'s entry with `edit` applied to its arrays, under a valid checksum, as a
/// buggy stage (or an old release) could have written it.
fn rewrite_entry(project: &Project, instance: &str, edit: impl FnOnce(&mut mer::cache::Artifact)) {
    let store = store(project);
    let key = key_of(project, instance);
    let Lookup::Hit(mut artifact) = store.get(&key).unwrap() else {
        panic!("{instance} is cached");
    };
    edit(&mut artifact);
    store.put(artifact, Duration::from_millis(10)).unwrap();
}

/// The array cut to its first `keep` values, shape adjusted.
fn truncated(artifact: &mer::cache::Artifact, name: &str, keep: usize) -> (Vec<usize>, ArrayData) {
    let array = artifact
        .array(name)
        .unwrap_or_else(|| panic!("array {name}"));
    let data = match &array.data {
        ArrayData::F32(v) => ArrayData::F32(v[..keep].to_vec()),
        ArrayData::F64(v) => ArrayData::F64(v[..keep].to_vec()),
        ArrayData::I64(v) => ArrayData::I64(v[..keep].to_vec()),
        ArrayData::U8(v) => ArrayData::U8(v[..keep].to_vec()),
        ArrayData::Str(v) => ArrayData::Str(v[..keep].to_vec()),
    };
    (vec![keep], data)
}

#[test]
fn malformed_arrays_in_an_entry_that_passes_its_checksum_are_errors_not_panics() {
    // (entry, array, the stage to recompute that reads it)
    let cases = [
        ("extract.audio", "features", "normalize"),
        ("split", "fold", "normalize"),
        ("split", "labels", "train"),
        ("normalize[0]", "audio.features", "train"),
        ("train[0]", "best_epoch", "evaluate"),
        ("train[0]", "history.valid_macro_f1", "evaluate"),
        ("train[0]", "valid_probabilities", "evaluate"),
        ("evaluate", "test_probabilities", "report"),
        ("evaluate", "test_present", "report"),
        ("evaluate", "history.train_loss", "report"),
        ("evaluate", "oof_probabilities", "report"),
        ("evaluate", "test_ids", "report"),
    ];
    let project = cached_project();
    for (instance, array, reader) in cases {
        for keep_none in [false, true] {
            rewrite_entry(&project, instance, |artifact| {
                if keep_none {
                    let (shape, data) = truncated(artifact, array, 0);
                    artifact.insert(array, shape, data);
                } else {
                    let len = artifact
                        .array(array)
                        .unwrap()
                        .shape
                        .iter()
                        .product::<usize>();
                    let (shape, data) = truncated(artifact, array, len / 2);
                    artifact.insert(array, shape, data);
                }
            });
            let mut args = vec!["run", "exp.toml", "--new-report"];
            if reader != "report" {
                args.extend(["--force", reader]);
            }
            let outcome = project.run(&args);
            let what = format!("{reader} over {instance} with a malformed '{array}'");
            assert_no_panic(&outcome, &what);
            assert!(!outcome.ok(), "{what} succeeded: {}", outcome.stderr);
            assert!(outcome.stderr.contains(array), "{what}: {}", outcome.stderr);
            // Put the intact entry back for the next case.
            let forced = project.run(&["run", "exp.toml", "--force", instance]);
            assert!(forced.ok(), "{}", forced.stderr);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Locks

/// Writes a lock on `key` in the name of `pid` on this host, taken `started`.
fn hold_lock(project: &Project, key: &StageKey, pid: u32) -> PathBuf {
    let lock = store(project).lock_path(key);
    let info = LockInfo {
        host: hostname(),
        pid,
        started: "2026-12-03T07:00:00Z".into(),
    };
    fs::write(&lock, serde_json::to_vec(&info).unwrap()).unwrap();
    lock
}

/// Runs `mer run exp.toml` in the background with stderr going to `log`.
fn spawn_run(project: &Project, log: &Path) -> Child {
    project
        .mer()
        .args(["run", "exp.toml", "--new-report"])
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Waits for `child` up to `limit`; kills it and fails past that.
fn finish_within(child: &mut Child, limit: Duration, what: &str) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn process_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

/// Every entry file of the project's cache.
fn entry_files(project: &Project) -> Vec<PathBuf> {
    walkdir::WalkDir::new(project.path("cache"))
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "h5"))
        .collect()
}

#[test]
fn an_os_lock_on_entries_held_by_another_program_is_not_corruption() {
    // libhdf5 takes an flock on every file it opens unless told not to; another process
    // holding one (a backup tool, h5py, another mer mid-write) made the open fail, and the
    // entry was quarantined as corrupt. Hold an exclusive flock on every entry, then rerun.
    let project = cached_project();
    let entries = entry_files(&project);
    assert!(entries.len() >= 5, "{entries:?}");
    let mut holders: Vec<Child> = entries
        .iter()
        .map(|entry| {
            Command::new("flock")
                .args(["--exclusive", "--nonblock"])
                .arg(entry)
                .args(["sleep", "60"])
                .spawn()
                .expect("flock (util-linux)")
        })
        .collect();
    // flock holds the lock once its child runs; give every holder time to take it.
    thread::sleep(Duration::from_millis(300));
    let rerun = project.run(&["run", "exp.toml", "--new-report"]);
    for holder in &mut holders {
        let _ = holder.kill();
        let _ = holder.wait();
    }
    assert_no_panic(&rerun, "a run over locked entries");
    assert!(rerun.ok(), "{}", rerun.stderr);
    assert!(
        rerun.stderr.contains("stages cached; nothing ran") && !rerun.stderr.contains("quarantine"),
        "a locked entry was taken for a corrupt one: {}",
        rerun.stderr
    );
    assert!(!project.path("cache/quarantine").exists());
}

#[test]
fn a_lock_held_by_a_zombie_is_taken_over_at_once() {
    let project = cached_project();
    let evaluate = key_of(&project, "evaluate");
    assert!(store(&project).remove(&evaluate).unwrap());
    // A child that exits and is not reaped until the end of the test: a zombie.
    let mut zombie = Command::new("true").spawn().unwrap();
    let pid = zombie.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    while process_state(pid) != Some('Z') && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(process_state(pid), Some('Z'), "pid {pid} is a zombie");
    hold_lock(&project, &evaluate, pid);

    let log = project.path("run.log");
    let mut run = spawn_run(&project, &log);
    // The lock's own staleness timeout is 120 s; a zombie must not cost that.
    let code = finish_within(
        &mut run,
        Duration::from_secs(40),
        "a run behind a zombie's lock",
    );
    let stderr = fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {pid}")),
        "the takeover names the holder: {stderr}"
    );
    zombie.wait().unwrap();
}

#[test]
fn a_waiting_run_says_once_who_holds_the_lock_and_since_when() {
    let project = cached_project();
    let evaluate = key_of(&project, "evaluate");
    assert!(store(&project).remove(&evaluate).unwrap());
    let mut holder = Command::new("sleep").arg("300").spawn().unwrap();
    let lock = hold_lock(&project, &evaluate, holder.id());

    let log = project.path("run.log");
    let mut run = spawn_run(&project, &log);
    let read_log = || {
        let mut text = String::new();
        fs::File::open(&log)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    while count(&read_log(), "waiting") == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
    }
    // Several polls of the lock later, the holder gives up.
    thread::sleep(Duration::from_secs(2));
    fs::remove_file(&lock).unwrap();
    let code = finish_within(
        &mut run,
        Duration::from_secs(60),
        "a run after the lock went",
    );
    let _ = holder.kill();
    let _ = holder.wait();
    let stderr = read_log();
    assert_eq!(code, Some(0), "{stderr}");
    let waiting: Vec<&str> = stderr.lines().filter(|l| l.contains("waiting")).collect();
    assert_eq!(waiting.len(), 1, "logged once while waiting: {stderr}");
    let line = waiting[0];
    for expected in [
        format!("pid {}", holder.id()),
        hostname(),
        "2026-12-03T07:00:00Z".to_string(),
    ] {
        assert!(line.contains(&expected), "'{expected}' in: {line}");
    }
}

// ---------------------------------------------------------------------------------------------
// A full disk

#[test]
fn a_full_disk_says_which_folder_is_full_and_leaves_no_temporary_file() {
    let project = Project::new();
    fs::create_dir(project.path("cache")).unwrap();
    let script = "mount -t tmpfs -o size=64k tmpfs cache || exit 99; \
                  \"$MER\" run exp.toml; echo \"exit $?\"; \
                  find cache -name '*.tmp'";
    let Some(outcome) = in_mount_namespace(&project, script) else {
        return;
    };
    assert_no_panic(&outcome, "a run on a full disk");
    assert!(!outcome.stdout.contains("exit 0"), "{}", outcome.stdout);
    assert!(
        !outcome.stdout.contains(".tmp"),
        "temp files left: {}",
        outcome.stdout
    );
    let message = &outcome.stderr;
    assert!(!message.contains(".tmp"), "names a temp file: {message}");
    assert!(message.contains("the disk is full"), "{message}");
    assert!(
        message.contains("'cache/"),
        "names the cache folder it could not write: {message}"
    );
}
