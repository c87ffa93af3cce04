//! A user's ONNX model, loaded by tract with its input fixed to one patch (batch 1), so it is
//! optimized once for that shape and shared by every song.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use super::settings::{MelLayout, OnnxInput, OnnxSettings};

/// Why an ONNX model cannot be used as the spec asks.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// tract cannot read, type or optimize the model.
    #[error("{}: cannot load the ONNX model: {message}", path.display())]
    Load {
        /// The model file.
        path: PathBuf,
        /// tract's message, with its causes.
        message: String,
    },
    /// The model's input does not fit what the spec says it takes.
    #[error("{}: {problem}", path.display())]
    Input {
        /// The model file.
        path: PathBuf,
        /// What does not fit, and the key to change.
        problem: String,
    },
    /// No output of that name.
    #[error("{}: no output named `{name}`; the model's outputs are {}", path.display(), outputs.join(", "))]
    NoOutput {
        /// The model file.
        path: PathBuf,
        /// The name the spec gives.
        name: String,
        /// The names it has.
        outputs: Vec<String>,
    },
    /// The model failed on a patch, or its output is not a batch of one float vector.
    #[error("{}: running the ONNX model failed: {message}", path.display())]
    Run {
        /// The model file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// A loaded model, ready to run one patch at a time.
#[derive(Debug)]
pub struct OnnxNetwork {
    path: PathBuf,
    plan: Arc<TypedRunnableModel>,
    input_shape: Vec<usize>,
    /// Samples (waveform) or frames (log-mel) per patch.
    pub patch_steps: usize,
    /// The kept output's name.
    pub output: String,
    /// Values of the kept output per patch.
    pub output_len: usize,
    transpose: bool,
}

/// tract's error with its causes, on one line.
fn chain(error: &TractError) -> String {
    format!("{error:#}")
}

impl OnnxNetwork {
    /// Loads `settings.model`, checks its input against the spec, fixes the patch length and
    /// selects the output, then runs it once on silence to learn the output's length.
    pub fn load(settings: &OnnxSettings) -> Result<OnnxNetwork, OnnxError> {
        let path = settings.model.clone();
        let load_error = |e: TractError| OnnxError::Load {
            path: path.clone(),
            message: chain(&e),
        };
        let mut model = tract_onnx::onnx()
            .model_for_path(&path)
            .map_err(load_error)?;
        let inputs = model.input_outlets().map_err(load_error)?.len();
        if inputs != 1 {
            return Err(input_error(
                &path,
                format!(
                    "the model has {inputs} inputs; extractor = \"onnx\" feeds exactly one (the audio patch)"
                ),
            ));
        }
        let declared = declared_shape(&model);
        let (shape, patch_steps, transpose) = input_shape(&path, settings, declared.as_deref())?;
        let output = choose_output(&path, &model, settings.output.as_deref())?;
        model
            .set_input_fact(0, f32::fact(&shape).into())
            .map_err(load_error)?;
        model
            .select_outputs_by_name([output.as_str()])
            .map_err(load_error)?;
        let plan = model
            .into_optimized()
            .and_then(|typed| typed.into_runnable())
            .map_err(load_error)?;
        let mut network = OnnxNetwork {
            path: path.clone(),
            plan,
            input_shape: shape,
            patch_steps,
            output,
            output_len: 0,
            transpose,
        };
        let width = network.input_shape.iter().product::<usize>() / patch_steps;
        network.output_len = network.run(&vec![0.0; patch_steps * width])?.len();
        Ok(network)
    }

    /// The kept output for one patch: `patch_steps` samples, or `patch_steps` frames of mel
    /// bands (frame after frame), flattened after the batch axis.
    pub fn run(&self, patch: &[f32]) -> Result<Vec<f32>, OnnxError> {
        let run_error = |message: String| OnnxError::Run {
            path: self.path.clone(),
            message,
        };
        let data = if self.transpose {
            transpose(patch, self.patch_steps)
        } else {
            patch.to_vec()
        };
        let input =
            Tensor::from_shape(&self.input_shape, &data).map_err(|e| run_error(chain(&e)))?;
        let outputs = self
            .plan
            .run(tvec!(input.into()))
            .map_err(|e| run_error(chain(&e)))?;
        let output = &outputs[0];
        if output.shape().first() != Some(&1) {
            return Err(run_error(format!(
                "output `{}` has shape {:?}; expected a batch of one first",
                self.output,
                output.shape()
            )));
        }
        let values = output.to_plain_array_view::<f32>().map_err(|_| {
            run_error(format!(
                "output `{}` holds {:?}, not 32-bit floats",
                self.output,
                output.datum_type()
            ))
        })?;
        Ok(values.iter().copied().collect())
    }
}

fn input_error(path: &Path, problem: String) -> OnnxError {
    OnnxError::Input {
        path: path.to_path_buf(),
        problem,
    }
}

/// The model's declared input shape, each axis's length when fixed; `None` when not even the
/// rank is declared.
fn declared_shape(model: &InferenceModel) -> Option<Vec<Option<usize>>> {
    let fact = model.input_fact(0).ok()?;
    if fact.shape.is_open() {
        return None;
    }
    Some(
        fact.shape
            .dims()
            .map(|dim| {
                dim.concretize()
                    .and_then(|d| d.as_i64())
                    .and_then(|n| usize::try_from(n).ok())
            })
            .collect(),
    )
}

/// The concrete input shape for one patch, the patch's length in steps, and whether mel
/// patches are handed over bands-first.
fn input_shape(
    path: &Path,
    settings: &OnnxSettings,
    declared: Option<&[Option<usize>]>,
) -> Result<(Vec<usize>, usize, bool), OnnxError> {
    let mel = settings.input == OnnxInput::LogMel;
    let base_rank = if mel { 3 } else { 2 };
    let rank = declared.map_or(base_rank, <[_]>::len);
    if rank != base_rank && rank != base_rank + 1 {
        return Err(input_error(
            path,
            format!(
                "the model's input has {rank} axes; input = \"{}\" takes {base_rank} (batch first), or {} with a channel axis of 1",
                input_name(settings.input),
                base_rank + 1
            ),
        ));
    }
    let fixed = |axis: usize| declared.and_then(|d| d[axis]);
    let channel = rank == base_rank + 1;
    for (axis, what) in [(0, "batch")]
        .into_iter()
        .chain(channel.then_some((1, "channel")))
    {
        if let Some(n) = fixed(axis).filter(|&n| n != 1) {
            return Err(input_error(
                path,
                format!(
                    "the model's {what} axis is fixed at {n}; extractor = \"onnx\" runs one patch at a time and needs it to be 1 or free"
                ),
            ));
        }
    }
    let lead = if channel { 2 } else { 1 };
    let transpose = mel && settings.layout == MelLayout::MelsFrames;
    let (time_axis, band_axis) = match (mel, transpose) {
        (false, _) => (lead, None),
        (true, false) => (lead, Some(lead + 1)),
        (true, true) => (lead + 1, Some(lead)),
    };
    if let Some(axis) = band_axis
        && let Some(n) = fixed(axis).filter(|&n| n != settings.n_mels)
    {
        return Err(input_error(
            path,
            format!(
                "the model takes {n} mel bands but modalities.audio.n_mels = {}; set n_mels = {n} (and check layout = \"frames_mels\" or \"mels_frames\")",
                settings.n_mels
            ),
        ));
    }
    let steps = patch_steps(path, settings, fixed(time_axis))?;
    let mut shape = vec![1; lead];
    match band_axis {
        None => shape.push(steps),
        Some(_) if transpose => shape.extend([settings.n_mels, steps]),
        Some(_) => shape.extend([steps, settings.n_mels]),
    }
    Ok((shape, steps, transpose))
}

fn input_name(input: OnnxInput) -> &'static str {
    match input {
        OnnxInput::Waveform => "waveform",
        OnnxInput::LogMel => "log_mel",
    }
}

/// Steps per patch: from `patch_seconds` when set (it must agree with a fixed model length),
/// else the model's fixed length.
fn patch_steps(
    path: &Path,
    settings: &OnnxSettings,
    fixed: Option<usize>,
) -> Result<usize, OnnxError> {
    let unit = match settings.input {
        OnnxInput::Waveform => "samples",
        OnnxInput::LogMel => "frames",
    };
    let Some(seconds) = settings.patch_seconds else {
        return fixed.ok_or_else(|| {
            input_error(
                path,
                "the model's input length is not fixed; set modalities.audio.patch_seconds to the seconds of audio per patch".to_string(),
            )
        });
    };
    let steps = seconds_to_steps(settings, seconds);
    match fixed {
        Some(n) if n != steps => Err(input_error(
            path,
            format!(
                "the model takes {n} {unit} per patch but modalities.audio.patch_seconds = {seconds} gives {steps}; remove patch_seconds to use the model's length"
            ),
        )),
        _ => Ok(steps.max(1)),
    }
}

/// Steps of a patch of `seconds`: samples, or frames as musicnn counts them.
pub(super) fn seconds_to_steps(settings: &OnnxSettings, seconds: f64) -> usize {
    match settings.input {
        OnnxInput::Waveform => (seconds * f64::from(settings.sample_rate)).round() as usize,
        OnnxInput::LogMel => settings.front_end().patch_frames(seconds),
    }
}

/// The output named in the spec, or the model's first.
fn choose_output(
    path: &Path,
    model: &InferenceModel,
    wanted: Option<&str>,
) -> Result<String, OnnxError> {
    let outputs: Vec<String> = (model
        .output_outlets()
        .map(<[_]>::to_vec)
        .unwrap_or_default())
    .into_iter()
    .map(|outlet| {
        model
            .outlet_label(outlet)
            .map_or_else(|| model.node(outlet.node).name.clone(), str::to_string)
    })
    .collect();
    match wanted {
        None => outputs.first().cloned().ok_or_else(|| OnnxError::Load {
            path: path.to_path_buf(),
            message: "the model has no outputs".to_string(),
        }),
        Some(name) if outputs.iter().any(|o| o == name) => Ok(name.to_string()),
        Some(name) => Err(OnnxError::NoOutput {
            path: path.to_path_buf(),
            name: name.to_string(),
            outputs,
        }),
    }
}

/// `frames` rows of bands, frame after frame, as bands of frames.
fn transpose(patch: &[f32], frames: usize) -> Vec<f32> {
    let bands = patch.len() / frames.max(1);
    (0..bands)
        .flat_map(|b| (0..frames).map(move |t| patch[t * bands + b]))
        .collect()
}
