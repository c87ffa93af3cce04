//! Submitting to Slurm when `sbatch` refuses a job after queueing others, with a stand-in
//! `sbatch` on the `PATH` (so these run without a cluster): the record is written for what
//! was queued, `mer status` follows it, and the error says what to submit by hand.

mod util;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use util::{TestDir, output};

/// An `sbatch` that prints job ids 1, 2, ... and refuses its `fail_at`-th call.
fn fake_sbatch(dir: &TestDir, fail_at: usize) -> PathBuf {
    let bin = dir.path("bin");
    let script = format!(
        "#!/bin/sh\nn=$(cat '{counter}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{counter}'\n\
         if [ \"$n\" = {fail_at} ]; then echo 'sbatch: error: Batch job submission failed: Invalid account' >&2; exit 1; fi\n\
         echo \"$n\"\n",
        counter = dir.path("sbatch-calls").display()
    );
    let path = dir.write("bin/sbatch", script);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// The one folder under `reports/<experiment>` whose name starts with `prefix`, and its
/// submission record `record`.
fn submission(
    dir: &TestDir,
    experiment: &str,
    prefix: &str,
    record: &str,
) -> (PathBuf, serde_json::Value) {
    let folder = std::fs::read_dir(dir.path(&format!("reports/{experiment}")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap();
    let text = std::fs::read_to_string(folder.join(record)).unwrap();
    (folder, serde_json::from_str(&text).unwrap())
}

fn with_path(bin: &std::path::Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn a_run_whose_seed_array_is_refused_keeps_its_record_and_says_what_to_submit() {
    let dir = TestDir::new();
    dir.write_demo(24, 2, 5);
    dir.write(
        "one.toml",
        "seeds = [1, 2]\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\
         [modalities.lyrics]\n[split]\nfolds = 2\ntest_fraction = 0.25\n\
         [executor]\nextract_shards = 2\n",
    );
    let bin = fake_sbatch(&dir, 2);
    let (ok, _, stderr) = output(dir.mer().env("PATH", with_path(&bin)).args([
        "run",
        "one.toml",
        "--executor",
        "slurm",
    ]));
    assert!(!ok);
    assert!(
        stderr.contains("extract-shards.sh (job 1) queued, but ")
            && stderr.contains("run-seeds.sh was not")
            && stderr.contains("Invalid account")
            && stderr.contains("sbatch --dependency=afterany:1 "),
        "{stderr}"
    );
    let (folder, record) = submission(&dir, "one", "slurm-", "slurm-run.json");
    assert_eq!(record["shard_job"], "1");
    assert!(record["seed_job"].is_null());
    assert!(
        folder.join("run-seeds.sh").is_file(),
        "the refused script is there to submit"
    );

    // `mer status` follows what was queued (no squeue here: from the state files alone).
    let (_, stdout, _) = output(dir.mer().arg("status").arg(&folder));
    assert!(
        stdout.contains("shard 0 of 2") && stdout.contains("seed 1"),
        "{stdout}"
    );
}

#[test]
fn a_sweep_whose_summary_job_is_refused_keeps_its_record() {
    let dir = TestDir::new();
    dir.write_demo(24, 2, 5);
    dir.write(
        "abl.toml",
        "seeds = [1]\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\
         [modalities.audio]\n[modalities.lyrics]\n[split]\nfolds = 2\ntest_fraction = 0.25\n\
         [sweep]\nmodalities = \"all-subsets\"\n",
    );
    let bin = fake_sbatch(&dir, 2);
    let (ok, _, stderr) = output(dir.mer().env("PATH", with_path(&bin)).args([
        "sweep",
        "abl.toml",
        "--executor",
        "slurm",
    ]));
    assert!(!ok);
    assert!(
        stderr.contains("run-members.sh (job 1) queued, but ")
            && stderr.contains("summarize.sh was not"),
        "{stderr}"
    );
    let (_, record) = submission(&dir, "abl", "sweep-", "slurm.json");
    assert_eq!(record["array_job"], "1");
    assert_eq!(record["summary_job"], "");
}
