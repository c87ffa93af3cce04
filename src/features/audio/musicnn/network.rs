//! The musicnn network (`build_musicnn` of `musicnn/models.py`, inference only) on one
//! [`super::patch_frames`]-long patch of the log-mel input:
//!
//! - front end: batch norm of the input; two timbral convolutions (7 frames x 38 and 67 mel
//!   bands, 204 filters) and three temporal ones (128, 64, 32 frames x 1 band, 51 filters),
//!   each ReLU, batch norm and max over frequency, concatenated (561 per frame);
//! - mid end: three 7-frame convolutions of 64 filters (ReLU, batch norm), the last two
//!   residual, concatenated with the front end (753 per frame);
//! - back end: max and mean over time (1506), batch norm, dense 200 (ReLU, batch norm: the
//!   penultimate layer), dense 50 and a sigmoid (the tags).
//!
//! The timbral convolutions run as Winograd F(6, 7) tiles along time ([`super::winograd`]),
//! the temporal ones by the fast FIR algorithm ([`super::fast_fir`]), the mid end as
//! sliding-window views of its input times weight matrices, with no patch matrix copied out.
//! Batch norm uses the moving statistics with TensorFlow's default epsilon of 0.001.

use std::collections::BTreeMap;

use crate::models::checkpoint::Tensor;
use crate::models::inference::{Dense, MatRef};

use super::N_MELS;
use super::fast_fir::{FirBank, Splitting};
use super::winograd::TimeWinograd;

/// Output frames per Winograd tile of the timbral convolutions (F(6, 7): 3.5 times fewer
/// multiplications; measured per patch, both layers: 17.5 ms against 21.2 ms with F(4, 7)).
const WINOGRAD_TILE: usize = 6;

/// The temporal kernels of 128 and 64 frames split once by the fast FIR algorithm (3/4 of
/// the multiplications); the 32-frame one runs directly. Measured per patch on 96 bands: 128
/// taps 5.3 ms direct, 4.0 split once, 4.0 twice; 64 taps 2.6, 2.4, 2.9; 32 taps 1.7, 1.9.
const TEMPORAL_SPLITTING: Splitting = Splitting {
    levels: 1,
    from_taps: 64,
};

/// `tf.layers.batch_normalization`'s default epsilon.
const BN_EPSILON: f32 = 1e-3;

/// What one patch gives.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutput {
    /// Mean over time of every mid-end feature (753).
    pub mean_pool: Vec<f32>,
    /// Max over time of every mid-end feature (753).
    pub max_pool: Vec<f32>,
    /// The penultimate layer (200).
    pub penultimate: Vec<f32>,
    /// Tag probabilities (50).
    pub tags: Vec<f32>,
}

/// A checkpoint variable the network needs is missing or of another shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("musicnn checkpoint: variable `{name}` {problem}")]
pub struct WeightError {
    /// The variable.
    pub name: String,
    /// What is wrong with it.
    pub problem: String,
}

/// A time x channels feature map, row-major.
struct Map {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

/// One batch norm as a per-channel scale and shift.
struct Norm {
    scale: Vec<f32>,
    shift: Vec<f32>,
}

impl Norm {
    fn apply(&self, data: &mut [f32]) {
        let c = self.scale.len();
        for (i, v) in data.iter_mut().enumerate() {
            *v = *v * self.scale[i % c] + self.shift[i % c];
        }
    }
}

/// The MSD or MTT musicnn network with its weights.
pub struct Musicnn {
    input_norm: Norm,
    timbral: [(TimeWinograd, Norm); 2],
    temporal: [(FirBank, Vec<f32>, Norm); 3],
    midend: [(Dense, Norm); 3],
    pool_norm: Norm,
    dense: (Dense, Norm),
    logits: Dense,
}

impl Musicnn {
    /// The network from a checkpoint's variables (`models::checkpoint::read_checkpoint`).
    pub fn new(weights: &BTreeMap<String, Tensor>) -> Result<Musicnn, WeightError> {
        let w = Weights(weights);
        let timbral = |i: usize, bands: usize| -> Result<(TimeWinograd, Norm), WeightError> {
            let name = conv_name(i);
            let weight = w.get(&format!("{name}/kernel"), &[7, bands, 1, 204])?;
            let bias = w.get(&format!("{name}/bias"), &[204])?.to_vec();
            Ok((
                TimeWinograd::new(weight, bias, bands, WINOGRAD_TILE),
                w.norm(i + 1)?,
            ))
        };
        let temporal =
            |i: usize, frames: usize| -> Result<(FirBank, Vec<f32>, Norm), WeightError> {
                let name = conv_name(i);
                let kernel = w.get(&format!("{name}/kernel"), &[frames, 1, 1, 51])?;
                let bias = w.get(&format!("{name}/bias"), &[51])?.to_vec();
                let bank = FirBank::new(kernel.to_vec(), frames, 51, TEMPORAL_SPLITTING);
                Ok((bank, bias, w.norm(i + 1)?))
            };
        let midend = |i: usize, width: usize| -> Result<(Dense, Norm), WeightError> {
            Ok((w.conv(&conv_name(i), &[7, width, 1, 64])?, w.norm(i + 1)?))
        };
        Ok(Musicnn {
            input_norm: w.norm(0)?,
            timbral: [timbral(0, 38)?, timbral(1, 67)?],
            temporal: [temporal(2, 128)?, temporal(3, 64)?, temporal(4, 32)?],
            midend: [midend(5, 561)?, midend(6, 64)?, midend(7, 64)?],
            pool_norm: w.norm(9)?,
            dense: (w.dense("dense", 1506, 200)?, w.norm(10)?),
            logits: w.dense("dense_1", 200, 50)?,
        })
    }

    /// The outputs of one patch (`frames` rows of [`N_MELS`] log-mel values).
    pub fn forward(&self, patch: &[[f32; N_MELS]]) -> PatchOutput {
        let frames = patch.len();
        let mut x: Vec<f32> = patch.iter().flatten().copied().collect();
        self.input_norm.apply(&mut x);
        let mut blocks = Vec::new();
        for (conv, norm) in &self.timbral {
            blocks.push(timbral_max(&x, frames, conv, norm));
        }
        for (bank, bias, norm) in &self.temporal {
            blocks.push(temporal_max(&x, frames, bank, bias, norm));
        }
        // The front end, then each mid-end layer's output, which is the next one's input.
        let mut maps = vec![concat(&blocks)];
        for (i, (conv, norm)) in self.midend.iter().enumerate() {
            let input = maps.last().expect("the front end comes first");
            let mut out = time_conv(input, conv, norm);
            // The second and third layers are residual: their input is added back.
            if i > 0 {
                out.data
                    .iter_mut()
                    .zip(&input.data)
                    .for_each(|(o, r)| *o += r);
            }
            maps.push(out);
        }
        let features = concat(&maps);
        let (max_pool, mean_pool) = pool(&features);
        // `concat([max, mean], 2)` of [753, 1] maps, flattened: max and mean per feature.
        let mut pooled: Vec<f32> = (max_pool.iter().zip(&mean_pool))
            .flat_map(|(max, mean)| [*max, *mean])
            .collect();
        self.pool_norm.apply(&mut pooled);
        let mut penultimate = relu(self.dense.0.forward(&pooled));
        self.dense.1.apply(&mut penultimate);
        let tags = self
            .logits
            .forward(&penultimate)
            .into_iter()
            .map(|z| 1.0 / (1.0 + (-z).exp()))
            .collect();
        PatchOutput {
            mean_pool,
            max_pool,
            penultimate,
            tags,
        }
    }
}

fn conv_name(i: usize) -> String {
    if i == 0 {
        "conv2d".into()
    } else {
        format!("conv2d_{i}")
    }
}

/// The checkpoint's variables, looked up with their expected shapes.
struct Weights<'a>(&'a BTreeMap<String, Tensor>);

impl Weights<'_> {
    fn lookup(&self, name: &str) -> Result<&Tensor, WeightError> {
        self.0.get(name).ok_or_else(|| WeightError {
            name: name.into(),
            problem: "is missing".into(),
        })
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<&[f32], WeightError> {
        let tensor = self.lookup(name)?;
        if tensor.shape != shape {
            return Err(WeightError {
                name: name.into(),
                problem: format!("has shape {:?}, expected {shape:?}", tensor.shape),
            });
        }
        Ok(&tensor.values)
    }

    fn norm(&self, i: usize) -> Result<Norm, WeightError> {
        let prefix = if i == 0 {
            "batch_normalization".to_string()
        } else {
            format!("batch_normalization_{i}")
        };
        let get =
            |part: &str| Ok::<_, WeightError>(&self.lookup(&format!("{prefix}/{part}"))?.values);
        let (gamma, beta) = (get("gamma")?, get("beta")?);
        let (mean, variance) = (get("moving_mean")?, get("moving_variance")?);
        let scale: Vec<f32> = gamma
            .iter()
            .zip(variance)
            .map(|(g, v)| g / (v + BN_EPSILON).sqrt())
            .collect();
        let shift = beta
            .iter()
            .zip(mean)
            .zip(&scale)
            .map(|((b, m), s)| b - m * s)
            .collect();
        Ok(Norm { scale, shift })
    }

    fn conv(&self, name: &str, shape: &[usize; 4]) -> Result<Dense, WeightError> {
        let weight = self.get(&format!("{name}/kernel"), shape)?.to_vec();
        let bias = self.get(&format!("{name}/bias"), &shape[3..])?.to_vec();
        Ok(Dense::new(weight, bias))
    }

    fn dense(&self, name: &str, inputs: usize, outputs: usize) -> Result<Dense, WeightError> {
        let weight = self.get(&format!("{name}/kernel"), &[inputs, outputs])?;
        let bias = self.get(&format!("{name}/bias"), &[outputs])?;
        Ok(Dense::new(weight.to_vec(), bias.to_vec()))
    }
}

/// A timbral convolution (7 frames, "same" in time, valid over bands), then ReLU, batch norm
/// and the max over frequency, fused into the convolution's last step.
fn timbral_max(x: &[f32], frames: usize, conv: &TimeWinograd, norm: &Norm) -> Map {
    let c = conv.outputs();
    let mut data = vec![f32::NEG_INFINITY; frames * c];
    conv.apply(x, frames, N_MELS, |t, _, values| {
        relu_norm_max(&mut data[t * c..(t + 1) * c], values, norm);
    });
    Map {
        rows: frames,
        cols: c,
        data,
    }
}

/// A temporal convolution (`bank.taps()` frames of one band, over every band) of the
/// `frames x N_MELS` input padded as TensorFlow's "same" (the odd one of the `taps - 1`
/// padding frames goes after), then ReLU, batch norm and the max over frequency.
fn temporal_max(x: &[f32], frames: usize, bank: &FirBank, bias: &[f32], norm: &Norm) -> Map {
    let kt = bank.taps();
    let before = (kt - 1) / 2;
    let padded_frames = frames + kt - 1;
    // Each band's frames, padded, one band after another.
    let mut bands = vec![0.0f32; N_MELS * padded_frames];
    for (t, row) in x.chunks_exact(N_MELS).enumerate() {
        for (f, v) in row.iter().enumerate() {
            bands[f * padded_frames + before + t] = *v;
        }
    }
    let c = bank.outputs();
    let mut data = vec![f32::NEG_INFINITY; frames * c];
    let mut row = vec![0.0f32; c];
    for band in bands.chunks_exact(padded_frames) {
        let y = bank.correlate(band, frames);
        for (maxima, values) in data.chunks_exact_mut(c).zip(y.chunks_exact(c)) {
            row.iter_mut()
                .zip(values.iter().zip(bias))
                .for_each(|(r, (v, b))| *r = v + b);
            relu_norm_max(maxima, &row, norm);
        }
    }
    Map {
        rows: frames,
        cols: c,
        data,
    }
}

/// `maxima = max(maxima, norm(relu(row)))`, unit by unit.
fn relu_norm_max(maxima: &mut [f32], row: &[f32], norm: &Norm) {
    let units = maxima.iter_mut().zip(row).zip(&norm.scale).zip(&norm.shift);
    for (((m, v), scale), shift) in units {
        *m = m.max(v.max(0.0) * scale + shift);
    }
}

/// A 7-frame convolution over every feature of `input` (3 frames of zeros on each side),
/// then ReLU and batch norm.
fn time_conv(input: &Map, conv: &Dense, norm: &Norm) -> Map {
    let width = input.cols;
    // With the padding in place, the 7 rows from frame t on are one contiguous run: the patch
    // matrix is a sliding window, one frame per row.
    let mut padded = vec![0.0f32; (input.rows + 6) * width];
    padded[3 * width..(input.rows + 3) * width].copy_from_slice(&input.data);
    let patches = MatRef::windows(&padded, 0, (input.rows, 7 * width), width);
    let mut data = relu(conv.forward_view(patches));
    norm.apply(&mut data);
    Map {
        rows: input.rows,
        cols: conv.outputs(),
        data,
    }
}

/// The maps side by side, frame by frame.
fn concat(maps: &[Map]) -> Map {
    let rows = maps[0].rows;
    let cols = maps.iter().map(|m| m.cols).sum();
    let mut data = Vec::with_capacity(rows * cols);
    for t in 0..rows {
        for map in maps {
            data.extend_from_slice(&map.data[t * map.cols..(t + 1) * map.cols]);
        }
    }
    Map { rows, cols, data }
}

/// Max and mean over time of every column.
fn pool(map: &Map) -> (Vec<f32>, Vec<f32>) {
    let mut max = vec![f32::NEG_INFINITY; map.cols];
    let mut sum = vec![0.0f64; map.cols];
    for row in map.data.chunks_exact(map.cols) {
        for ((m, s), v) in max.iter_mut().zip(&mut sum).zip(row) {
            *m = m.max(*v);
            *s += f64::from(*v);
        }
    }
    let mean = sum.iter().map(|s| (s / map.rows as f64) as f32).collect();
    (max, mean)
}

fn relu(mut values: Vec<f32>) -> Vec<f32> {
    values.iter_mut().for_each(|v| *v = v.max(0.0));
    values
}
