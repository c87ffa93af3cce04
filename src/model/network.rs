//! The network: what `model.kind` and `model.fusion` make of the selected modalities, from
//! the normalized features and presence masks to the outputs (class logits, regression
//! values, tag logits).
//!
//! - `concat`, `gated` and `attention`: one encoder per modality, a [`Fusion`], an MLP head,
//!   an output layer;
//! - `early`: every modality's masked features and the masks joined into one encoder, a head,
//!   an output layer; `model.kind = "linear"` is the output layer alone on that joined input;
//! - `late`: per modality an encoder, a head and an output layer, whose outputs are averaged
//!   (as probabilities for classes and tags) over the modalities each song has.
//!
//! Parameter names (the keys of [`NamedTensors`]) spell the structure:
//! `encoder.<modality>.<layer>.linear.{weight,bias}` (`encoder.joined...` for early fusion),
//! `...norm.{gain,shift}` (and `running_mean`/`running_var` for batch norm),
//! `head.<layer>...` (`head.<modality>.<layer>...` for late fusion), `fusion.gate.<modality>`,
//! `fusion.attention.{<modality>,query,key,value}`,
//! and the output layer `classifier.{weight,bias}` (`classifier.<modality>...` for late
//! fusion). Linear weights are stored `(inputs, outputs)`.

use dfdx::shapes::HasShape;
use dfdx::tensor::{Cpu, TensorFromVec};

use crate::modality::Modality;
use crate::rng::RandomStream;
use crate::spec::{self, ModelKind, ModelSection, TaskKind};

use super::fusion::{
    AttentionFusion, ConcatFusion, Fusion, GatedFusion, mask_columns, presence_shares,
};
use super::layers::{
    Block, Buffer, Linear, Matrix, Mode, Parameter, Tape, Traced, elementwise, values,
};
use super::stacking::{self, BranchPredictions};
use super::{ModelError, NamedTensor, NamedTensors};

/// What the data fixes about a network: input widths per modality, the outputs and the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Architecture {
    /// Selected modalities with their feature widths, in [`Modality::ALL`] order.
    pub(crate) inputs: Vec<(Modality, usize)>,
    /// Classes, regression targets or tags.
    pub(crate) outputs: usize,
    /// What the outputs are: late fusion averages them as the kind's probabilities.
    pub(crate) task: TaskKind,
}

/// One modality's encoder: its hidden blocks.
#[derive(Debug, Clone)]
struct Encoder {
    blocks: Vec<Block>,
}

/// A late-fusion branch: one modality's encoder and head blocks and its output layer.
#[derive(Debug, Clone)]
struct Branch {
    blocks: Vec<Block>,
    output: Linear,
}

impl Branch {
    /// The branch's raw outputs for `input`.
    fn forward(&mut self, input: &Matrix, mode: &mut Mode<'_>) -> Traced {
        output_of(
            &self.output,
            through(&mut self.blocks, Signal::Features(input), mode),
        )
    }
}

/// The name of late fusion's combination weights among a model's tensors: present only once
/// stacking has fit them (training learns no such tensor), so a plain late model loads
/// without it and averages.
pub const LATE_WEIGHTS: &str = "late.weights";

/// The network's layers, as `model.kind` and `model.fusion` lay them out.
#[derive(Debug)]
enum Layout {
    /// Per-modality encoders, a fusion, a head, an output layer (`concat`, `gated`, `attention`).
    Intermediate {
        encoders: Vec<Encoder>,
        fusion: Box<dyn Fusion>,
        head: Vec<Block>,
        output: Linear,
    },
    /// One stack over the joined masked features and masks (`early`; `linear` has no blocks).
    Joined { blocks: Vec<Block>, output: Linear },
    /// One branch per modality, averaged over the modalities a song has (`late`).
    Late {
        branches: Vec<Branch>,
        task: TaskKind,
        /// Each modality's stacking weight ([`LATE_WEIGHTS`], see `model::stacking`): the
        /// branches' logits weighted and summed (classes, tags), or their values averaged
        /// with these weights (regression); `None` is the plain mean of probabilities or values.
        combination: Option<Vec<f32>>,
    },
}

/// The network with its parameters.
#[derive(Debug)]
pub(crate) struct FusionNet {
    dev: Cpu,
    layout: Layout,
}

/// What flows between blocks: the constant input features, or a recorded hidden state.
enum Signal<'a> {
    Features(&'a Matrix),
    Hidden(Traced),
}

/// `signal` through `blocks`, in order.
fn through<'a>(blocks: &mut [Block], mut signal: Signal<'a>, mode: &mut Mode<'_>) -> Signal<'a> {
    for block in blocks {
        signal = Signal::Hidden(match signal {
            Signal::Features(x) => block.forward_input(x, mode),
            Signal::Hidden(h) => block.forward(h, mode),
        });
    }
    signal
}

/// `output` applied to `signal`.
fn output_of(output: &Linear, signal: Signal<'_>) -> Traced {
    match signal {
        Signal::Features(x) => output.forward_input(x),
        Signal::Hidden(h) => output.forward(h),
    }
}

/// Added inside the logarithms of late fusion, so a probability that underflows to 0 gives a
/// finite logit and gradient.
const PROBABILITY_FLOOR: f32 = 1e-7;

impl FusionNet {
    /// A freshly initialized network; every initial value is drawn from `rng` in a fixed order.
    pub(crate) fn new(
        model: &ModelSection,
        architecture: &Architecture,
        rng: &mut RandomStream,
    ) -> Self {
        let dev = Cpu::default();
        let outputs = architecture.outputs;
        let joined_width = |inputs: &[(Modality, usize)]| {
            inputs.iter().map(|&(_, w)| w).sum::<usize>() + inputs.len()
        };
        let layout = match (model.kind, model.fusion) {
            (ModelKind::Linear, _) => {
                let inputs = joined_width(&architecture.inputs);
                Layout::Joined {
                    blocks: Vec::new(),
                    output: Linear::new(&dev, "classifier", inputs, outputs, rng),
                }
            }
            (ModelKind::Network, spec::Fusion::Early) => {
                let inputs = joined_width(&architecture.inputs);
                let mut blocks = encoder_blocks(&dev, "encoder.joined", inputs, model, rng);
                let width = blocks.last().map_or(inputs, Block::outputs);
                blocks.extend(head_blocks(&dev, "head", width, model, rng));
                let width = blocks.last().map_or(inputs, Block::outputs);
                let output = Linear::new(&dev, "classifier", width, outputs, rng);
                Layout::Joined { blocks, output }
            }
            (ModelKind::Network, spec::Fusion::Late) => {
                let branches = (architecture.inputs.iter())
                    .map(|&(modality, width)| {
                        let encoder = format!("encoder.{modality}");
                        let mut blocks = encoder_blocks(&dev, &encoder, width, model, rng);
                        let hidden = blocks.last().map_or(width, Block::outputs);
                        let head = format!("head.{modality}");
                        blocks.extend(head_blocks(&dev, &head, hidden, model, rng));
                        let hidden = blocks.last().map_or(width, Block::outputs);
                        let name = format!("classifier.{modality}");
                        let output = Linear::new(&dev, &name, hidden, outputs, rng);
                        Branch { blocks, output }
                    })
                    .collect();
                Layout::Late {
                    combination: None,
                    branches,
                    task: architecture.task,
                }
            }
            (ModelKind::Network, fusion) => {
                let encoders: Vec<Encoder> = (architecture.inputs.iter())
                    .map(|&(modality, width)| Encoder {
                        blocks: encoder_blocks(
                            &dev,
                            &format!("encoder.{modality}"),
                            width,
                            model,
                            rng,
                        ),
                    })
                    .collect();
                let widths: Vec<usize> = encoders.iter().map(width_of).collect();
                let modalities = architecture.inputs.iter().map(|&(m, _)| m);
                let fusion: Box<dyn Fusion> = match fusion {
                    spec::Fusion::Gated => {
                        Box::new(GatedFusion::new(&dev, modalities.zip(widths), rng))
                    }
                    spec::Fusion::Attention => {
                        Box::new(AttentionFusion::new(&dev, modalities.zip(widths), rng))
                    }
                    _ => Box::new(ConcatFusion::new(widths)),
                };
                let head = head_blocks(&dev, "head", fusion.output_width(), model, rng);
                let head_out = head.last().map_or(fusion.output_width(), Block::outputs);
                let output = Linear::new(&dev, "classifier", head_out, outputs, rng);
                Layout::Intermediate {
                    encoders,
                    fusion,
                    head,
                    output,
                }
            }
        };
        FusionNet { dev, layout }
    }

    /// The tensor device (one per network, so folds on different threads share nothing).
    pub(crate) fn device(&self) -> &Cpu {
        &self.dev
    }

    /// Outputs for a batch (class logits, values, tag logits): `inputs[m]` is rows x width of
    /// the m-th modality, `masks[m][row]` its presence weight.
    pub(crate) fn forward(
        &mut self,
        inputs: &[Matrix],
        masks: &[Vec<f32>],
        mode: &mut Mode<'_>,
    ) -> Traced {
        let dev = self.dev.clone();
        match &mut self.layout {
            Layout::Intermediate {
                encoders,
                fusion,
                head,
                output,
            } => {
                let embeddings = encode(encoders, inputs, mode);
                let fused = fusion.fuse(&dev, embeddings, masks);
                output_of(output, through(head, Signal::Hidden(fused), mode))
            }
            Layout::Joined { blocks, output } => {
                let joined = joined_input(&dev, inputs, masks);
                output_of(output, through(blocks, Signal::Features(&joined), mode))
            }
            Layout::Late {
                branches,
                task,
                combination,
            } => {
                let outputs = (branches.iter_mut().zip(inputs))
                    .map(|(branch, x)| branch.forward(x, mode))
                    .collect();
                match combination {
                    Some(weights) => stacked_outputs(&dev, outputs, (masks, weights), *task),
                    None => average_outputs(&dev, outputs, masks, *task),
                }
            }
        }
    }

    /// Late fusion's branch `modality` (an index into the inputs) alone on `input`, rows x
    /// its width: that branch's raw outputs; `None` when the network is not a late fusion.
    pub(crate) fn forward_branch(
        &mut self,
        modality: usize,
        input: &Matrix,
        mode: &mut Mode<'_>,
    ) -> Option<Traced> {
        match &mut self.layout {
            Layout::Late { branches, .. } => Some(branches[modality].forward(input, mode)),
            _ => None,
        }
    }

    /// Whether the network is a late fusion, whose branches predict on their own.
    pub(crate) fn has_branches(&self) -> bool {
        matches!(self.layout, Layout::Late { .. })
    }

    /// Per song, the weight the fusion gives each modality (`rows x modalities`, row-major),
    /// for fusions that learn one (gated, attention, late fusion with stacked weights); in
    /// evaluation mode.
    pub(crate) fn modality_weights(
        &mut self,
        inputs: &[Matrix],
        masks: &[Vec<f32>],
    ) -> Option<Vec<f32>> {
        match &mut self.layout {
            Layout::Intermediate {
                encoders, fusion, ..
            } => {
                let embeddings = encode(encoders, inputs, &mut Mode::Eval);
                fusion.modality_weights(&self.dev, embeddings, masks)
            }
            Layout::Late {
                combination: Some(weights),
                ..
            } => Some(stacking::modality_shares(masks, &widen(weights))),
            _ => None,
        }
    }

    /// Every trainable parameter, in a fixed order (the optimizer's state follows it).
    pub(crate) fn parameters(&mut self) -> Vec<&mut Parameter> {
        let mut all = Vec::new();
        match &mut self.layout {
            Layout::Intermediate {
                encoders,
                fusion,
                head,
                output,
            } => {
                for block in encoders.iter_mut().flat_map(|e| e.blocks.iter_mut()) {
                    all.extend(block.parameters());
                }
                all.extend(fusion.parameters());
                for block in head {
                    all.extend(block.parameters());
                }
                all.extend(output.parameters());
            }
            Layout::Joined { blocks, output } => {
                for block in blocks {
                    all.extend(block.parameters());
                }
                all.extend(output.parameters());
            }
            Layout::Late { branches, .. } => {
                for branch in branches {
                    for block in &mut branch.blocks {
                        all.extend(block.parameters());
                    }
                    all.extend(branch.output.parameters());
                }
            }
        }
        all
    }

    /// The parameters, read-only, in the order of [`FusionNet::parameters`].
    fn parameters_ref(&self) -> Vec<&Parameter> {
        let mut all = Vec::new();
        match &self.layout {
            Layout::Intermediate {
                encoders,
                fusion,
                head,
                output,
            } => {
                for block in encoders.iter().flat_map(|e| e.blocks.iter()) {
                    all.extend(block.parameters_ref());
                }
                all.extend(fusion.parameters_ref());
                for block in head {
                    all.extend(block.parameters_ref());
                }
                all.extend(output.parameters_ref());
            }
            Layout::Joined { blocks, output } => {
                for block in blocks {
                    all.extend(block.parameters_ref());
                }
                all.extend(output.parameters_ref());
            }
            Layout::Late { branches, .. } => {
                for branch in branches {
                    for block in &branch.blocks {
                        all.extend(block.parameters_ref());
                    }
                    all.extend(branch.output.parameters_ref());
                }
            }
        }
        all
    }

    /// Every hidden block, in parameter order.
    fn all_blocks(&self) -> Vec<&Block> {
        match &self.layout {
            Layout::Intermediate { encoders, head, .. } => (encoders.iter())
                .flat_map(|e| e.blocks.iter())
                .chain(head.iter())
                .collect(),
            Layout::Joined { blocks, .. } => blocks.iter().collect(),
            Layout::Late { branches, .. } => {
                branches.iter().flat_map(|b| b.blocks.iter()).collect()
            }
        }
    }

    fn buffers(&mut self) -> Vec<&mut Buffer> {
        let blocks: Vec<&mut Block> = match &mut self.layout {
            Layout::Intermediate { encoders, head, .. } => (encoders.iter_mut())
                .flat_map(|e| e.blocks.iter_mut())
                .chain(head.iter_mut())
                .collect(),
            Layout::Joined { blocks, .. } => blocks.iter_mut().collect(),
            Layout::Late { branches, .. } => (branches.iter_mut())
                .flat_map(|b| b.blocks.iter_mut())
                .collect(),
        };
        blocks.into_iter().flat_map(Block::buffers).collect()
    }

    /// Parameters and buffers as named tensors: a real copy, unaffected by later training.
    pub(crate) fn export(&self) -> NamedTensors {
        let mut tensors: Vec<NamedTensor> = (self.parameters_ref().into_iter())
            .map(|p| NamedTensor {
                name: p.name.clone(),
                shape: p.shape(),
                values: p.values.clone(),
            })
            .collect();
        for buffer in self.all_blocks().into_iter().flat_map(Block::buffers_ref) {
            tensors.push(NamedTensor {
                name: buffer.name.clone(),
                shape: vec![buffer.values.len()],
                values: buffer.values.clone(),
            });
        }
        NamedTensors(tensors)
    }

    /// Overwrites every parameter and buffer from `weights`, which must name exactly this
    /// network's tensors with the same shapes.
    pub(crate) fn load(&mut self, weights: &NamedTensors) -> Result<(), ModelError> {
        let mut expected = 0;
        for parameter in self.parameters() {
            let stored = find(weights, &parameter.name, &parameter.shape())?;
            parameter.set(&stored.values);
            expected += 1;
        }
        for buffer in self.buffers() {
            let stored = find(weights, &buffer.name, &[buffer.values.len()])?;
            buffer.values.copy_from_slice(&stored.values);
            expected += 1;
        }
        if let Layout::Late {
            combination,
            branches,
            ..
        } = &mut self.layout
            && weights.0.iter().any(|t| t.name == LATE_WEIGHTS)
        {
            let stored = find(weights, LATE_WEIGHTS, &[branches.len()])?;
            *combination = Some(stored.values.clone());
            expected += 1;
        }
        if weights.0.len() != expected {
            return Err(ModelError::WeightsMismatch(format!(
                "{} stored tensors, the model has {expected}",
                weights.0.len()
            )));
        }
        Ok(())
    }
}

/// Each modality's embedding: its features through its encoder.
fn encode(encoders: &mut [Encoder], inputs: &[Matrix], mode: &mut Mode<'_>) -> Vec<Traced> {
    (encoders.iter_mut().zip(inputs))
        .map(
            |(encoder, x)| match through(&mut encoder.blocks, Signal::Features(x), mode) {
                Signal::Hidden(h) => h,
                Signal::Features(_) => unreachable!("model.encoder_layers >= 1 is checked"),
            },
        )
        .collect()
}

fn width_of(encoder: &Encoder) -> usize {
    encoder.blocks.last().map_or(0, Block::outputs)
}

/// The encoder's `model.encoder_layers` blocks of `model.encoder_width`, reading `inputs`.
fn encoder_blocks(
    dev: &Cpu,
    name: &str,
    inputs: usize,
    model: &ModelSection,
    rng: &mut RandomStream,
) -> Vec<Block> {
    let (width, layers) = (model.encoder_width, model.encoder_layers);
    mlp(dev, name, inputs, (width, layers), model, rng)
}

/// The head's `model.head_layers` blocks of `model.head_width`, reading `inputs`.
fn head_blocks(
    dev: &Cpu,
    name: &str,
    inputs: usize,
    model: &ModelSection,
    rng: &mut RandomStream,
) -> Vec<Block> {
    let (width, layers) = (model.head_width, model.head_layers);
    mlp(dev, name, inputs, (width, layers), model, rng)
}

/// `layers` blocks of `width`, the first reading `inputs` features.
fn mlp(
    dev: &Cpu,
    name: &str,
    inputs: usize,
    (width, layers): (usize, usize),
    model: &ModelSection,
    rng: &mut RandomStream,
) -> Vec<Block> {
    (0..layers)
        .map(|layer| {
            let fan_in = if layer == 0 { inputs } else { width };
            Block::new(dev, &format!("{name}.{layer}"), fan_in, width, model, rng)
        })
        .collect()
}

/// Early fusion's input: `[x_1 * m_1, ..., x_M * m_M, m_1, ..., m_M]` per row, so a missing
/// modality's features are zeros and its flag says they are missing.
fn joined_input(dev: &Cpu, inputs: &[Matrix], masks: &[Vec<f32>]) -> Matrix {
    let rows = masks[0].len();
    let features: Vec<Vec<f32>> = inputs.iter().map(values).collect();
    let widths: Vec<usize> = (features.iter()).map(|f| f.len() / rows.max(1)).collect();
    let total = widths.iter().sum::<usize>() + masks.len();
    let mut joined = Vec::with_capacity(rows * total);
    for row in 0..rows {
        for ((x, &width), mask) in features.iter().zip(&widths).zip(masks) {
            let m = mask[row];
            joined.extend(x[row * width..(row + 1) * width].iter().map(|v| v * m));
        }
        joined.extend(masks.iter().map(|mask| mask[row]));
    }
    dev.tensor_from_vec(joined, (rows, total))
}

/// Late fusion: each branch's `outputs` weighed by the song's presence masks (normalized to
/// sum to 1; equal weights for a song with no modality) and averaged, as class probabilities
/// (returned as their logarithms, whose softmax they are), tag probabilities (returned as
/// logits) or regression values.
pub(crate) fn average_outputs(
    dev: &Cpu,
    outputs: Vec<Traced>,
    masks: &[Vec<f32>],
    task: TaskKind,
) -> Traced {
    let width = outputs.first().map_or(0, |o| o.shape().1);
    let weights = presence_shares(masks, 1.0 / masks.len() as f32);
    let mut average: Option<Traced> = None;
    for (output, weight) in outputs.into_iter().zip(&weights) {
        let probability = match task {
            TaskKind::Classification => output.softmax::<dfdx::shapes::Axis<1>>(),
            TaskKind::Multilabel => output.sigmoid(),
            TaskKind::Regression => output,
        };
        let term = probability * mask_columns(dev, weight, width);
        average = Some(match average {
            None => term,
            Some(sum) => sum + term,
        });
    }
    let average = average.expect("a network has at least one modality");
    match task {
        TaskKind::Classification => elementwise(average, |p| {
            let p = p + PROBABILITY_FLOOR;
            (p.ln(), 1.0 / p)
        }),
        TaskKind::Multilabel => elementwise(average, |p| {
            let (p, q) = (p + PROBABILITY_FLOOR, 1.0 - p + PROBABILITY_FLOOR);
            (p.ln() - q.ln(), 1.0 / p + 1.0 / q)
        }),
        TaskKind::Regression => average,
    }
}

/// Stacked late fusion: the branches' `outputs` pooled by the stacking `weights` over the
/// presence masks ([`BranchPredictions::pool`], the one place that computes it). Computed on
/// values, off the tape: stacking weights are fit after training, and nothing trains through
/// them.
fn stacked_outputs(
    dev: &Cpu,
    outputs: Vec<Traced>,
    (masks, weights): (&[Vec<f32>], &[f32]),
    task: TaskKind,
) -> Traced {
    let width = outputs.first().map_or(0, |o| o.shape().1);
    let rows = masks.first().map_or(0, Vec::len);
    let outputs: Vec<Vec<f32>> = outputs.iter().map(values).collect();
    let branches = BranchPredictions {
        outputs: &outputs,
        present: masks,
        targets: &[],
        width,
        task,
    };
    dev.tensor_from_vec(branches.pool(&widen(weights)), (rows, width))
        .retaped::<Tape>()
}

/// Stored f32 weights as the f64 that stacking computes in.
fn widen(weights: &[f32]) -> Vec<f64> {
    weights.iter().map(|&w| f64::from(w)).collect()
}

fn find<'w>(
    weights: &'w NamedTensors,
    name: &str,
    shape: &[usize],
) -> Result<&'w NamedTensor, ModelError> {
    let stored = (weights.0.iter().find(|t| t.name == name))
        .ok_or_else(|| ModelError::WeightsMismatch(format!("no tensor named {name}")))?;
    if stored.shape != shape || stored.values.len() != shape.iter().product::<usize>() {
        return Err(ModelError::WeightsMismatch(format!(
            "{name} has shape {:?}, the model needs {shape:?}",
            stored.shape
        )));
    }
    Ok(stored)
}
