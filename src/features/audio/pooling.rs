//! Frame statistics pooled into the song vector, and their names.

use super::Pooling;

/// Suffixes one pooling adds to a feature name, in vector order.
pub fn suffixes(pooling: Pooling) -> &'static [&'static str] {
    match pooling {
        Pooling::Mean => &["mean"],
        Pooling::Std => &["std"],
        Pooling::Percentiles => &["p10", "p50", "p90"],
        Pooling::Skew => &["skew"],
        Pooling::Kurtosis => &["kurtosis"],
    }
}

/// Names for a frame feature `base` under `pooling`, e.g. `mfcc.3.mean`.
pub fn pooled_names(base: &str, pooling: &[Pooling]) -> impl Iterator<Item = String> {
    pooling
        .iter()
        .flat_map(|p| suffixes(*p).iter())
        .map(move |s| format!("{base}.{s}"))
}

/// Appends the statistics of `values` to `out` in the order of `pooling`: population std
/// (`np.std`), linear-interpolated percentiles (`np.percentile`), biased skewness and excess
/// kurtosis (`scipy.stats.skew` / `kurtosis` defaults). A constant series has skew and
/// kurtosis 0 and an empty one all 0, so the vector stays finite.
pub fn pool_into(values: &[f32], pooling: &[Pooling], out: &mut Vec<f32>) {
    let n = values.len() as f64;
    let mean = if values.is_empty() {
        0.0
    } else {
        values.iter().map(|&v| f64::from(v)).sum::<f64>() / n
    };
    let moment = |k: i32| -> f64 {
        if values.is_empty() {
            0.0
        } else {
            values
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(k))
                .sum::<f64>()
                / n
        }
    };
    let m2 = moment(2);
    // Relative threshold: f32 round-off makes a constant series' variance tiny, not 0.
    let flat = m2 <= 1e-12 * mean.abs().max(1e-30).powi(2) || m2 == 0.0;
    for p in pooling {
        match p {
            Pooling::Mean => out.push(mean as f32),
            Pooling::Std => out.push(m2.sqrt() as f32),
            Pooling::Percentiles => {
                let mut sorted = values.to_vec();
                sorted.sort_by(f32::total_cmp);
                for q in [10.0, 50.0, 90.0] {
                    out.push(percentile_sorted(&sorted, q));
                }
            }
            Pooling::Skew => out.push(if flat {
                0.0
            } else {
                (moment(3) / m2.powf(1.5)) as f32
            }),
            Pooling::Kurtosis => out.push(if flat {
                0.0
            } else {
                (moment(4) / (m2 * m2) - 3.0) as f32
            }),
        }
    }
}

/// `np.percentile(sorted, q)` (linear interpolation) of an ascending slice; 0 when empty.
pub fn percentile_sorted(sorted: &[f32], q: f64) -> f32 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = (pos - lo as f64) as f32;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}
