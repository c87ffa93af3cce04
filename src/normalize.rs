//! Per-fold feature scaling: parameters fitted on one fold's training songs only, then applied
//! to every song (training, validation and hold-out test), so no statistic of a song the model
//! is judged on leaks into its inputs (the student pipeline fitted on all songs).
//!
//! A [`Normalizer`] is two steps, both fitted on the training rows:
//!
//! 1. optional **TF-IDF** ([`Tfidf`]) on the hashed bag-of-words columns (`bow_*`) of lyrics,
//!    as scikit-learn's `TfidfTransformer(smooth_idf=True, norm="l2")`:
//!    `idf_j = ln((1 + n) / (1 + df_j)) + 1`, with `n` training songs and `df_j` of them
//!    having term `j` (value > 0); each song's bow block is multiplied by `idf` and divided by
//!    its Euclidean norm (a zero block stays zero). The extractor already applied sublinear tf.
//!    The norm is what makes IDF matter here: a per-column factor alone is undone exactly by
//!    any column scaling that follows;
//! 2. a **[`Scaler`]** over the columns that vary on the training rows ("kept"): columns with
//!    zero spread (max = min) there carry nothing the model could learn from and are dropped,
//!    so nothing divides by zero. Kept column `i` becomes `(x - center_i) / scale_i`:
//!
//! | method     | center                   | scale                                    |
//! |------------|--------------------------|------------------------------------------|
//! | `standard` | mean                     | population standard deviation (ddof 0)   |
//! | `robust`   | median                   | IQR = q75 - q25 (numpy's linear quantiles); 1 where the IQR is 0 |
//! | `minmax`   | min                      | max - min                                |
//! | `l2`       | 0                        | 1; then each row divided by its norm     |
//! | `none`     | 0                        | 1                                        |
//!
//! `robust` keeps scikit-learn's `RobustScaler` rule for a zero IQR (a column constant on half
//! its songs but not all): scale 1, centred only. Statistics are computed in f64.

use crate::spec::Scaling;

/// Centre and scale per kept column, fitted on training rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaler {
    /// The method fitted.
    pub method: Scaling,
    /// Indices of the input columns kept (those that vary on the training rows).
    pub kept: Vec<usize>,
    /// Subtracted from each kept column.
    pub center: Vec<f64>,
    /// Each kept column is divided by it; always positive and finite.
    pub scale: Vec<f64>,
}

impl Scaler {
    /// Fits `method` on `train` (rows of equal width `width`).
    pub fn fit(method: Scaling, train: &[Vec<f64>], width: usize) -> Scaler {
        let mut scaler = Scaler {
            method,
            kept: Vec::new(),
            center: Vec::new(),
            scale: Vec::new(),
        };
        for j in 0..width {
            let column: Vec<f64> = train.iter().map(|row| row[j]).collect();
            let Some((min, max)) = range(&column) else {
                continue;
            };
            if max <= min {
                continue;
            }
            let (center, scale) = match method {
                Scaling::Standard => {
                    let mean = mean(&column);
                    (mean, population_std(&column, mean))
                }
                Scaling::Robust => {
                    let mut sorted = column;
                    sorted.sort_by(f64::total_cmp);
                    let iqr = quantile(&sorted, 0.75) - quantile(&sorted, 0.25);
                    (quantile(&sorted, 0.5), iqr)
                }
                Scaling::Minmax => (min, max - min),
                Scaling::L2 | Scaling::None => (0.0, 1.0),
            };
            scaler.kept.push(j);
            scaler.center.push(center);
            // A spread that rounds to zero or overflows must not turn values into inf or NaN.
            scaler.scale.push(if scale > 0.0 && scale.is_finite() {
                scale
            } else {
                1.0
            });
        }
        scaler
    }

    /// `row` (full input width) scaled, kept columns only.
    pub fn transform(&self, row: &[f64]) -> Vec<f64> {
        let mut out: Vec<f64> = self
            .kept
            .iter()
            .zip(self.center.iter().zip(&self.scale))
            .map(|(&j, (c, s))| (row[j] - c) / s)
            .collect();
        if self.method == Scaling::L2 {
            unit_length(&mut out);
        }
        out
    }
}

/// Inverse document frequencies of the bag-of-words columns, fitted on training rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Tfidf {
    /// Indices of the bag-of-words columns in the input rows.
    pub columns: Vec<usize>,
    /// `ln((1 + n) / (1 + df)) + 1` per column of `columns`.
    pub idf: Vec<f64>,
}

impl Tfidf {
    /// Document frequencies of `columns` over `train`.
    pub fn fit(columns: Vec<usize>, train: &[Vec<f64>]) -> Tfidf {
        let n = train.len() as f64;
        let idf = columns
            .iter()
            .map(|&j| {
                let df = train.iter().filter(|row| row[j] > 0.0).count() as f64;
                ((1.0 + n) / (1.0 + df)).ln() + 1.0
            })
            .collect();
        Tfidf { columns, idf }
    }

    /// Weights the bow columns of `row` by idf and scales them to unit length, in place.
    pub fn apply(&self, row: &mut [f64]) {
        let mut block: Vec<f64> = self
            .columns
            .iter()
            .zip(&self.idf)
            .map(|(&j, idf)| row[j] * idf)
            .collect();
        unit_length(&mut block);
        for (&j, v) in self.columns.iter().zip(block) {
            row[j] = v;
        }
    }
}

/// TF-IDF (optional) then a scaler, fitted together on one fold's training rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalizer {
    /// Applied first, when on.
    pub tfidf: Option<Tfidf>,
    /// Applied to the TF-IDF output.
    pub scaler: Scaler,
}

impl Normalizer {
    /// Fits on `train` (rows of width `width`); `bow_columns` get TF-IDF when `Some`.
    pub fn fit(
        method: Scaling,
        bow_columns: Option<Vec<usize>>,
        train: &[&[f32]],
        width: usize,
    ) -> Normalizer {
        let mut rows: Vec<Vec<f64>> = train.iter().map(|r| widen(r)).collect();
        let tfidf = bow_columns.map(|columns| Tfidf::fit(columns, &rows));
        if let Some(tfidf) = &tfidf {
            rows.iter_mut().for_each(|row| tfidf.apply(row));
        }
        Normalizer {
            tfidf,
            scaler: Scaler::fit(method, &rows, width),
        }
    }

    /// One row, normalized: the kept columns, as f32.
    pub fn transform(&self, row: &[f32]) -> Vec<f32> {
        let mut row = widen(row);
        if let Some(tfidf) = &self.tfidf {
            tfidf.apply(&mut row);
        }
        self.scaler
            .transform(&row)
            .into_iter()
            .map(|v| v as f32)
            .collect()
    }
}

fn widen(row: &[f32]) -> Vec<f64> {
    row.iter().map(|&v| f64::from(v)).collect()
}

/// Divides `values` by their Euclidean norm; a zero vector stays zero.
fn unit_length(values: &mut [f64]) {
    let norm = values.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        values.iter_mut().for_each(|v| *v /= norm);
    }
}

fn range(values: &[f64]) -> Option<(f64, f64)> {
    let min = values.iter().copied().reduce(f64::min)?;
    let max = values.iter().copied().reduce(f64::max)?;
    Some((min, max))
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn population_std(values: &[f64], mean: f64) -> f64 {
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
    var.sqrt()
}

/// The `q` quantile of sorted, non-empty `values` by linear interpolation between closest
/// ranks (numpy's default `method="linear"`).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}
