//! What the network is trained to do, per task kind: the output transform, the training loss
//! and the validation numbers early stopping reads.
//!
//! | kind           | outputs                    | loss                                   | selection        |
//! |----------------|----------------------------|----------------------------------------|------------------|
//! | classification | softmax probabilities      | soft-target cross-entropy              | macro-F1         |
//! | regression     | the values, in [-1, 1]     | MSE, or 1 - CCC averaged over targets  | mean CCC         |
//! | multi-label    | one sigmoid per tag        | binary cross-entropy (tag `pos_weight`) | macro ROC-AUC    |
//!
//! The regression and multi-label losses are ops with a hand-written gradient (the loss and
//! its derivative in f64, checked below against finite differences and against PyTorch's
//! autograd, `scripts/parity/objectives.py`); cross-entropy stays on dfdx's ops, whose every
//! training step is checked against PyTorch in `tests/model_reference.rs`.

use dfdx::shapes::{HasShape, Rank0};
use dfdx::tensor::{Cpu, PutTape, SplitTape, Tape as _, Tensor, TensorFrom};

use crate::eval::multilabel::macro_roc_auc;
use crate::eval::regression::{Moments, score_targets};
use crate::spec::{RegressionLoss, TaskKind, TaskSection};

use super::layers::{self, Matrix, Tape, Traced};
use super::metrics;
use super::targets::Targets;

/// A scalar loss on the tape.
pub(crate) type Loss = Tensor<Rank0, f32, Cpu, Tape>;

/// The head's output transform, loss and selection metric for one task kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Objective {
    /// Softmax over classes.
    Classes,
    /// Linear outputs, one per target.
    Values(RegressionLoss),
    /// One sigmoid per tag.
    Tags,
}

/// One evaluation of the validation songs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Validation {
    /// The outputs ([`Objective::outputs`]), rows x width.
    pub(crate) outputs: Vec<f32>,
    /// The kind's loss, without augmentation, smoothing or weights.
    pub(crate) loss: f64,
    /// Classification only (NaN otherwise): share of songs whose top class is the true one.
    pub(crate) accuracy: f64,
    /// The number the best epoch is chosen by (higher is better; see the module table).
    pub(crate) score: f64,
}

impl Objective {
    /// The objective `task` asks for.
    pub(crate) fn new(task: &TaskSection) -> Objective {
        match task.kind {
            TaskKind::Classification => Objective::Classes,
            TaskKind::Regression => Objective::Values(task.loss),
            TaskKind::Multilabel => Objective::Tags,
        }
    }

    /// The objective of a kind when only outputs are asked for (the loss does not matter).
    pub(crate) fn of_kind(kind: TaskKind) -> Objective {
        Objective::new(&TaskSection {
            kind,
            ..TaskSection::default()
        })
    }

    /// The task kind this objective trains.
    pub(crate) fn kind(self) -> TaskKind {
        match self {
            Objective::Classes => TaskKind::Classification,
            Objective::Values(_) => TaskKind::Regression,
            Objective::Tags => TaskKind::Multilabel,
        }
    }

    /// The network's raw outputs (rows x `width`) as predictions.
    pub(crate) fn outputs(self, logits: &[f32], width: usize) -> Vec<f32> {
        match self {
            Objective::Classes => metrics::softmax_rows(logits, width),
            Objective::Values(_) => logits.to_vec(),
            Objective::Tags => logits
                .iter()
                .map(|&z| sigmoid(f64::from(z)) as f32)
                .collect(),
        }
    }

    /// The training loss of `logits` against the batch's `targets`; `tag_weights` are the
    /// multi-label positive weights (class weights of classification are already in the
    /// targets, see `augment::weight_targets`).
    pub(crate) fn loss(self, logits: Traced, targets: Matrix, tag_weights: Option<&[f32]>) -> Loss {
        match self {
            Objective::Classes => layers::soft_cross_entropy(logits, targets),
            Objective::Values(RegressionLoss::Mse) => {
                let targets = layers::values(&targets);
                with_gradient(logits, |z, width| mse(z, &targets, width))
            }
            Objective::Values(RegressionLoss::Ccc) => {
                let targets = layers::values(&targets);
                with_gradient(logits, |z, width| ccc_loss(z, &targets, width))
            }
            Objective::Tags => {
                let targets = layers::values(&targets);
                with_gradient(logits, |z, width| {
                    binary_cross_entropy(z, &targets, width, tag_weights)
                })
            }
        }
    }

    /// Scores `outputs` of the songs `rows` against their targets.
    pub(crate) fn validate(
        self,
        outputs: Vec<f32>,
        targets: &Targets,
        rows: &[usize],
    ) -> Validation {
        let width = targets.width();
        // Classes are scored from the labels; the other kinds from their target rows.
        let truth = || targets.rows_of(rows, 0.0);
        let (loss, accuracy, score) = match (self, targets) {
            (Objective::Classes, Targets::Classes { labels, .. }) => {
                let labels: Vec<usize> = rows.iter().map(|&r| labels[r]).collect();
                let predicted: Vec<usize> =
                    outputs.chunks_exact(width).map(metrics::argmax).collect();
                let loss = (outputs.chunks_exact(width).zip(&labels))
                    .map(|(p, &t)| -f64::from(p[t].max(f32::MIN_POSITIVE)).ln())
                    .sum::<f64>()
                    / labels.len() as f64;
                let accuracy = metrics::accuracy(&labels, &predicted);
                (
                    loss,
                    accuracy,
                    metrics::macro_f1(&labels, &predicted, width),
                )
            }
            (Objective::Values(kind), _) => {
                let truth = truth();
                let loss = match kind {
                    RegressionLoss::Mse => mse(&outputs, &truth, width).0,
                    RegressionLoss::Ccc => ccc_loss(&outputs, &truth, width).0,
                };
                (loss, f64::NAN, mean_ccc(&outputs, &truth, width))
            }
            (Objective::Tags, _) => {
                let truth = truth();
                let loss = binary_cross_entropy_of_probabilities(&outputs, &truth);
                let carried: Vec<bool> = truth.iter().map(|&t| t > 0.5).collect();
                (loss, f64::NAN, macro_roc_auc(&carried, &outputs, width))
            }
            (objective, targets) => unreachable!(
                "{:?} objective with {:?} targets: FoldData::check rejects this",
                objective.kind(),
                targets.kind()
            ),
        };
        Validation {
            outputs,
            loss,
            accuracy,
            score,
        }
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// A scalar loss of `logits` whose value and gradient (same layout as the logits) are
/// computed by `loss_and_gradient(values, width)`, recorded on the tape.
fn with_gradient(
    logits: Traced,
    loss_and_gradient: impl FnOnce(&[f32], usize) -> (f64, Vec<f64>),
) -> Loss {
    let (logits, mut tape) = logits.split_tape();
    let width = logits.shape().1;
    let (loss, gradient) = loss_and_gradient(&layers::values(&logits), width);
    let out: Tensor<Rank0, f32, Cpu> = logits.device().tensor(loss as f32);
    let out_ghost = out.clone();
    tape.add_backward_op(move |grads| {
        let upstream = grads.get_or_alloc_mut(&out_ghost)?[0];
        let grad_in = grads.get_or_alloc_mut(&logits)?;
        for (g, &d) in grad_in.iter_mut().zip(&gradient) {
            *g += upstream * d as f32;
        }
        Ok(())
    });
    out.put_tape(tape)
}

/// Mean squared error over every (song, target) and its gradient.
pub(crate) fn mse(predicted: &[f32], targets: &[f32], width: usize) -> (f64, Vec<f64>) {
    let n = (predicted.len() / width * width) as f64;
    let errors: Vec<f64> = (predicted.iter().zip(targets))
        .map(|(&p, &t)| f64::from(p) - f64::from(t))
        .collect();
    let loss = errors.iter().map(|e| e * e).sum::<f64>() / n;
    (loss, errors.iter().map(|e| 2.0 * e / n).collect())
}

/// `1 - mean over targets of CCC`, each target's CCC over the rows of the batch, and its
/// gradient. A target whose predictions and truth are one and the same constant has no spread
/// to score: it counts as CCC 0 with no gradient (a one-song batch, say).
pub(crate) fn ccc_loss(predicted: &[f32], targets: &[f32], width: usize) -> (f64, Vec<f64>) {
    let rows = predicted.len() / width;
    let n = rows as f64;
    let mut gradient = vec![0.0; rows * width];
    let mut total = 0.0;
    for k in 0..width {
        let p: Vec<f64> = (0..rows)
            .map(|i| f64::from(predicted[i * width + k]))
            .collect();
        let t: Vec<f64> = (0..rows)
            .map(|i| f64::from(targets[i * width + k]))
            .collect();
        let m = Moments::of(&t, &p);
        let bias = m.mean_p - m.mean_t;
        let spread = m.var_p + m.var_t + bias * bias;
        if spread <= 0.0 {
            continue;
        }
        total += 2.0 * m.cov / spread;
        for i in 0..rows {
            // d CCC / d p_i = (2/n) [(t_i - mean_t) spread - 2 cov ((p_i - mean_p) + bias)] / spread^2
            let d = (2.0 / n)
                * ((t[i] - m.mean_t) * spread - 2.0 * m.cov * ((p[i] - m.mean_p) + bias))
                / (spread * spread);
            gradient[i * width + k] = -d / width as f64;
        }
    }
    (1.0 - total / width as f64, gradient)
}

/// Mean over targets of each target's CCC ([`crate::eval::regression`]'s definition).
fn mean_ccc(predicted: &[f32], targets: &[f32], width: usize) -> f64 {
    let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    let scores = score_targets(&wide(targets), &wide(predicted), width);
    scores.iter().map(|s| s.ccc).sum::<f64>() / width as f64
}

/// Binary cross-entropy with logits over every (song, tag), as PyTorch's
/// `BCEWithLogitsLoss(pos_weight=w)`: `-[w t ln s(z) + (1 - t) ln(1 - s(z))]`, mean over songs
/// and tags; and its gradient `(1 + (w - 1) t) s(z) - w t`.
pub(crate) fn binary_cross_entropy(
    logits: &[f32],
    targets: &[f32],
    width: usize,
    tag_weights: Option<&[f32]>,
) -> (f64, Vec<f64>) {
    let n = logits.len() as f64;
    let mut loss = 0.0;
    let mut gradient = Vec::with_capacity(logits.len());
    for (i, (&z, &t)) in logits.iter().zip(targets).enumerate() {
        let (z, t) = (f64::from(z), f64::from(t));
        let w = tag_weights.map_or(1.0, |w| f64::from(w[i % width]));
        // -[w t ln s(z) + (1 - t) ln s(-z)] = (1 + (w - 1) t) softplus(z) - w t z
        let scale = 1.0 + (w - 1.0) * t;
        loss += scale * softplus(z) - w * t * z;
        gradient.push((scale * sigmoid(z) - w * t) / n);
    }
    (loss / n, gradient)
}

/// Unweighted binary cross-entropy of probabilities, clamped away from 0 and 1.
fn binary_cross_entropy_of_probabilities(probabilities: &[f32], targets: &[f32]) -> f64 {
    let clamp = |p: f64| p.clamp(1e-7, 1.0 - 1e-7);
    (probabilities.iter().zip(targets))
        .map(|(&p, &t)| {
            let (p, t) = (clamp(f64::from(p)), f64::from(t));
            -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
        })
        .sum::<f64>()
        / probabilities.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `loss` at `x`, against `gradient`.
    fn check_gradient(x: &[f32], loss: impl Fn(&[f32]) -> (f64, Vec<f64>)) {
        let (_, gradient) = loss(x);
        for i in 0..x.len() {
            let h = 1e-3;
            let mut up = x.to_vec();
            up[i] += h;
            let mut down = x.to_vec();
            down[i] -= h;
            let numeric = (loss(&up).0 - loss(&down).0) / (2.0 * f64::from(h));
            assert!(
                (numeric - gradient[i]).abs() < 1e-4 * (1.0 + numeric.abs()),
                "entry {i}: numeric {numeric}, analytic {}",
                gradient[i]
            );
        }
    }

    const PREDICTED: [f32; 8] = [0.3, -0.2, 0.9, 0.1, -0.5, 0.4, 0.2, -0.7];
    const TARGETS: [f32; 8] = [0.5, -0.1, 0.7, 0.3, -0.9, 0.2, 0.1, -0.4];

    #[test]
    fn each_loss_gradient_matches_finite_differences() {
        check_gradient(&PREDICTED, |p| mse(p, &TARGETS, 2));
        check_gradient(&PREDICTED, |p| ccc_loss(p, &TARGETS, 2));
        let tags = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.9, 0.05];
        check_gradient(&PREDICTED, |z| binary_cross_entropy(z, &tags, 2, None));
        check_gradient(&PREDICTED, |z| {
            binary_cross_entropy(z, &tags, 2, Some(&[3.0, 0.5]))
        });
    }

    /// `scripts/parity/objectives.py`: PyTorch's losses and autograd gradients in float64.
    #[test]
    fn losses_and_gradients_match_pytorch() {
        let reference: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/model/objectives.json"))
                .unwrap();
        let floats = |v: &serde_json::Value| -> Vec<f32> {
            let rows = v.as_array().unwrap().iter();
            let flat = rows.flat_map(|r| r.as_array().map_or(vec![r.clone()], Clone::clone));
            flat.map(|x| x.as_f64().unwrap() as f32).collect()
        };
        let logits = floats(&reference["logits"]);
        let pos_weight = floats(&reference["pos_weight"]);
        let width = 3;
        for case in reference["cases"].as_array().unwrap() {
            let targets = floats(&case["targets"]);
            let (loss, gradient) = match case["name"].as_str().unwrap() {
                "mse" => mse(&logits, &targets, width),
                "ccc" => ccc_loss(&logits, &targets, width),
                "bce" => binary_cross_entropy(&logits, &targets, width, None),
                "bce_pos_weight" => {
                    binary_cross_entropy(&logits, &targets, width, Some(&pos_weight))
                }
                other => panic!("unknown case {other}"),
            };
            let expected = case["loss"].as_f64().unwrap();
            assert!(
                (loss - expected).abs() < 1e-6,
                "{}: {loss} vs {expected}",
                case["name"]
            );
            let expected: Vec<f32> = floats(&case["gradient"]);
            for (got, want) in gradient.iter().zip(&expected) {
                assert!(
                    (got - f64::from(*want)).abs() < 1e-6,
                    "{}: {gradient:?}",
                    case["name"]
                );
            }
        }
    }

    #[test]
    fn ccc_loss_is_zero_for_a_perfect_prediction_and_one_for_a_constant() {
        let (perfect, _) = ccc_loss(&TARGETS, &TARGETS, 2);
        assert!(perfect.abs() < 1e-12, "{perfect}");
        let (constant, gradient) = ccc_loss(&[0.0; 8], &TARGETS, 2);
        assert!((constant - 1.0).abs() < 1e-12, "{constant}");
        // A constant prediction still gets a gradient towards the truth's shape.
        assert!(gradient.iter().any(|g| *g != 0.0));
        // One song: no spread, CCC 0, no gradient, no NaN.
        let (single, gradient) = ccc_loss(&[0.2], &[0.2], 1);
        assert_eq!((single, gradient), (1.0, vec![0.0]));
    }

    #[test]
    fn ccc_loss_agrees_with_the_metric() {
        let (loss, _) = ccc_loss(&PREDICTED, &TARGETS, 2);
        let metric = mean_ccc(&PREDICTED, &TARGETS, 2);
        assert!((loss - (1.0 - metric)).abs() < 1e-12, "{loss} vs {metric}");
    }

    #[test]
    fn binary_cross_entropy_of_logits_and_of_probabilities_agree() {
        let tags = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0];
        let (from_logits, _) = binary_cross_entropy(&PREDICTED, &tags, 2, None);
        let probabilities = Objective::Tags.outputs(&PREDICTED, 2);
        let from_probabilities = binary_cross_entropy_of_probabilities(&probabilities, &tags);
        assert!((from_logits - from_probabilities).abs() < 1e-6);
        // A positive weight of 1 is no weight.
        let (weighted, _) = binary_cross_entropy(&PREDICTED, &tags, 2, Some(&[1.0, 1.0]));
        assert_eq!(weighted, from_logits);
    }
}
