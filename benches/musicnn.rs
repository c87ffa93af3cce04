//! musicnn throughput against TensorFlow, in one invocation: mer's `extractor = "musicnn"`
//! (MSD network, penultimate layer, 3 s patches) on the first `MER_BENCH_CLIPS` (default 40)
//! MIREX dev clips in parallel as the pipeline runs it, then TensorFlow on the same files via
//! `scripts/parity/musicnn_tf_bench.py` (graph built once, librosa loading), and the ratio.
//!
//! `mer models fetch musicnn` first (the models folder is `MER_MODELS`, default `models/`), and
//! for the comparison the Python packages the script names. `cargo bench --bench musicnn`
//! (threads: `RAYON_NUM_THREADS`; TensorFlow gets as many). `MER_BENCH_TF=0` skips TensorFlow.

use std::path::PathBuf;
use std::time::Instant;

mod support;
use support::{clips, env_usize, process_cpu_ms, python_reference, thread_cpu_ms};

use mer::features::SongExtractor;
use mer::features::audio::musicnn::{self, MusicnnSettings, PATCH_SECONDS, SAMPLE_RATE};
use mer::features::audio::{self, Pooling};
use rayon::prelude::*;

/// TensorFlow's seconds for the files and for building the graph.
fn tensorflow_seconds(files: &[PathBuf], threads: usize) -> Result<(f64, f64), String> {
    let keys = ["tensorflow_seconds", "tensorflow_load_seconds"];
    python_reference("musicnn_tf_bench.py", files, threads, &keys).map(|v| (v[0], v[1]))
}

/// Mean single-threaded CPU time of each step over a few clips.
fn breakdown(files: &[PathBuf], settings: &MusicnnSettings) {
    let network = settings.model.network().expect("musicnn is installed");
    let frames = musicnn::patch_frames(PATCH_SECONDS);
    let (mut read, mut mel, mut net, mut patches) = (0.0, 0.0, 0.0, 0);
    let sample: Vec<&PathBuf> = files.iter().take(4).collect();
    for clip in &sample {
        let t = thread_cpu_ms();
        let y = audio::read_window(clip, settings.window(), SAMPLE_RATE).unwrap();
        read += thread_cpu_ms() - t;
        let t = thread_cpu_ms();
        let rows = musicnn::log_mel(&y);
        mel += thread_cpu_ms() - t;
        let t = thread_cpu_ms();
        for patch in musicnn::patches(&rows, frames, frames) {
            network.forward(patch);
            patches += 1;
        }
        net += thread_cpu_ms() - t;
    }
    let n = sample.len() as f64;
    println!(
        "per clip, one thread, mean CPU over {} clips: decode+resample {:.1} ms, log-mel {:.1} ms, \
         network {:.1} ms ({:.1} ms per patch)",
        sample.len(),
        read / n,
        mel / n,
        net / n,
        net / f64::from(patches)
    );
}

fn main() {
    let files: Vec<PathBuf> = clips()
        .into_iter()
        .take(env_usize("MER_BENCH_CLIPS", 40))
        .collect();
    let settings = MusicnnSettings {
        pooling: vec![Pooling::Mean],
        ..MusicnnSettings::default()
    };
    let threads = rayon::current_num_threads();
    let load = Instant::now();
    settings
        .model
        .network()
        .expect("musicnn is installed: mer models fetch musicnn");
    let load = load.elapsed().as_secs_f64();
    let cpu = process_cpu_ms();
    let start = Instant::now();
    let vectors: Vec<_> = files.par_iter().map(|f| settings.extract(f)).collect();
    let secs = start.elapsed().as_secs_f64();
    let cpu = process_cpu_ms() - cpu;
    assert!(
        vectors
            .iter()
            .all(|v| v.as_ref().is_ok_and(|v| v.len() == 200)),
        "every clip gives 200 values"
    );
    println!(
        "mer musicnn: {} clips in {secs:.2} s on {threads} threads = {:.2} s/clip ({:.0} CPU ms/clip); \
         network loaded in {load:.3} s",
        files.len(),
        secs / files.len() as f64,
        cpu / files.len() as f64,
    );
    breakdown(&files, &settings);
    if env_usize("MER_BENCH_TF", 1) == 0 {
        return;
    }
    match tensorflow_seconds(&files, threads) {
        Ok((tf, tf_load)) => println!(
            "tensorflow: {} clips in {tf:.2} s with {threads} threads = {:.2} s/clip (graph and \
             checkpoint loaded in {tf_load:.2} s); mer is {:.1}x faster ({:.1}x counting loading)",
            files.len(),
            tf / files.len() as f64,
            tf / secs,
            (tf + tf_load) / (secs + load)
        ),
        Err(e) => println!("TensorFlow comparison skipped: {e}"),
    }
}
