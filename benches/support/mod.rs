//! What the benchmarks share: the MIREX dev clips, CPU clocks, settings from the environment.

#![allow(dead_code)] // Each bench uses its own part.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The MIREX dev clips (`MER_MIREX_DEV`, default `../shared/datasets/mirex-dev`), sorted.
pub fn clips() -> Vec<PathBuf> {
    dev_files("Audio", "mp3")
}

/// The MIREX dev lyrics files, sorted.
pub fn lyrics() -> Vec<PathBuf> {
    dev_files("Lyrics", "txt")
}

/// The files with `extension` in the dev set's `folder`, sorted.
fn dev_files(folder: &str, extension: &str) -> Vec<PathBuf> {
    let dir = std::env::var_os("MER_MIREX_DEV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/mirex-dev")
        });
    let folder = dir.join(folder);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        panic!(
            "no MIREX dev files at {}: set MER_MIREX_DEV",
            folder.display()
        );
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// A number from the environment, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time of the calling thread in ms: unlike wall time it does not count the time other
/// processes on this shared machine hold the core.
pub fn thread_cpu_ms() -> f64 {
    cpu_ms(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of the whole process (all threads) in ms.
pub fn process_cpu_ms() -> f64 {
    cpu_ms(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_ms(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant libc knows.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime({clock})");
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

/// Runs `scripts/parity/<script>` with `args` (a model folder, files) and `MER_BENCH_THREADS=threads` and returns the
/// number on its stdout line `<key> <number>` for each of `keys`.
pub fn python_reference(
    script: &str,
    args: &[PathBuf],
    threads: usize,
    keys: &[&str],
) -> Result<Vec<f64>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts/parity")
        .join(script);
    let out = Command::new("python3")
        .arg(&script)
        .args(args)
        .env("MER_BENCH_THREADS", threads.to_string())
        .output()
        .map_err(|e| format!("python3 not runnable: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{} failed: {}",
            script.display(),
            err.lines().last().unwrap_or("")
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    keys.iter()
        .map(|key| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
                .ok_or_else(|| format!("no `{key}` line from {}", script.display()))
        })
        .collect()
}
