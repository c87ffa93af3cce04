//! `extractor = "musicnn"`: the musicnn networks (Pons and Serra 2019) run natively on each
//! song, their layers pooled over the song's 3 s patches.
//!
//! One song: [`super::read_window`] at 16 kHz -> [`log_mel`] -> [`patches`] (a clip shorter
//! than one patch is repeated, padded with silence or skipped: `short_clips`) -> the
//! [`network`] on each patch -> the chosen `layers` of every patch, each unit pooled over the
//! patches (`pooling`). The weights are the checkpoints of the `musicnn` 0.1.0 package
//! (`mer models fetch musicnn`), read by [`crate::models::checkpoint`]; their content enters
//! the stage key, and a missing package is an error when the run is planned, naming the
//! command that gets it. Each checkpoint is loaded once per process and shared by every song.
//!
//! Parity with TensorFlow: `tests/musicnn_input.rs` and `tests/musicnn_network.rs`.

mod fast_fir;
mod input;
pub mod network;
mod settings;
pub mod tags;
mod winograd;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use super::patching::ShortClips;
pub use input::{HOP, N_FFT, N_MELS, SAMPLE_RATE, log_mel, patch_frames, patches, time_to_frames};
use network::{Musicnn, PatchOutput, WeightError};
pub use settings::{MusicnnLayer, MusicnnModel, MusicnnSettings};

use super::patching::{fill_short_clip, pool_over_patches};
use super::{AudioError, check_pooling, pooling, read_window};
use crate::features::shared_load::load_shared;
use crate::features::{
    FeatureError, KeyFile, KeyFileError, SettingRules, SongExtractor, Violation,
};
use crate::models::checkpoint::{CheckpointError, read_checkpoint};
use crate::models::{ModelError, ModelStore, catalog::MUSICNN};

/// Version of the vectors [`extract`] returns; bump it whenever a value or name would change
/// (2: the timbral convolutions as Winograd tiles; 3: F(6, 7) tiles and the fast FIR
/// algorithm; each within float rounding of the one before).
pub const VERSION: u32 = 3;

/// Seconds of audio one patch covers.
pub const PATCH_SECONDS: f64 = 3.0;

/// Why a musicnn network cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The package is not installed.
    #[error(transparent)]
    Missing(#[from] ModelError),
    /// The checkpoint cannot be read.
    #[error("{0}; {advice}", advice = package_advice(.0.path()))]
    Checkpoint(#[from] CheckpointError),
    /// The checkpoint is not a musicnn network's.
    #[error("{}: {source}; {}", path.display(), package_advice(path))]
    Weights {
        /// The checkpoint's data file.
        path: PathBuf,
        /// Which variable does not fit.
        source: WeightError,
    },
}

/// What to do about a damaged file of the installed package (the checkpoint's folder is one
/// level below the package's).
fn package_advice(file: &Path) -> String {
    let folder = file.ancestors().nth(2).unwrap_or(file);
    MUSICNN.refetch_advice(folder)
}

impl MusicnnModel {
    /// The checkpoint's folder in the package.
    fn folder(self) -> &'static str {
        match self {
            MusicnnModel::Msd => "MSD_musicnn",
            MusicnnModel::Mtt => "MTT_musicnn",
        }
    }

    /// Its 50 tags, in output order.
    pub fn tags(self) -> &'static [&'static str; 50] {
        match self {
            MusicnnModel::Msd => &tags::MSD_TAGS,
            MusicnnModel::Mtt => &tags::MTT_TAGS,
        }
    }

    /// The checkpoint's `.index` and `.data` files in the current models folder.
    fn checkpoint_files(self) -> Result<[PathBuf; 2], ModelError> {
        let store = ModelStore::current();
        let file = |suffix: &str| store.file(&MUSICNN, &format!("{}/{suffix}", self.folder()));
        Ok([file(".index")?, file(".data-00000-of-00001")?])
    }

    /// The network, loaded once per version of its checkpoint and shared.
    pub fn network(self) -> Result<Arc<Musicnn>, NetworkError> {
        let [index, data] = self.checkpoint_files()?;
        let prefix = index.with_file_name("");
        let io_error = |source| CheckpointError::Io {
            path: data.clone(),
            source,
        };
        load_shared(
            &data,
            |e| NetworkError::from(io_error(e)),
            |path| {
                let weights = read_checkpoint(&prefix)?;
                Musicnn::new(&weights).map_err(|source| NetworkError::Weights {
                    path: path.to_path_buf(),
                    source,
                })
            },
        )
    }
}

impl MusicnnLayer {
    /// Names of its units (`penultimate.17`, `tag.female_vocalists`, `max_pool.3`).
    fn unit_names(self, model: MusicnnModel) -> Vec<String> {
        let numbered = |base: &str, n: usize| (0..n).map(|i| format!("{base}.{i}")).collect();
        match self {
            MusicnnLayer::Penultimate => numbered("penultimate", 200),
            MusicnnLayer::Tags => (model.tags().iter())
                .map(|t| format!("tag.{}", tags::tag_slug(t)))
                .collect(),
            MusicnnLayer::MaxPool => numbered("max_pool", 753),
            MusicnnLayer::MeanPool => numbered("mean_pool", 753),
        }
    }

    /// Its values in one patch's output.
    fn values(self, out: &PatchOutput) -> &[f32] {
        match self {
            MusicnnLayer::Penultimate => &out.penultimate,
            MusicnnLayer::Tags => &out.tags,
            MusicnnLayer::MaxPool => &out.max_pool,
            MusicnnLayer::MeanPool => &out.mean_pool,
        }
    }
}

/// The names of [`extract`]'s vector: each layer's units in order, each under each pooling
/// (`penultimate.17.mean`, `tag.rock.std`).
pub fn feature_names(settings: &MusicnnSettings) -> Vec<String> {
    (settings.layers.iter())
        .flat_map(|layer| layer.unit_names(settings.model))
        .flat_map(|unit| pooling::pooled_names(&unit, &settings.pooling).collect::<Vec<_>>())
        .collect()
}

/// One song's vector from a file (same length and order as [`feature_names`]).
pub fn extract(
    path: &Path,
    settings: &MusicnnSettings,
    network: &Musicnn,
) -> Result<Vec<f32>, AudioError> {
    let samples = read_window(path, settings.window(), SAMPLE_RATE)?;
    let mut rows = log_mel(&samples);
    let frames = patch_frames(PATCH_SECONDS);
    // A row of zeros is silence: log10(10000 * 0 + 1).
    fill_short_clip(&mut rows, frames, [0.0; N_MELS], settings.short_clips).ok_or_else(|| {
        AudioError::ShorterThanPatch {
            path: path.to_path_buf(),
            seconds: samples.len() as f64 / f64::from(SAMPLE_RATE),
            patch_seconds: PATCH_SECONDS,
        }
    })?;
    let hop = settings
        .patch_hop
        .map_or(frames, |seconds| time_to_frames(seconds).max(1));
    let outputs: Vec<PatchOutput> = patches(&rows, frames, hop)
        .into_iter()
        .map(|patch| network.forward(patch))
        .collect();
    Ok(pool_patches(&outputs, settings))
}

/// The chosen layers of every patch, each unit pooled over the patches.
fn pool_patches(outputs: &[PatchOutput], settings: &MusicnnSettings) -> Vec<f32> {
    let chosen: Vec<Vec<f32>> = (outputs.iter())
        .map(|out| {
            (settings.layers.iter())
                .flat_map(|layer| layer.values(out).iter().copied())
                .collect()
        })
        .collect();
    pool_over_patches(&chosen, &settings.pooling)
}

impl SongExtractor for MusicnnSettings {
    fn name(&self) -> &'static str {
        "musicnn"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn feature_names(&self) -> Vec<String> {
        feature_names(self)
    }

    /// The checkpoint's two files, by content; loading the network here makes a missing or
    /// damaged package one error when the run is planned.
    fn key_files(&self) -> Result<Vec<KeyFile>, KeyFileError> {
        let error = |source: NetworkError| KeyFileError {
            key: "model",
            source: Box::new(source),
            hint: None,
        };
        self.model.network().map_err(error)?;
        let [index, data] =
            (self.model.checkpoint_files()).map_err(|e| error(NetworkError::from(e)))?;
        Ok(vec![
            KeyFile {
                key: "model.index",
                path: index,
            },
            KeyFile {
                key: "model.data",
                path: data,
            },
        ])
    }

    fn violations(&self, table: &str) -> Vec<Violation> {
        let mut rules = SettingRules::new(table);
        self.window().check(&mut rules);
        check_pooling(&mut rules, &self.pooling);
        rules.not_empty(
            "layers",
            &self.layers,
            "at least one layer: penultimate, tags, max_pool or mean_pool",
        );
        if let Some(hop) = self.patch_hop {
            rules.positive("patch_hop", hop);
        }
        rules.found
    }

    fn extract(&self, path: &Path) -> Result<Vec<f32>, FeatureError> {
        let network = self.model.network().map_err(|source| AudioError::Network {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        Ok(extract(path, self, &network)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_layer_unit_and_statistic() {
        let settings = MusicnnSettings {
            model: MusicnnModel::Msd,
            layers: vec![MusicnnLayer::Tags, MusicnnLayer::Penultimate],
            pooling: vec![
                crate::features::audio::Pooling::Mean,
                crate::features::audio::Pooling::Std,
            ],
            ..MusicnnSettings::default()
        };
        let names = feature_names(&settings);
        assert_eq!(names.len(), (50 + 200) * 2);
        assert_eq!(names[0], "tag.rock.mean");
        assert_eq!(names[1], "tag.rock.std");
        assert!(names.contains(&"tag.female_vocalists.mean".to_string()));
        assert_eq!(names[100], "penultimate.0.mean");
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn each_unit_is_pooled_over_the_patches() {
        let patch = |v: f32| PatchOutput {
            mean_pool: vec![v; 753],
            max_pool: vec![v; 753],
            penultimate: vec![v; 200],
            tags: (0..50).map(|i| v + i as f32).collect(),
        };
        let settings = MusicnnSettings {
            layers: vec![MusicnnLayer::Tags],
            pooling: vec![
                crate::features::audio::Pooling::Mean,
                crate::features::audio::Pooling::Std,
            ],
            ..MusicnnSettings::default()
        };
        let vector = pool_patches(&[patch(1.0), patch(3.0)], &settings);
        assert_eq!(vector.len(), 100);
        assert_eq!(&vector[..4], &[2.0, 1.0, 3.0, 1.0]);
    }
}
