//! What the musicnn tests share with their reference scripts (`scripts/parity/musicnn_*.py`):
//! the generated signal.
#![allow(dead_code)]

use mer::features::audio::musicnn::SAMPLE_RATE;

/// `seconds` at 16 kHz of a 220 -> 1760 Hz exponential chirp (over 4 s) plus a 3 kHz tone,
/// loud enough that musicnn's own float16 cast would overflow.
pub fn chirp(seconds: usize) -> Vec<f32> {
    let sr = f64::from(SAMPLE_RATE);
    let (f0, f1, d) = (220.0f64, 1760.0f64, 4.0f64);
    let k = (f1 / f0).ln();
    (0..seconds * SAMPLE_RATE as usize)
        .map(|i| {
            let t = i as f64 / sr;
            let phase = 2.0 * std::f64::consts::PI * f0 * d / k * ((t / d * k).exp() - 1.0);
            let tone = (2.0 * std::f64::consts::PI * 3000.0 * t).sin();
            (0.8 * phase.sin() + 0.2 * tone) as f32
        })
        .collect()
}
