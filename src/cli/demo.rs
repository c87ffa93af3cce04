//! `mer demo`: writes the synthetic demo dataset.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use tracing::info;

use crate::demo::{DemoLayout, DemoOptions, DemoSummary, Refresh, generate, refresh};

/// Arguments of `mer demo`; defaults are [`DemoOptions::default`]'s.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder to write the dataset into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Number of songs.
    #[arg(long, default_value_t = DemoOptions::default().songs)]
    songs: usize,
    /// Seed of every random choice; the same seed writes byte-identical files.
    #[arg(long, default_value_t = DemoOptions::default().seed)]
    seed: u64,
    /// Layout to write.
    #[arg(long, value_enum, default_value_t = LayoutArg::MirexLike)]
    layout: LayoutArg,
    /// Label with the 4 Russell quadrants instead of the 5 MIREX clusters.
    #[arg(long)]
    quadrants: bool,
    /// Length of each song in seconds (2 to 60).
    #[arg(long, default_value_t = DemoOptions::default().seconds)]
    seconds: f32,
    /// Keep DIR if it already holds this dataset (same options, same generator version, as
    /// its demo-stamp.txt says); if it holds a demo dataset of other options or of an older
    /// generator, delete and rewrite it. A folder that is not a demo dataset is never deleted.
    #[arg(long)]
    refresh: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LayoutArg {
    MirexLike,
    Table,
    Emopia,
    #[value(name = "4q")]
    FourQ,
    Merge,
    Deam,
    Pmemo,
    MtgJamendo,
}

/// Generates the dataset and reports what was written.
pub fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let options = DemoOptions {
        out: args.out.clone(),
        songs: args.songs,
        seed: args.seed,
        layout: match args.layout {
            LayoutArg::MirexLike => DemoLayout::MirexLike,
            LayoutArg::Table => DemoLayout::Table,
            LayoutArg::Emopia => DemoLayout::Emopia,
            LayoutArg::FourQ => DemoLayout::FourQ,
            LayoutArg::Merge => DemoLayout::Merge,
            LayoutArg::Deam => DemoLayout::Deam,
            LayoutArg::Pmemo => DemoLayout::Pmemo,
            LayoutArg::MtgJamendo => DemoLayout::MtgJamendo,
        },
        quadrants: args.quadrants,
        seconds: args.seconds,
        ..DemoOptions::default()
    };
    let summary = if args.refresh {
        match refresh(&options)? {
            Refresh::UpToDate => {
                info!(
                    "{} already holds this demo dataset (same options and generator); nothing written",
                    args.out.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            Refresh::Generated(summary) => summary,
            Refresh::Replaced { previous, summary } => {
                info!(
                    "{} held a demo dataset of {}; replaced it",
                    args.out.display(),
                    if previous.is_some() {
                        "other options or an older generator"
                    } else {
                        "an older generator (no stamp)"
                    }
                );
                summary
            }
        }
    } else {
        generate(&options)?
    };
    report(&summary, args);
    Ok(ExitCode::SUCCESS)
}

fn report(summary: &DemoSummary, args: &DemoArgs) {
    info!(
        "wrote {} songs to {}: {} audio, {} lyrics ({} in UTF-16), {} MIDI files, {} labels wrong on purpose; {} files, {:.1} MB",
        summary.songs,
        args.out.display(),
        summary.audio_files,
        summary.lyrics_files,
        summary.utf16_lyrics_files,
        summary.midi_files,
        summary.relabeled,
        summary.files_written,
        summary.bytes_written as f64 / 1e6,
    );
}
