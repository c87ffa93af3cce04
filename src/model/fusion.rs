//! How modality embeddings become one vector for the classifier head.
//!
//! Every fusion sees the encoders' outputs together with each song's presence mask, so a
//! missing modality is always flagged, never a silent zero. [`ConcatFusion`] is the
//! intermediate fusion of the student pipeline done right; gated or attention fusions implement
//! the same [`Fusion`] trait (with their own parameters) and are selected by `model.fusion`.

use dfdx::shapes::Axis;
use dfdx::tensor::{Cpu, TensorFromVec};
use dfdx::tensor_ops::TryConcatAlong;

use super::layers::{Matrix, Parameter, Tape, Traced};

/// Combines per-modality embeddings and presence masks into one representation per song.
pub(crate) trait Fusion: std::fmt::Debug + Send {
    /// Width of the fused representation.
    fn output_width(&self) -> usize;

    /// `embeddings[m]` is rows x (width of modality m); `masks[m][row]` is 1 where the song has
    /// modality m, 0 where it is missing or dropped, and in between for mixed-up songs.
    fn fuse(&self, dev: &Cpu, embeddings: Vec<Traced>, masks: &[Vec<f32>]) -> Traced;

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
fn mask_columns(dev: &Cpu, mask: &[f32], width: usize) -> Matrix {
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
        let rows = masks[0].len();
        let mut fused: Option<Traced> = None;
        for ((embedding, mask), &width) in embeddings.into_iter().zip(masks).zip(&self.widths) {
            let masked = embedding * mask_columns(dev, mask, width);
            fused = Some(match fused {
                None => masked,
                Some(left) => (left, masked).concat_along(Axis::<1>),
            });
        }
        let flags: Vec<f32> = (0..rows)
            .flat_map(|row| masks.iter().map(move |mask| mask[row]))
            .collect();
        let flags = dev
            .tensor_from_vec(flags, (rows, masks.len()))
            .retaped::<Tape>();
        match fused {
            Some(left) => (left, flags).concat_along(Axis::<1>),
            None => flags,
        }
    }
}
