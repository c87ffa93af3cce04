//! Small synthetic fold data for the model tests: Gaussian clusters per class, two modalities,
//! some songs missing the second one.
#![allow(dead_code)]

use mer::modality::Modality;
use mer::model::{FoldData, ModalityInput, Targets};
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
        modalities: vec![audio, lyrics],
        targets: Targets::Classes {
            count: classes,
            labels,
        },
        train_rows,
        valid_rows,
    }
}

/// The class labels of classification fold data.
pub fn labels(data: &FoldData) -> &[usize] {
    match &data.targets {
        Targets::Classes { labels, .. } => labels,
        other => panic!("classes expected, found {:?}", other.kind()),
    }
}

/// The class labels of classification fold data, to change.
pub fn labels_mut(data: &mut FoldData) -> &mut Vec<usize> {
    match &mut data.targets {
        Targets::Classes { labels, .. } => labels,
        other => panic!("classes expected, found {:?}", other.kind()),
    }
}

/// [`clusters`] with two targets in (-1, 1) instead of classes: smooth functions of the audio
/// features (tanh of fixed linear combinations), like valence and arousal.
pub fn valence_arousal(rows: usize, seed: u64) -> FoldData {
    let mut data = clusters(rows, 4, 0.5, seed);
    let audio = &data.modalities[0];
    let values = (0..rows)
        .flat_map(|r| {
            let x = &audio.features[r * audio.width..][..audio.width];
            [
                (0.6 * (x[0] - x[1] + 0.5 * x[2])).tanh(),
                (0.6 * (x[3] + x[2] - x[0])).tanh(),
            ]
        })
        .collect();
    data.targets = Targets::Values { count: 2, values };
    data
}

/// [`clusters`] of 4 classes with three tags per song instead of one class: tag 0 on classes
/// 0 and 1, tag 1 on classes 1 and 2, tag 2 on class 3.
pub fn tagged(rows: usize, seed: u64) -> FoldData {
    let mut data = clusters(rows, 4, 0.3, seed);
    let carried = labels(&data)
        .iter()
        .flat_map(|&c| [c <= 1, c == 1 || c == 2, c == 3])
        .collect();
    data.targets = Targets::Tags { count: 3, carried };
    data
}
