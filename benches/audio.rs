//! Audio feature throughput on the 200 MIREX dev clips (`MER_MIREX_DEV`, default
//! `../shared/datasets/mirex-dev`), in parallel with rayon as the pipeline runs it, then librosa
//! on the same files via `scripts/parity/audio_librosa_bench.py`, and the ratio.
//!
//! `cargo bench --bench audio` (threads: `RAYON_NUM_THREADS` / `MER_BENCH_THREADS`).
//! `MER_BENCH_REPEAT=n` times the parallel pass n times (the machine is shared, so one pass is
//! noisy); `MER_BENCH_LIBROSA=0` skips librosa (e.g. under a profiler); `MER_BENCH_DUMP=FILE`
//! writes the vectors (one clip a line) to compare two builds' values.

use std::path::PathBuf;
use std::time::Instant;

mod support;
use support::{clips, env_usize, process_cpu_ms, python_reference, thread_cpu_ms};

use mer::features::audio;
use mer::spec::SpectralSettings;
use rayon::prelude::*;

fn librosa_seconds(files: &[PathBuf], threads: usize) -> Result<f64, String> {
    python_reference(
        "audio_librosa_bench.py",
        files,
        threads,
        &["librosa_seconds"],
    )
    .map(|values| values[0])
}

/// Single-threaded mean CPU time of each stage over every 20th clip, to see where the time
/// goes.
fn stage_breakdown(files: &[PathBuf], section: &SpectralSettings) {
    let ms = |t: f64| thread_cpu_ms() - t;
    let mut sums = [0.0f64; 4];
    let sample: Vec<&PathBuf> = files.iter().step_by(20).collect();
    for clip in &sample {
        let t = thread_cpu_ms();
        let decoded = audio::decode::decode_mono(clip, 0.0, None).unwrap();
        sums[0] += ms(t);
        let t = thread_cpu_ms();
        let y = audio::decode::resample(decoded, section.sample_rate, clip).unwrap();
        sums[1] += ms(t);
        let t = thread_cpu_ms();
        audio::frame_features(&y.samples, section);
        sums[2] += ms(t);
        let t = thread_cpu_ms();
        audio::extract_samples(&y.samples, section);
        sums[3] += ms(t);
    }
    let [decode, resample, frames, all] = sums.map(|s| s / sample.len() as f64);
    println!(
        "per clip, one thread, mean CPU time over {} clips: decode {decode:.1} ms, resample {resample:.1} ms, \
         frame features {frames:.1} ms, features + pooling + descriptors {all:.1} ms",
        sample.len()
    );
}

/// Extracts every clip in parallel; returns the wall seconds and the CPU ms it took.
fn timed_pass(files: &[PathBuf], section: &SpectralSettings) -> (f64, f64) {
    let n = audio::feature_names(section).len();
    let cpu = process_cpu_ms();
    let start = Instant::now();
    let results: Vec<_> = files
        .par_iter()
        .map(|f| audio::extract(f, section))
        .collect();
    let secs = start.elapsed().as_secs_f64();
    let cpu = process_cpu_ms() - cpu;
    let ok = results
        .iter()
        .filter(|r| {
            r.as_ref()
                .is_ok_and(|v| v.len() == n && v.iter().all(|x| x.is_finite()))
        })
        .count();
    assert_eq!(ok, files.len(), "every clip gives a finite vector of {n}");
    if let Some(path) = std::env::var_os("MER_BENCH_DUMP") {
        let lines: Vec<String> = results
            .iter()
            .map(|r| {
                let v = r.as_ref().expect("checked above");
                v.iter()
                    .map(|x| format!("{x:e}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        std::fs::write(path, lines.join("\n")).expect("MER_BENCH_DUMP is writable");
    }
    (secs, cpu)
}

fn main() {
    let files = clips();
    let section = SpectralSettings::default();
    let threads = rayon::current_num_threads();
    // Warm-up: page cache and lazily built state.
    audio::extract(&files[0], &section).expect("first clip");
    let (mut best, mut worst) = (f64::INFINITY, 0.0f64);
    for _ in 0..env_usize("MER_BENCH_REPEAT", 1).max(1) {
        let (secs, cpu) = timed_pass(&files, &section);
        best = best.min(secs);
        worst = worst.max(secs);
        println!(
            "mer audio: {} clips in {secs:.2} s on {threads} threads = {:.1} clips/s \
             ({:.1} CPU ms/clip, threads busy {:.0} % of the wall time)",
            files.len(),
            files.len() as f64 / secs,
            cpu / files.len() as f64,
            100.0 * cpu / (1000.0 * secs * threads as f64)
        );
    }
    stage_breakdown(&files, &section);
    if env_usize("MER_BENCH_LIBROSA", 1) == 0 {
        return;
    }
    match librosa_seconds(&files, threads) {
        Ok(lib) => println!(
            "librosa: {} clips in {lib:.2} s on {threads} processes = {:.1} clips/s; mer is {:.1}x-{:.1}x faster (slowest-fastest pass)",
            files.len(),
            files.len() as f64 / lib,
            lib / worst,
            lib / best
        ),
        Err(e) => println!("librosa comparison skipped: {e}"),
    }
}
