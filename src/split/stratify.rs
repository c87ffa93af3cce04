//! Strata for the task kinds without one class per song: quantile bins of regression targets,
//! and iterative stratification of tag sets (Sechidis, Tsoumakas and Vlahavas 2011).

use crate::rng::RandomStream;

/// Each song's stratum from its `width` target values (`values`, songs x width): per target,
/// its quantile bin of `bins` (songs ranked by value, ties by dataset order, cut into `bins`
/// runs of equal size within one song), combined over targets (`bins^width` strata, e.g. the
/// four sides of both medians for valence and arousal with 2 bins).
pub fn quantile_strata(values: &[f32], width: usize, bins: usize) -> Vec<usize> {
    let songs = values.len() / width;
    let mut strata = vec![0; songs];
    for k in 0..width {
        let mut order: Vec<usize> = (0..songs).collect();
        order.sort_by(|&a, &b| values[a * width + k].total_cmp(&values[b * width + k]));
        for (rank, &song) in order.iter().enumerate() {
            strata[song] = strata[song] * bins + rank * bins / songs;
        }
    }
    strata
}

/// Assigns every song to one of `parts` (desired shares of the songs, summing to 1) so that
/// each tag's songs are shared out as the parts are: Sechidis et al.'s iterative
/// stratification. Songs are `carried` (songs x `width` flags).
///
/// The rarest tag still to place goes first, its songs each to the part that most lacks that
/// tag (then the part that most lacks songs, then a seeded random one of those tied); a song
/// updates what its part lacks of every tag it carries. Songs without any tag go last, each to
/// the part that most lacks songs. Rare tags are placed while every part still has room, which
/// is what keeps them in every part.
pub fn iterative_stratification(
    carried: &[bool],
    width: usize,
    parts: &[f64],
    stream: &mut RandomStream,
) -> Vec<usize> {
    let songs = carried.len() / width;
    let tags_of = |song: usize| (0..width).filter(move |&k| carried[song * width + k]);
    let mut lacking_songs: Vec<f64> = parts.iter().map(|share| share * songs as f64).collect();
    let mut lacking_tags: Vec<Vec<f64>> = (0..width)
        .map(|k| {
            let n = (0..songs).filter(|&s| carried[s * width + k]).count() as f64;
            parts.iter().map(|share| share * n).collect()
        })
        .collect();
    let mut part_of = vec![usize::MAX; songs];
    let mut unplaced: Vec<usize> = (0..songs).collect();
    stream.shuffle(&mut unplaced);
    loop {
        let remaining = |k: usize| {
            (unplaced.iter())
                .filter(|&&s| carried[s * width + k])
                .count()
        };
        let rarest = (0..width)
            .filter(|&k| remaining(k) > 0)
            .min_by_key(|&k| remaining(k));
        let Some(tag) = rarest else { break };
        let (with_tag, rest): (Vec<usize>, Vec<usize>) =
            unplaced.iter().partition(|&&s| carried[s * width + tag]);
        for song in with_tag {
            let part = most_lacking(&lacking_tags[tag], &lacking_songs, stream);
            part_of[song] = part;
            lacking_songs[part] -= 1.0;
            for k in tags_of(song) {
                lacking_tags[k][part] -= 1.0;
            }
        }
        unplaced = rest;
    }
    let nothing = vec![0.0; parts.len()];
    for song in unplaced {
        let part = most_lacking(&nothing, &lacking_songs, stream);
        part_of[song] = part;
        lacking_songs[part] -= 1.0;
    }
    part_of
}

/// The part lacking most of a tag, ties to the one lacking most songs, remaining ties drawn.
fn most_lacking(tag: &[f64], songs: &[f64], stream: &mut RandomStream) -> usize {
    let best_tag = tag.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let candidates: Vec<usize> = (0..tag.len()).filter(|&p| tag[p] == best_tag).collect();
    let best_songs = (candidates.iter())
        .map(|&p| songs[p])
        .fold(f64::NEG_INFINITY, f64::max);
    let tied: Vec<usize> = candidates
        .into_iter()
        .filter(|&p| songs[p] == best_songs)
        .collect();
    tied[stream.below(tied.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_strata_cut_each_target_into_equal_runs() {
        // One target: ranks 0..8 into 4 bins of 2.
        let values = [0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4];
        assert_eq!(quantile_strata(&values, 1, 4), [3, 0, 2, 1, 2, 0, 3, 1]);
        // Two targets, median bins: the four sides of both medians.
        let pairs = [-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5];
        assert_eq!(quantile_strata(&pairs, 2, 2), [0, 2, 1, 3]);
    }

    /// Songs carrying tag `k` in each part.
    fn tag_counts(
        carried: &[bool],
        width: usize,
        part_of: &[usize],
        parts: usize,
    ) -> Vec<Vec<usize>> {
        (0..width)
            .map(|k| {
                (0..parts)
                    .map(|p| {
                        (0..part_of.len())
                            .filter(|&s| part_of[s] == p && carried[s * width + k])
                            .count()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_tag_is_shared_out_like_the_songs() {
        let mut draw = RandomStream::new(1, "test/tags");
        let width = 6;
        // Tag k on about 1 song in 2^(k+1): tag 5 is rare (about 3 of 200).
        let carried: Vec<bool> = (0..200 * width)
            .map(|i| draw.chance(0.5_f64.powi((i % width) as i32 + 1)))
            .collect();
        let part_of =
            iterative_stratification(&carried, width, &[0.2; 5], &mut RandomStream::new(2, "t"));
        let sizes: Vec<usize> = (0..5)
            .map(|p| part_of.iter().filter(|&&q| q == p).count())
            .collect();
        assert!(sizes.iter().all(|&n| n.abs_diff(40) <= 1), "{sizes:?}");
        for (k, counts) in tag_counts(&carried, width, &part_of, 5).iter().enumerate() {
            let total: usize = counts.iter().sum();
            let share = total as f64 / 5.0;
            assert!(
                counts.iter().all(|&c| (c as f64 - share).abs() <= 1.0),
                "tag {k}: {counts:?}"
            );
        }
    }

    #[test]
    fn the_assignment_depends_only_on_the_seed() {
        let carried: Vec<bool> = (0..90).map(|i| i % 4 == 0 || i % 7 == 0).collect();
        let run = |seed| {
            iterative_stratification(&carried, 3, &[0.5, 0.5], &mut RandomStream::new(seed, "t"))
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}
