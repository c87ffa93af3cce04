//! `mer predict` and `mer export`: a finished run's model on new songs, and the model as one
//! self-contained file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use tracing::{info, warn};

use super::run::RunProgress;
use super::{Folders, interrupt_flag, open_store};
use crate::cache::FileHasher;
use crate::experiment::load_data;
use crate::predict::{
    ModelBundle, OutputFormat, PredictError, PredictOptions, SongList, predict as predict_songs,
};
use crate::results::Model;
use crate::spec::load_spec;

/// Arguments of `mer predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The trained model: a finished run's report folder (its stages read from --cache) or a
    /// bundle written by `mer export`.
    #[arg(value_name = "MODEL")]
    model: PathBuf,
    /// Songs: media files (matched into songs by file stem), folders of them, a CSV with an
    /// `id` column and a column of paths per modality, or a spec whose dataset to predict.
    #[arg(value_name = "INPUTS", required = true)]
    inputs: Vec<PathBuf>,
    /// Which of the run's models: `ensemble+tta` (the headline), `ensemble`, `fold-<k>`
    /// (0-based), `ensemble:<method>`.
    #[arg(long = "model", value_name = "NAME")]
    which: Option<Model>,
    /// One seed's model; every seed's by default (one row per seed and song).
    #[arg(long)]
    seed: Option<u64>,
    /// Output file; standard output by default.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Output format; by default from --out's extension (.json), else CSV.
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,
}

/// Arguments of `mer export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A finished run's report folder.
    #[arg(value_name = "REPORT")]
    report: PathBuf,
    /// The bundle file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Predicts the inputs' songs and writes the outputs.
pub fn predict(args: &PredictArgs, folders: &Folders) -> anyhow::Result<ExitCode> {
    let store = open_store(folders)?;
    let bundle = ModelBundle::open(&args.model, &store)?;
    let songs = SongList::collect(&args.inputs, &load_dataset)?;
    if !songs.ignored.is_empty() {
        info!(
            "{} file(s) in the given folders are not audio, lyrics or MIDI and were left out",
            songs.ignored.len()
        );
    }
    if songs.songs.is_empty() {
        anyhow::bail!("no song to predict: the inputs hold no audio, lyrics or MIDI file");
    }
    info!(
        "{} song(s); model of {} ({} seed(s) x {} folds)",
        songs.songs.len(),
        bundle.spec.name,
        bundle.seeds.len(),
        bundle.seeds.first().map_or(0, |s| s.folds())
    );
    let mut hasher = FileHasher::open(&folders.cache);
    let options = PredictOptions {
        model: args.which,
        seed: args.seed,
        interrupt: Some(interrupt_flag()),
    };
    let progress = RunProgress::new(bundle.spec.selected().len());
    let predictions = predict_songs(&bundle, &songs, (&store, &mut hasher), &progress, &options);
    progress.finish();
    hasher.save();
    let predictions = predictions?;
    for skip in &predictions.skipped {
        match skip.modality {
            Some(modality) => warn!("{modality} of song {} skipped: {}", skip.id, skip.reason),
            None => warn!("song {} skipped: {}", skip.id, skip.reason),
        }
    }
    let format = args.format.unwrap_or(match &args.out {
        Some(out) if out.extension().is_some_and(|e| e == "json") => OutputFormat::Json,
        _ => OutputFormat::Csv,
    });
    match &args.out {
        Some(path) => write_file(path, |file| predictions.write(format, file))?,
        None => predictions
            .write(format, std::io::stdout().lock())
            .context("could not write the predictions to standard output")?,
    }
    let predicted = songs.songs.len() - count_left_out(&predictions);
    info!(
        "{predicted} of {} song(s) predicted; {} skipped file(s) or song(s){}",
        songs.songs.len(),
        predictions.skipped.len(),
        args.out
            .as_ref()
            .map_or(String::new(), |p| format!("; written to {}", p.display()))
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes a bundle of the report's run.
pub fn export(args: &ExportArgs, folders: &Folders) -> anyhow::Result<ExitCode> {
    let store = open_store(folders)?;
    let bundle = ModelBundle::from_report(&args.report, &store)?;
    bundle.write(&args.out)?;
    let size = std::fs::metadata(&args.out).map_or(0, |m| m.len());
    info!(
        "{}: {} seed(s) x {} fold models, {:.1} MB; `mer predict {} SONGS...` uses it without the cache",
        args.out.display(),
        bundle.seeds.len(),
        bundle.seeds.first().map_or(0, |s| s.folds()),
        size as f64 / 1e6,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Songs left out whole (not one modality of them).
fn count_left_out(predictions: &crate::predict::Predictions) -> usize {
    predictions
        .skipped
        .iter()
        .filter(|s| s.modality.is_none())
        .count()
}

/// The dataset of a spec given as input.
fn load_dataset(path: &Path) -> Result<crate::dataset::DatasetLoad, PredictError> {
    let dataset = |source: anyhow::Error| PredictError::Dataset {
        path: path.to_path_buf(),
        source,
    };
    let spec = load_spec(path, &[]).map_err(|e| dataset(e.into()))?;
    load_data(&spec).map_err(|e| dataset(e.into()))
}

/// Writes `path` through a temporary file beside it, so a failed write leaves nothing half.
fn write_file(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
    let tmp = crate::cache::store::temp_path_in(
        folder.unwrap_or(Path::new("")),
        &path
            .file_name()
            .map_or("predictions".into(), |n| n.to_string_lossy()),
    );
    let result = std::fs::File::create(&tmp).and_then(|mut file| {
        write(&mut file)?;
        file.flush()?;
        file.sync_all()
    });
    let result = result.and_then(|()| std::fs::rename(&tmp, path));
    if let Err(err) = result {
        let _ = std::fs::remove_file(&tmp);
        let shown = folder.map_or(".".into(), |f| f.display().to_string());
        return Err(err)
            .with_context(|| format!("could not write '{}' (in {shown})", path.display()));
    }
    Ok(())
}
