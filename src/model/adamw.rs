//! AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay and bias-corrected
//! moments, over flat `f32` parameter buffers and the gradients dfdx returns.
//!
//! dfdx 0.13 has no AdamW type and its `Adam` only updates its own `TensorCollection` modules,
//! so the update is ours. It follows PyTorch's `torch.optim.AdamW` operation for operation:
//! `p *= 1 - lr * wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//! p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`. Every parameter decays,
//! biases and norm gains included, as `AdamW(model.parameters())` does.

use crate::spec::ScheduleSection;

/// Optimizer state for a fixed list of parameter buffers.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamW {
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    steps: i32,
    /// First and second moments, one pair per parameter buffer, in parameter order.
    moments: Vec<(Vec<f32>, Vec<f32>)>,
}

impl AdamW {
    /// State for parameters of the given lengths, with the section's betas, epsilon and decay.
    pub fn new(section: &ScheduleSection, lengths: &[usize]) -> Self {
        AdamW {
            beta1: section.beta1,
            beta2: section.beta2,
            eps: section.eps,
            weight_decay: section.weight_decay,
            steps: 0,
            moments: lengths
                .iter()
                .map(|&n| (vec![0.0; n], vec![0.0; n]))
                .collect(),
        }
    }

    /// Updates every parameter in place with learning rate `lr`; `params[i]` pairs the i-th
    /// buffer with its gradient.
    pub fn step(&mut self, lr: f64, params: &mut [(&mut [f32], &[f32])]) {
        let step = self.begin_step(lr);
        for (index, (value, grad)) in params.iter_mut().enumerate() {
            self.update(&step, index, value, grad);
        }
    }

    /// Starts step `t + 1` at learning rate `lr`; follow with one [`AdamW::update`] per
    /// parameter (so gradients can be read one at a time from dfdx's gradient store).
    pub fn begin_step(&mut self, lr: f64) -> StepFactors {
        self.steps += 1;
        StepFactors {
            decay: (1.0 - lr * self.weight_decay) as f32,
            step_size: (lr / (1.0 - self.beta1.powi(self.steps))) as f32,
            correction2_sqrt: (1.0 - self.beta2.powi(self.steps)).sqrt() as f32,
        }
    }

    /// Updates parameter `index` in place from its gradient.
    ///
    /// # Panics
    /// If `index` or the lengths differ from those given to [`AdamW::new`] (a programming
    /// error, never a user's).
    pub fn update(&mut self, step: &StepFactors, index: usize, value: &mut [f32], grad: &[f32]) {
        let (m, v) = &mut self.moments[index];
        assert!(
            value.len() == m.len() && grad.len() == m.len(),
            "AdamW parameter {index}: length {} / gradient {} / state {}",
            value.len(),
            grad.len(),
            m.len()
        );
        let (beta1, beta2, eps) = (self.beta1 as f32, self.beta2 as f32, self.eps as f32);
        for (((p, &g), m), v) in value
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut())
            .zip(v.iter_mut())
        {
            *p *= step.decay;
            *m = beta1 * *m + (1.0 - beta1) * g;
            *v = beta2 * *v + (1.0 - beta2) * g * g;
            *p -= step.step_size * *m / (v.sqrt() / step.correction2_sqrt + eps);
        }
    }
}

/// The per-step scalars of one AdamW step, shared by every parameter.
#[derive(Debug, Clone, Copy)]
pub struct StepFactors {
    decay: f32,
    step_size: f32,
    correction2_sqrt: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section() -> ScheduleSection {
        ScheduleSection {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            ..ScheduleSection::default()
        }
    }

    #[test]
    fn first_step_matches_a_hand_computed_step() {
        // Step 1: m = 0.1 g, v = 0.001 g^2; the bias corrections undo both, so the update is
        // lr * g / (|g| + eps) after the decay: p = 2 * (1 - 0.1 * 0.01) - 0.1 * 0.5 / (0.5 + 1e-8).
        let mut adamw = AdamW::new(&section(), &[2]);
        let mut value = [2.0f32, -1.0];
        let grad = [0.5f32, -0.25];
        adamw.step(0.1, &mut [(&mut value, &grad)]);
        let expected0 = 2.0 * (1.0 - 0.001) - 0.1 * 0.5 / (0.5 + 1e-8);
        let expected1 = -(1.0 - 0.001) + 0.1 * 0.25 / (0.25 + 1e-8);
        assert!((f64::from(value[0]) - expected0).abs() < 1e-6, "{value:?}");
        assert!((f64::from(value[1]) - expected1).abs() < 1e-6, "{value:?}");
    }

    #[test]
    fn second_step_matches_a_hand_computed_step() {
        let mut adamw = AdamW::new(&section(), &[1]);
        let mut value = [1.0f32];
        adamw.step(0.01, &mut [(&mut value, &[1.0])]);
        adamw.step(0.01, &mut [(&mut value, &[3.0])]);
        // By hand in f64: after step 1, p1 = 1 * (1 - 1e-4) - 0.01 * 1 / (1 + 1e-8).
        let p1 = (1.0 - 1e-4) - 0.01 / (1.0 + 1e-8);
        let m = 0.9 * 0.1 + 0.1 * 3.0; // 0.39
        let v = 0.999 * 0.001 + 0.001 * 9.0; // 0.009999
        let m_hat = m / (1.0 - 0.9f64.powi(2));
        let v_hat = v / (1.0 - 0.999f64.powi(2));
        let p2 = p1 * (1.0 - 1e-4) - 0.01 * m_hat / (v_hat.sqrt() + 1e-8);
        assert!(
            (f64::from(value[0]) - p2).abs() < 1e-6,
            "{} vs {p2}",
            value[0]
        );
    }

    #[test]
    fn decay_is_decoupled_from_the_gradient() {
        // A zero gradient leaves only the decay: p * (1 - lr * wd), whatever the moments say.
        let mut adamw = AdamW::new(&section(), &[1]);
        let mut value = [4.0f32];
        adamw.step(0.5, &mut [(&mut value, &[0.0])]);
        assert_eq!(value[0], 4.0 * (1.0 - 0.5 * 0.01));
    }
}
