//! Training-time augmentation of a mini-batch, and the batch itself as plain arrays.
//!
//! Applied in this order, each drawing from the fold's augmentation stream:
//! 1. Gaussian feature noise on the (already normalized) features of present modalities;
//! 2. modality dropout: each present modality of a song is hidden with probability `p`, but
//!    never every present one (one survivor is then kept, chosen uniformly);
//! 3. mixup (Zhang et al. 2018): one `lambda ~ Beta(alpha, alpha)` per batch and a random
//!    partner per song; inputs, presence masks and soft targets are mixed alike.
//!
//! Targets are label-smoothed before mixing (`(1 - eps) onehot + eps / K`), so every class
//! target row stays a probability distribution; regression targets mix as the numbers they are.

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
    /// rows x target_width: class distributions, target values or tag probabilities.
    pub(crate) targets: Vec<f32>,
    pub(crate) target_width: usize,
}

impl Batch {
    /// The songs `rows` of `inputs` with their `targets` rows (`rows.len() x target_width`,
    /// see `Targets::rows_of`).
    pub(crate) fn gather(
        inputs: &[ModalityInput],
        rows: &[usize],
        targets: Vec<f32>,
        target_width: usize,
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
        Batch {
            rows: rows.len(),
            features,
            widths: inputs.iter().map(|i| i.width).collect(),
            masks,
            targets,
            target_width,
        }
    }
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

/// Adds `N(0, std^2)` to each value. The noise is the hot spot of a training step on wide
/// features (one normal per feature per song), hence the ziggurat rather than Box-Muller.
fn fill_noise(values: &mut [f32], std: f64, rng: &mut RandomStream) {
    let ziggurat = ziggurat();
    // Each 64-bit draw feeds two samples: the random stream's cost was a third of the noise's.
    let mut pairs = values.chunks_exact_mut(2);
    for pair in &mut pairs {
        let bits = rng.next_u64();
        pair[0] += (ziggurat.sample(bits as u32, rng) * std) as f32;
        pair[1] += (ziggurat.sample((bits >> 32) as u32, rng) * std) as f32;
    }
    if let [last] = pairs.into_remainder() {
        *last += (ziggurat.sample(rng.next_u64() as u32, rng) * std) as f32;
    }
}

/// Strips of the ziggurat for the standard normal (Marsaglia & Tsang 2000, 128 strips).
struct Ziggurat {
    /// Acceptance thresholds on the 32-bit magnitude, per strip.
    k: [u32; 128],
    /// Scale from the 32-bit integer to x, per strip.
    w: [f64; 128],
    /// Density at each strip's right edge.
    f: [f64; 128],
}

/// Right edge of the base strip and the common strip area, for 128 strips.
const ZIGGURAT_R: f64 = 3.442_619_855_899;
const ZIGGURAT_AREA: f64 = 9.912_563_035_262_17e-3;

fn ziggurat() -> &'static Ziggurat {
    static TABLES: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let m = 2_147_483_648.0;
        let (mut k, mut w, mut f) = ([0u32; 128], [0.0; 128], [0.0; 128]);
        let mut d = ZIGGURAT_R;
        let mut t = d;
        let q = ZIGGURAT_AREA / (-0.5 * d * d).exp();
        k[0] = (d / q * m) as u32;
        k[1] = 0;
        w[0] = q / m;
        w[127] = d / m;
        f[0] = 1.0;
        f[127] = (-0.5 * d * d).exp();
        for i in (1..=126).rev() {
            d = (-2.0 * (ZIGGURAT_AREA / d + (-0.5 * d * d).exp()).ln()).sqrt();
            k[i + 1] = (d / t * m) as u32;
            t = d;
            f[i] = (-0.5 * d * d).exp();
            w[i] = d / m;
        }
        Ziggurat { k, w, f }
    })
}

impl Ziggurat {
    /// One standard normal draw from 32 random bits (more from `rng` only when rejected, in
    /// about 1 % of draws). The low 7 bits pick the strip and the other 25 the abscissa, so the
    /// two are independent (Doornik 2005's fix of the original's shared bits); 25 bits are
    /// finer than the f32 the noise is added to.
    fn sample(&self, mut bits: u32, rng: &mut RandomStream) -> f64 {
        loop {
            let strip = (bits & 127) as usize;
            let signed = (bits & !127) as i32;
            let x = f64::from(signed) * self.w[strip];
            if signed.unsigned_abs() < self.k[strip] {
                return x;
            }
            if strip == 0 {
                return self.tail(signed < 0, rng);
            }
            // The wedge between the strip's rectangle and the curve.
            let y = self.f[strip] + rng.uniform() * (self.f[strip - 1] - self.f[strip]);
            if y < (-0.5 * x * x).exp() {
                return x;
            }
            bits = rng.next_u64() as u32;
        }
    }

    /// A draw from the tail beyond `ZIGGURAT_R` (Marsaglia 1964).
    fn tail(&self, negative: bool, rng: &mut RandomStream) -> f64 {
        loop {
            let x = -(1.0 - rng.uniform()).ln() / ZIGGURAT_R;
            let y = -(1.0 - rng.uniform()).ln();
            if 2.0 * y >= x * x {
                let value = ZIGGURAT_R + x;
                return if negative { -value } else { value };
            }
        }
    }
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
    mix_with(batch, lambda, &partner);
}

/// Song `i` becomes `lambda * i + (1 - lambda) * partner[i]` in every array.
fn mix_with(batch: &mut Batch, lambda: f32, partner: &[usize]) {
    for (features, &width) in batch.features.iter_mut().zip(&batch.widths) {
        mix_rows(features, width, partner, lambda);
    }
    for mask in &mut batch.masks {
        mix_rows(mask, 1, partner, lambda);
    }
    mix_rows(&mut batch.targets, batch.target_width, partner, lambda);
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
    for row in batch.targets.chunks_exact_mut(batch.target_width) {
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
    use crate::modality::Modality;
    use crate::model::targets::smoothed_one_hot;

    /// `rows` songs with three modalities of widths 3, 2, 4; presence varies by row so every
    /// combination occurs, and at least one modality is always present.
    fn inputs(rows: usize, rng: &mut RandomStream) -> Vec<ModalityInput> {
        let presence: Vec<[bool; 3]> = (0..rows)
            .map(|r| {
                let bits = 1 + r % 7; // 1..=7: every non-empty subset
                [bits & 1 != 0, bits & 2 != 0, bits & 4 != 0]
            })
            .collect();
        (Modality::ALL.iter().zip([3, 2, 4]).enumerate())
            .map(|(m, (&modality, width))| ModalityInput {
                modality,
                width,
                features: (0..rows * width)
                    .map(|_| rng.normal(0.0, 1.0) as f32)
                    .collect(),
                present: presence.iter().map(|p| p[m]).collect(),
            })
            .collect()
    }

    fn batch(rows: usize, smoothing: f64, rng: &mut RandomStream) -> Batch {
        let inputs = inputs(rows, rng);
        let labels: Vec<usize> = (0..rows).map(|r| r % 5).collect();
        let targets = smoothed_one_hot(&labels, 5, smoothing);
        let all: Vec<usize> = (0..rows).collect();
        Batch::gather(&inputs, &all, targets, 5)
    }

    #[test]
    fn label_smoothing_spreads_the_given_mass() {
        let targets = smoothed_one_hot(&[2, 0], 5, 0.1);
        let expected = [0.02, 0.02, 0.92, 0.02, 0.02, 0.92, 0.02, 0.02, 0.02, 0.02];
        for (t, e) in targets.iter().zip(expected) {
            assert!((t - e).abs() < 1e-7, "{targets:?}");
        }
    }

    #[test]
    fn mixup_and_label_smoothing_give_valid_distributions() {
        let mut rng = RandomStream::new(4, "test/mixup");
        for _ in 0..50 {
            let mut b = batch(21, 0.1, &mut rng);
            let before = b.clone();
            mixup(&mut b, 0.4, &mut rng);
            for row in b.targets.chunks(5) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
                assert!(row.iter().all(|&t| (0.0..=1.0).contains(&t)));
            }
            assert!(b.masks.iter().flatten().all(|&m| (0.0..=1.0).contains(&m)));
            assert_ne!(b.targets, before.targets, "mixup mixed nothing");
        }
    }

    #[test]
    fn mixup_mixes_features_masks_and_targets_with_one_lambda_and_partner() {
        let mut rng = RandomStream::new(5, "test/mixup-alike");
        let mut b = batch(3, 0.1, &mut rng);
        let before = b.clone();
        let partner = [2, 0, 1];
        mix_with(&mut b, 0.75, &partner);
        let mixed = |old: &[f32], width: usize, row: usize, j: usize| {
            0.75 * old[row * width + j] + 0.25 * old[partner[row] * width + j]
        };
        for row in 0..3 {
            for m in 0..3 {
                assert_eq!(b.masks[m][row], mixed(&before.masks[m], 1, row, 0));
                for j in 0..b.widths[m] {
                    let expected = mixed(&before.features[m], b.widths[m], row, j);
                    assert_eq!(b.features[m][row * b.widths[m] + j], expected);
                }
            }
            for c in 0..5 {
                assert_eq!(b.targets[row * 5 + c], mixed(&before.targets, 5, row, c));
            }
        }
        // Row 0 (audio only) mixed with row 2 (audio and lyrics): lyrics is a quarter present.
        assert_eq!(b.masks[1][0], 0.25);
    }

    #[test]
    fn modality_dropout_never_removes_every_present_modality() {
        let mut rng = RandomStream::new(6, "test/modality-dropout");
        for p in [0.2, 0.9] {
            let mut b = batch(7_000, 0.0, &mut rng);
            let before = b.clone();
            drop_modalities(&mut b, p, &mut rng);
            let (mut dropped, mut eligible) = (0, 0);
            for row in 0..b.rows {
                let had: Vec<usize> = (0..3).filter(|&m| before.masks[m][row] > 0.0).collect();
                let kept: Vec<usize> = (0..3).filter(|&m| b.masks[m][row] > 0.0).collect();
                assert!(!kept.is_empty(), "row {row} lost every modality");
                assert!(kept.iter().all(|m| had.contains(m)));
                if had.len() == 1 {
                    assert_eq!(kept, had, "a single present modality is never dropped");
                }
                for m in 0..3 {
                    if before.masks[m][row] > 0.0 && b.masks[m][row] == 0.0 {
                        let w = b.widths[m];
                        assert!(b.features[m][row * w..][..w].iter().all(|&v| v == 0.0));
                    }
                }
                if had.len() == 3 {
                    eligible += 3;
                    dropped += 3 - kept.len();
                }
            }
            // With three present, a modality is dropped with probability p, less the cases
            // where all three were drawn and one came back: p - p^3 / 3.
            let rate = dropped as f64 / eligible as f64;
            let expected = p - p.powi(3) / 3.0;
            assert!(
                (rate - expected).abs() < 0.03,
                "p {p}: rate {rate} vs {expected}"
            );
        }
    }

    #[test]
    fn feature_noise_touches_only_present_modalities() {
        let mut rng = RandomStream::new(7, "test/noise-present");
        let mut b = batch(70, 0.0, &mut rng);
        let before = b.clone();
        add_feature_noise(&mut b, 0.05, &mut rng);
        for m in 0..3 {
            let w = b.widths[m];
            for row in 0..b.rows {
                let (new, old) = (
                    &b.features[m][row * w..][..w],
                    &before.features[m][row * w..][..w],
                );
                if before.masks[m][row] > 0.0 {
                    assert!(
                        new.iter()
                            .zip(old)
                            .all(|(a, b)| a != b && (a - b).abs() < 0.5)
                    );
                } else {
                    assert!(new.iter().all(|&v| v == 0.0));
                }
            }
        }
    }

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

    /// Standard normal CDF via the complementary error function's series-free bound
    /// (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7).
    fn normal_cdf(x: f64) -> f64 {
        let z = x.abs() / std::f64::consts::SQRT_2;
        let t = 1.0 / (1.0 + 0.327_591_1 * z);
        let poly = t
            * (0.254_829_592
                + t * (-0.284_496_736
                    + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
        let erf = 1.0 - poly * (-z * z).exp();
        if x >= 0.0 {
            0.5 * (1.0 + erf)
        } else {
            0.5 * (1.0 - erf)
        }
    }

    #[test]
    fn ziggurat_noise_follows_the_normal_distribution() {
        let mut rng = RandomStream::new(1, "test/noise");
        let mut values = vec![0.0f32; 400_000];
        fill_noise(&mut values, 1.0, &mut rng);
        // Bins of width 0.25 from -4 to 4 plus both tails, against the normal's mass.
        let edges: Vec<f64> = (0..=32).map(|i| -4.0 + 0.25 * f64::from(i)).collect();
        let n = values.len() as f64;
        let mut chi2 = 0.0;
        for bin in 0..=edges.len() {
            let low = if bin == 0 {
                f64::NEG_INFINITY
            } else {
                edges[bin - 1]
            };
            let high = edges.get(bin).copied().unwrap_or(f64::INFINITY);
            let observed = (values.iter())
                .filter(|&&v| (low..high).contains(&f64::from(v)))
                .count() as f64;
            let expected = n * (normal_cdf(high) - normal_cdf(low));
            chi2 += (observed - expected).powi(2) / expected;
        }
        // 33 degrees of freedom: the 99.9 % quantile is 63.9.
        assert!(chi2 < 63.9, "chi-square {chi2}");
        let scaled = {
            let mut v = vec![1.0f32; 10_000];
            fill_noise(&mut v, 0.05, &mut rng);
            v
        };
        let mean = scaled.iter().map(|&v| f64::from(v)).sum::<f64>() / 1e4;
        let sd = (scaled
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / 1e4)
            .sqrt();
        assert!(
            (mean - 1.0).abs() < 0.003 && (sd - 0.05).abs() < 0.003,
            "{mean} {sd}"
        );
    }
}
