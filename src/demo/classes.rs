//! The emotion classes of the synthetic dataset, and which modality carries which cue.
//!
//! Every class is a point on Russell's valence-arousal plane plus a "character" (how it is
//! played) and a set of lyric themes. The modalities read different parts of that, as they do
//! in real music (Gabrielsson & Lindstrom 2010; Panda 2018; Hu & Downie 2010): the sound
//! mostly tells how aroused a song is, the harmony and the words how pleasant.
//!
//! | cue | drawn from | audio | MIDI | lyrics |
//! |---|---|---|---|---|
//! | tempo, note density, velocity, drums | song arousal ([`ArousalCues`]) | yes | yes | - |
//! | mix loudness, brightness | song arousal + production noise | yes | - | - |
//! | mode, dissonant chords | class (valence) | weakly (chroma key) | yes | - |
//! | articulation, leaps, register, meter, instruments | class character | partly | yes | - |
//! | emotion words, negated lines, "I" | class moods and valence, per-song mix | - | - | yes |
//! | `!` at line ends | class arousal | - | - | weakly |
//!
//! So classes that share arousal (MIREX clusters 1 and 5, rousing vs aggressive; 2 and 4,
//! cheerful vs humorous) sound alike and are told apart by their words (and by the harmony
//! and articulation the MIDI reads best), while classes that share valence words (1 and 2,
//! 3 and 5) are told apart by the sound. Each modality also has its own noise: the song's
//! arousal scatters around its class's (shared by audio and MIDI, which render one score),
//! the audio adds a production of its own (loudness, brightness, noise floor), and the lyrics
//! mix moods per song and sometimes speak another class's mood entirely
//! ([`LYRICS_AT_ODDS`]), so each modality errs on different songs.
//!
//! Profiles are means of per-song distributions, not fixed values, with spreads wide enough
//! that neighbouring classes overlap on every single feature.

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

impl Mood {
    /// Every mood.
    pub const ALL: [Mood; 6] = [
        Mood::Passionate,
        Mood::Cheerful,
        Mood::Wistful,
        Mood::Silly,
        Mood::Aggressive,
        Mood::Serene,
    ];

    /// The mood as a tag in the table layout's `tags` column.
    pub fn tag(self) -> &'static str {
        match self {
            Mood::Passionate => "passionate",
            Mood::Cheerful => "cheerful",
            Mood::Wistful => "wistful",
            Mood::Silly => "silly",
            Mood::Aggressive => "aggressive",
            Mood::Serene => "serene",
        }
    }
}

/// Share of songs whose lyrics speak another class's moods: a sad text on a bright tune, or
/// lyrics the tagger did not weigh. Their errors are the lyrics' own.
pub const LYRICS_AT_ODDS: f64 = 0.15;

/// Standard deviation of a song's arousal around its class's: songs of one class differ in
/// energy, which moves all of their arousal cues together (audio and MIDI alike).
pub const SONG_AROUSAL_SPREAD: f64 = 0.25;

/// What one class sounds and reads like, as means (and a few probabilities) of per-song draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassProfile {
    /// Label as written in the metadata, e.g. `Cluster 3` or `Q2`.
    pub label: &'static str,
    /// Sub-category adjectives, in the order the archive's `.bat` files create their folders.
    pub subcategories: &'static [&'static str],
    /// Position on the valence axis, -1 (unpleasant) to 1 (pleasant). Documents the design
    /// and orders the tests; the cues that carry it are the fields below.
    pub valence: f64,
    /// Position on the arousal axis, -1 (calm) to 1 (excited); [`ArousalCues::at`] turns a
    /// song's arousal into tempo, density, loudness and brightness.
    pub arousal: f64,
    /// Probability that a song is in a minor key.
    pub minor_probability: f64,
    /// Probability that a chord gets an added second, minor second or tritone.
    pub dissonance: f64,
    /// Mean MIDI pitch around which the melody moves.
    pub melody_center: f64,
    /// Mean sounding fraction of each note's slot (1 = legato, 0.3 = staccato).
    pub articulation: f64,
    /// Probability that a melodic step is a leap instead.
    pub leap_probability: f64,
    /// Probability of three beats per bar instead of four.
    pub triple_meter_probability: f64,
    /// GM programs (0-based) the melody is drawn from.
    pub melody_programs: &'static [u8],
    /// GM programs (0-based) the chords are drawn from.
    pub chord_programs: &'static [u8],
    /// Word sets the lyrics draw their emotion words from, with relative weights.
    pub moods: &'static [(Mood, f64)],
}

impl ClassProfile {
    /// Probability that a lyric line ends with `!`: excited songs exclaim more.
    pub fn exclamation_probability(&self) -> f64 {
        0.18 + 0.15 * self.arousal
    }
}

/// Musical cues of arousal at one point of the axis: faster, denser, louder, brighter and more
/// often with drums as arousal rises. Means of per-song draws: [`super::score::compose`] and
/// [`super::synth::render`] add each cue's own spread and clamp it into a playable range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArousalCues {
    /// Tempo in beats per minute.
    pub tempo_bpm: f64,
    /// Melody notes per beat.
    pub notes_per_beat: f64,
    /// MIDI velocity.
    pub velocity: f64,
    /// Probability of a drum kit track.
    pub drums_probability: f64,
    /// Loudness of the rendered mix, RMS in dB full scale (audio only).
    pub loudness_db: f64,
    /// Harmonic roll-off exponent of the synthesizer, higher = darker (audio only).
    pub rolloff: f64,
}

impl ArousalCues {
    /// The cues at `arousal` (-1 to 1 for the classes; a song's scatter may go beyond).
    pub fn at(arousal: f64) -> ArousalCues {
        ArousalCues {
            tempo_bpm: 106.0 + 32.0 * arousal,
            notes_per_beat: (1.5 + 0.7 * arousal).max(0.5),
            velocity: 80.0 + 24.0 * arousal,
            drums_probability: (0.55 + 0.45 * arousal).clamp(0.05, 0.95),
            loudness_db: -19.5 + 6.0 * arousal,
            rolloff: (1.45 - 0.6 * arousal).max(0.5),
        }
    }
}

/// Rock and brass: what rousing and aggressive songs alike are played on.
const LOUD_MELODY: &[u8] = &[30, 29, 56, 61, 81, 48, 0];
const LOUD_CHORDS: &[u8] = &[30, 29, 48, 61, 16];

static MIREX_CLUSTERS: [ClassProfile; 5] = [
    ClassProfile {
        label: "Cluster 1",
        subcategories: &["Boisterous", "Confident", "Passionate", "Rousing", "Rowdy"],
        valence: 0.35,
        arousal: 0.75,
        minor_probability: 0.3,
        dissonance: 0.1,
        melody_center: 66.0,
        articulation: 0.75,
        leap_probability: 0.25,
        triple_meter_probability: 0.1,
        melody_programs: LOUD_MELODY,
        chord_programs: LOUD_CHORDS,
        moods: &[(Mood::Passionate, 0.75), (Mood::Cheerful, 0.25)],
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
        valence: 0.8,
        arousal: 0.25,
        minor_probability: 0.12,
        dissonance: 0.05,
        melody_center: 70.0,
        articulation: 0.68,
        leap_probability: 0.2,
        triple_meter_probability: 0.15,
        melody_programs: &[0, 73, 25, 9, 24, 12],
        chord_programs: &[0, 25, 24, 4],
        moods: &[(Mood::Cheerful, 0.7), (Mood::Serene, 0.3)],
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
        valence: -0.55,
        arousal: -0.65,
        minor_probability: 0.68,
        dissonance: 0.18,
        melody_center: 63.0,
        articulation: 0.92,
        leap_probability: 0.15,
        triple_meter_probability: 0.35,
        melody_programs: &[0, 42, 40, 71, 73, 68],
        chord_programs: &[49, 0, 24, 89, 52],
        moods: &[
            (Mood::Wistful, 0.7),
            (Mood::Serene, 0.15),
            (Mood::Aggressive, 0.15),
        ],
    },
    ClassProfile {
        label: "Cluster 4",
        subcategories: &["Campy", "Humorous", "Silly", "Witty", "Wry", "whimsical"],
        valence: 0.55,
        arousal: 0.15,
        minor_probability: 0.25,
        dissonance: 0.15,
        melody_center: 71.0,
        articulation: 0.5,
        leap_probability: 0.35,
        triple_meter_probability: 0.25,
        melody_programs: &[71, 12, 9, 45, 0, 73, 70],
        chord_programs: &[0, 24, 45, 6],
        moods: &[(Mood::Silly, 0.75), (Mood::Cheerful, 0.25)],
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
        valence: -0.75,
        arousal: 0.8,
        minor_probability: 0.68,
        dissonance: 0.3,
        melody_center: 63.0,
        articulation: 0.7,
        leap_probability: 0.28,
        triple_meter_probability: 0.05,
        melody_programs: LOUD_MELODY,
        chord_programs: LOUD_CHORDS,
        moods: &[(Mood::Aggressive, 0.65), (Mood::Wistful, 0.35)],
    },
];

static RUSSELL_QUADRANTS: [ClassProfile; 4] = [
    ClassProfile {
        label: "Q1",
        subcategories: &["Excited", "Happy", "Pleased"],
        valence: 0.7,
        arousal: 0.6,
        minor_probability: 0.2,
        dissonance: 0.06,
        melody_center: 68.0,
        articulation: 0.68,
        leap_probability: 0.22,
        triple_meter_probability: 0.12,
        melody_programs: &[0, 56, 73, 25, 65, 30],
        chord_programs: &[0, 25, 61, 4, 30],
        moods: &[(Mood::Cheerful, 0.65), (Mood::Passionate, 0.35)],
    },
    ClassProfile {
        label: "Q2",
        subcategories: &["Angry", "Annoyed", "Nervous"],
        valence: -0.7,
        arousal: 0.7,
        minor_probability: 0.62,
        dissonance: 0.3,
        melody_center: 64.0,
        articulation: 0.64,
        leap_probability: 0.28,
        triple_meter_probability: 0.05,
        melody_programs: &[30, 29, 81, 40, 56, 0],
        chord_programs: &[30, 29, 48, 61, 0],
        moods: &[(Mood::Aggressive, 0.75), (Mood::Wistful, 0.25)],
    },
    ClassProfile {
        label: "Q3",
        subcategories: &["Bored", "Sad", "Sleepy"],
        valence: -0.65,
        arousal: -0.6,
        minor_probability: 0.62,
        dissonance: 0.15,
        melody_center: 64.0,
        articulation: 0.9,
        leap_probability: 0.15,
        triple_meter_probability: 0.3,
        melody_programs: &[0, 42, 40, 71, 68, 73],
        chord_programs: &[49, 0, 89, 52, 24],
        moods: &[(Mood::Wistful, 0.75), (Mood::Serene, 0.25)],
    },
    ClassProfile {
        label: "Q4",
        subcategories: &["Calm", "Peaceful", "Relaxed"],
        valence: 0.6,
        arousal: -0.55,
        minor_probability: 0.25,
        dissonance: 0.05,
        melody_center: 67.0,
        articulation: 0.9,
        leap_probability: 0.15,
        triple_meter_probability: 0.3,
        melody_programs: &[0, 73, 24, 4, 11, 42],
        chord_programs: &[89, 24, 0, 4, 49],
        moods: &[(Mood::Serene, 0.7), (Mood::Cheerful, 0.3)],
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
                assert!(!class.moods.is_empty() && class.moods.iter().all(|(_, w)| *w > 0.0));
                assert!(class.melody_programs.iter().all(|p| *p < 128));
                assert!((-1.0..=1.0).contains(&class.valence));
                assert!((-1.0..=1.0).contains(&class.arousal));
            }
        }
    }

    #[test]
    fn arousal_cues_rise_with_arousal_and_stay_playable() {
        let (calm, excited) = (ArousalCues::at(-1.0), ArousalCues::at(1.0));
        assert!(excited.tempo_bpm > calm.tempo_bpm && excited.velocity > calm.velocity);
        assert!(excited.loudness_db > calm.loudness_db && excited.rolloff < calm.rolloff);
        for a in [-2.0, 2.0] {
            let cues = ArousalCues::at(a);
            assert!((0.0..=1.0).contains(&cues.drums_probability));
            assert!(cues.notes_per_beat > 0.0 && cues.rolloff > 0.0);
        }
    }
}
