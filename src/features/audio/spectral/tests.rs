use super::contrast::extremes;
use super::envelope::rms;
fn lcg(n: usize, seed: u32) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1 << 24) as f32
        })
        .collect()
}

#[test]
fn extremes_are_the_ends_of_a_full_sort() {
    let random = lcg(400, 3);
    let falling: Vec<f32> = (0..400).map(|i| 1.0 / (1.0 + i as f32)).collect();
    let rising: Vec<f32> = falling.iter().rev().copied().collect();
    let ties = vec![0.5; 37];
    for values in [random, falling, rising, ties] {
        let mut sorted = values.clone();
        sorted.sort_by(f32::total_cmp);
        for q in [1, 2, 3, 8, values.len()] {
            let (mut low, mut high) = (Vec::new(), Vec::new());
            extremes(&values, q, &mut low, &mut high);
            low.sort_by(f32::total_cmp);
            high.sort_by(f32::total_cmp);
            assert_eq!(low, sorted[..q], "q {q}");
            assert_eq!(high, sorted[sorted.len() - q..], "q {q}");
        }
    }
}

#[test]
fn rms_by_blocks_equals_the_frame_by_frame_sum() {
    let y = lcg(10_007, 5);
    let direct = |frame_length: usize, hop: usize| -> Vec<f32> {
        let pad = frame_length as isize / 2;
        (0..1 + y.len() / hop)
            .map(|t| {
                let start = (t * hop) as isize - pad;
                let sum: f64 = (start..start + frame_length as isize)
                    .filter(|&j| j >= 0 && (j as usize) < y.len())
                    .map(|j| f64::from(y[j as usize]).powi(2))
                    .sum();
                (sum / frame_length as f64).sqrt() as f32
            })
            .collect()
    };
    // 2048/512 takes the block path, 2048/500 the frame-by-frame one.
    for (frame_length, hop) in [(2048, 512), (2048, 500)] {
        let ours = rms(&y, frame_length, hop);
        let want = direct(frame_length, hop);
        assert_eq!(ours.len(), want.len());
        for (a, b) in ours.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-6 * b.abs(), "{a} vs {b}");
        }
    }
}
