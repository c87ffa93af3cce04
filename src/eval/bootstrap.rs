//! Percentile bootstrap confidence intervals over songs, shared by every task kind's metrics.

use crate::rng::RandomStream;

use super::quantile;

/// A two-sided confidence interval around a point estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The metric on the songs as they are.
    pub estimate: f64,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// Percentile bootstrap 95 % intervals of `N` statistics over the same resamples: each of
/// `resamples` draws takes `songs` song indices with replacement from `stream` (one
/// `below(songs)` per index, in order) and `statistics` computes every statistic on them.
/// A statistic that is NaN on a draw (a tag with one class only in the resample, say) skips
/// that draw. With no resamples, or no finite draw, both bounds equal the estimate.
pub fn percentile_bootstrap<const N: usize>(
    songs: usize,
    resamples: usize,
    stream: &mut RandomStream,
    estimates: [f64; N],
    mut statistics: impl FnMut(&[usize]) -> [f64; N],
) -> [Interval; N] {
    let mut draws: [Vec<f64>; N] = std::array::from_fn(|_| Vec::with_capacity(resamples));
    let mut resample = vec![0; songs];
    for _ in 0..resamples {
        for slot in &mut resample {
            *slot = stream.below(songs);
        }
        for (values, value) in draws.iter_mut().zip(statistics(&resample)) {
            if !value.is_nan() {
                values.push(value);
            }
        }
    }
    let mut draws = draws.into_iter();
    estimates.map(|estimate| percentile_interval(estimate, draws.next().unwrap_or_default()))
}

fn percentile_interval(estimate: f64, mut draws: Vec<f64>) -> Interval {
    if draws.is_empty() {
        return Interval {
            estimate,
            low: estimate,
            high: estimate,
        };
    }
    draws.sort_by(f64::total_cmp);
    Interval {
        estimate,
        low: quantile(&draws, 0.025),
        high: quantile(&draws, 0.975),
    }
}
