//! A bank of long one-channel correlations (musicnn's temporal convolutions: 128, 64 and 32
//! frames, 51 filters) by the two-parallel fast FIR algorithm (Mou and Duhamel 1991), which is
//! Winograd's F(2, 2) applied to halves of the kernel: a correlation of `n` outputs and `L`
//! taps becomes three of `n / 2` outputs and `L / 2` taps, 3/4 of the multiplications per
//! level, with additions only (no rounding beyond float32 sums).
//!
//! With `y[t] = sum_i w[i] x[t + i]`, even and odd parts `we`, `wo`, `xe`, `xo` and
//! `xe+[s] = xe[s + 1]`:
//! - `P1 = we * xe`, `P2 = wo * xo`, `P3 = (we + wo) * (xo + xe+)`;
//! - `y[2s] = P1[s] + P2[s]` and `y[2s + 1] = P3[s] - P1[s + 1] - P2[s]`.

use crate::models::inference::{MatRef, matmul_into};

/// How far a bank is split: `levels` times at most, while a kernel has an even number of at
/// least `from_taps` taps.
#[derive(Debug, Clone, Copy)]
pub struct Splitting {
    /// Levels at most: each divides the work by 4/3 and triples the products.
    pub levels: usize,
    /// The shortest kernel still split.
    pub from_taps: usize,
}

/// A `taps x outputs` kernel bank, split into the three half-length banks while that pays.
#[derive(Debug, Clone)]
pub enum FirBank {
    /// Computed directly: a sliding window over the input times the kernel.
    Direct {
        /// `taps x outputs`, row-major.
        kernel: Vec<f32>,
        /// Taps per kernel.
        taps: usize,
        /// Filters.
        outputs: usize,
    },
    /// Computed from the even taps, the odd taps and their sum.
    Split(Box<[FirBank; 3]>),
}

impl FirBank {
    /// The bank of `kernel` (`taps x outputs`, row-major, TensorFlow's `[taps, 1, 1, out]`).
    pub fn new(kernel: Vec<f32>, taps: usize, outputs: usize, splitting: Splitting) -> FirBank {
        assert_eq!(kernel.len(), taps * outputs, "a taps x outputs kernel");
        if splitting.levels == 0 || taps < splitting.from_taps || taps % 2 == 1 {
            return FirBank::Direct {
                kernel,
                taps,
                outputs,
            };
        }
        let rows = |parity: usize| -> Vec<f32> {
            (kernel.chunks_exact(outputs).skip(parity).step_by(2))
                .flatten()
                .copied()
                .collect()
        };
        let (even, odd) = (rows(0), rows(1));
        let sum = even.iter().zip(&odd).map(|(a, b)| a + b).collect();
        let below = Splitting {
            levels: splitting.levels - 1,
            ..splitting
        };
        let half = |k| FirBank::new(k, taps / 2, outputs, below);
        FirBank::Split(Box::new([half(even), half(odd), half(sum)]))
    }

    /// Taps per kernel.
    pub fn taps(&self) -> usize {
        match self {
            FirBank::Direct { taps, .. } => *taps,
            FirBank::Split(parts) => 2 * parts[0].taps(),
        }
    }

    /// Filters.
    pub fn outputs(&self) -> usize {
        match self {
            FirBank::Direct { outputs, .. } => *outputs,
            FirBank::Split(parts) => parts[0].outputs(),
        }
    }

    /// The first `n` outputs of every filter (`n x outputs`, row-major): `y[t][o] = sum_i
    /// kernel[i][o] x[t + i]`. `x` holds at least `n + taps - 1` values.
    pub fn correlate(&self, x: &[f32], n: usize) -> Vec<f32> {
        assert!(x.len() + 1 >= n + self.taps(), "input covers every output");
        match self {
            FirBank::Direct {
                kernel,
                taps,
                outputs,
            } => {
                let mut y = vec![0.0f32; n * outputs];
                matmul_into(
                    &mut y,
                    MatRef::windows(x, 0, (n, *taps), 1),
                    MatRef::rows(kernel, *taps, *outputs),
                    false,
                );
                y
            }
            FirBank::Split(parts) => split_correlate(parts, x, n),
        }
    }
}

fn split_correlate(parts: &[FirBank; 3], x: &[f32], n: usize) -> Vec<f32> {
    let [even, odd, sum] = parts;
    let (half_taps, c) = (even.taps(), even.outputs());
    let (n_even, n_odd) = (n.div_ceil(2), n / 2);
    // Each part reads its outputs plus half_taps - 1 values; every index stays below x.len().
    let part = |outputs: usize, value: &dyn Fn(usize) -> f32| -> Vec<f32> {
        (0..outputs + half_taps - 1).map(value).collect()
    };
    let xe = part(n_odd + 1, &|s| x[2 * s]);
    let xo = part(n_even, &|s| x[2 * s + 1]);
    let xs = part(n_odd, &|s| x[2 * s + 1] + x[2 * s + 2]);
    let p1 = even.correlate(&xe, n_odd + 1);
    let p2 = odd.correlate(&xo, n_even);
    let p3 = sum.correlate(&xs, n_odd);
    let mut y = vec![0.0f32; n * c];
    for s in 0..n_even {
        let out = &mut y[2 * s * c..(2 * s + 1) * c];
        let (a, b) = (&p1[s * c..(s + 1) * c], &p2[s * c..(s + 1) * c]);
        out.iter_mut()
            .zip(a.iter().zip(b))
            .for_each(|(y, (a, b))| *y = a + b);
    }
    for s in 0..n_odd {
        let out = &mut y[(2 * s + 1) * c..(2 * s + 2) * c];
        let next = &p1[(s + 1) * c..(s + 2) * c];
        let (b, d) = (&p2[s * c..(s + 1) * c], &p3[s * c..(s + 1) * c]);
        for (((y, d), a), b) in out.iter_mut().zip(d).zip(next).zip(b) {
            *y = d - a - b;
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_banks_give_the_direct_correlation() {
        let (taps, outputs) = (128, 3);
        let wave = |i: usize, a: f64| ((i as f64 * a).sin()) as f32;
        let kernel: Vec<f32> = (0..taps * outputs).map(|i| wave(i, 0.7) * 0.1).collect();
        for n in [1, 2, 37, 40] {
            let x: Vec<f32> = (0..n + taps - 1).map(|i| wave(i, 0.31)).collect();
            let bank = FirBank::new(kernel.clone(), taps, outputs, TWO_LEVELS);
            assert!(
                matches!(&bank, FirBank::Split(parts) if matches!(parts[0], FirBank::Split(_)))
            );
            let y = bank.correlate(&x, n);
            assert_direct(&kernel, outputs, &x, &y, n);
        }
    }

    const TWO_LEVELS: Splitting = Splitting {
        levels: 2,
        from_taps: 16,
    };

    fn assert_direct(kernel: &[f32], outputs: usize, x: &[f32], y: &[f32], n: usize) {
        let taps = kernel.len() / outputs;
        for t in 0..n {
            for o in 0..outputs {
                let want: f64 = (0..taps)
                    .map(|i| f64::from(kernel[i * outputs + o]) * f64::from(x[t + i]))
                    .sum();
                let got = f64::from(y[t * outputs + o]);
                assert!(
                    (got - want).abs() < 1e-4,
                    "n {n} t {t} o {o}: {got} vs {want}"
                );
            }
        }
    }
}
