//! The three modalities a song can carry and the presence mask over them.
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
}
