//! The arithmetic of running pretrained networks (no training, no autograd): matrix products
//! through `gemm` on the calling thread (extraction runs songs in parallel), a dense layer,
//! layer norm and the exact GELU. The networks themselves live with their extractors.

/// A read-only view of a row-major or strided matrix inside a slice.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// The values the view reads.
    pub data: &'a [f32],
    /// Index of element (0, 0).
    pub offset: usize,
    /// Rows and columns.
    pub shape: (usize, usize),
    /// Step between rows and between columns.
    pub strides: (usize, usize),
}

impl<'a> MatRef<'a> {
    /// `data` as a `rows x cols` row-major matrix.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> MatRef<'a> {
        MatRef {
            data,
            offset: 0,
            shape: (rows, cols),
            strides: (cols, 1),
        }
    }

    /// Row `i` is `data[offset + i * step..][..cols]`: a sliding window when `step` is less
    /// than `cols` (a convolution's patch matrix without copying the patches).
    pub fn windows(
        data: &'a [f32],
        offset: usize,
        (rows, cols): (usize, usize),
        step: usize,
    ) -> MatRef<'a> {
        MatRef {
            data,
            offset,
            shape: (rows, cols),
            strides: (step, 1),
        }
    }

    /// The transposed view.
    pub fn t(self) -> MatRef<'a> {
        MatRef {
            shape: (self.shape.1, self.shape.0),
            strides: (self.strides.1, self.strides.0),
            ..self
        }
    }

    /// Whether every element the view names lies inside `data`.
    fn in_bounds(&self) -> bool {
        let (rows, cols) = self.shape;
        rows == 0
            || cols == 0
            || self.offset + (rows - 1) * self.strides.0 + (cols - 1) * self.strides.1
                < self.data.len()
    }
}

/// `out (m x n, row-major) = accumulate * out + a (m x k) * b (k x n)`.
pub fn matmul_into(out: &mut [f32], a: MatRef<'_>, b: MatRef<'_>, accumulate: bool) {
    let (m, k) = a.shape;
    let n = b.shape.1;
    assert_eq!(b.shape.0, k, "inner dimensions differ");
    assert_eq!(out.len(), m * n, "output is m x n");
    assert!(
        a.in_bounds() && b.in_bounds(),
        "views lie inside their slices"
    );
    // SAFETY: the output is m x n row-major (its length asserted) and both views name only
    // elements inside their slices (asserted), at the given strides.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr().add(a.offset),
            a.strides.1 as isize,
            a.strides.0 as isize,
            b.data.as_ptr().add(b.offset),
            b.strides.1 as isize,
            b.strides.0 as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// A dense layer (or a convolution written as one): `k` inputs to `out` outputs.
#[derive(Debug, Clone)]
pub struct Dense {
    /// `k x out`, row-major.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Dense {
    /// From a `k x out` row-major weight (TensorFlow's layout) and its bias.
    pub fn new(weight: Vec<f32>, bias: Vec<f32>) -> Dense {
        assert_eq!(weight.len() % bias.len().max(1), 0, "weight is k x out");
        Dense { weight, bias }
    }

    /// From an `out x k` row-major weight (PyTorch's `nn.Linear`) and its bias.
    pub fn from_out_by_in(weight: &[f32], bias: Vec<f32>) -> Dense {
        let out = bias.len();
        let k = weight.len() / out.max(1);
        let mut transposed = vec![0.0; weight.len()];
        for (o, row) in weight.chunks_exact(k).enumerate() {
            for (i, w) in row.iter().enumerate() {
                transposed[i * out + o] = *w;
            }
        }
        Dense::new(transposed, bias)
    }

    /// Its number of inputs.
    pub fn inputs(&self) -> usize {
        self.weight.len() / self.outputs()
    }

    /// Its number of outputs.
    pub fn outputs(&self) -> usize {
        self.bias.len()
    }

    /// Each row of `input` (rows of [`Dense::inputs`] values) mapped to a row of outputs.
    pub fn forward(&self, input: &[f32]) -> Vec<f32> {
        let k = self.inputs();
        assert_eq!(input.len() % k, 0, "input rows of {k} values");
        self.forward_view(MatRef::rows(input, input.len() / k, k))
    }

    /// Each row of the view (of [`Dense::inputs`] columns) mapped to a row of outputs.
    pub fn forward_view(&self, input: MatRef<'_>) -> Vec<f32> {
        let mut out = self.bias.repeat(input.shape.0);
        let weight = MatRef::rows(&self.weight, self.inputs(), self.outputs());
        matmul_into(&mut out, input, weight, true);
        out
    }
}

/// Layer normalization over each row of `data` (rows of `gamma.len()` values).
pub fn layer_norm(data: &mut [f32], gamma: &[f32], beta: &[f32], epsilon: f32) {
    for row in data.chunks_exact_mut(gamma.len()) {
        let n = row.len() as f32;
        let mean = row.iter().sum::<f32>() / n;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let scale = 1.0 / (var + epsilon).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * scale * g + b;
        }
    }
}

/// The exact GELU, `x * Phi(x)` (BERT's `gelu`, not the tanh approximation).
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x / std::f32::consts::SQRT_2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_follow_the_views_strides() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3
        let mut out = vec![0.0; 4];
        // a * a^T
        matmul_into(
            &mut out,
            MatRef::rows(&a, 2, 3),
            MatRef::rows(&a, 2, 3).t(),
            false,
        );
        assert_eq!(out, [14.0, 32.0, 32.0, 77.0]);
        // Overlapping rows [1, 2], [2, 3], [3, 4] times [1, 10]^T.
        let mut out = vec![0.0; 3];
        let ones = [1.0, 10.0];
        let b = MatRef::rows(&ones, 2, 1);
        matmul_into(&mut out, MatRef::windows(&a, 0, (3, 2), 1), b, false);
        assert_eq!(out, [21.0, 32.0, 43.0]);
        let dense = Dense::from_out_by_in(&[1.0, 0.0, 0.0, 0.0, 1.0, 1.0], vec![0.5, -0.5]);
        assert_eq!(dense.forward(&a), [1.5, 4.5, 4.5, 10.5]);
    }

    #[test]
    fn layer_norm_centres_and_scales_each_row() {
        let mut rows = [1.0, 3.0, 10.0, 10.0];
        layer_norm(&mut rows, &[1.0, 1.0], &[0.0, 0.5], 1e-12);
        assert_eq!(rows, [-1.0, 1.5, 0.0, 0.5]);
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-6);
    }
}
