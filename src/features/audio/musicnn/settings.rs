//! The settings of `extractor = "musicnn"` (`[modalities.audio]`), with their defaults.

use serde::{Deserialize, Serialize};

use crate::features::audio::{AudioWindow, Pooling, ShortClips};

/// Which of musicnn's two trained networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MusicnnModel {
    /// Trained on the Million Song Dataset's Last.fm tags (the larger training set).
    Msd,
    /// Trained on MagnaTagATune.
    Mtt,
}

/// A layer whose values enter the song vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MusicnnLayer {
    /// The 200 units before the tag layer: the usual embedding.
    Penultimate,
    /// The 50 tag probabilities.
    Tags,
    /// Max over time of the 753 mid-end features.
    MaxPool,
    /// Mean over time of the 753 mid-end features.
    MeanPool,
}

/// `extractor = "musicnn"` (`[modalities.audio]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MusicnnSettings {
    /// The network: `msd` or `mtt`. Default `msd`.
    pub model: MusicnnModel,
    /// Layers kept, in this order. Default `["penultimate"]`.
    pub layers: Vec<MusicnnLayer>,
    /// Seconds between the starts of consecutive 3 s patches. Default: unset, one patch length
    /// (no overlap), as musicnn's own extractor does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_hop: Option<f64>,
    /// Statistics over a song's patches, per unit. Default `["mean"]`.
    pub pooling: Vec<Pooling>,
    /// A clip shorter than one patch: `repeat`, `pad` or `skip`. Default `repeat`.
    pub short_clips: ShortClips,
    /// Seconds skipped at the start of each file. Default 0.
    pub offset: f64,
    /// Seconds read after `offset`. Default: to the end (at most `max_seconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// A song whose decoded window is shorter than this many seconds is skipped. Default 0.5.
    pub min_seconds: f64,
    /// Most seconds decoded per song when `duration` is unset. Default 600.
    pub max_seconds: f64,
}

impl Default for MusicnnSettings {
    fn default() -> Self {
        MusicnnSettings {
            model: MusicnnModel::Msd,
            layers: vec![MusicnnLayer::Penultimate],
            patch_hop: None,
            pooling: vec![Pooling::Mean],
            short_clips: ShortClips::Repeat,
            offset: 0.0,
            duration: None,
            min_seconds: 0.5,
            max_seconds: 600.0,
        }
    }
}

impl MusicnnSettings {
    /// The part of each file it reads.
    pub fn window(&self) -> AudioWindow {
        AudioWindow {
            offset: self.offset,
            duration: self.duration,
            min_seconds: self.min_seconds,
            max_seconds: self.max_seconds,
        }
    }
}
