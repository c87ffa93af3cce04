//! Per-fold normalization against hand-computed values: each scaling method, constant columns,
//! degenerate rows, and TF-IDF's idf.

use mer::normalize::{Normalizer, Scaler, Tfidf};
use mer::spec::Scaling;

fn rows(values: &[&[f64]]) -> Vec<Vec<f64>> {
    values.iter().map(|r| r.to_vec()).collect()
}

fn close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}");
    }
}

/// Column 0: 1, 2, 3, 6; column 1 constant 5; column 2: 0, 0, 0, 4.
fn training() -> Vec<Vec<f64>> {
    rows(&[
        &[1.0, 5.0, 0.0],
        &[2.0, 5.0, 0.0],
        &[3.0, 5.0, 0.0],
        &[6.0, 5.0, 4.0],
    ])
}

#[test]
fn standard_uses_the_mean_and_the_population_standard_deviation() {
    let scaler = Scaler::fit(Scaling::Standard, &training(), 3);
    // Column 0: mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5. Column 2: mean 1, variance 3.
    assert_eq!(scaler.kept, [0, 2]);
    close(&scaler.center, &[3.0, 1.0]);
    close(&scaler.scale, &[3.5_f64.sqrt(), 3.0_f64.sqrt()]);
    close(
        &scaler.transform(&[6.0, 99.0, 1.0]),
        &[3.0 / 3.5_f64.sqrt(), 0.0],
    );
}

#[test]
fn robust_uses_the_median_and_the_interquartile_range_with_an_even_count() {
    let scaler = Scaler::fit(Scaling::Robust, &training(), 3);
    // Column 0 sorted 1, 2, 3, 6 (numpy linear): q25 at 0.75 -> 1.75, median at 1.5 -> 2.5,
    // q75 at 2.25 -> 3 + 0.25 * 3 = 3.75; IQR 2.
    assert_eq!(scaler.kept, [0, 2]);
    close(&scaler.center, &[2.5, 0.0]);
    // Column 2 (0, 0, 0, 4): q25 = 0, q75 = 1, IQR 1.
    close(&scaler.scale, &[2.0, 1.0]);
    close(&scaler.transform(&[4.5, 0.0, 2.0]), &[1.0, 2.0]);
}

#[test]
fn robust_keeps_a_zero_iqr_column_centred_with_unit_scale() {
    // Varies, but three of four values equal: q25 = q75 = 0.
    let train = rows(&[&[0.0], &[0.0], &[0.0], &[0.0], &[8.0]]);
    let scaler = Scaler::fit(Scaling::Robust, &train, 1);
    assert_eq!(scaler.kept, [0]);
    close(&scaler.center, &[0.0]);
    close(&scaler.scale, &[1.0]);
}

#[test]
fn minmax_maps_the_training_range_onto_zero_one() {
    let scaler = Scaler::fit(Scaling::Minmax, &training(), 3);
    close(&scaler.center, &[1.0, 0.0]);
    close(&scaler.scale, &[5.0, 4.0]);
    close(&scaler.transform(&[1.0, 5.0, 4.0]), &[0.0, 1.0]);
    // Songs outside the training range are not clipped.
    close(&scaler.transform(&[11.0, 5.0, -4.0]), &[2.0, -1.0]);
}

#[test]
fn l2_scales_each_row_to_unit_length_and_a_zero_row_stays_zero() {
    let scaler = Scaler::fit(Scaling::L2, &training(), 3);
    assert_eq!(scaler.kept, [0, 2], "constant columns are dropped here too");
    close(&scaler.transform(&[3.0, 5.0, 4.0]), &[0.6, 0.8]);
    let zero = scaler.transform(&[0.0, 5.0, 0.0]);
    close(&zero, &[0.0, 0.0]);
    assert!(zero.iter().all(|v| v.is_finite()));
}

#[test]
fn none_keeps_values_and_drops_only_constant_columns() {
    let scaler = Scaler::fit(Scaling::None, &training(), 3);
    close(&scaler.transform(&[7.0, 5.0, -2.0]), &[7.0, -2.0]);
}

#[test]
fn a_constant_column_is_dropped_by_every_method_and_nothing_divides_by_zero() {
    let train = rows(&[&[2.0, 1.0], &[2.0, 3.0]]);
    for method in [
        Scaling::Standard,
        Scaling::Robust,
        Scaling::Minmax,
        Scaling::L2,
        Scaling::None,
    ] {
        let scaler = Scaler::fit(method, &train, 2);
        assert_eq!(scaler.kept, [1], "{method:?}");
        assert!(
            scaler.scale.iter().all(|s| *s > 0.0 && s.is_finite()),
            "{method:?}"
        );
        let out = scaler.transform(&[9.0, 2.0]);
        assert!(out.iter().all(|v| v.is_finite()), "{method:?}: {out:?}");
    }
}

#[test]
fn no_training_rows_keep_no_column() {
    let scaler = Scaler::fit(Scaling::Standard, &[], 3);
    assert!(scaler.kept.is_empty());
    assert!(scaler.transform(&[1.0, 2.0, 3.0]).is_empty());
}

#[test]
fn idf_is_smoothed_as_scikit_learn() {
    // 4 songs; term 0 in all, term 1 in one, term 2 in none.
    let train = rows(&[
        &[1.0, 2.0, 0.0],
        &[1.0, 0.0, 0.0],
        &[2.0, 0.0, 0.0],
        &[1.0, 0.0, 0.0],
    ]);
    let tfidf = Tfidf::fit(vec![0, 1, 2], &train);
    // ln((1 + n) / (1 + df)) + 1 with n = 4.
    close(
        &tfidf.idf,
        &[1.0, (5.0_f64 / 2.0).ln() + 1.0, 5.0_f64.ln() + 1.0],
    );
}

#[test]
fn tfidf_weights_only_the_bow_columns_and_scales_them_to_unit_length() {
    let train = rows(&[&[1.0, 0.0, 7.0], &[1.0, 1.0, 9.0]]);
    let tfidf = Tfidf::fit(vec![0, 1], &train);
    let idf1 = (3.0_f64 / 2.0).ln() + 1.0;
    close(&tfidf.idf, &[1.0, idf1]);
    let mut row = vec![1.0, 1.0, 8.0];
    tfidf.apply(&mut row);
    let norm = (1.0 + idf1 * idf1).sqrt();
    close(&row, &[1.0 / norm, idf1 / norm, 8.0]);
    let mut empty = vec![0.0, 0.0, 3.0];
    tfidf.apply(&mut empty);
    close(&empty, &[0.0, 0.0, 3.0]);
}

#[test]
fn the_normalizer_applies_tfidf_before_the_scaler() {
    let train: Vec<Vec<f32>> = vec![vec![1.0, 0.0, 2.0], vec![0.0, 1.0, 4.0]];
    let refs: Vec<&[f32]> = train.iter().map(Vec::as_slice).collect();
    let normalizer = Normalizer::fit(Scaling::None, Some(vec![0, 1]), &refs, 3);
    // Each bow block has one term: after idf and unit length it is exactly 1.
    assert_eq!(normalizer.transform(&[1.0, 0.0, 2.0]), [1.0, 0.0, 2.0]);
    assert_eq!(normalizer.transform(&[3.0, 0.0, 2.0]), [1.0, 0.0, 2.0]);
    let normalizer = Normalizer::fit(Scaling::Standard, Some(vec![0, 1]), &refs, 3);
    assert_eq!(normalizer.transform(&[1.0, 0.0, 2.0]), [1.0, -1.0, -1.0]);
}
