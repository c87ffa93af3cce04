//! The BERT encoder of all-MiniLM-L6-v2 (6 layers, 384 wide, 12 heads, 1536 in the feed-forward
//! layer, exact GELU, layer norm epsilon 1e-12), inference only, on one sequence of word-piece
//! ids at a time, mean-pooled over its tokens as sentence-transformers pools it. Weights are
//! read from the package's `model.safetensors`, each looked up with its expected shape.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::models::inference::{Dense, MatRef, gelu, layer_norm, matmul_into};

/// Width of the hidden states.
pub const HIDDEN: usize = 384;
/// Attention heads.
const HEADS: usize = 12;
/// Encoder layers.
const LAYERS: usize = 6;
/// Width of the feed-forward layer.
const INTERMEDIATE: usize = 1536;
/// Longest sequence the position embeddings cover.
pub const MAX_POSITIONS: usize = 512;
/// Layer norm epsilon of the model's config.
const EPSILON: f32 = 1e-12;

/// A variable the encoder needs is missing, of another shape, or not float32.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("MiniLM weights: `{name}` {problem}")]
pub struct BertWeightError {
    /// The variable.
    pub name: String,
    /// What is wrong with it.
    pub problem: String,
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    fn apply(&self, data: &mut [f32]) {
        layer_norm(data, &self.gamma, &self.beta, EPSILON);
    }
}

struct Layer {
    query: Dense,
    key: Dense,
    value: Dense,
    attention_out: Dense,
    attention_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
}

/// The encoder with its weights.
pub struct Bert {
    words: Vec<f32>,
    positions: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

impl Bert {
    /// The encoder from the bytes of a `model.safetensors`; `path` names it in errors.
    pub fn from_safetensors(bytes: &[u8], path: &Path) -> Result<Bert, BertWeightError> {
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| BertWeightError {
            name: path.display().to_string(),
            problem: format!("is not a safetensors file: {e}"),
        })?;
        let w = Weights(&tensors);
        let norm = |prefix: &str| -> Result<Norm, BertWeightError> {
            Ok(Norm {
                gamma: w.get(&format!("{prefix}.weight"), &[HIDDEN])?,
                beta: w.get(&format!("{prefix}.bias"), &[HIDDEN])?,
            })
        };
        let layers = (0..LAYERS)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                Ok(Layer {
                    query: w.dense(&format!("{p}.attention.self.query"), HIDDEN, HIDDEN)?,
                    key: w.dense(&format!("{p}.attention.self.key"), HIDDEN, HIDDEN)?,
                    value: w.dense(&format!("{p}.attention.self.value"), HIDDEN, HIDDEN)?,
                    attention_out: w.dense(
                        &format!("{p}.attention.output.dense"),
                        HIDDEN,
                        HIDDEN,
                    )?,
                    attention_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                    intermediate: w.dense(
                        &format!("{p}.intermediate.dense"),
                        HIDDEN,
                        INTERMEDIATE,
                    )?,
                    output: w.dense(&format!("{p}.output.dense"), INTERMEDIATE, HIDDEN)?,
                    output_norm: norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<_, BertWeightError>>()?;
        let words = w.get("embeddings.word_embeddings.weight", &[])?;
        if words.is_empty() || words.len() % HIDDEN != 0 {
            return Err(BertWeightError {
                name: "embeddings.word_embeddings.weight".into(),
                problem: format!("has {} values, not a multiple of {HIDDEN}", words.len()),
            });
        }
        Ok(Bert {
            words,
            positions: w.get(
                "embeddings.position_embeddings.weight",
                &[MAX_POSITIONS, HIDDEN],
            )?,
            token_type: w.get("embeddings.token_type_embeddings.weight", &[2, HIDDEN])?,
            embedding_norm: norm("embeddings.LayerNorm")?,
            layers,
        })
    }

    /// Words in the vocabulary.
    pub fn vocabulary(&self) -> usize {
        self.words.len() / HIDDEN
    }

    /// The mean over its tokens of the last hidden states of one sequence (at most
    /// [`MAX_POSITIONS`] ids, each below [`Bert::vocabulary`]).
    pub fn mean_pooled(&self, ids: &[u32]) -> Vec<f32> {
        let len = ids.len();
        assert!(len > 0 && len <= MAX_POSITIONS, "a sequence of 1..=512 ids");
        let mut x = Vec::with_capacity(len * HIDDEN);
        for (position, &id) in ids.iter().enumerate() {
            let word = &self.words[id as usize * HIDDEN..][..HIDDEN];
            let place = &self.positions[position * HIDDEN..][..HIDDEN];
            let kind = &self.token_type[..HIDDEN];
            x.extend((0..HIDDEN).map(|i| word[i] + place[i] + kind[i]));
        }
        self.embedding_norm.apply(&mut x);
        for layer in &self.layers {
            x = layer.forward(&x, len);
        }
        let mut mean = vec![0.0f32; HIDDEN];
        for row in x.chunks_exact(HIDDEN) {
            mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
        }
        mean.iter_mut().for_each(|m| *m /= len as f32);
        mean
    }
}

impl Layer {
    fn forward(&self, x: &[f32], len: usize) -> Vec<f32> {
        let (q, k, v) = (
            self.query.forward(x),
            self.key.forward(x),
            self.value.forward(x),
        );
        let head = HIDDEN / HEADS;
        let scale = 1.0 / (head as f32).sqrt();
        let mut context = vec![0.0f32; len * HIDDEN];
        let mut scores = vec![0.0f32; len * len];
        let mut head_out = vec![0.0f32; len * head];
        for h in 0..HEADS {
            let view = |data| head_view(data, h, len);
            // Every query attends to every token: one sequence, no padding to mask.
            matmul_into(&mut scores, view(&q), view(&k).t(), false);
            for row in scores.chunks_exact_mut(len) {
                softmax(row, scale);
            }
            matmul_into(
                &mut head_out,
                MatRef::rows(&scores, len, len),
                view(&v),
                false,
            );
            for (t, values) in head_out.chunks_exact(head).enumerate() {
                context[t * HIDDEN + h * head..][..head].copy_from_slice(values);
            }
        }
        let mut hidden = self.attention_out.forward(&context);
        hidden.iter_mut().zip(x).for_each(|(h, r)| *h += r);
        self.attention_norm.apply(&mut hidden);
        let mut inner = self.intermediate.forward(&hidden);
        inner.iter_mut().for_each(|v| *v = gelu(*v));
        let mut out = self.output.forward(&inner);
        out.iter_mut().zip(&hidden).for_each(|(o, r)| *o += r);
        self.output_norm.apply(&mut out);
        out
    }
}

/// Head `h`'s columns of a `len x HIDDEN` matrix.
fn head_view(data: &[f32], h: usize, len: usize) -> MatRef<'_> {
    let head = HIDDEN / HEADS;
    MatRef {
        data,
        offset: h * head,
        shape: (len, head),
        strides: (HIDDEN, 1),
    }
}

/// `softmax(scale * row)` in place, shifted by the maximum for stability.
fn softmax(row: &mut [f32], scale: f32) {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v)) * scale;
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v * scale - max).exp();
        sum += *v;
    }
    row.iter_mut().for_each(|v| *v /= sum);
}

/// The safetensors file's variables, looked up with their expected shapes.
struct Weights<'a>(&'a SafeTensors<'a>);

impl Weights<'_> {
    /// A float32 variable of `shape` (any shape when empty).
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, BertWeightError> {
        let bad = |problem: String| BertWeightError {
            name: name.into(),
            problem,
        };
        let tensor = self.0.tensor(name).map_err(|_| bad("is missing".into()))?;
        if tensor.dtype() != Dtype::F32 {
            return Err(bad(format!("is {:?}, expected F32", tensor.dtype())));
        }
        if !shape.is_empty() && tensor.shape() != shape {
            return Err(bad(format!(
                "has shape {:?}, expected {shape:?}",
                tensor.shape()
            )));
        }
        Ok(tensor
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    /// An `nn.Linear` from `inputs` to `outputs`.
    fn dense(&self, prefix: &str, inputs: usize, outputs: usize) -> Result<Dense, BertWeightError> {
        let weight = self.get(&format!("{prefix}.weight"), &[outputs, inputs])?;
        let bias = self.get(&format!("{prefix}.bias"), &[outputs])?;
        Ok(Dense::from_out_by_in(&weight, bias))
    }
}
