//! The hashed bag of n-grams.
//!
//! An n-gram is its words joined by one space (`"i love"`), hashed with 64-bit FNV-1a over its
//! UTF-8 bytes (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`), and counted in bucket
//! `hash % hash_dims`. FNV-1a is fixed and platform-independent, so a bucket means the same in
//! every run and on every machine (std's hasher is randomly seeded per process). Hashing is
//! unsigned: counts stay non-negative so that `1 + ln tf` applies. n-grams do not cross line
//! breaks: the last word of a line and the first of the next are rarely a phrase.

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// 64-bit FNV-1a of `bytes`.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(FNV_PRIME)
    })
}

/// The bucket of an n-gram given as its words, out of `hash_dims` (which must be positive).
pub fn ngram_bucket(words: &[String], hash_dims: usize) -> usize {
    let key = words.join(" ");
    (fnv1a_64(key.as_bytes()) % hash_dims as u64) as usize
}

/// Term frequencies of all 1..=`max_ngram`-grams of each line, in `hash_dims` buckets;
/// `1 + ln tf` per non-empty bucket when `sublinear_tf`.
pub fn hashed_term_frequencies(
    lines: &[Vec<String>],
    hash_dims: usize,
    max_ngram: usize,
    sublinear_tf: bool,
) -> Vec<f32> {
    let mut counts = vec![0.0f64; hash_dims];
    if hash_dims == 0 {
        return Vec::new();
    }
    for words in lines {
        for n in 1..=max_ngram.min(words.len()) {
            for gram in words.windows(n) {
                counts[ngram_bucket(gram, hash_dims)] += 1.0;
            }
        }
    }
    counts
        .into_iter()
        .map(|tf| {
            let weight = if sublinear_tf && tf > 0.0 {
                1.0 + tf.ln()
            } else {
                tf
            };
            weight as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a_64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x85944171f73967e8);
    }
}
