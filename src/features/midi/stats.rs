//! Small statistics shared by the feature groups; all return 0 for empty input so that every
//! feature stays finite.

/// Arithmetic mean; 0 for no values.
pub(crate) fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Population standard deviation; 0 for fewer than two values.
pub(crate) fn std_dev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

/// Weighted mean and standard deviation of `(value, weight)` pairs; zeros without weight.
pub(crate) fn weighted_mean_std(pairs: &[(f64, f64)]) -> (f64, f64) {
    let total: f64 = pairs.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return (0.0, 0.0);
    }
    let m = pairs.iter().map(|(v, w)| v * w).sum::<f64>() / total;
    let var = pairs.iter().map(|(v, w)| w * (v - m).powi(2)).sum::<f64>() / total;
    (m, var.max(0.0).sqrt())
}

/// Shannon entropy in bits of a histogram of non-negative weights; 0 when it is empty.
pub(crate) fn entropy_bits(weights: &[f64]) -> f64 {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    -weights
        .iter()
        .filter(|w| **w > 0.0)
        .map(|w| {
            let p = w / total;
            p * p.log2()
        })
        .sum::<f64>()
}

/// `numerator / denominator`, or 0 when the denominator is not positive.
pub(crate) fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

/// Each weight divided by their sum (all zeros when the sum is 0).
pub(crate) fn normalized(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| ratio(*w, total)).collect()
}

/// Pearson correlation; 0 when either side is constant.
pub(crate) fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    ratio(cov, (va * vb).sqrt())
}
