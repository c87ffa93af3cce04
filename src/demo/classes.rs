//! The emotion classes of the synthetic dataset and the musical profile of each.
//!
//! Profiles are means of per-song distributions, not fixed values: every song draws its own
//! tempo, mode, register and so on around its class's means, with spreads wide enough that
//! neighbouring classes overlap on every single feature (e.g. cluster 1 and cluster 2 tempi).
//! The values follow the usual MER findings: arousal goes with tempo, loudness, density and
//! brightness; valence with mode and consonance (Gabrielsson & Lindstrom 2010; Panda 2018).

/// Which label set the dataset uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Taxonomy {
    /// The five MIREX mood clusters (MIREX AMC task; Hu & Downie 2007).
    #[default]
    MirexClusters,
    /// The four quadrants of Russell's valence-arousal plane (as in 4QED, Panda 2018).
    RussellQuadrants,
}

impl Taxonomy {
    /// The class profiles, in label order.
    pub fn classes(self) -> &'static [ClassProfile] {
        match self {
            Taxonomy::MirexClusters => &MIREX_CLUSTERS,
            Taxonomy::RussellQuadrants => &RUSSELL_QUADRANTS,
        }
    }
}

/// Word sets for lyrics and titles; several classes can share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mood {
    /// Rousing, proud, anthemic.
    Passionate,
    /// Happy, sunny, playful.
    Cheerful,
    /// Sad, nostalgic, brooding.
    Wistful,
    /// Silly, absurd, comic.
    Silly,
    /// Angry, violent, tense.
    Aggressive,
    /// Calm, peaceful, content.
    Serene,
}

/// What one class sounds and reads like, as means (and a few spreads) of per-song draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassProfile {
    /// Label as written in the metadata, e.g. `Cluster 3` or `Q2`.
    pub label: &'static str,
    /// Sub-category adjectives, in the order the archive's `.bat` files create their folders.
    pub subcategories: &'static [&'static str],
    /// Mean tempo in beats per minute.
    pub tempo_bpm: f64,
    /// Probability that a song is in a minor key.
    pub minor_probability: f64,
    /// Mean MIDI pitch around which the melody moves.
    pub melody_center: f64,
    /// Mean melody notes per beat.
    pub notes_per_beat: f64,
    /// Mean MIDI velocity.
    pub velocity: f64,
    /// Mean sounding fraction of each note's slot (1 = legato, 0.3 = staccato).
    pub articulation: f64,
    /// Probability that a chord gets an added second, minor second or tritone.
    pub dissonance: f64,
    /// Probability of a drum kit track.
    pub drums_probability: f64,
    /// Probability that a melodic step is a leap instead.
    pub leap_probability: f64,
    /// Probability of three beats per bar instead of four.
    pub triple_meter_probability: f64,
    /// GM programs (0-based) the melody is drawn from.
    pub melody_programs: &'static [u8],
    /// GM programs (0-based) the chords are drawn from.
    pub chord_programs: &'static [u8],
    /// Mean harmonic roll-off exponent of the synthesizer (higher = darker).
    pub rolloff: f64,
    /// Mean loudness of the rendered mix, RMS in dB full scale.
    pub loudness_db: f64,
    /// Probability that a lyric line ends with `!`.
    pub exclamation_probability: f64,
    /// Word sets the lyrics draw their emotion words from.
    pub moods: &'static [Mood],
}

/// Fields every profile shares unless it says otherwise; keeps the tables below readable.
const BASE: ClassProfile = ClassProfile {
    label: "",
    subcategories: &[],
    tempo_bpm: 110.0,
    minor_probability: 0.4,
    melody_center: 66.0,
    notes_per_beat: 1.5,
    velocity: 80.0,
    articulation: 0.75,
    dissonance: 0.1,
    drums_probability: 0.6,
    leap_probability: 0.2,
    triple_meter_probability: 0.15,
    melody_programs: &[0],
    chord_programs: &[0],
    rolloff: 1.4,
    loudness_db: -19.0,
    exclamation_probability: 0.15,
    moods: &[],
};

static MIREX_CLUSTERS: [ClassProfile; 5] = [
    ClassProfile {
        label: "Cluster 1",
        subcategories: &["Boisterous", "Confident", "Passionate", "Rousing", "Rowdy"],
        tempo_bpm: 120.0,
        minor_probability: 0.35,
        melody_center: 67.0,
        notes_per_beat: 1.6,
        velocity: 92.0,
        articulation: 0.75,
        dissonance: 0.12,
        drums_probability: 0.8,
        leap_probability: 0.25,
        triple_meter_probability: 0.1,
        melody_programs: &[56, 61, 48, 30, 0, 65],
        chord_programs: &[48, 61, 0, 16, 29],
        rolloff: 1.1,
        loudness_db: -16.0,
        exclamation_probability: 0.3,
        moods: &[Mood::Passionate],
    },
    ClassProfile {
        label: "Cluster 2",
        subcategories: &[
            "Amiable-good natured",
            "Cheerful",
            "Fun",
            "Rollicking",
            "Sweet",
        ],
        tempo_bpm: 122.0,
        minor_probability: 0.12,
        melody_center: 71.0,
        notes_per_beat: 1.9,
        velocity: 82.0,
        articulation: 0.6,
        dissonance: 0.05,
        drums_probability: 0.7,
        leap_probability: 0.2,
        triple_meter_probability: 0.15,
        melody_programs: &[0, 73, 25, 9, 65, 56],
        chord_programs: &[0, 25, 24, 4],
        rolloff: 1.3,
        loudness_db: -18.0,
        exclamation_probability: 0.25,
        moods: &[Mood::Cheerful],
    },
    ClassProfile {
        label: "Cluster 3",
        subcategories: &[
            "Autumnal",
            "Bittersweet",
            "Brooding",
            "Literate",
            "Poignant",
            "Wistful",
        ],
        tempo_bpm: 84.0,
        minor_probability: 0.7,
        melody_center: 63.0,
        notes_per_beat: 1.0,
        velocity: 62.0,
        articulation: 0.92,
        dissonance: 0.18,
        drums_probability: 0.25,
        leap_probability: 0.15,
        triple_meter_probability: 0.35,
        melody_programs: &[0, 42, 40, 71, 73, 68],
        chord_programs: &[49, 0, 24, 89, 52],
        rolloff: 1.9,
        loudness_db: -24.0,
        exclamation_probability: 0.04,
        moods: &[Mood::Wistful],
    },
    ClassProfile {
        label: "Cluster 4",
        subcategories: &["Campy", "Humorous", "Silly", "Witty", "Wry", "whimsical"],
        tempo_bpm: 112.0,
        minor_probability: 0.25,
        melody_center: 72.0,
        notes_per_beat: 1.7,
        velocity: 76.0,
        articulation: 0.42,
        dissonance: 0.15,
        drums_probability: 0.5,
        leap_probability: 0.45,
        triple_meter_probability: 0.3,
        melody_programs: &[71, 70, 12, 9, 45, 78, 57],
        chord_programs: &[6, 45, 0, 24],
        rolloff: 1.5,
        loudness_db: -20.0,
        exclamation_probability: 0.2,
        moods: &[Mood::Silly],
    },
    ClassProfile {
        label: "Cluster 5",
        subcategories: &[
            "Agressive",
            "Fiery",
            "Intense",
            "Tense - Anxious",
            "Visceral",
            "Volatile",
        ],
        tempo_bpm: 134.0,
        minor_probability: 0.75,
        melody_center: 61.0,
        notes_per_beat: 2.2,
        velocity: 104.0,
        articulation: 0.65,
        dissonance: 0.35,
        drums_probability: 0.9,
        leap_probability: 0.3,
        triple_meter_probability: 0.05,
        melody_programs: &[30, 29, 81, 40, 57],
        chord_programs: &[30, 29, 48, 16, 38],
        rolloff: 0.9,
        loudness_db: -14.0,
        exclamation_probability: 0.45,
        moods: &[Mood::Aggressive],
    },
];

static RUSSELL_QUADRANTS: [ClassProfile; 4] = [
    ClassProfile {
        label: "Q1",
        subcategories: &["Excited", "Happy", "Pleased"],
        tempo_bpm: 120.0,
        minor_probability: 0.28,
        melody_center: 68.0,
        notes_per_beat: 1.8,
        velocity: 86.0,
        articulation: 0.65,
        dissonance: 0.06,
        drums_probability: 0.8,
        melody_programs: &[0, 56, 73, 25, 65],
        chord_programs: &[0, 25, 61, 4],
        rolloff: 1.1,
        loudness_db: -16.0,
        exclamation_probability: 0.3,
        moods: &[Mood::Cheerful, Mood::Passionate],
        ..BASE
    },
    ClassProfile {
        label: "Q2",
        subcategories: &["Angry", "Annoyed", "Nervous"],
        tempo_bpm: 124.0,
        minor_probability: 0.6,
        melody_center: 64.0,
        notes_per_beat: 1.9,
        velocity: 96.0,
        articulation: 0.6,
        dissonance: 0.35,
        drums_probability: 0.85,
        leap_probability: 0.3,
        triple_meter_probability: 0.05,
        melody_programs: &[30, 29, 81, 40, 57],
        chord_programs: &[30, 29, 48, 38],
        rolloff: 0.9,
        loudness_db: -14.0,
        exclamation_probability: 0.45,
        moods: &[Mood::Aggressive],
    },
    ClassProfile {
        label: "Q3",
        subcategories: &["Bored", "Sad", "Sleepy"],
        tempo_bpm: 88.0,
        minor_probability: 0.6,
        melody_center: 64.0,
        notes_per_beat: 1.1,
        velocity: 66.0,
        articulation: 0.93,
        dissonance: 0.15,
        drums_probability: 0.2,
        leap_probability: 0.15,
        triple_meter_probability: 0.35,
        melody_programs: &[0, 42, 40, 71, 68],
        chord_programs: &[49, 0, 89, 52],
        rolloff: 2.0,
        loudness_db: -24.0,
        exclamation_probability: 0.04,
        moods: &[Mood::Wistful],
    },
    ClassProfile {
        label: "Q4",
        subcategories: &["Calm", "Peaceful", "Relaxed"],
        tempo_bpm: 96.0,
        minor_probability: 0.3,
        melody_center: 67.0,
        notes_per_beat: 1.2,
        velocity: 70.0,
        articulation: 0.9,
        dissonance: 0.05,
        drums_probability: 0.35,
        leap_probability: 0.15,
        triple_meter_probability: 0.3,
        melody_programs: &[0, 73, 24, 4, 11],
        chord_programs: &[89, 24, 0, 4, 49],
        rolloff: 1.7,
        loudness_db: -22.0,
        exclamation_probability: 0.06,
        moods: &[Mood::Serene],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_labels_programs_and_moods() {
        for taxonomy in [Taxonomy::MirexClusters, Taxonomy::RussellQuadrants] {
            for class in taxonomy.classes() {
                assert!(!class.label.is_empty());
                assert!(!class.subcategories.is_empty());
                assert!(!class.melody_programs.is_empty() && !class.chord_programs.is_empty());
                assert!(!class.moods.is_empty());
                assert!(class.melody_programs.iter().all(|p| *p < 128));
            }
        }
    }
}
