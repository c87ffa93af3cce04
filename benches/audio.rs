//! Audio feature throughput on the 200 MIREX dev clips (`MER_MIREX_DEV`, default
//! `../shared/datasets/mirex-dev`), in parallel with rayon as the pipeline runs it, then librosa
//! on the same files via `scripts/parity/audio_librosa_bench.py`, and the ratio.
//!
//! `cargo bench --bench audio` (threads: `RAYON_NUM_THREADS` / `MER_BENCH_THREADS`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mer::features::audio;
use mer::spec::sections::AudioSection;
use rayon::prelude::*;

fn clips() -> Vec<PathBuf> {
    let dir = std::env::var_os("MER_MIREX_DEV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/mirex-dev")
        });
    let audio_dir = dir.join("Audio");
    let Ok(entries) = std::fs::read_dir(&audio_dir) else {
        panic!(
            "no MIREX dev audio at {}: set MER_MIREX_DEV",
            audio_dir.display()
        );
    };
    let mut clips: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mp3"))
        .collect();
    clips.sort();
    clips
}

fn librosa_seconds(files: &[PathBuf], threads: usize) -> Result<f64, String> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/parity/audio_librosa_bench.py");
    let out = Command::new("python3")
        .arg(script)
        .args(files)
        .env("MER_BENCH_THREADS", threads.to_string())
        .output()
        .map_err(|e| format!("python3 not runnable: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "librosa benchmark failed: {}",
            err.lines().last().unwrap_or("")
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("librosa_seconds ")
                .and_then(|s| s.trim().parse().ok())
        })
        .ok_or_else(|| "no librosa_seconds line".to_string())
}

/// Single-threaded time of each stage on one clip, to see where the time goes.
fn stage_breakdown(clip: &Path, section: &AudioSection) {
    let ms = |t: Instant| 1000.0 * t.elapsed().as_secs_f64();
    let t = Instant::now();
    let decoded = audio::decode::decode_mono(clip, 0.0, None).unwrap();
    let decode_ms = ms(t);
    let t = Instant::now();
    let y = audio::decode::resample(decoded, section.sample_rate, clip).unwrap();
    let resample_ms = ms(t);
    let t = Instant::now();
    audio::frame_features(&y.samples, section);
    let frames_ms = ms(t);
    let t = Instant::now();
    audio::extract_samples(&y.samples, section);
    let all_ms = ms(t);
    println!(
        "one clip, one thread: decode {decode_ms:.1} ms, resample {resample_ms:.1} ms, \
         frame features {frames_ms:.1} ms, features + pooling + descriptors {all_ms:.1} ms"
    );
}

fn main() {
    let files = clips();
    let section = AudioSection::default();
    let threads = rayon::current_num_threads();
    let n = audio::feature_names(&section).len();
    // Warm-up: page cache and lazily built state.
    audio::extract(&files[0], &section).expect("first clip");
    let start = Instant::now();
    let results: Vec<_> = files
        .par_iter()
        .map(|f| audio::extract(f, &section))
        .collect();
    let secs = start.elapsed().as_secs_f64();
    let ok = results
        .iter()
        .filter(|r| {
            r.as_ref()
                .is_ok_and(|v| v.len() == n && v.iter().all(|x| x.is_finite()))
        })
        .count();
    assert_eq!(ok, files.len(), "every clip gives a finite vector of {n}");
    let rate = files.len() as f64 / secs;
    println!(
        "mer audio: {} clips in {secs:.2} s on {threads} threads = {rate:.1} clips/s ({:.1} ms/clip/thread)",
        files.len(),
        1000.0 * secs * threads as f64 / files.len() as f64
    );
    stage_breakdown(&files[1], &section);
    match librosa_seconds(&files, threads) {
        Ok(lib) => println!(
            "librosa: {} clips in {lib:.2} s on {threads} processes = {:.1} clips/s; mer is {:.1}x faster",
            files.len(),
            files.len() as f64 / lib,
            lib / secs
        ),
        Err(e) => println!("librosa comparison skipped: {e}"),
    }
}
