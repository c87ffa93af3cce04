//! Writes the synthetic demo dataset and prints what was written and how long it took.
//!
//! `cargo run --release --example demo -- OUT [SONGS] [SEED] [table] [quadrants]`

use std::time::Instant;

use mer::demo::{DemoLayout, DemoOptions, generate};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        anyhow::bail!("usage: demo OUT [SONGS] [SEED] [table] [quadrants]");
    };
    let mut opts = DemoOptions {
        out: out.into(),
        ..DemoOptions::default()
    };
    if let Some(songs) = args.get(1) {
        opts.songs = songs.parse()?;
    }
    if let Some(seed) = args.get(2) {
        opts.seed = seed.parse()?;
    }
    if args.iter().any(|a| a == "table") {
        opts.layout = DemoLayout::Table;
    }
    opts.quadrants = args.iter().any(|a| a == "quadrants");
    let started = Instant::now();
    let summary = generate(&opts)?;
    println!("{summary:#?}");
    println!("generated in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}
