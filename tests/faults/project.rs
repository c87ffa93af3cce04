//! A small generated project for fault injection: a demo dataset and a spec that trains in
//! about a second, in a temp folder, run through the `mer` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{TestDir, wait_with_peak_memory};

/// Songs of the demo dataset every fault test starts from.
pub const SONGS: u32 = 40;

/// A temp folder holding `data/` (the demo dataset), `exp.toml`, and after a run `cache/` and
/// `reports/`.
pub struct Project {
    /// The folder.
    pub dir: TestDir,
}

/// What one `mer` invocation did.
pub struct Outcome {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Outcome {
    /// Whether it exited 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

impl Project {
    /// A demo dataset of [`SONGS`] two-second songs and a fast spec over all modalities:
    /// one seed, two folds, three epochs.
    pub fn new() -> Self {
        let dir = TestDir::new();
        dir.write_demo(SONGS, 2, 11);
        let project = Project { dir };
        project.write_spec("");
        project
    }

    /// Rewrites `exp.toml` with `extra` TOML appended to the fast spec.
    pub fn write_spec(&self, extra: &str) -> PathBuf {
        self.dir.write(
            "exp.toml",
            format!(
                "seed = 4\n\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\n\
                 [modalities.audio]\nn_mels = 32\n[modalities.lyrics]\nhash_dims = 256\n\
                 [modalities.midi]\n\n[split]\nfolds = 2\n\n[schedule]\nepochs = 3\n\n\
                 [eval]\nbootstrap = 20\ntta_passes = 2\n\n{extra}"
            ),
        )
    }

    /// A `mer` command in the project folder.
    pub fn mer(&self) -> Command {
        self.dir.mer()
    }

    /// Runs `mer ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Outcome {
        let out = self.mer().args(args).output().expect("run mer");
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `mer ARGS` like [`Project::run`], and returns its own peak resident memory in
    /// MiB, from `wait4` on that one child (other tests' processes run beside it).
    pub fn run_measuring_memory(&self, args: &[&str]) -> (Outcome, i64) {
        let (stdout, stderr) = (self.path("mer.stdout"), self.path("mer.stderr"));
        let child = self
            .mer()
            .args(args)
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start mer");
        let (code, peak_kib) = wait_with_peak_memory(child);
        let outcome = Outcome {
            code,
            stdout: std::fs::read_to_string(&stdout).unwrap_or_default(),
            stderr: std::fs::read_to_string(&stderr).unwrap_or_default(),
        };
        (outcome, peak_kib / 1024)
    }

    /// Absolute path of `name` in the project.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }

    /// The project folder.
    pub fn root(&self) -> &Path {
        self.dir.root()
    }

    /// The report folders written for experiment `name`, oldest first (hidden ones included).
    pub fn report_folders(&self, name: &str) -> Vec<PathBuf> {
        let mut folders: Vec<PathBuf> = std::fs::read_dir(self.path("reports").join(name))
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        mer::report::sort_oldest_first(&mut folders);
        folders
    }
}
