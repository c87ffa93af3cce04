//! Winograd's minimal filtering F(m, 7) along time (Lavin and Gray 2016) for musicnn's timbral
//! convolutions, the 7-frame x 38- and 67-band kernels that are four fifths of its work.
//!
//! A tile of `m` output frames needs `m + 6` input frames. Each is transformed once per band
//! (`B^T d`), each kernel once when the network loads (`G g`); per transform point and tile,
//! the bands become one matrix product, and `A^T` turns the points' products back into the
//! tile's frames: `7m / (m + 6)` times fewer multiplications than the direct product. The
//! transforms come from Cook-Toom interpolation at the points below plus infinity, computed
//! in f64; points of small magnitude keep the float32 error near 1e-5 of the outputs.

use crate::models::inference::{MatRef, matmul_into};

/// Frames per kernel.
pub const TAPS: usize = 7;

/// The most output bands whose products are transformed back at once: 30 bands of 204
/// filters at 12 points are 290 KiB, inside a core's L2 cache.
const MAX_RUN_BANDS: usize = 30;

/// The transforms of F(m, 7).
#[derive(Debug, Clone)]
struct Transforms {
    /// Output frames per tile.
    m: usize,
    /// `A^T`, m x α.
    at: Vec<f32>,
    /// `G`, α x 7 (with the interpolation's denominators).
    g: Vec<f64>,
    /// `B^T`, α x α.
    bt: Vec<f32>,
}

impl Transforms {
    /// F(m, 7) for m of 2, 4 or 6.
    fn new(m: usize) -> Transforms {
        let points: &[f64] = match m {
            2 => &[0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5],
            4 => &[0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 1.5, -1.5],
            6 => &[0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 1.5, -1.5, 0.25, -0.25],
            _ => panic!("F({m}, 7) has no points here"),
        };
        let alpha = points.len() + 1;
        let mut at = vec![0.0; m * alpha];
        let mut g = vec![0.0; alpha * TAPS];
        let mut bt = vec![0.0; alpha * alpha];
        for (k, &p) in points.iter().enumerate() {
            let others: Vec<f64> = points.iter().copied().filter(|&q| q != p).collect();
            let denominator: f64 = others.iter().map(|q| p - q).product();
            for i in 0..m {
                at[i * alpha + k] = p.powi(i as i32) as f32;
            }
            for j in 0..TAPS {
                g[k * TAPS + j] = p.powi(j as i32) / denominator;
            }
            for (s, c) in poly_from_roots(&others).into_iter().enumerate() {
                bt[k * alpha + s] = c as f32;
            }
        }
        // The point at infinity: the leading coefficients.
        at[(m - 1) * alpha + alpha - 1] = 1.0;
        g[(alpha - 1) * TAPS + TAPS - 1] = 1.0;
        for (s, c) in poly_from_roots(points).into_iter().enumerate() {
            bt[(alpha - 1) * alpha + s] = c as f32;
        }
        Transforms { m, at, g, bt }
    }

    fn alpha(&self) -> usize {
        self.m + TAPS - 1
    }
}

/// Coefficients, constant first, of the monic polynomial with these roots.
fn poly_from_roots(roots: &[f64]) -> Vec<f64> {
    let mut coefficients = vec![1.0];
    for &root in roots {
        let mut next = vec![0.0; coefficients.len() + 1];
        for (i, c) in coefficients.iter().enumerate() {
            next[i + 1] += c;
            next[i] -= root * c;
        }
        coefficients = next;
    }
    coefficients
}

/// A 7 x `bands` kernel of one input channel and `outputs` filters, transformed.
#[derive(Debug, Clone)]
pub struct TimeWinograd {
    transforms: Transforms,
    bands: usize,
    outputs: usize,
    /// Per point, the `bands x outputs` transformed kernel, point after point.
    kernel: Vec<f32>,
    bias: Vec<f32>,
}

impl TimeWinograd {
    /// The kernel `weight` (`[7, bands, 1, outputs]`, TensorFlow's order) with `bias`, for
    /// tiles of `m` frames.
    pub fn new(weight: &[f32], bias: Vec<f32>, bands: usize, m: usize) -> TimeWinograd {
        let outputs = bias.len();
        assert_eq!(
            weight.len(),
            TAPS * bands * outputs,
            "a [7, bands, 1, outputs] kernel"
        );
        let transforms = Transforms::new(m);
        let alpha = transforms.alpha();
        let mut kernel = vec![0.0f32; alpha * bands * outputs];
        for k in 0..alpha {
            let g = &transforms.g[k * TAPS..(k + 1) * TAPS];
            let point = &mut kernel[k * bands * outputs..(k + 1) * bands * outputs];
            for (i, &gi) in g.iter().enumerate().filter(|(_, g)| **g != 0.0) {
                let tap = &weight[i * bands * outputs..(i + 1) * bands * outputs];
                for (u, w) in point.iter_mut().zip(tap) {
                    *u = (f64::from(*u) + gi * f64::from(*w)) as f32;
                }
            }
        }
        TimeWinograd {
            transforms,
            bands,
            outputs,
            kernel,
            bias,
        }
    }

    /// Outputs per position.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// The convolution of `input` (`frames` rows of `width` bands) padded with 3 frames of
    /// zeros on each side, valid over bands: calls `emit(frame, band, values)` with the
    /// `outputs` values (bias added) of every output frame and band.
    pub fn apply(
        &self,
        input: &[f32],
        frames: usize,
        width: usize,
        mut emit: impl FnMut(usize, usize, &[f32]),
    ) {
        let (m, alpha) = (self.transforms.m, self.transforms.alpha());
        let out_bands = width + 1 - self.bands;
        // Output bands in runs small enough that a run's products stay in cache between the
        // two transforms.
        let runs = out_bands.div_ceil(MAX_RUN_BANDS);
        let run_bands = out_bands.div_ceil(runs);
        let mut transformed = vec![0.0f32; alpha * width];
        let mut products = vec![0.0f32; alpha * run_bands * self.outputs];
        let mut frames_out = vec![0.0f32; run_bands * self.outputs * m];
        let mut values = vec![0.0f32; self.outputs];
        let kernel_size = self.bands * self.outputs;
        for tile in 0..frames.div_ceil(m) {
            self.transform_input(input, frames, width, tile, &mut transformed);
            for first in (0..out_bands).step_by(run_bands) {
                let bands = run_bands.min(out_bands - first);
                let size = bands * self.outputs;
                // Per point: row f is the `self.bands` transformed values from band f on, a
                // sliding window over the point's row, times the point's kernel.
                for (k, kernel) in self.kernel.chunks_exact(kernel_size).enumerate() {
                    matmul_into(
                        &mut products[k * size..(k + 1) * size],
                        MatRef::windows(&transformed, k * width + first, (bands, self.bands), 1),
                        MatRef::rows(kernel, self.bands, self.outputs),
                        false,
                    );
                }
                // A^T for every (band, output) at once: frame r of the tile is row r of
                // A^T times the points' products, one row per point.
                matmul_into(
                    &mut frames_out[..m * size],
                    MatRef::rows(&self.transforms.at, m, alpha),
                    MatRef::rows(&products[..alpha * size], alpha, size),
                    false,
                );
                for r in (0..m).filter(|r| tile * m + r < frames) {
                    let frame = &frames_out[r * size..(r + 1) * size];
                    for (f, outputs) in frame.chunks_exact(self.outputs).enumerate() {
                        for ((v, b), o) in values.iter_mut().zip(&self.bias).zip(outputs) {
                            *v = b + o;
                        }
                        emit(tile * m + r, first + f, &values);
                    }
                }
            }
        }
    }

    /// `B^T d` of one tile into `transformed` (`alpha` rows of `width` bands); frames past
    /// either end of the input (the "same" padding) are zeros.
    fn transform_input(
        &self,
        input: &[f32],
        frames: usize,
        width: usize,
        tile: usize,
        transformed: &mut [f32],
    ) {
        let (m, alpha) = (self.transforms.m, self.transforms.alpha());
        transformed.fill(0.0);
        for s in 0..alpha {
            let Some(t) = (tile * m + s).checked_sub(TAPS / 2).filter(|&t| t < frames) else {
                continue;
            };
            let row = &input[t * width..(t + 1) * width];
            for (k, point) in transformed.chunks_exact_mut(width).enumerate() {
                let b = self.transforms.bt[k * alpha + s];
                if b != 0.0 {
                    point.iter_mut().zip(row).for_each(|(v, x)| *v += b * x);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct convolution: 3 frames of zeros each side, valid over bands.
    fn direct(
        input: &[f32],
        frames: usize,
        width: usize,
        weight: &[f32],
        bands: usize,
        bias: &[f32],
    ) -> Vec<f64> {
        let c = bias.len();
        let out_bands = width + 1 - bands;
        let mut out = vec![0.0f64; frames * out_bands * c];
        for t in 0..frames {
            for f in 0..out_bands {
                for o in 0..c {
                    let mut sum = f64::from(bias[o]);
                    for i in 0..TAPS {
                        let Some(s) = (t + i).checked_sub(3).filter(|&s| s < frames) else {
                            continue;
                        };
                        for j in 0..bands {
                            sum += f64::from(input[s * width + f + j])
                                * f64::from(weight[(i * bands + j) * c + o]);
                        }
                    }
                    out[(t * out_bands + f) * c + o] = sum;
                }
            }
        }
        out
    }

    #[test]
    fn tiles_give_the_direct_convolution() {
        let (frames, width, bands, c) = (23, 70, 5, 3);
        let wave = |i: usize, a: f64| ((i as f64 * a).sin() * 2.0) as f32;
        let input: Vec<f32> = (0..frames * width).map(|i| wave(i, 0.37)).collect();
        let weight: Vec<f32> = (0..TAPS * bands * c).map(|i| wave(i, 1.3) * 0.1).collect();
        let bias = vec![0.1, -0.2, 0.3];
        let want = direct(&input, frames, width, &weight, bands, &bias);
        for m in [2, 4, 6] {
            let conv = TimeWinograd::new(&weight, bias.clone(), bands, m);
            let mut seen = 0;
            let mut worst = 0.0f64;
            conv.apply(&input, frames, width, |t, f, values| {
                seen += 1;
                for (o, v) in values.iter().enumerate() {
                    let w = want[(t * (width + 1 - bands) + f) * c + o];
                    worst = worst.max((f64::from(*v) - w).abs());
                }
            });
            assert_eq!(seen, frames * (width + 1 - bands), "F({m}, 7)");
            assert!(worst < 1e-4, "F({m}, 7): {worst}");
        }
    }
}
