//! Layers with sizes known only at run time, on dfdx 0.13 tensors of shape `(usize, usize)`.
//!
//! dfdx's own layers fix their sizes at compile time, while feature widths come from the spec,
//! so these are built from runtime-shaped tensors and dfdx's differentiable ops. Parameters
//! keep a master copy in a flat `Vec<f32>` that [`super::adamw::AdamW`] updates in place, and a
//! dfdx tensor mirroring it for the forward pass; gradients are read back from the
//! [`Gradients`] dfdx's `backward` returns, keyed by the mirror tensor.
//!
//! Initialization follows PyTorch's defaults: `Linear` weights and biases uniform in
//! `+-1/sqrt(fan_in)` (Kaiming-uniform with `a = sqrt(5)`), norm gains 1 and shifts 0, batch
//! norm running mean 0 and variance 1 with momentum 0.1, epsilon 1e-5 in both norms.

use dfdx::shapes::HasShape;
use dfdx::shapes::{Axes2, Axis, Rank0};
use dfdx::tensor::{
    AsArray, Cpu, Gradients, OwnedTape, PutTape, SplitTape, Tape as _, Tensor, TensorFromVec,
};
use dfdx::tensor_ops::{Backward, BroadcastTo, PermuteTo, SumTo, TryMatMul};

use crate::rng::RandomStream;
use crate::spec::{Activation, NormLayer};

use super::ModelError;

/// A constant 2-D tensor (rows x columns).
pub(crate) type Matrix = Tensor<(usize, usize), f32, Cpu>;
/// A constant 1-D tensor.
pub(crate) type Vector = Tensor<(usize,), f32, Cpu>;
/// The tape that records a forward pass for `backward`.
pub(crate) type Tape = OwnedTape<f32, Cpu>;
/// A 2-D tensor whose ops are being recorded.
pub(crate) type Traced = Tensor<(usize, usize), f32, Cpu, Tape>;

/// PyTorch's `LayerNorm` and `BatchNorm1d` default.
const NORM_EPS: f32 = 1e-5;
/// PyTorch's `BatchNorm1d` default: weight of the newest batch in the running statistics.
const BATCH_NORM_MOMENTUM: f32 = 0.1;

/// Whether a forward pass trains (dropout on, batch statistics) or evaluates.
pub(crate) enum Mode<'a> {
    /// Training: dropout masks and nothing else random are drawn from the stream.
    Train(&'a mut RandomStream),
    /// Evaluation: deterministic, running statistics, no dropout.
    Eval,
}

/// The shape of a parameter's tensor.
#[derive(Debug, Clone)]
enum Mirror {
    Matrix(Matrix),
    Vector(Vector),
}

/// A named, trainable tensor: master values plus the dfdx tensor the forward pass uses.
#[derive(Debug, Clone)]
pub(crate) struct Parameter {
    pub(crate) name: String,
    pub(crate) values: Vec<f32>,
    mirror: Mirror,
}

impl Parameter {
    fn matrix(dev: &Cpu, name: String, values: Vec<f32>, rows: usize, cols: usize) -> Self {
        let mirror = Mirror::Matrix(dev.tensor_from_vec(values.clone(), (rows, cols)));
        Parameter {
            name,
            values,
            mirror,
        }
    }

    pub(crate) fn vector(dev: &Cpu, name: String, values: Vec<f32>) -> Self {
        let mirror = Mirror::Vector(dev.tensor_from_vec(values.clone(), (values.len(),)));
        Parameter {
            name,
            values,
            mirror,
        }
    }

    /// `[rows, cols]` or `[len]`.
    pub(crate) fn shape(&self) -> Vec<usize> {
        match &self.mirror {
            Mirror::Matrix(t) => vec![t.shape().0, t.shape().1],
            Mirror::Vector(t) => vec![t.shape().0],
        }
    }

    fn as_matrix(&self) -> &Matrix {
        match &self.mirror {
            Mirror::Matrix(t) => t,
            Mirror::Vector(_) => unreachable!("parameter {} is a vector", self.name),
        }
    }

    pub(crate) fn as_vector(&self) -> &Vector {
        match &self.mirror {
            Mirror::Vector(t) => t,
            Mirror::Matrix(_) => unreachable!("parameter {} is a matrix", self.name),
        }
    }

    /// The parameter's gradient from a backward pass (zeros if the pass did not reach it).
    pub(crate) fn gradient<'g>(
        &self,
        grads: &'g mut Gradients<f32, Cpu>,
    ) -> Result<&'g [f32], ModelError> {
        let grad = match &self.mirror {
            Mirror::Matrix(t) => grads.get_or_alloc_mut(t),
            Mirror::Vector(t) => grads.get_or_alloc_mut(t),
        }
        .map_err(|e| ModelError::Backend(format!("{e:?}")))?;
        Ok(&grad[..])
    }

    /// Copies the master values into the dfdx tensor after an update.
    pub(crate) fn sync(&mut self) {
        match &mut self.mirror {
            Mirror::Matrix(t) => t.copy_from(&self.values),
            Mirror::Vector(t) => t.copy_from(&self.values),
        }
    }

    /// Replaces the values (same length, checked by the caller) and syncs the tensor.
    pub(crate) fn set(&mut self, values: &[f32]) {
        self.values.copy_from_slice(values);
        self.sync();
    }
}

/// A named, non-trainable buffer (batch-norm running statistics).
#[derive(Debug, Clone)]
pub(crate) struct Buffer {
    pub(crate) name: String,
    pub(crate) values: Vec<f32>,
}

/// Uniform values in `+-bound`, drawn in order from `rng`.
pub(crate) fn uniform(rng: &mut RandomStream, len: usize, bound: f64) -> Vec<f32> {
    (0..len)
        .map(|_| rng.uniform_in(-bound, bound) as f32)
        .collect()
}

/// `row_vector` (length n) repeated over `rows` rows, as a recorded op.
pub(crate) fn broadcast_rows(row_vector: &Vector, rows: usize) -> Traced {
    let n = row_vector.shape().0;
    row_vector
        .retaped::<Tape>()
        .broadcast_like::<(usize, usize), Axis<0>>(&(rows, n))
}

/// A constant matrix of `rows` rows all equal to `row`.
fn constant_rows(dev: &Cpu, row: &[f32], rows: usize) -> Matrix {
    let mut data = Vec::with_capacity(rows * row.len());
    for _ in 0..rows {
        data.extend_from_slice(row);
    }
    dev.tensor_from_vec(data, (rows, row.len()))
}

/// `y = x W + b`, with `W` stored as `(inputs, outputs)` so no transpose is needed.
#[derive(Debug, Clone)]
pub(crate) struct Linear {
    weight: Parameter,
    bias: Parameter,
}

impl Linear {
    /// PyTorch's default initialization for `nn.Linear(inputs, outputs)`.
    pub(crate) fn new(
        dev: &Cpu,
        name: &str,
        inputs: usize,
        outputs: usize,
        rng: &mut RandomStream,
    ) -> Self {
        let bound = 1.0 / (inputs as f64).sqrt();
        let weight = uniform(rng, inputs * outputs, bound);
        let bias = uniform(rng, outputs, bound);
        Linear {
            weight: Parameter::matrix(dev, format!("{name}.weight"), weight, inputs, outputs),
            bias: Parameter::vector(dev, format!("{name}.bias"), bias),
        }
    }

    pub(crate) fn outputs(&self) -> usize {
        self.bias.values.len()
    }

    pub(crate) fn forward(&self, x: Traced) -> Traced {
        let rows = x.shape().0;
        let y = x.matmul(self.weight.as_matrix().retaped::<Tape>());
        y + broadcast_rows(self.bias.as_vector(), rows)
    }

    /// The same on a constant input (features): dfdx's matmul always computes the gradient
    /// of both operands, and for the widest layer (thousands of lyrics features) the input's
    /// gradient, which nothing uses, would be a third of the step's arithmetic.
    pub(crate) fn forward_input(&self, x: &Matrix) -> Traced {
        let (rows, outputs) = (x.shape().0, self.outputs());
        let weight = self.weight.as_matrix().clone();
        let y = x.clone().matmul(weight.clone());
        let y_ghost = y.clone();
        let input = x.clone();
        let mut tape = Tape::default();
        tape.add_backward_op(move |grads| {
            let upstream = grads.get_or_alloc_mut(&y_ghost)?.to_vec();
            let upstream = input.device().tensor_from_vec(upstream, (rows, outputs));
            // dW = x^T g, (inputs x rows) (rows x outputs).
            let weight_grad = values(
                &input
                    .clone()
                    .permute::<(usize, usize), Axes2<1, 0>>()
                    .matmul(upstream),
            );
            for (g, d) in grads.get_or_alloc_mut(&weight)?.iter_mut().zip(weight_grad) {
                *g += d;
            }
            Ok(())
        });
        y.put_tape(tape) + broadcast_rows(self.bias.as_vector(), rows)
    }

    pub(crate) fn parameters(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.weight, &mut self.bias]
    }

    pub(crate) fn parameters_ref(&self) -> Vec<&Parameter> {
        vec![&self.weight, &self.bias]
    }
}

/// Layer normalization over the features of each row, then a learned gain and shift.
#[derive(Debug, Clone)]
pub(crate) struct LayerNorm {
    gain: Parameter,
    shift: Parameter,
}

impl LayerNorm {
    pub(crate) fn new(dev: &Cpu, name: &str, width: usize) -> Self {
        LayerNorm {
            gain: Parameter::vector(dev, format!("{name}.gain"), vec![1.0; width]),
            shift: Parameter::vector(dev, format!("{name}.shift"), vec![0.0; width]),
        }
    }

    pub(crate) fn forward(&self, x: Traced) -> Traced {
        let rows = x.shape().0;
        let normalized = x.normalize::<Axis<1>>(NORM_EPS);
        normalized * broadcast_rows(self.gain.as_vector(), rows)
            + broadcast_rows(self.shift.as_vector(), rows)
    }
}

/// Batch normalization over the rows of a batch, with running statistics for evaluation.
///
/// A training batch of one row has no variance to normalize by (PyTorch refuses it); such a
/// batch is normalized with the running statistics instead, so it neither fails nor yields NaN,
/// and the running statistics are left as they are.
#[derive(Debug, Clone)]
pub(crate) struct BatchNorm {
    gain: Parameter,
    shift: Parameter,
    running_mean: Buffer,
    running_var: Buffer,
}

impl BatchNorm {
    pub(crate) fn new(dev: &Cpu, name: &str, width: usize) -> Self {
        BatchNorm {
            gain: Parameter::vector(dev, format!("{name}.gain"), vec![1.0; width]),
            shift: Parameter::vector(dev, format!("{name}.shift"), vec![0.0; width]),
            running_mean: Buffer {
                name: format!("{name}.running_mean"),
                values: vec![0.0; width],
            },
            running_var: Buffer {
                name: format!("{name}.running_var"),
                values: vec![1.0; width],
            },
        }
    }

    pub(crate) fn forward(&mut self, x: Traced, training: bool) -> Traced {
        let rows = x.shape().0;
        let normalized = if training && rows > 1 {
            self.update_running_statistics(&x);
            x.normalize::<Axis<0>>(NORM_EPS)
        } else {
            self.normalize_with_running_statistics(x)
        };
        normalized * broadcast_rows(self.gain.as_vector(), rows)
            + broadcast_rows(self.shift.as_vector(), rows)
    }

    /// PyTorch's update: biased batch variance normalizes, the unbiased one enters the average.
    fn update_running_statistics(&mut self, x: &Traced) {
        let (rows, width) = *x.shape();
        let values = values(x);
        for j in 0..width {
            let column = (0..rows).map(|i| f64::from(values[i * width + j]));
            let mean = column.clone().sum::<f64>() / rows as f64;
            let var = column.map(|v| (v - mean).powi(2)).sum::<f64>() / (rows - 1) as f64;
            let m = &mut self.running_mean.values[j];
            *m = (1.0 - BATCH_NORM_MOMENTUM) * *m + BATCH_NORM_MOMENTUM * mean as f32;
            let v = &mut self.running_var.values[j];
            *v = (1.0 - BATCH_NORM_MOMENTUM) * *v + BATCH_NORM_MOMENTUM * var as f32;
        }
    }

    /// `(x - running_mean) / sqrt(running_var + eps)` as `x * scale + offset` with constants.
    fn normalize_with_running_statistics(&self, x: Traced) -> Traced {
        let rows = x.shape().0;
        let scale: Vec<f32> = (self.running_var.values.iter())
            .map(|v| 1.0 / (v + NORM_EPS).sqrt())
            .collect();
        let offset: Vec<f32> = (self.running_mean.values.iter().zip(&scale))
            .map(|(m, s)| -m * s)
            .collect();
        let dev = x.device().clone();
        x * constant_rows(&dev, &scale, rows) + constant_rows(&dev, &offset, rows)
    }
}

/// The normalization layer a block uses, if any.
#[derive(Debug, Clone)]
pub(crate) enum Norm {
    Layer(LayerNorm),
    Batch(BatchNorm),
}

impl Norm {
    pub(crate) fn new(dev: &Cpu, kind: NormLayer, name: &str, width: usize) -> Option<Self> {
        match kind {
            NormLayer::Layer => Some(Norm::Layer(LayerNorm::new(dev, name, width))),
            NormLayer::Batch => Some(Norm::Batch(BatchNorm::new(dev, name, width))),
            NormLayer::None => None,
        }
    }

    pub(crate) fn forward(&mut self, x: Traced, training: bool) -> Traced {
        match self {
            Norm::Layer(norm) => norm.forward(x),
            Norm::Batch(norm) => norm.forward(x, training),
        }
    }

    fn parameters(&mut self) -> Vec<&mut Parameter> {
        match self {
            Norm::Layer(n) => vec![&mut n.gain, &mut n.shift],
            Norm::Batch(n) => vec![&mut n.gain, &mut n.shift],
        }
    }

    fn parameters_ref(&self) -> Vec<&Parameter> {
        match self {
            Norm::Layer(n) => vec![&n.gain, &n.shift],
            Norm::Batch(n) => vec![&n.gain, &n.shift],
        }
    }

    fn buffers(&mut self) -> Vec<&mut Buffer> {
        match self {
            Norm::Layer(_) => Vec::new(),
            Norm::Batch(n) => vec![&mut n.running_mean, &mut n.running_var],
        }
    }

    fn buffers_ref(&self) -> Vec<&Buffer> {
        match self {
            Norm::Layer(_) => Vec::new(),
            Norm::Batch(n) => vec![&n.running_mean, &n.running_var],
        }
    }
}

/// ReLU or GELU (the exact, erf-based GELU, as PyTorch's `nn.GELU()` default).
pub(crate) fn activate(x: Traced, activation: Activation) -> Traced {
    match activation {
        Activation::Relu => x.relu(),
        Activation::Gelu => elementwise(x, gelu_with_derivative),
    }
}

/// `x Phi(x)` with `Phi` the standard normal CDF, and its derivative `Phi(x) + x phi(x)`.
///
/// dfdx 0.13's `accurate_gelu` drops the chain-rule factor `1/sqrt(2)` from the second term
/// of the derivative (its gradient is off by up to 10 %, found by the gradient check below),
/// so GELU is our own op.
fn gelu_with_derivative(x: f32) -> (f32, f32) {
    // f32 erf (libm, within an ulp) as PyTorch's f32 GELU; f64 doubled the op's cost.
    let cdf = 0.5 * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2));
    let density = (-0.5 * x * x).exp()
        * (0.5 * std::f32::consts::FRAC_2_SQRT_PI * std::f32::consts::FRAC_1_SQRT_2);
    (x * cdf, cdf + x * density)
}

/// The values of a tensor that an op produced (contiguous, so a plain copy; dfdx's `as_vec`
/// walks strides element by element and showed up in profiles).
pub(crate) fn values<T>(tensor: &Tensor<(usize, usize), f32, Cpu, T>) -> Vec<f32> {
    let (rows, cols) = *tensor.shape();
    let mut out = vec![0.0; rows * cols];
    tensor.copy_into(&mut out);
    out
}

/// An element-wise op returning `(f(x), f'(x))`, recorded on the tape through dfdx's public
/// tape API (`split_tape`, `add_backward_op`, `put_tape`).
pub(crate) fn elementwise(x: Traced, f_and_derivative: fn(f32) -> (f32, f32)) -> Traced {
    let (x, mut tape) = x.split_tape();
    let (outputs, derivatives): (Vec<f32>, Vec<f32>) =
        values(&x).into_iter().map(f_and_derivative).unzip();
    let out = x.device().tensor_from_vec(outputs, *x.shape());
    let out_ghost = out.clone();
    tape.add_backward_op(move |grads| {
        let grad_out = grads.get_or_alloc_mut(&out_ghost)?.to_vec();
        let grad_in = grads.get_or_alloc_mut(&x)?;
        for ((g, &upstream), &d) in grad_in.iter_mut().zip(&grad_out).zip(&derivatives) {
            *g += upstream * d;
        }
        Ok(())
    });
    out.put_tape(tape)
}

/// Inverted dropout: in training, each entry is zeroed with probability `p` and the survivors
/// are scaled by `1 / (1 - p)`; the mask comes from `rng`, never from dfdx's device RNG, so
/// runs are reproducible from the spec's seed.
pub(crate) fn dropout(x: Traced, p: f64, mode: &mut Mode<'_>) -> Traced {
    let Mode::Train(rng) = mode else {
        return x;
    };
    if p == 0.0 {
        return x;
    }
    let shape = *x.shape();
    let keep_scale = (1.0 / (1.0 - p)) as f32;
    let mask: Vec<f32> = (0..shape.0 * shape.1)
        .map(|_| if rng.chance(p) { 0.0 } else { keep_scale })
        .collect();
    let mask = x.device().tensor_from_vec(mask, shape);
    x * mask
}

/// Linear, then norm, activation and dropout: one hidden layer of an encoder or the head.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    linear: Linear,
    norm: Option<Norm>,
    activation: Activation,
    dropout: f64,
}

impl Block {
    pub(crate) fn new(
        dev: &Cpu,
        name: &str,
        inputs: usize,
        outputs: usize,
        model: &crate::spec::ModelSection,
        rng: &mut RandomStream,
    ) -> Self {
        Block {
            linear: Linear::new(dev, &format!("{name}.linear"), inputs, outputs, rng),
            norm: Norm::new(dev, model.norm, &format!("{name}.norm"), outputs),
            activation: model.activation,
            dropout: model.dropout,
        }
    }

    pub(crate) fn outputs(&self) -> usize {
        self.linear.outputs()
    }

    pub(crate) fn forward(&mut self, x: Traced, mode: &mut Mode<'_>) -> Traced {
        let y = self.linear.forward(x);
        self.finish(y, mode)
    }

    /// [`Block::forward`] on constant input features (no gradient for the input).
    pub(crate) fn forward_input(&mut self, x: &Matrix, mode: &mut Mode<'_>) -> Traced {
        let y = self.linear.forward_input(x);
        self.finish(y, mode)
    }

    /// Norm, activation and dropout after the linear map.
    fn finish(&mut self, mut y: Traced, mode: &mut Mode<'_>) -> Traced {
        let training = matches!(mode, Mode::Train(_));
        if let Some(norm) = &mut self.norm {
            y = norm.forward(y, training);
        }
        dropout(activate(y, self.activation), self.dropout, mode)
    }

    pub(crate) fn parameters(&mut self) -> Vec<&mut Parameter> {
        let mut all = self.linear.parameters();
        if let Some(norm) = &mut self.norm {
            all.extend(norm.parameters());
        }
        all
    }

    pub(crate) fn parameters_ref(&self) -> Vec<&Parameter> {
        let mut all = self.linear.parameters_ref();
        if let Some(norm) = &self.norm {
            all.extend(norm.parameters_ref());
        }
        all
    }

    pub(crate) fn buffers(&mut self) -> Vec<&mut Buffer> {
        self.norm.as_mut().map_or_else(Vec::new, Norm::buffers)
    }

    pub(crate) fn buffers_ref(&self) -> Vec<&Buffer> {
        self.norm.as_ref().map_or_else(Vec::new, Norm::buffers_ref)
    }
}

/// Mean soft-target cross-entropy `-(1/n) sum_i sum_c t_ic log softmax(z_i)_c` as a recorded
/// op; `targets` (rows x classes) may carry class weights, so rows need not sum to one.
pub(crate) fn soft_cross_entropy(logits: Traced, targets: Matrix) -> Tensor<Rank0, f32, Cpu, Tape> {
    let rows = logits.shape().0 as f32;
    let log_probs = logits.log_softmax::<Axis<1>>();
    (log_probs * targets).sum::<Rank0, _>() * (-1.0 / rows)
}

/// Runs `backward` on a scalar loss and returns its value with the gradients.
pub(crate) fn backward(loss: Tensor<Rank0, f32, Cpu, Tape>) -> (f32, Gradients<f32, Cpu>) {
    let value = loss.array();
    (value, loss.backward())
}

#[cfg(test)]
mod tests;
