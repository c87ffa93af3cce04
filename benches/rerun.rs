//! A rerun with nothing changed, against the reference of the same rerun writing a new report,
//! in the same invocation: a 5-seed spec on the MIREX-like dev set (`MER_MIREX_DEV`, default
//! `../shared/datasets/mirex-dev`), run once cold, then `mer run` (up to date: points at the
//! report) and `mer run --new-report` (every stage a cache hit, the report written again),
//! each `MER_BENCH_REPEAT` times (default 5). Prints median wall time and peak memory (RSS) of
//! each and their ratios. Run with `cargo bench --bench rerun`; the target is under 0.1 s and
//! 60 MB for the up-to-date rerun.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[path = "../tests/util/mod.rs"]
mod util;

/// Wall seconds and peak resident memory (MiB) of one child process.
#[derive(Debug, Clone, Copy)]
struct Usage {
    seconds: f64,
    peak_mib: f64,
}

fn main() {
    let dataset = util::mirex_dev();
    let repeat: usize = std::env::var("MER_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("rerun.toml"),
        format!(
            "seeds = [1, 2, 3, 4, 5]\n\n[dataset]\nlayout = \"mirex-like\"\nroot = \"{}\"\n\n\
             [modalities.audio]\n[modalities.lyrics]\n[modalities.midi]\n",
            dataset.display()
        ),
    )
    .expect("write spec");

    println!("cold run of a 5-seed spec on the dev set (not timed) ...");
    let cold = measure(dir.path(), &["run", "rerun.toml"]);
    println!(
        "{:<46} {:>8.2} s {:>8.1} MiB",
        "cold run", cold.seconds, cold.peak_mib
    );

    let up_to_date = median(dir.path(), &["run", "rerun.toml"], repeat);
    let new_report = median(dir.path(), &["run", "rerun.toml", "--new-report"], repeat);
    let row = |label: &str, u: Usage| {
        println!("{label:<46} {:>8.3} s {:>8.1} MiB", u.seconds, u.peak_mib);
    };
    row("rerun, nothing changed (up to date)", up_to_date);
    row("rerun writing a new report (reference)", new_report);
    println!(
        "{:<46} {:>8.1}x {:>8.1}x",
        "reference / up to date (time, memory)",
        new_report.seconds / up_to_date.seconds,
        new_report.peak_mib / up_to_date.peak_mib
    );
}

/// Medians of time and of peak memory over `repeat` runs of `mer ARGS` in `dir`.
fn median(dir: &Path, args: &[&str], repeat: usize) -> Usage {
    let runs: Vec<Usage> = (0..repeat.max(1)).map(|_| measure(dir, args)).collect();
    let mid = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Usage {
        seconds: mid(runs.iter().map(|u| u.seconds).collect()),
        peak_mib: mid(runs.iter().map(|u| u.peak_mib).collect()),
    }
}

/// Runs `mer ARGS -q` in `dir`: its wall time and its own peak RSS.
fn measure(dir: &Path, args: &[&str]) -> Usage {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_mer"))
        .current_dir(dir)
        .args(args)
        .arg("-q")
        .spawn()
        .expect("start mer");
    let (code, peak_kib) = util::wait_with_peak_memory(child);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(code, Some(0), "mer {args:?} failed");
    Usage {
        seconds,
        peak_mib: peak_kib as f64 / 1024.0,
    }
}
