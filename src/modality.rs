//! The three modalities a song can carry, the presence mask over them, and [`PerModality`],
//! one value per modality indexed by the modality itself.
//!
//! Every layer (spec, dataset, features, model) speaks of modalities through these types, so a
//! fourth modality is added here first.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One source of information about a song.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Modality {
    /// The recording (mp3, wav, flac, ogg).
    Audio,
    /// The lyrics text.
    Lyrics,
    /// A symbolic transcription (standard MIDI file).
    Midi,
}

impl Modality {
    /// Every modality, in the canonical order used for masks, tables and keys.
    pub const ALL: [Modality; 3] = [Modality::Audio, Modality::Lyrics, Modality::Midi];

    /// The name used in specs, reports and cache keys.
    pub fn name(self) -> &'static str {
        match self {
            Modality::Audio => "audio",
            Modality::Lyrics => "lyrics",
            Modality::Midi => "midi",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of modalities: which ones a spec selects, or which ones a song has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ModalityMask(u8);

impl ModalityMask {
    /// The empty set.
    pub const NONE: ModalityMask = ModalityMask(0);

    /// Adds `modality` to the set.
    pub fn insert(&mut self, modality: Modality) {
        self.0 |= modality.bit();
    }

    /// Whether `modality` is in the set.
    pub fn contains(self, modality: Modality) -> bool {
        self.0 & modality.bit() != 0
    }

    /// Whether the set holds no modality.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of modalities in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Modalities in both sets.
    pub fn intersection(self, other: ModalityMask) -> ModalityMask {
        ModalityMask(self.0 & other.0)
    }

    /// The members, in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Modality> {
        Modality::ALL.into_iter().filter(move |m| self.contains(*m))
    }
}

impl FromIterator<Modality> for ModalityMask {
    fn from_iter<I: IntoIterator<Item = Modality>>(iter: I) -> Self {
        let mut mask = ModalityMask::NONE;
        for m in iter {
            mask.insert(m);
        }
        mask
    }
}

impl fmt::Display for ModalityMask {
    /// `audio+lyrics`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(Modality::name).collect();
        f.write_str(&names.join("+"))
    }
}

/// One value per modality, indexed by [`Modality`]: what a `[T; 3]` indexed by `m as usize`
/// was, without the positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PerModality<T>([T; 3]);

impl<T> PerModality<T> {
    /// The value of each modality, from `value(modality)`.
    pub fn from_fn(mut value: impl FnMut(Modality) -> T) -> Self {
        PerModality(Modality::ALL.map(&mut value))
    }

    /// Each value through `f`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> PerModality<U> {
        PerModality(self.0.map(f))
    }

    /// `(modality, value)` in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = (Modality, &T)> {
        Modality::ALL.into_iter().zip(&self.0)
    }
}

impl<T> From<[T; 3]> for PerModality<T> {
    /// Values in [`Modality::ALL`] order.
    fn from(values: [T; 3]) -> Self {
        PerModality(values)
    }
}

impl PerModality<bool> {
    /// The modalities whose value is `true`.
    pub fn mask(&self) -> ModalityMask {
        self.iter().filter(|(_, on)| **on).map(|(m, _)| m).collect()
    }
}

impl<T> std::ops::Index<Modality> for PerModality<T> {
    type Output = T;

    fn index(&self, modality: Modality) -> &T {
        &self.0[modality as usize]
    }
}

impl<T> std::ops::IndexMut<Modality> for PerModality<T> {
    fn index_mut(&mut self, modality: Modality) -> &mut T {
        &mut self.0[modality as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_membership_and_display() {
        let mask: ModalityMask = [Modality::Midi, Modality::Audio].into_iter().collect();
        assert!(mask.contains(Modality::Audio));
        assert!(!mask.contains(Modality::Lyrics));
        assert_eq!(mask.len(), 2);
        assert_eq!(mask.to_string(), "audio+midi");
        assert_eq!(ModalityMask::NONE.to_string(), "none");
    }

    #[test]
    fn per_modality_is_indexed_by_the_modality() {
        let mut files: PerModality<Option<&str>> = PerModality::default();
        files[Modality::Midi] = Some("a.mid");
        assert_eq!(files[Modality::Midi], Some("a.mid"));
        assert_eq!(files[Modality::Audio], None);
        let present = files.map(|f| f.is_some());
        assert_eq!(present.mask().to_string(), "midi");
        let names = PerModality::from_fn(Modality::name);
        let pairs: Vec<_> = names.iter().map(|(m, n)| (m, *n)).collect();
        assert_eq!(
            pairs,
            [
                (Modality::Audio, "audio"),
                (Modality::Lyrics, "lyrics"),
                (Modality::Midi, "midi")
            ]
        );
    }
}
