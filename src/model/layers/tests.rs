//! Gradient checks: dfdx's gradients through each layer against central finite
//! differences of the same layer's forward pass.

use dfdx::tensor::{Cpu, TensorFromVec};

use super::*;
use crate::modality::Modality;
use crate::model::fusion::{AttentionFusion, ConcatFusion, Fusion, GatedFusion};
use crate::model::network::average_outputs;
use crate::spec::TaskKind;

type Scalar = Tensor<Rank0, f32, Cpu, Tape>;

/// A scalar function of a (rows x cols) input, with the parameters it depends on.
trait UnderTest {
    fn loss(&mut self, x: Traced) -> Scalar;
    fn parameters(&mut self) -> Vec<&mut Parameter> {
        Vec::new()
    }
}

/// `sum(out * R)` with a fixed random `R`, so every output entry's gradient matters.
fn project(out: Traced) -> Scalar {
    let shape = *out.shape();
    let mut rng = RandomStream::new(0, "test/projection");
    let weights: Vec<f32> = (0..shape.0 * shape.1)
        .map(|_| rng.normal(0.0, 1.0) as f32)
        .collect();
    let weights = out.device().tensor_from_vec(weights, shape);
    (out * weights).sum::<Rank0, _>()
}

fn value_at(layer: &mut dyn UnderTest, dev: &Cpu, x: &[f32], shape: (usize, usize)) -> f64 {
    let x = dev.tensor_from_vec(x.to_vec(), shape);
    f64::from(layer.loss(x.retaped::<Tape>()).array())
}

fn assert_close(what: &str, analytic: f32, numeric: f64) {
    let analytic = f64::from(analytic);
    let tolerance = 2e-3 + 2e-2 * analytic.abs().max(numeric.abs());
    assert!(
        (analytic - numeric).abs() <= tolerance,
        "{what}: dfdx {analytic} vs finite differences {numeric}"
    );
}

/// Checks d loss / d input and d loss / d parameter for every entry.
fn check_gradients(layer: &mut dyn UnderTest, x: Vec<f32>, shape: (usize, usize)) {
    check_gradients_of(layer, x, shape, true);
}

/// The same, for layers whose input is a constant (its gradient is not computed).
fn check_parameter_gradients(layer: &mut dyn UnderTest, x: Vec<f32>, shape: (usize, usize)) {
    check_gradients_of(layer, x, shape, false);
}

fn check_gradients_of(
    layer: &mut dyn UnderTest,
    x: Vec<f32>,
    shape: (usize, usize),
    check_input: bool,
) {
    const H: f32 = 1e-2;
    let dev = Cpu::default();
    let input = dev.tensor_from_vec(x.clone(), shape);
    let (_, mut grads) = backward(layer.loss(input.retaped::<Tape>()));
    let input_grad = grads.get_or_alloc_mut(&input).unwrap().to_vec();
    let param_grads: Vec<Vec<f32>> = (layer.parameters().into_iter())
        .map(|p| p.gradient(&mut grads).unwrap().to_vec())
        .collect();

    for i in (0..x.len()).filter(|_| check_input) {
        let (mut up, mut down) = (x.clone(), x.clone());
        up[i] += H;
        down[i] -= H;
        let numeric = (value_at(layer, &dev, &up, shape) - value_at(layer, &dev, &down, shape))
            / (2.0 * f64::from(H));
        assert_close(&format!("input[{i}]"), input_grad[i], numeric);
    }
    for (p, grad) in param_grads.iter().enumerate() {
        for (j, &analytic) in grad.iter().enumerate() {
            let nudge = |layer: &mut dyn UnderTest, delta: f32| {
                let parameter = &mut layer.parameters()[p];
                parameter.values[j] += delta;
                parameter.sync();
            };
            nudge(layer, H);
            let up = value_at(layer, &dev, &x, shape);
            nudge(layer, -2.0 * H);
            let down = value_at(layer, &dev, &x, shape);
            nudge(layer, H);
            let numeric = (up - down) / (2.0 * f64::from(H));
            let name = layer.parameters()[p].name.clone();
            assert_close(&format!("{name}[{j}]"), analytic, numeric);
        }
    }
}

fn normal_input(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
    let mut rng = RandomStream::new(seed, "test/input");
    (0..rows * cols)
        .map(|_| rng.normal(0.0, 1.0) as f32)
        .collect()
}

/// Away from ReLU's kink, so finite differences never straddle it.
fn input_away_from_zero(rows: usize, cols: usize) -> Vec<f32> {
    (normal_input(rows, cols, 9).into_iter())
        .map(|v| v + 0.3 * v.signum())
        .collect()
}

impl UnderTest for Linear {
    fn loss(&mut self, x: Traced) -> Scalar {
        project(self.forward(x))
    }
    fn parameters(&mut self) -> Vec<&mut Parameter> {
        Linear::parameters(self)
    }
}

impl UnderTest for LayerNorm {
    fn loss(&mut self, x: Traced) -> Scalar {
        project(self.forward(x))
    }
    fn parameters(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.gain, &mut self.shift]
    }
}

/// The first layer of an encoder, on constant features.
struct InputLinear(Linear);

impl UnderTest for InputLinear {
    fn loss(&mut self, x: Traced) -> Scalar {
        let (features, _) = x.split_tape();
        project(self.0.forward_input(&features))
    }
    fn parameters(&mut self) -> Vec<&mut Parameter> {
        self.0.parameters()
    }
}

struct BatchNormIn(BatchNorm, bool);

impl UnderTest for BatchNormIn {
    fn loss(&mut self, x: Traced) -> Scalar {
        project(self.0.forward(x, self.1))
    }
    fn parameters(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.0.gain, &mut self.0.shift]
    }
}

struct Activated(Activation);

impl UnderTest for Activated {
    fn loss(&mut self, x: Traced) -> Scalar {
        project(activate(x, self.0))
    }
}

/// Dropout with the same mask on every pass (the stream is cloned per pass).
struct Dropped(RandomStream);

impl UnderTest for Dropped {
    fn loss(&mut self, x: Traced) -> Scalar {
        let mut rng = self.0.clone();
        project(dropout(x, 0.5, &mut Mode::Train(&mut rng)))
    }
}

struct BlockIn(Block, RandomStream);

impl UnderTest for BlockIn {
    fn loss(&mut self, x: Traced) -> Scalar {
        let mut rng = self.1.clone();
        project(self.0.forward(x, &mut Mode::Train(&mut rng)))
    }
    fn parameters(&mut self) -> Vec<&mut Parameter> {
        self.0.parameters()
    }
}

/// The input as modality 0's embedding beside a constant modality 1, half the rows masked.
struct Fused(ConcatFusion);

impl UnderTest for Fused {
    fn loss(&mut self, x: Traced) -> Scalar {
        let dev = x.device().clone();
        let rows = x.shape().0;
        let other = dev.tensor_from_vec(vec![0.5; rows * 2], (rows, 2));
        let masks = vec![(0..rows).map(|r| (r % 2) as f32).collect(), vec![1.0; rows]];
        project(self.0.fuse(&dev, vec![x, other.retaped::<Tape>()], &masks))
    }
}

/// Masks of four rows over two modalities: both present, the first missing, the second
/// missing, the first mixed up to 0.4 (as mixup makes them).
fn two_modality_masks() -> Vec<Vec<f32>> {
    vec![vec![1.0, 0.0, 1.0, 0.4], vec![1.0, 1.0, 0.0, 1.0]]
}

/// The input as modality 0's embedding beside a fixed modality 1, gated.
struct Gated(GatedFusion);

impl UnderTest for Gated {
    fn loss(&mut self, x: Traced) -> Scalar {
        let dev = x.device().clone();
        let other = dev.tensor_from_vec(normal_input(4, 3, 11), (4, 3));
        let masks = two_modality_masks();
        project(self.0.fuse(&dev, vec![x, other.retaped::<Tape>()], &masks))
    }

    fn parameters(&mut self) -> Vec<&mut Parameter> {
        self.0.parameters()
    }
}

/// The input as modality 0's embedding beside a fixed modality 1, attending to each other.
struct Attending(AttentionFusion);

impl UnderTest for Attending {
    fn loss(&mut self, x: Traced) -> Scalar {
        let dev = x.device().clone();
        let other = dev.tensor_from_vec(normal_input(4, 3, 17), (4, 3));
        let masks = two_modality_masks();
        project(self.0.fuse(&dev, vec![x, other.retaped::<Tape>()], &masks))
    }

    fn parameters(&mut self) -> Vec<&mut Parameter> {
        self.0.parameters()
    }
}

/// The input as branch 0's outputs beside a fixed branch 1, averaged as late fusion does.
struct LateAverage(TaskKind);

impl UnderTest for LateAverage {
    fn loss(&mut self, x: Traced) -> Scalar {
        let dev = x.device().clone();
        let other = dev.tensor_from_vec(normal_input(4, 3, 12), (4, 3));
        let masks = two_modality_masks();
        project(average_outputs(
            &dev,
            vec![x, other.retaped::<Tape>()],
            &masks,
            self.0,
        ))
    }
}

/// Soft-target cross-entropy of the input as logits, with weighted, non-normalized targets.
struct CrossEntropy;

impl UnderTest for CrossEntropy {
    fn loss(&mut self, x: Traced) -> Scalar {
        let shape = *x.shape();
        let targets: Vec<f32> = (0..shape.0 * shape.1)
            .map(|i| ((i * 7) % 5) as f32 / 4.0)
            .collect();
        let targets = x.device().tensor_from_vec(targets, shape);
        soft_cross_entropy(x, targets)
    }
}

fn rng() -> RandomStream {
    RandomStream::new(3, "test/layers")
}

#[test]
fn linear_gradients_match_finite_differences() {
    let mut layer = Linear::new(&Cpu::default(), "linear", 3, 5, &mut rng());
    check_gradients(&mut layer, normal_input(4, 3, 1), (4, 3));
}

#[test]
fn input_linear_gradients_match_finite_differences_and_the_plain_linear() {
    let layer = Linear::new(&Cpu::default(), "linear", 6, 3, &mut rng());
    check_parameter_gradients(
        &mut InputLinear(layer.clone()),
        normal_input(4, 6, 1),
        (4, 6),
    );
    // Same output as the general path.
    let dev = Cpu::default();
    let x = dev.tensor_from_vec(normal_input(4, 6, 1), (4, 6));
    let general = layer.forward(x.retaped::<Tape>()).as_vec();
    assert_eq!(layer.forward_input(&x).as_vec(), general);
}

#[test]
fn layer_norm_gradients_match_finite_differences() {
    let mut layer = LayerNorm::new(&Cpu::default(), "norm", 6);
    // Non-trivial gain and shift, so their gradients are not the identity's.
    layer.gain.set(&[0.5, 1.5, -1.0, 2.0, 1.0, 0.7]);
    layer.shift.set(&[0.1, -0.2, 0.3, 0.0, 0.5, -0.5]);
    check_gradients(&mut layer, normal_input(4, 6, 2), (4, 6));
}

#[test]
fn batch_norm_gradients_match_finite_differences_in_both_modes() {
    for training in [true, false] {
        let mut norm = BatchNorm::new(&Cpu::default(), "norm", 3);
        norm.gain.set(&[0.5, 1.5, -1.0]);
        norm.running_mean.values = vec![0.2, -0.1, 0.0];
        norm.running_var.values = vec![1.5, 0.5, 2.0];
        check_gradients(
            &mut BatchNormIn(norm, training),
            normal_input(5, 3, 3),
            (5, 3),
        );
    }
}

#[test]
fn activation_gradients_match_finite_differences() {
    for activation in [Activation::Relu, Activation::Gelu] {
        check_gradients(
            &mut Activated(activation),
            input_away_from_zero(4, 5),
            (4, 5),
        );
    }
}

#[test]
fn dropout_gradients_match_finite_differences() {
    check_gradients(&mut Dropped(rng()), normal_input(4, 5, 4), (4, 5));
}

#[test]
fn block_gradients_match_finite_differences() {
    let model = crate::spec::ModelSection {
        dropout: 0.25,
        ..crate::spec::ModelSection::default()
    };
    let block = Block::new(&Cpu::default(), "block", 4, 6, &model, &mut rng());
    check_gradients(&mut BlockIn(block, rng()), normal_input(5, 4, 5), (5, 4));
}

#[test]
fn concat_fusion_gradients_match_finite_differences() {
    check_gradients(
        &mut Fused(ConcatFusion::new(vec![3, 2])),
        normal_input(4, 3, 6),
        (4, 3),
    );
}

#[test]
fn gated_fusion_gradients_match_finite_differences() {
    let modalities = [(Modality::Audio, 3), (Modality::Lyrics, 3)].into_iter();
    let gated = GatedFusion::new(&Cpu::default(), modalities, &mut rng());
    check_gradients(&mut Gated(gated), normal_input(4, 3, 13), (4, 3));
}

#[test]
fn gated_fusion_weighs_present_modalities_only() {
    let dev = Cpu::default();
    let modalities = [(Modality::Audio, 2), (Modality::Lyrics, 2)].into_iter();
    let gated = GatedFusion::new(&dev, modalities, &mut rng());
    let a = dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], (4, 2));
    let b = dev.tensor_from_vec(vec![-1.0; 8], (4, 2));
    let masks = two_modality_masks();
    let fused = gated
        .fuse(&dev, vec![a.retaped::<Tape>(), b.retaped::<Tape>()], &masks)
        .as_vec();
    // Columns: the weighted embedding (2), then the two masks.
    let row = |r: usize| &fused[r * 4..(r + 1) * 4];
    // One modality present: its embedding, whole; the other's counts for nothing.
    assert_eq!(row(1), &[-1.0, -1.0, 0.0, 1.0]);
    assert_eq!(row(2), &[5.0, 6.0, 1.0, 0.0]);
    // Both present: a convex combination of the two embeddings.
    let w = (row(0)[0] - (-1.0)) / (1.0 - (-1.0));
    assert!(w > 0.0 && w < 1.0, "{:?}", row(0));
    assert!((row(0)[1] - (w * 2.0 - (1.0 - w))).abs() < 1e-5);
}

#[test]
fn attention_fusion_gradients_match_finite_differences() {
    let modalities = [(Modality::Audio, 3), (Modality::Lyrics, 3)].into_iter();
    let attention = AttentionFusion::new(&Cpu::default(), modalities, &mut rng());
    check_gradients(&mut Attending(attention), normal_input(4, 3, 18), (4, 3));
}

#[test]
fn attention_never_attends_to_a_missing_modality() {
    let dev = Cpu::default();
    let modalities = [(Modality::Audio, 3), (Modality::Lyrics, 3)].into_iter();
    let attention = AttentionFusion::new(&dev, modalities, &mut rng());
    let fuse = |lyrics: Vec<f32>| {
        let a = dev.tensor_from_vec(normal_input(4, 3, 19), (4, 3));
        let b = dev.tensor_from_vec(lyrics, (4, 3));
        let masks = two_modality_masks();
        values(&attention.fuse(&dev, vec![a.retaped::<Tape>(), b.retaped::<Tape>()], &masks))
    };
    let (base, other) = (fuse(normal_input(4, 3, 20)), fuse(normal_input(4, 3, 21)));
    // Row 2 lacks lyrics: whatever they hold changes nothing; row 0 has them: it changes.
    assert_eq!(base[2 * 5..3 * 5], other[2 * 5..3 * 5]);
    assert_ne!(base[..5], other[..5]);
    // The masks follow the pooled output.
    assert_eq!(base[2 * 5 + 3..3 * 5], [1.0, 0.0]);
}

#[test]
fn late_fusion_averages_probabilities_with_finite_gradients() {
    for task in [
        TaskKind::Classification,
        TaskKind::Multilabel,
        TaskKind::Regression,
    ] {
        check_gradients(&mut LateAverage(task), normal_input(4, 3, 14), (4, 3));
    }
    // The averaged class probabilities are the softmax of the output: mean over the present
    // branches, the lone present branch's own where one is missing.
    let dev = Cpu::default();
    let (z0, z1) = (normal_input(4, 3, 15), normal_input(4, 3, 16));
    let branch = |z: &[f32]| dev.tensor_from_vec(z.to_vec(), (4, 3)).retaped::<Tape>();
    let out = average_outputs(
        &dev,
        vec![branch(&z0), branch(&z1)],
        &two_modality_masks(),
        TaskKind::Classification,
    );
    let p = values(&out.softmax::<Axis<1>>());
    let softmax = |z: &[f32]| {
        let e: Vec<f32> = z.iter().map(|v| v.exp()).collect();
        let s: f32 = e.iter().sum();
        e.into_iter().map(|v| v / s).collect::<Vec<f32>>()
    };
    for (row, w0) in [(0, 0.5), (1, 0.0), (2, 1.0), (3, 0.4 / 1.4)] {
        let (p0, p1) = (softmax(&z0[row * 3..][..3]), softmax(&z1[row * 3..][..3]));
        for c in 0..3 {
            let expected = w0 * p0[c] + (1.0 - w0) * p1[c];
            assert!((p[row * 3 + c] - expected).abs() < 1e-5, "row {row}");
        }
    }
}

#[test]
fn soft_cross_entropy_gradients_match_finite_differences() {
    check_gradients(&mut CrossEntropy, normal_input(3, 4, 7), (3, 4));
}

#[test]
fn batch_norm_on_a_single_row_is_finite_and_keeps_running_statistics() {
    let dev = Cpu::default();
    let mut norm = BatchNorm::new(&dev, "norm", 3);
    norm.running_mean.values = vec![1.0, 2.0, 3.0];
    let x = dev.tensor_from_vec(vec![4.0, 5.0, 6.0], (1, 3));
    let out = norm.forward(x.retaped::<Tape>(), true).as_vec();
    assert!(out.iter().all(|v| v.is_finite()), "{out:?}");
    // Normalized by the running statistics: (x - mean) / sqrt(1 + eps).
    assert!((out[0] - 3.0 / (1.0f32 + NORM_EPS).sqrt()).abs() < 1e-5);
    assert_eq!(norm.running_mean.values, vec![1.0, 2.0, 3.0]);
}

#[test]
fn linear_initialization_follows_pytorch_bounds() {
    let layer = Linear::new(&Cpu::default(), "linear", 100, 50, &mut rng());
    let bound = 1.0 / 10.0;
    let weights = &layer.weight.values;
    assert!(weights.iter().all(|w| w.abs() <= bound));
    // Uniform on [-b, b] has variance b^2 / 3.
    let var = weights.iter().map(|w| w * w).sum::<f32>() / weights.len() as f32;
    assert!(
        (var - bound * bound / 3.0).abs() < 0.1 * bound * bound / 3.0,
        "{var}"
    );
}
