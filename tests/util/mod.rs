//! Shared test scaffolding: a temp dir per test and a builder for the `mer` binary.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary folder owned by one test.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    /// A fresh, empty folder.
    pub fn new() -> Self {
        TestDir {
            dir: tempfile::tempdir().expect("create temp dir"),
        }
    }

    /// Absolute path of `name` inside the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `contents` to `name` (creating parent folders) and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        write_file(self.root(), name, contents)
    }

    /// Copies the small log-mel ONNX model of `tests/fixtures/onnx` to `mel.onnx` here.
    pub fn copy_mel_onnx(&self) {
        let model = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/onnx/mel.onnx");
        std::fs::copy(model, self.path("mel.onnx")).unwrap();
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A `mer` command running in this folder, with no `MER_*` variables inherited.
    pub fn mer(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mer"));
        cmd.current_dir(self.root());
        for (key, _) in std::env::vars() {
            if key.starts_with("MER_") {
                cmd.env_remove(key);
            }
        }
        cmd
    }

    /// The report folder a `mer run` names on its stderr (`report: <folder>`).
    pub fn report_folder(&self, stderr: &str) -> PathBuf {
        let folder = stderr
            .lines()
            .find_map(|l| l.split("report: ").nth(1))
            .unwrap_or_else(|| panic!("no report folder in: {stderr}"));
        self.root().join(folder.trim())
    }

    /// Writes a demo dataset of `songs` songs of `seconds` seconds from `seed` to `data/`,
    /// with the `mer demo` binary, as a user would.
    pub fn write_demo(&self, songs: u32, seconds: u32, seed: u64) {
        let (songs, seconds, seed) = (songs.to_string(), seconds.to_string(), seed.to_string());
        let (ok, _, stderr) = output(self.mer().args([
            "demo",
            "--out",
            "data",
            "--songs",
            &songs,
            "--seconds",
            &seconds,
            "--seed",
            &seed,
        ]));
        assert!(ok, "mer demo failed: {stderr}");
    }

    /// Writes the demo's table layout (`mer demo --layout table`) of `songs` songs of
    /// `seconds` seconds to `data-table/`.
    pub fn write_demo_table(&self, songs: u32, seconds: u32) {
        let (songs, seconds) = (songs.to_string(), seconds.to_string());
        let (ok, _, stderr) = output(self.mer().args([
            "demo",
            "--out",
            "data-table",
            "--layout",
            "table",
            "--songs",
            &songs,
            "--seconds",
            &seconds,
        ]));
        assert!(ok, "mer demo --layout table failed: {stderr}");
    }
}

/// The shipped experiment `experiment` (`demo-va.toml`) pointed at the demo's table layout
/// under `data-table/` with one seed (4), `extra` appended (a short schedule).
pub fn shipped_on_demo_table(experiment: &str, extra: &str) -> String {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("experiments")
            .join(experiment),
    )
    .unwrap_or_else(|e| panic!("experiments/{experiment}: {e}"));
    shipped
        .replace("seeds = [1, 2, 3]", "seeds = [4]")
        .replace("root = \"../data/demo-table\"", "root = \"data-table\"")
        + extra
}

/// Writes `contents` to `root/relative`, creating parent folders, and returns the path.
pub fn write_file(root: &Path, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent");
    }
    std::fs::write(&path, contents).expect("write file");
    path
}

/// Runs `cmd`, returning (success, stdout, stderr).
pub fn output(cmd: &mut Command) -> (bool, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run mer");
    (
        status.success(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Waits for `child` and returns its exit code (`None` when a signal ended it) and its own peak
/// resident memory in KiB, from `wait4` on that one process: `getrusage(RUSAGE_CHILDREN)` would
/// also count every other child of the caller (tests run side by side in one process).
pub fn wait_with_peak_memory(child: std::process::Child) -> (Option<i32>, i64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is the caller's own unreaped child and both pointers are valid for the
    // call; the `Child` handle is forgotten, so nothing waits on the pid again.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    assert_eq!(reaped, pid, "wait4 failed");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // ru_maxrss is in KiB on Linux.
    (code, usage.ru_maxrss)
}

/// The MIREX-like dev dataset: `MER_MIREX_DEV`, else `../shared/datasets/mirex-dev` next to the
/// repository. Panics with instructions when neither exists, so tests never pass vacuously.
pub fn mirex_dev() -> PathBuf {
    let path = std::env::var_os("MER_MIREX_DEV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/mirex-dev")
        });
    assert!(
        path.join("clusters.txt").is_file(),
        "MIREX-like dev dataset not found at {}: set MER_MIREX_DEV to the folder holding \
         clusters.txt, Audio/, Lyrics/ and MIDIs/",
        path.display()
    );
    path.canonicalize().expect("dataset root resolves")
}

/// A 16-bit PCM WAV file's bytes, `channels` interleaved.
pub fn wav_bytes(sample_rate: u32, channels: u16, interleaved: &[f32]) -> Vec<u8> {
    let data_len = (interleaved.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&sample_rate.to_le_bytes());
    b.extend_from_slice(&(sample_rate * u32::from(channels) * 2).to_le_bytes());
    b.extend_from_slice(&(channels * 2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for &v in interleaved {
        let s = (v.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

/// A sine of `freq` Hz and amplitude `amp`, `seconds` long.
pub fn sine(freq: f64, sample_rate: u32, seconds: f64, amp: f64) -> Vec<f32> {
    let n = (f64::from(sample_rate) * seconds) as usize;
    (0..n)
        .map(|i| {
            let phase = 2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(sample_rate);
            (amp * phase.sin()) as f32
        })
        .collect()
}

/// The rows of a CSV file the report or `mer compare` wrote, each as column -> value.
pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// A numeric cell of a [`read_csv`] row; panics naming the column and the row otherwise.
pub fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?} in {row:?}", row[column]))
}

/// The models folder holding the installed package folder `package` (`musicnn-0.1.0`):
/// `MER_MODELS`, default `models/` in the repository. Panics with the command that installs
/// it, so a test that needs weights never passes without them.
pub fn models_root(package: &str) -> PathBuf {
    let root = std::env::var_os("MER_MODELS").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models")),
        PathBuf::from,
    );
    let name = package.split('-').next().unwrap_or(package);
    assert!(
        root.join(package).join("installed.json").is_file(),
        "{package} is not installed in {}: run `mer models fetch {name}` (or set MER_MODELS)",
        root.display()
    );
    root
}

/// `tests/fixtures/<name>`, parsed as JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs `mer run SPEC` on a 20-song demo with an empty models folder and returns its stderr,
/// after checking that it failed before any work: no extraction in the cache, no report.
pub fn run_without_models(spec: &str) -> String {
    let dir = TestDir::new();
    dir.write_demo(20, 4, 7);
    dir.write("exp.toml", spec);
    let (ok, _, stderr) = output(dir.mer().args(["run", "exp.toml", "--models", "no-models"]));
    assert!(!ok, "a run without the model's weights must fail");
    let extracted = walkdir::WalkDir::new(dir.path("cache"))
        .into_iter()
        .filter_map(Result::ok)
        .any(|e| e.path().to_string_lossy().contains("extract"));
    assert!(!extracted, "nothing is extracted before the model is found");
    assert!(
        !dir.path("reports").exists(),
        "no report for a run that did not start"
    );
    stderr
}

/// The counts of `class`'s row in `mer data inspect`'s table (songs, audio, lyrics, midi, ...).
pub fn class_counts(inspected: &str, class: &str) -> Vec<usize> {
    let line = (inspected.lines())
        .find(|l| l.split_whitespace().next() == Some(class))
        .unwrap_or_else(|| panic!("no {class} row: {inspected}"));
    let counts = line.split_whitespace().skip(1);
    counts.map(|c| c.parse().unwrap()).collect()
}

/// A folder holding the shipped `experiments/demo-{layout}.toml` (its seeds cut to the first)
/// and the stand-in it runs on, written by `mer demo --layout {layout} --out
/// data/demo-{layout}` with `songs` songs of `seconds` seconds, as a user would.
pub fn shipped_demo(layout: &str, songs: u32, seconds: u32) -> TestDir {
    let dir = TestDir::new();
    let experiment = format!("experiments/demo-{layout}.toml");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join(&experiment);
    let spec = std::fs::read_to_string(shipped)
        .unwrap()
        .replace("seeds = [1, 2, 3]", "seeds = [1]");
    dir.write(&experiment, spec);
    let (out, songs, seconds) = (
        format!("data/demo-{layout}"),
        songs.to_string(),
        seconds.to_string(),
    );
    let (ok, _, stderr) = output(dir.mer().args([
        "demo",
        "--layout",
        layout,
        "--out",
        &out,
        "--songs",
        &songs,
        "--seconds",
        &seconds,
    ]));
    assert!(ok, "{stderr}");
    dir
}

/// `mer data inspect SPEC --all` with `extra` arguments: whether it succeeded, and what it
/// printed (stdout, then stderr).
pub fn inspect_all(dir: &TestDir, spec: &str, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["data", "inspect", spec, "--all"];
    args.extend(extra);
    let (ok, stdout, stderr) = output(dir.mer().args(&args));
    (ok, stdout + &stderr)
}

/// The ids a run's `predictions.csv` scores, sorted, each once.
pub fn scored_ids(predictions: &[BTreeMap<String, String>]) -> Vec<String> {
    let ids: std::collections::BTreeSet<&String> = predictions.iter().map(|r| &r["id"]).collect();
    ids.into_iter().cloned().collect()
}
