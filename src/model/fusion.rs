//! How modality embeddings become one vector for the classifier head.
//!
//! Every fusion sees the encoders' outputs together with each song's presence mask, so a
//! missing modality is always flagged, never a silent zero. [`ConcatFusion`] is the
//! intermediate fusion of the student pipeline done right; [`GatedFusion`] weighs the
//! modalities per song; [`AttentionFusion`] lets them attend to each other. `model.fusion` selects one (early and late fusion are layouts of the
//! whole network, in `network.rs`).

use dfdx::shapes::{Axis, HasShape};
use dfdx::tensor::{Cpu, Tensor, TensorFromVec};
use dfdx::tensor_ops::{BroadcastTo, SumTo, TryConcatAlong};

use crate::modality::Modality;
use crate::rng::RandomStream;

use super::layers::{Linear, Matrix, Parameter, Tape, Traced, broadcast_rows, uniform};

/// Combines per-modality embeddings and presence masks into one representation per song.
pub(crate) trait Fusion: std::fmt::Debug + Send {
    /// Width of the fused representation.
    fn output_width(&self) -> usize;

    /// `embeddings[m]` is rows x (width of modality m); `masks[m][row]` is 1 where the song has
    /// modality m, 0 where it is missing or dropped, and in between for mixed-up songs.
    fn fuse(&self, dev: &Cpu, embeddings: Vec<Traced>, masks: &[Vec<f32>]) -> Traced;

    /// Per song, the weight each modality gets (`rows x modalities`, row-major), for fusions
    /// that learn one; `None` for those that do not.
    fn modality_weights(
        &self,
        _dev: &Cpu,
        _embeddings: Vec<Traced>,
        _masks: &[Vec<f32>],
    ) -> Option<Vec<f32>> {
        None
    }

    /// Trainable parameters of the fusion itself (none for concatenation).
    fn parameters(&mut self) -> Vec<&mut Parameter> {
        Vec::new()
    }

    /// The same parameters, read-only (for export).
    fn parameters_ref(&self) -> Vec<&Parameter> {
        Vec::new()
    }
}

/// Intermediate fusion: `[e_1 * m_1, ..., e_M * m_M, m_1, ..., m_M]`.
///
/// Scaling each embedding by its mask makes a missing modality a zero embedding, and appending
/// the masks tells the head that it is missing rather than present with an all-zero encoding.
#[derive(Debug, Clone)]
pub(crate) struct ConcatFusion {
    widths: Vec<usize>,
}

impl ConcatFusion {
    /// Fusion of embeddings with the given widths, in modality order.
    pub(crate) fn new(widths: Vec<usize>) -> Self {
        ConcatFusion { widths }
    }
}

/// `mask` (one value per row) repeated over `width` columns.
pub(crate) fn mask_columns(dev: &Cpu, mask: &[f32], width: usize) -> Matrix {
    let data: Vec<f32> = mask
        .iter()
        .flat_map(|&m| std::iter::repeat_n(m, width))
        .collect();
    dev.tensor_from_vec(data, (mask.len(), width))
}

impl Fusion for ConcatFusion {
    fn output_width(&self) -> usize {
        self.widths.iter().sum::<usize>() + self.widths.len()
    }

    fn fuse(&self, dev: &Cpu, embeddings: Vec<Traced>, masks: &[Vec<f32>]) -> Traced {
        let mut fused: Option<Traced> = None;
        for ((embedding, mask), &width) in embeddings.into_iter().zip(masks).zip(&self.widths) {
            let masked = embedding * mask_columns(dev, mask, width);
            fused = Some(match fused {
                None => masked,
                Some(left) => (left, masked).concat_along(Axis::<1>),
            });
        }
        match fused {
            Some(left) => (left, presence_flags(dev, masks)).concat_along(Axis::<1>),
            None => presence_flags(dev, masks),
        }
    }
}

/// Each modality's share of each song's presence, `m_m / sum_k m_k` (per modality, one value
/// per row), and `empty` for every modality of a song with none.
pub(crate) fn presence_shares(masks: &[Vec<f32>], empty: f32) -> Vec<Vec<f32>> {
    let rows = masks[0].len();
    let totals: Vec<f32> = (0..rows)
        .map(|row| masks.iter().map(|mask| mask[row]).sum())
        .collect();
    (masks.iter())
        .map(|mask| {
            (mask.iter().zip(&totals))
                .map(|(&m, &total)| if total > 0.0 { m / total } else { empty })
                .collect()
        })
        .collect()
}

/// The masks as columns, `rows x modalities`, to append to a fused representation.
fn presence_flags(dev: &Cpu, masks: &[Vec<f32>]) -> Traced {
    let rows = masks[0].len();
    let flags: Vec<f32> = (0..rows)
        .flat_map(|row| masks.iter().map(move |mask| mask[row]))
        .collect();
    dev.tensor_from_vec(flags, (rows, masks.len()))
        .retaped::<Tape>()
}

/// A recorded column vector, one value per row.
type Column = Tensor<(usize,), f32, Cpu, Tape>;

/// Bound of the gate scores, `|s| < SCORE_BOUND` (as `SCORE_BOUND * tanh(s / SCORE_BOUND)`), so
/// their exponentials can neither overflow nor vanish.
const SCORE_BOUND: f32 = 10.0;
/// Added to the gates' denominator, so a song with no modality gets zero weights, not NaN.
const GATE_FLOOR: f32 = 1e-12;

/// `exp(s)` of the bounded score `s`, times the presence weights: zero for a missing modality.
fn present_exp(score: Column, presence: &[f32]) -> Column {
    let dev = score.device().clone();
    let bounded = (score * (1.0 / SCORE_BOUND)).tanh() * SCORE_BOUND;
    bounded.exp() * dev.tensor_from_vec(presence.to_vec(), (presence.len(),))
}

/// The shares `u_m / sum_k u_k` of per-row weights (one column per modality) as plain values,
/// `rows x modalities`, row-major; zeros for a row whose weights are all zero.
fn shares_of(weights: &[Column]) -> Vec<f32> {
    let columns: Vec<Vec<f32>> = weights.iter().map(|w| w.as_vec()).collect();
    let rows = columns.first().map_or(0, Vec::len);
    let mut shares = Vec::with_capacity(rows * columns.len());
    for row in 0..rows {
        let total: f32 = columns.iter().map(|c| c[row]).sum::<f32>() + GATE_FLOOR;
        shares.extend(columns.iter().map(|c| c[row] / total));
    }
    shares
}

/// The sum of recorded tensors of one shape.
fn sum_all<S: dfdx::shapes::Shape>(
    terms: impl IntoIterator<Item = Tensor<S, f32, Cpu, Tape>>,
) -> Tensor<S, f32, Cpu, Tape> {
    terms
        .into_iter()
        .reduce(|sum, term| sum + term)
        .expect("a network has at least one modality")
}

/// `sum_m (u_m / sum_k u_k) x_m` per row, for per-row weights `u_m >= 0` (zero for a missing
/// modality) and `width`-wide rows `x_m`: a softmax over the present modalities when `u_m` are
/// [`present_exp`]s, and zero for a row whose weights are all zero.
fn weighted_mean(weights: Vec<Column>, rows: Vec<Reused<(usize, usize)>>, width: usize) -> Traced {
    let mut weights: Vec<Reused<(usize,)>> = weights.into_iter().map(Reused::new).collect();
    let total = sum_all(weights.iter_mut().map(Reused::take)) + GATE_FLOOR;
    let mut total = Reused::new(total);
    sum_all(weights.iter_mut().zip(rows).map(|(w, mut x)| {
        let n = x.copy.shape().0;
        let share =
            (w.take() / total.take()).broadcast_like::<(usize, usize), Axis<1>>(&(n, width));
        x.take() * share
    }))
}

/// Gated fusion: `[sum_m w_m (e_m * m_m), m_1, ..., m_M]` with per-song weights
/// `w_m = m_m exp(s_m) / sum_k m_k exp(s_k)` over the present modalities, the score `s_m` a
/// linear map of the modality's own masked embedding (`fusion.gate.<modality>`). A missing
/// modality's weight is exactly zero; the embeddings share one width (`model.encoder_width`).
#[derive(Debug, Clone)]
pub(crate) struct GatedFusion {
    width: usize,
    gates: Vec<Linear>,
}

impl GatedFusion {
    /// Gates for the embeddings of `modalities` (with their widths, all equal), drawn from
    /// `rng` in modality order.
    pub(crate) fn new(
        dev: &Cpu,
        modalities: impl Iterator<Item = (Modality, usize)>,
        rng: &mut RandomStream,
    ) -> Self {
        let mut width = 0;
        let gates = modalities
            .map(|(modality, w)| {
                width = w;
                Linear::new(dev, &format!("fusion.gate.{modality}"), w, 1, rng)
            })
            .collect();
        GatedFusion { width, gates }
    }

    /// Per modality, `m_m exp(s_m)` of each row, and the masked embeddings.
    fn scores(
        &self,
        dev: &Cpu,
        embeddings: Vec<Traced>,
        masks: &[Vec<f32>],
    ) -> (Vec<Column>, Vec<Traced>) {
        let mut weighted = Vec::with_capacity(self.gates.len());
        let mut masked = Vec::with_capacity(self.gates.len());
        for ((embedding, mask), gate) in embeddings.into_iter().zip(masks).zip(&self.gates) {
            let e = embedding * mask_columns(dev, mask, self.width);
            let score: Column = gate.forward(e.retaped::<Tape>()).sum::<(usize,), Axis<1>>();
            weighted.push(present_exp(score, mask));
            masked.push(e);
        }
        (weighted, masked)
    }
}

impl Fusion for GatedFusion {
    fn output_width(&self) -> usize {
        self.width + self.gates.len()
    }

    fn fuse(&self, dev: &Cpu, embeddings: Vec<Traced>, masks: &[Vec<f32>]) -> Traced {
        let (weighted, masked) = self.scores(dev, embeddings, masks);
        let masked = masked.into_iter().map(Reused::new).collect();
        let fused = weighted_mean(weighted, masked, self.width);
        (fused, presence_flags(dev, masks)).concat_along(Axis::<1>)
    }

    fn modality_weights(
        &self,
        dev: &Cpu,
        embeddings: Vec<Traced>,
        masks: &[Vec<f32>],
    ) -> Option<Vec<f32>> {
        Some(shares_of(&self.scores(dev, embeddings, masks).0))
    }

    fn parameters(&mut self) -> Vec<&mut Parameter> {
        self.gates.iter_mut().flat_map(Linear::parameters).collect()
    }

    fn parameters_ref(&self) -> Vec<&Parameter> {
        self.gates.iter().flat_map(Linear::parameters_ref).collect()
    }
}

/// A recorded tensor used several times: the first use takes it with its tape, so its history
/// joins the graph exactly once; later uses take copies without (gradients meet by id).
struct Reused<S: dfdx::shapes::Shape> {
    first: Option<Tensor<S, f32, Cpu, Tape>>,
    copy: Tensor<S, f32, Cpu, Tape>,
}

impl<S: dfdx::shapes::Shape> Reused<S> {
    fn new(tensor: Tensor<S, f32, Cpu, Tape>) -> Self {
        Reused {
            copy: tensor.retaped::<Tape>(),
            first: Some(tensor),
        }
    }

    fn take(&mut self) -> Tensor<S, f32, Cpu, Tape> {
        self.first
            .take()
            .unwrap_or_else(|| self.copy.retaped::<Tape>())
    }
}

/// `sum_j a[:, j] * b[:, j]` per row.
fn row_dot(a: Traced, b: Traced) -> Column {
    (a * b).sum::<(usize,), Axis<1>>()
}

/// Attention fusion: each present modality's embedding, plus a learned embedding of which
/// modality it is, is a token; one head of scaled dot-product self-attention among a song's
/// present tokens (a missing modality is never attended to), then the mean of the present
/// tokens' outputs, concatenated with the presence masks: `[mean_m o_m, m_1, ..., m_M]`.
/// Attention scores are bounded like the gates' (`SCORE_BOUND`); the embeddings share one width.
#[derive(Debug, Clone)]
pub(crate) struct AttentionFusion {
    width: usize,
    modality_embeddings: Vec<Parameter>,
    query: Linear,
    key: Linear,
    value: Linear,
}

impl AttentionFusion {
    /// Attention over the embeddings of `modalities` (with their widths, all equal), drawn
    /// from `rng`: the modality embeddings (uniform in `+-1/sqrt(width)`), then the query, key
    /// and value maps.
    pub(crate) fn new(
        dev: &Cpu,
        modalities: impl Iterator<Item = (Modality, usize)>,
        rng: &mut RandomStream,
    ) -> Self {
        let mut width = 0;
        let modality_embeddings = modalities
            .map(|(modality, w)| {
                width = w;
                let values = uniform(rng, w, 1.0 / (w as f64).sqrt());
                Parameter::vector(dev, format!("fusion.attention.{modality}"), values)
            })
            .collect();
        let mut linear =
            |name: &str| Linear::new(dev, &format!("fusion.attention.{name}"), width, width, rng);
        AttentionFusion {
            query: linear("query"),
            key: linear("key"),
            value: linear("value"),
            modality_embeddings,
            width,
        }
    }

    /// Each modality's token (its masked embedding plus its modality embedding), projected to
    /// a query, a key and a value.
    fn project(&self, dev: &Cpu, embeddings: Vec<Traced>, masks: &[Vec<f32>]) -> Projections {
        let rows = masks[0].len();
        let mut projections = Projections {
            queries: Vec::with_capacity(masks.len()),
            keys: Vec::with_capacity(masks.len()),
            values: Vec::with_capacity(masks.len()),
        };
        for ((embedding, mask), position) in
            (embeddings.into_iter().zip(masks)).zip(&self.modality_embeddings)
        {
            let token = embedding * mask_columns(dev, mask, self.width)
                + broadcast_rows(position.as_vector(), rows);
            let mut token = Reused::new(token);
            (projections.queries).push(Reused::new(self.query.forward(token.take())));
            (projections.keys).push(Reused::new(self.key.forward(token.take())));
            (projections.values).push(Reused::new(self.value.forward(token.take())));
        }
        projections
    }

    /// One query's unnormalized attention to each key: `m_n exp(q . k_n / sqrt(width))`,
    /// bounded, zero for a missing modality.
    fn attention(
        &self,
        query: &mut Reused<(usize, usize)>,
        keys: &mut [Reused<(usize, usize)>],
        masks: &[Vec<f32>],
    ) -> Vec<Column> {
        let scale = 1.0 / (self.width as f32).sqrt();
        (keys.iter_mut().zip(masks))
            .map(|(key, mask)| present_exp(row_dot(query.take(), key.take()) * scale, mask))
            .collect()
    }
}

/// The tokens' queries, keys and values, per modality.
struct Projections {
    queries: Vec<Reused<(usize, usize)>>,
    keys: Vec<Reused<(usize, usize)>>,
    values: Vec<Reused<(usize, usize)>>,
}

impl Fusion for AttentionFusion {
    fn output_width(&self) -> usize {
        self.width + self.modality_embeddings.len()
    }

    fn fuse(&self, dev: &Cpu, embeddings: Vec<Traced>, masks: &[Vec<f32>]) -> Traced {
        let Projections {
            mut queries,
            mut keys,
            mut values,
        } = self.project(dev, embeddings, masks);
        // The mean over a song's present tokens (no token for a song without any).
        let pool = presence_shares(masks, 0.0);
        let mut outputs = Vec::with_capacity(masks.len());
        for (m, query) in queries.iter_mut().enumerate() {
            let weights = self.attention(query, &mut keys, masks);
            let shared: Vec<Reused<(usize, usize)>> =
                (values.iter_mut()).map(|v| Reused::new(v.take())).collect();
            let output = weighted_mean(weights, shared, self.width);
            outputs.push(output * mask_columns(dev, &pool[m], self.width));
        }
        let pooled = sum_all(outputs);
        (pooled, presence_flags(dev, masks)).concat_along(Axis::<1>)
    }

    /// The attention each modality receives, averaged over the song's present queries.
    fn modality_weights(
        &self,
        dev: &Cpu,
        embeddings: Vec<Traced>,
        masks: &[Vec<f32>],
    ) -> Option<Vec<f32>> {
        let Projections {
            mut queries,
            mut keys,
            ..
        } = self.project(dev, embeddings, masks);
        let pool = presence_shares(masks, 0.0);
        let (rows, count) = (masks[0].len(), masks.len());
        let mut received = vec![0.0; rows * count];
        for (m, query) in queries.iter_mut().enumerate() {
            let shares = shares_of(&self.attention(query, &mut keys, masks));
            for (i, share) in shares.into_iter().enumerate() {
                received[i] += share * pool[m][i / count];
            }
        }
        Some(received)
    }

    fn parameters(&mut self) -> Vec<&mut Parameter> {
        let mut all: Vec<&mut Parameter> = self.modality_embeddings.iter_mut().collect();
        all.extend(self.query.parameters());
        all.extend(self.key.parameters());
        all.extend(self.value.parameters());
        all
    }

    fn parameters_ref(&self) -> Vec<&Parameter> {
        let mut all: Vec<&Parameter> = self.modality_embeddings.iter().collect();
        all.extend(self.query.parameters_ref());
        all.extend(self.key.parameters_ref());
        all.extend(self.value.parameters_ref());
        all
    }
}
