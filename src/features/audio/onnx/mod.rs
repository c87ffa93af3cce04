//! `extractor = "onnx"`: a user's ONNX model (a CNN14 or an Essentia model exported to ONNX,
//! say) run natively by tract on each song's patches, one output pooled over the patches.
//!
//! One song: [`super::read_window`] at `sample_rate` -> the raw waveform, or the
//! [`super::log_mel`] front end the spec describes -> patches of `patch_seconds` every
//! `patch_hop` (a clip shorter than one patch is padded, repeated or skipped: `short_clips`)
//! -> the model on each patch -> the `output` tensor's values, each pooled over the patches.
//! The model file enters the stage key by content and is loaded once per process; a model
//! whose input does not fit the spec is one error when the run is planned, naming the key.
//!
//! Tested against onnxruntime on tiny models that `scripts/parity/onnx_models.py` generates
//! (`tests/onnx_extract.rs`).

mod network;
mod settings;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

pub use network::{OnnxError, OnnxNetwork};
pub use settings::{MelLayout, OnnxInput, OnnxSettings};

use super::patching::{fill_short_clip, patch_starts, pool_over_patches};
use super::{AudioError, check_mel, check_pooling, pooling, read_window};
use crate::features::shared_load::load_shared;
use crate::features::{
    FeatureError, KeyFile, KeyFileError, SettingRules, SongExtractor, Violation,
};

/// Version of the vectors [`extract`] returns; bump it whenever a value or name would change.
pub const VERSION: u32 = 1;

/// Networks fitted to one version of a model file, by the settings they were fitted to.
type Fitted = Mutex<HashMap<String, Arc<OnnxNetwork>>>;

impl OnnxSettings {
    /// The model, loaded and fitted to these settings once per version of its file. The
    /// settings are part of what is loaded (two specs on one file with different patch
    /// lengths are two networks), so each version of the file holds its fitted networks.
    pub fn network(&self) -> Result<Arc<OnnxNetwork>, OnnxError> {
        let io_error = |e: std::io::Error| OnnxError::Load {
            path: self.model.clone(),
            message: e.to_string(),
        };
        let fitted: Arc<Fitted> = load_shared(&self.model, io_error, |_| Ok(Fitted::default()))?;
        let mut networks = fitted.lock().unwrap_or_else(PoisonError::into_inner);
        let settings = format!("{self:?}");
        if let Some(network) = networks.get(&settings) {
            return Ok(Arc::clone(network));
        }
        let network = Arc::new(OnnxNetwork::load(self)?);
        networks.insert(settings, Arc::clone(&network));
        Ok(network)
    }
}

/// An output's name as a feature-name prefix: characters other than letters, digits and `_`
/// become `_`.
fn feature_prefix(output: &str) -> String {
    let keep = |c: char| c.is_alphanumeric() || c == '_';
    output
        .chars()
        .map(|c| if keep(c) { c } else { '_' })
        .collect()
}

/// The names of [`extract`]'s vector for a model whose kept output has `output_len` values:
/// `<output>.<i>.<statistic>`.
pub fn feature_names(settings: &OnnxSettings, output: &str, output_len: usize) -> Vec<String> {
    let prefix = feature_prefix(output);
    (0..output_len)
        .flat_map(|i| {
            pooling::pooled_names(&format!("{prefix}.{i}"), &settings.pooling).collect::<Vec<_>>()
        })
        .collect()
}

/// One song's vector from a file (same length and order as [`feature_names`]).
pub fn extract(
    path: &Path,
    settings: &OnnxSettings,
    network: &OnnxNetwork,
) -> Result<Vec<f32>, AudioError> {
    let samples = read_window(path, settings.window(), settings.sample_rate)?;
    let seconds = samples.len() as f64 / f64::from(settings.sample_rate);
    let (mut steps, width, silence) = match settings.input {
        OnnxInput::Waveform => (samples, 1, 0.0),
        OnnxInput::LogMel => {
            let front_end = settings.front_end();
            let frames = front_end.frames(&samples);
            (frames.data, frames.width, front_end.silence())
        }
    };
    let length = network.patch_steps;
    let short = || AudioError::ShorterThanPatch {
        path: path.to_path_buf(),
        seconds,
        patch_seconds: patch_seconds(settings, length),
    };
    fill_short_clip(&mut steps, length * width, silence, settings.short_clips).ok_or_else(short)?;
    let hop = settings
        .patch_hop
        .map_or(length, |seconds| hop_steps(settings, seconds));
    let outputs = patch_starts(steps.len() / width, length, hop)
        .map(|start| network.run(&steps[start * width..(start + length) * width]))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| AudioError::Network {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
    Ok(pool_over_patches(&outputs, &settings.pooling))
}

/// Steps between patch starts for a hop of `seconds` (at least one).
fn hop_steps(settings: &OnnxSettings, seconds: f64) -> usize {
    match settings.input {
        OnnxInput::Waveform => (seconds * f64::from(settings.sample_rate)).round() as usize,
        OnnxInput::LogMel => settings.front_end().time_to_frames(seconds),
    }
    .max(1)
}

/// Seconds a patch of `steps` covers, for messages.
fn patch_seconds(settings: &OnnxSettings, steps: usize) -> f64 {
    settings.patch_seconds.unwrap_or_else(|| {
        let samples = match settings.input {
            OnnxInput::Waveform => steps,
            OnnxInput::LogMel => steps * settings.hop_length,
        };
        samples as f64 / f64::from(settings.sample_rate)
    })
}

impl SongExtractor for OnnxSettings {
    fn name(&self) -> &'static str {
        "onnx"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    /// Needs the model (the output's length); a model that cannot be loaded has no names, and
    /// its error comes from [`SongExtractor::key_files`] when the run is planned.
    fn feature_names(&self) -> Vec<String> {
        self.network()
            .map(|network| feature_names(self, &network.output, network.output_len))
            .unwrap_or_default()
    }

    /// The model file, by content; loading it here makes a missing or unfit model one error
    /// when the run is planned.
    fn key_files(&self) -> Result<Vec<KeyFile>, KeyFileError> {
        let error = |source: Box<dyn std::error::Error + Send + Sync>, hint| KeyFileError {
            key: "model",
            source,
            hint,
        };
        if self.model.as_os_str().is_empty() {
            return Err(error(
                "no model file given".into(),
                Some("set model = \"path/to/model.onnx\" (relative to the spec's folder)"),
            ));
        }
        self.network().map_err(|e| error(Box::new(e), None))?;
        Ok(vec![KeyFile {
            key: "model",
            path: self.model.clone(),
        }])
    }

    /// The model's path against the spec's folder.
    fn resolve(&mut self, absolute: &dyn Fn(&Path) -> std::path::PathBuf) {
        if !self.model.as_os_str().is_empty() {
            self.model = absolute(&self.model);
        }
    }

    fn violations(&self, table: &str) -> Vec<Violation> {
        let mut rules = SettingRules::new(table);
        check_mel(
            &mut rules,
            self.sample_rate,
            (self.n_fft, self.hop_length, self.n_mels),
            (self.fmin, self.fmax),
        );
        self.window().check(&mut rules);
        check_pooling(&mut rules, &self.pooling);
        for (key, seconds) in [
            ("patch_seconds", self.patch_seconds),
            ("patch_hop", self.patch_hop),
        ] {
            if let Some(seconds) = seconds {
                rules.positive(key, seconds);
            }
        }
        rules.positive("log_gain", f64::from(self.log_gain));
        rules.positive("log_offset", f64::from(self.log_offset));
        rules.found
    }

    fn extract(&self, path: &Path) -> Result<Vec<f32>, FeatureError> {
        let network = self.network().map_err(|source| AudioError::Network {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        Ok(extract(path, self, &network)?)
    }
}
