//! The intermediate-fusion network: one encoder per selected modality, a [`Fusion`], an MLP
//! head and a linear classifier to the class logits.
//!
//! Parameter names (the keys of [`NamedTensors`]) spell the structure:
//! `encoder.<modality>.<layer>.linear.{weight,bias}`, `...norm.{gain,shift}` (and
//! `running_mean`/`running_var` for batch norm), `head.<layer>...`, `classifier.{weight,bias}`.
//! Linear weights are stored `(inputs, outputs)`.

use dfdx::tensor::Cpu;

use crate::modality::Modality;
use crate::rng::RandomStream;
use crate::spec::{self, ModelSection};

use super::fusion::{ConcatFusion, Fusion};
use super::layers::{Block, Buffer, Linear, Matrix, Mode, Parameter, Traced};
use super::{ModelError, NamedTensor, NamedTensors};

/// What the data fixes about a network: input widths per modality and the output count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Architecture {
    /// Selected modalities with their feature widths, in [`Modality::ALL`] order.
    pub(crate) inputs: Vec<(Modality, usize)>,
    /// Classes, regression targets or tags.
    pub(crate) outputs: usize,
}

/// One modality's encoder: its hidden blocks.
#[derive(Debug, Clone)]
struct Encoder {
    blocks: Vec<Block>,
}

/// Encoders, fusion, head and classifier, with their parameters.
#[derive(Debug)]
pub(crate) struct FusionNet {
    dev: Cpu,
    encoders: Vec<Encoder>,
    fusion: Box<dyn Fusion>,
    head: Vec<Block>,
    classifier: Linear,
}

impl FusionNet {
    /// A freshly initialized network; every initial value is drawn from `rng` in a fixed order.
    pub(crate) fn new(
        model: &ModelSection,
        architecture: &Architecture,
        rng: &mut RandomStream,
    ) -> Self {
        let dev = Cpu::default();
        let encoders: Vec<Encoder> = (architecture.inputs.iter())
            .map(|&(modality, width)| Encoder {
                blocks: mlp(
                    &dev,
                    &format!("encoder.{modality}"),
                    width,
                    model.encoder_width,
                    model.encoder_layers,
                    model,
                    rng,
                ),
            })
            .collect();
        let widths = encoders.iter().map(width_of).collect();
        let fusion: Box<dyn Fusion> = match model.fusion {
            spec::Fusion::Concat => Box::new(ConcatFusion::new(widths)),
        };
        let head = mlp(
            &dev,
            "head",
            fusion.output_width(),
            model.head_width,
            model.head_layers,
            model,
            rng,
        );
        let head_out = head.last().map_or(fusion.output_width(), Block::outputs);
        let classifier = Linear::new(&dev, "classifier", head_out, architecture.outputs, rng);
        FusionNet {
            dev,
            encoders,
            fusion,
            head,
            classifier,
        }
    }

    /// The tensor device (one per network, so folds on different threads share nothing).
    pub(crate) fn device(&self) -> &Cpu {
        &self.dev
    }

    /// Class logits for a batch: `inputs[m]` is rows x width of the m-th encoder's modality,
    /// `masks[m][row]` its presence weight.
    pub(crate) fn forward(
        &mut self,
        inputs: &[Matrix],
        masks: &[Vec<f32>],
        mode: &mut Mode<'_>,
    ) -> Traced {
        let mut embeddings = Vec::with_capacity(self.encoders.len());
        for (encoder, x) in self.encoders.iter_mut().zip(inputs) {
            let (first, rest) = encoder
                .blocks
                .split_first_mut()
                .expect("model.encoder_layers >= 1 is checked");
            let mut h = first.forward_input(x, mode);
            for block in rest {
                h = block.forward(h, mode);
            }
            embeddings.push(h);
        }
        let mut h = self.fusion.fuse(&self.dev, embeddings, masks);
        for block in &mut self.head {
            h = block.forward(h, mode);
        }
        self.classifier.forward(h)
    }

    /// Every trainable parameter, in a fixed order (the optimizer's state follows it).
    pub(crate) fn parameters(&mut self) -> Vec<&mut Parameter> {
        let mut all = Vec::new();
        for encoder in &mut self.encoders {
            for block in &mut encoder.blocks {
                all.extend(block.parameters());
            }
        }
        all.extend(self.fusion.parameters());
        for block in &mut self.head {
            all.extend(block.parameters());
        }
        all.extend(self.classifier.parameters());
        all
    }

    fn parameters_ref(&self) -> Vec<&Parameter> {
        let blocks = self.all_blocks();
        let mut all: Vec<&Parameter> = Vec::new();
        let encoder_blocks = self.encoders.iter().map(|e| e.blocks.len()).sum::<usize>();
        for block in &blocks[..encoder_blocks] {
            all.extend(block.parameters_ref());
        }
        all.extend(self.fusion.parameters_ref());
        for block in &blocks[encoder_blocks..] {
            all.extend(block.parameters_ref());
        }
        all.extend(self.classifier.parameters_ref());
        all
    }

    fn all_blocks(&self) -> Vec<&Block> {
        let encoders = self.encoders.iter().flat_map(|e| e.blocks.iter());
        encoders.chain(self.head.iter()).collect()
    }

    fn buffers(&mut self) -> Vec<&mut Buffer> {
        let encoders = self.encoders.iter_mut().flat_map(|e| e.blocks.iter_mut());
        encoders
            .chain(self.head.iter_mut())
            .flat_map(Block::buffers)
            .collect()
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
        if weights.0.len() != expected {
            return Err(ModelError::WeightsMismatch(format!(
                "{} stored tensors, the model has {expected}",
                weights.0.len()
            )));
        }
        Ok(())
    }
}

fn width_of(encoder: &Encoder) -> usize {
    encoder.blocks.last().map_or(0, Block::outputs)
}

/// `layers` blocks of `width`, the first reading `inputs` features.
fn mlp(
    dev: &Cpu,
    name: &str,
    inputs: usize,
    width: usize,
    layers: usize,
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
