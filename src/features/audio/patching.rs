//! What the pretrained audio extractors (musicnn, ONNX models) share around their network: a
//! clip shorter than one patch made one patch long (or skipped), and a network's outputs for
//! a song's patches pooled into one vector.

use serde::{Deserialize, Serialize};

use super::{Pooling, pooling};

/// What to do with a clip shorter than one patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortClips {
    /// Repeat the input until it fills a patch, as musicnn's training did
    /// (`pad_short = "repeat-pad"` in its config).
    Repeat,
    /// Fill the patch with silence.
    Pad,
    /// Skip the song (reported like any unreadable file, under `on_error`).
    Skip,
}

/// Makes `steps` (a waveform's samples, a spectrogram's frames) at least `length` long under
/// `policy`, with `silence` for what is not there; `None` for `skip`.
pub fn fill_short_clip<T: Copy>(
    steps: &mut Vec<T>,
    length: usize,
    silence: T,
    policy: ShortClips,
) -> Option<()> {
    if steps.len() >= length {
        return Some(());
    }
    match policy {
        ShortClips::Skip => return None,
        ShortClips::Pad => steps.resize(length, silence),
        ShortClips::Repeat if steps.is_empty() => steps.resize(length, silence),
        ShortClips::Repeat => *steps = steps.iter().copied().cycle().take(length).collect(),
    }
    Some(())
}

/// The starts of the patches of `length` steps every `hop` steps over `steps` steps: the last
/// patch ends at or before the last step, so a clip shorter than one patch has none.
pub fn patch_starts(steps: usize, length: usize, hop: usize) -> impl Iterator<Item = usize> {
    (0..(steps + 1).saturating_sub(length)).step_by(hop.max(1))
}

/// Each unit of the patches' outputs (all the same length) pooled over the patches, unit after
/// unit, each under every statistic of `pooling`; a value that is not finite becomes 0.
pub fn pool_over_patches(outputs: &[Vec<f32>], pooling: &[Pooling]) -> Vec<f32> {
    let width = outputs.first().map_or(0, Vec::len);
    let mut vector = Vec::with_capacity(width * pooling.len());
    let mut series = Vec::with_capacity(outputs.len());
    for unit in 0..width {
        series.clear();
        series.extend(outputs.iter().map(|out| out[unit]));
        pooling::pool_into(&series, pooling, &mut vector);
    }
    for v in vector.iter_mut().filter(|v| !v.is_finite()) {
        *v = 0.0;
    }
    vector
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_clip_is_repeated_padded_or_skipped() {
        let rows: Vec<[f32; 2]> = (0..80).map(|t| [t as f32; 2]).collect();
        let mut repeated = rows.clone();
        fill_short_clip(&mut repeated, 187, [0.0; 2], ShortClips::Repeat).unwrap();
        assert_eq!(repeated.len(), 187);
        assert_eq!(repeated[80][0], 0.0);
        assert_eq!(repeated[186][0], 26.0);
        let mut padded = rows.clone();
        fill_short_clip(&mut padded, 187, [-1.0; 2], ShortClips::Pad).unwrap();
        assert_eq!(
            (padded[79][0], padded[80][0], padded.len()),
            (79.0, -1.0, 187)
        );
        assert!(fill_short_clip(&mut rows.clone(), 187, [0.0; 2], ShortClips::Skip).is_none());
        let mut long = rows.clone();
        fill_short_clip(&mut long, 80, [0.0; 2], ShortClips::Skip).unwrap();
        assert_eq!(long, rows);
    }

    #[test]
    fn patches_never_run_past_the_end() {
        assert_eq!(patch_starts(400, 187, 187).collect::<Vec<_>>(), [0, 187]);
        assert_eq!(patch_starts(400, 187, 100).count(), 3);
        assert_eq!(patch_starts(186, 187, 187).count(), 0);
        assert_eq!(patch_starts(187, 187, 187).count(), 1);
    }

    #[test]
    fn each_unit_is_pooled_over_the_patches() {
        let outputs = vec![vec![1.0, 10.0], vec![3.0, f32::NAN]];
        let vector = pool_over_patches(&outputs, &[Pooling::Mean, Pooling::Std]);
        assert_eq!(vector, [2.0, 1.0, 0.0, 0.0]);
    }
}
