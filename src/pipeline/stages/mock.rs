//! Mock mode's stand-ins for training and prediction ([`super::Compute::Mock`]): artifacts of
//! the right shape drawn from the seed alone, so graph, cache and report logic can be tested
//! in milliseconds. Deterministic: the same seed, fold and purpose give the same numbers.

use crate::model::{EpochRecord, NamedTensors, TrainedFold};
use crate::rng::RandomStream;

/// `rows x classes` probabilities, each row positive and summing to one.
pub(crate) fn probabilities(seed: u64, purpose: &str, rows: usize, classes: usize) -> Vec<f32> {
    let mut stream = RandomStream::new(seed, &format!("mock/{purpose}"));
    let mut values = Vec::with_capacity(rows * classes);
    for _ in 0..rows {
        let row: Vec<f64> = (0..classes).map(|_| stream.uniform() + 0.01).collect();
        let sum: f64 = row.iter().sum();
        values.extend(row.iter().map(|v| (v / sum) as f32));
    }
    values
}

/// A trained fold without training: no weights, one epoch, made-up validation predictions.
pub(crate) fn train(seed: u64, fold: usize, valid_rows: usize, classes: usize) -> TrainedFold {
    let purpose = format!("train/fold-{fold}");
    let mut stream = RandomStream::new(seed, &format!("mock/{purpose}/history"));
    TrainedFold {
        weights: NamedTensors(Vec::new()),
        history: vec![EpochRecord {
            epoch: 0,
            train_loss: stream.uniform(),
            valid_loss: stream.uniform(),
            valid_accuracy: stream.uniform(),
            valid_score: stream.uniform(),
            learning_rate: 0.001,
        }],
        best_epoch: 0,
        valid_probabilities: probabilities(seed, &purpose, valid_rows, classes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_probabilities_are_distributions_drawn_from_the_seed_alone() {
        let p = probabilities(42, "evaluate/plain/fold-0", 7, 3);
        assert_eq!(p.len(), 21);
        for row in p.chunks(3) {
            assert!(row.iter().all(|&v| v > 0.0));
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        }
        assert_eq!(p, probabilities(42, "evaluate/plain/fold-0", 7, 3));
        assert_ne!(p, probabilities(43, "evaluate/plain/fold-0", 7, 3));
        let fold = train(42, 1, 4, 3);
        assert_eq!(fold.valid_probabilities.len(), 12);
        assert_eq!(fold.history.len(), 1);
    }
}
