//! Small synthetic fold data for the model tests: Gaussian clusters per class, two modalities,
//! some songs missing the second one.
#![allow(dead_code)]

use mer::modality::Modality;
use mer::model::{FoldData, ModalityInput};
use mer::rng::RandomStream;

/// `rows` songs of `classes` classes; modality features are the class centre plus noise of
/// `spread`, so small spreads are perfectly separable. Every 4th song misses lyrics.
pub fn clusters(rows: usize, classes: usize, spread: f64, seed: u64) -> FoldData {
    let mut rng = RandomStream::new(seed, "test/clusters");
    let labels: Vec<usize> = (0..rows).map(|i| i % classes).collect();
    let modality = |m: Modality, width: usize, rng: &mut RandomStream, missing_every: usize| {
        let mut features = Vec::with_capacity(rows * width);
        let mut present = Vec::with_capacity(rows);
        for (i, &label) in labels.iter().enumerate() {
            let here = missing_every == 0 || i % missing_every != 1;
            for j in 0..width {
                let centre = if j % classes == label { 2.0 } else { 0.0 };
                let value = if here {
                    centre + rng.normal(0.0, spread)
                } else {
                    0.0
                };
                features.push(value as f32);
            }
            present.push(here);
        }
        ModalityInput {
            modality: m,
            width,
            features,
            present,
        }
    };
    let audio = modality(Modality::Audio, 8, &mut rng, 0);
    let lyrics = modality(Modality::Lyrics, 5, &mut rng, 4);
    let valid_rows: Vec<usize> = (0..rows).filter(|i| i % 5 == 0).collect();
    let train_rows: Vec<usize> = (0..rows).filter(|i| i % 5 != 0).collect();
    FoldData {
        classes,
        modalities: vec![audio, lyrics],
        labels,
        train_rows,
        valid_rows,
    }
}
