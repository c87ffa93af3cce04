//! Training-time augmentation of a mini-batch, and the batch itself as plain arrays.
//!
//! Applied in this order, each drawing from the fold's augmentation stream:
//! 1. Gaussian feature noise on the (already normalized) features of present modalities;
//! 2. modality dropout: each present modality of a song is hidden with probability `p`, but
//!    never every present one (one survivor is then kept, chosen uniformly);
//! 3. mixup (Zhang et al. 2018): one `lambda ~ Beta(alpha, alpha)` per batch and a random
//!    partner per song; inputs, presence masks and soft targets are mixed alike.
//!
//! Targets are label-smoothed before mixing (`(1 - eps) onehot + eps / K`), so every target row
//! stays a probability distribution.

use crate::rng::RandomStream;

use super::ModalityInput;

/// A mini-batch as plain arrays, before it becomes tensors.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Batch {
    pub(crate) rows: usize,
    /// Per modality: rows x width, row-major; zeros where the modality is absent.
    pub(crate) features: Vec<Vec<f32>>,
    pub(crate) widths: Vec<usize>,
    /// Per modality, per row: presence weight (0 or 1; fractional after mixup).
    pub(crate) masks: Vec<Vec<f32>>,
    /// rows x classes target distributions.
    pub(crate) targets: Vec<f32>,
    pub(crate) classes: usize,
}

impl Batch {
    /// The songs `rows` of `inputs`, with label-smoothed one-hot targets.
    pub(crate) fn gather(
        inputs: &[ModalityInput],
        rows: &[usize],
        labels: &[usize],
        classes: usize,
        smoothing: f64,
    ) -> Self {
        let features = (inputs.iter())
            .map(|input| {
                let mut out = Vec::with_capacity(rows.len() * input.width);
                for &row in rows {
                    if input.present[row] {
                        out.extend_from_slice(&input.features[row * input.width..][..input.width]);
                    } else {
                        // Absent means zero input whatever the caller stored there.
                        out.extend(std::iter::repeat_n(0.0, input.width));
                    }
                }
                out
            })
            .collect();
        let masks = (inputs.iter())
            .map(|input| {
                rows.iter()
                    .map(|&r| f32::from(u8::from(input.present[r])))
                    .collect()
            })
            .collect();
        let batch_labels: Vec<usize> = rows.iter().map(|&r| labels[r]).collect();
        Batch {
            rows: rows.len(),
            features,
            widths: inputs.iter().map(|i| i.width).collect(),
            masks,
            targets: smoothed_targets(&batch_labels, classes, smoothing),
            classes,
        }
    }
}

/// One-hot targets with `smoothing` mass spread evenly over all classes.
pub(crate) fn smoothed_targets(labels: &[usize], classes: usize, smoothing: f64) -> Vec<f32> {
    let off = (smoothing / classes as f64) as f32;
    let on = (1.0 - smoothing + smoothing / classes as f64) as f32;
    let mut targets = vec![off; labels.len() * classes];
    for (i, &label) in labels.iter().enumerate() {
        targets[i * classes + label] = on;
    }
    targets
}

/// Adds `N(0, std^2)` noise to every feature of every present modality.
pub(crate) fn add_feature_noise(batch: &mut Batch, std: f64, rng: &mut RandomStream) {
    if std == 0.0 {
        return;
    }
    for ((features, mask), &width) in batch
        .features
        .iter_mut()
        .zip(&batch.masks)
        .zip(&batch.widths)
    {
        for (row, &present) in mask.iter().enumerate() {
            if present > 0.0 {
                fill_noise(&mut features[row * width..][..width], std, rng);
            }
        }
    }
}

/// Adds `N(0, std^2)` to each value; Box-Muller using both outputs of each pair of uniforms
/// (the noise is the hot spot of a step on wide features).
fn fill_noise(values: &mut [f32], std: f64, rng: &mut RandomStream) {
    let mut chunks = values.chunks_exact_mut(2);
    for pair in &mut chunks {
        let (a, b) = normal_pair(rng);
        pair[0] += (a * std) as f32;
        pair[1] += (b * std) as f32;
    }
    if let [last] = chunks.into_remainder() {
        *last += (normal_pair(rng).0 * std) as f32;
    }
}

fn normal_pair(rng: &mut RandomStream) -> (f64, f64) {
    // 1 - uniform() lies in (0, 1], so the logarithm is finite.
    let radius = (-2.0 * (1.0 - rng.uniform()).ln()).sqrt();
    let (sin, cos) = (std::f64::consts::TAU * rng.uniform()).sin_cos();
    (radius * cos, radius * sin)
}

/// Hides each present modality of each song with probability `p`, keeping at least one.
pub(crate) fn drop_modalities(batch: &mut Batch, p: f64, rng: &mut RandomStream) {
    if p == 0.0 || batch.masks.len() < 2 {
        return;
    }
    for row in 0..batch.rows {
        let present: Vec<usize> = (0..batch.masks.len())
            .filter(|&m| batch.masks[m][row] > 0.0)
            .collect();
        if present.len() < 2 {
            continue;
        }
        let mut dropped: Vec<usize> = present.iter().copied().filter(|_| rng.chance(p)).collect();
        if dropped.len() == present.len() {
            let survivor = rng.below(dropped.len());
            dropped.remove(survivor);
        }
        for m in dropped {
            batch.masks[m][row] = 0.0;
            let width = batch.widths[m];
            batch.features[m][row * width..][..width].fill(0.0);
        }
    }
}

/// Mixes every song with a random partner: `x = lambda x_i + (1 - lambda) x_partner` for
/// features, masks and targets alike. `alpha = 0` turns it off.
pub(crate) fn mixup(batch: &mut Batch, alpha: f64, rng: &mut RandomStream) {
    if alpha == 0.0 || batch.rows < 2 {
        return;
    }
    let lambda = sample_beta(alpha, rng) as f32;
    let mut partner: Vec<usize> = (0..batch.rows).collect();
    rng.shuffle(&mut partner);
    for (features, &width) in batch.features.iter_mut().zip(&batch.widths) {
        mix_rows(features, width, &partner, lambda);
    }
    for mask in &mut batch.masks {
        mix_rows(mask, 1, &partner, lambda);
    }
    mix_rows(&mut batch.targets, batch.classes, &partner, lambda);
}

fn mix_rows(values: &mut [f32], width: usize, partner: &[usize], lambda: f32) {
    let original = values.to_vec();
    for (row, &other) in partner.iter().enumerate() {
        let mine = &mut values[row * width..][..width];
        let theirs = &original[other * width..][..width];
        for (x, y) in mine.iter_mut().zip(theirs) {
            *x = lambda * *x + (1.0 - lambda) * y;
        }
    }
}

/// Multiplies each target column by its class weight.
pub(crate) fn weight_targets(batch: &mut Batch, class_weights: &[f32]) {
    for row in batch.targets.chunks_exact_mut(batch.classes) {
        for (t, w) in row.iter_mut().zip(class_weights) {
            *t *= w;
        }
    }
}

/// A `Beta(alpha, alpha)` draw as `X / (X + Y)` with `X, Y ~ Gamma(alpha)`.
pub(crate) fn sample_beta(alpha: f64, rng: &mut RandomStream) -> f64 {
    let x = sample_gamma(alpha, rng);
    let y = sample_gamma(alpha, rng);
    if x + y > 0.0 { x / (x + y) } else { 0.5 }
}

/// A `Gamma(shape, 1)` draw (Marsaglia & Tsang 2000; shapes below 1 boosted by `U^(1/shape)`).
fn sample_gamma(shape: f64, rng: &mut RandomStream) -> f64 {
    if shape < 1.0 {
        let boost = (1.0 - rng.uniform()).powf(1.0 / shape);
        return sample_gamma(shape + 1.0, rng) * boost;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = rng.standard_normal();
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = 1.0 - rng.uniform();
        if u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_draws_have_the_right_mean_and_variance() {
        let mut rng = RandomStream::new(1, "test/beta");
        let alpha = 0.4;
        let draws: Vec<f64> = (0..20_000).map(|_| sample_beta(alpha, &mut rng)).collect();
        assert!(draws.iter().all(|d| (0.0..=1.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)) = 0.1389 for a = 0.4.
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert!(
            (var - 1.0 / (4.0 * (2.0 * alpha + 1.0))).abs() < 0.005,
            "{var}"
        );
    }

    #[test]
    fn noise_pairs_are_standard_normal() {
        let mut rng = RandomStream::new(1, "test/noise");
        let mut values = vec![0.0f32; 20_001];
        fill_noise(&mut values, 2.0, &mut rng);
        let n = values.len() as f64;
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(
            mean.abs() < 0.05 && (var.sqrt() - 2.0).abs() < 0.05,
            "{mean} {var}"
        );
        assert!(values.iter().all(|v| *v != 0.0));
    }
}
