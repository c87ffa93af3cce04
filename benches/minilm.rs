//! MiniLM lyrics embeddings against sentence-transformers, in one invocation: mer's
//! `extractor = "minilm"` on the 160 MIREX dev lyrics files in parallel as the pipeline runs
//! it, then sentence-transformers (torch, same number of threads) on the same files via
//! `scripts/parity/minilm_st_bench.py`, grouping lines the same way, and the ratio.
//!
//! `mer models fetch minilm` first (models folder: `MER_MODELS`, default `models/`), and for
//! the comparison `sentence-transformers` with torch, and the whole published package
//! unpacked at `MER_BENCH_MINILM_PACKAGE` (sentence-transformers reads its modules.json).
//! `cargo bench --bench minilm` (threads: `RAYON_NUM_THREADS`).

use std::path::PathBuf;
use std::time::Instant;

mod support;
use support::{lyrics, process_cpu_ms, python_reference};

use mer::features::SongExtractor;
use mer::features::lyrics::MinilmSettings;
use mer::features::lyrics::minilm::MiniLm;
use rayon::prelude::*;

fn main() {
    let files = lyrics();
    let threads = rayon::current_num_threads();
    let load = Instant::now();
    MiniLm::shared().expect("minilm is installed: mer models fetch minilm");
    let load = load.elapsed().as_secs_f64();
    let settings = MinilmSettings::default();
    let cpu = process_cpu_ms();
    let start = Instant::now();
    let vectors: Vec<_> = files.par_iter().map(|f| settings.extract(f)).collect();
    let secs = start.elapsed().as_secs_f64();
    let cpu = process_cpu_ms() - cpu;
    let ok = vectors
        .iter()
        .filter(|v| v.as_ref().is_ok_and(|v| v.len() == 384))
        .count();
    println!(
        "mer minilm: {} lyrics ({ok} embedded) in {secs:.2} s on {threads} threads = {:.1} ms/song \
         ({:.0} CPU ms/song); model loaded in {load:.3} s",
        files.len(),
        1e3 * secs / files.len() as f64,
        cpu / files.len() as f64,
    );
    let Some(package) = std::env::var_os("MER_BENCH_MINILM_PACKAGE") else {
        println!("sentence-transformers comparison skipped: set MER_BENCH_MINILM_PACKAGE");
        return;
    };
    let mut args = vec![PathBuf::from(package)];
    args.extend(files.iter().cloned());
    let keys = ["st_seconds", "st_load_seconds"];
    match python_reference("minilm_st_bench.py", &args, threads, &keys) {
        Ok(v) => println!(
            "sentence-transformers: {} lyrics in {:.2} s with {threads} threads (model loaded in \
             {:.2} s); mer is {:.1}x faster ({:.1}x counting loading)",
            files.len(),
            v[0],
            v[1],
            v[0] / secs,
            (v[0] + v[1]) / (secs + load)
        ),
        Err(e) => println!("sentence-transformers comparison skipped: {e}"),
    }
}
