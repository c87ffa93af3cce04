//! English-like lyrics from class-dependent word sets mixed with shared filler.
//!
//! Lines come from a few sentence templates whose content slots (noun, verb, adjective,
//! exclamation) take an emotion word with some probability and a neutral word otherwise.
//! Lyrics speak mostly to valence and theme: the class's moods choose the emotion words, and
//! its valence how often lines are negated and sung in the first person.
//! Songs are verses and a repeated chorus, as real lyrics are, which also makes term
//! frequencies bursty the way TF-IDF models expect. All vocabulary here is written for this
//! generator.

use super::classes::{ClassProfile, Mood};
use crate::rng::RandomStream;

/// Words that carry one mood.
#[derive(Debug)]
pub struct MoodWords {
    /// Nouns.
    pub nouns: &'static [&'static str],
    /// Verbs.
    pub verbs: &'static [&'static str],
    /// Adjectives.
    pub adjectives: &'static [&'static str],
    /// Interjections opening a line.
    pub exclamations: &'static [&'static str],
}

/// The words that carry `mood`.
pub fn words(mood: Mood) -> &'static MoodWords {
    match mood {
        Mood::Passionate => &MoodWords {
            nouns: &[
                "fire", "heart", "flame", "glory", "thunder", "banner", "anthem", "crowd",
                "freedom", "victory", "promise", "kingdom",
            ],
            verbs: &[
                "rise", "burn", "stand", "roar", "march", "shout", "ignite", "conquer", "believe",
                "soar",
            ],
            adjectives: &[
                "proud", "bold", "wild", "burning", "mighty", "fearless", "strong", "golden",
                "restless",
            ],
            exclamations: &["hey", "come on", "oh yeah", "rise up"],
        },
        Mood::Cheerful => &MoodWords {
            nouns: &[
                "sunshine", "smile", "summer", "party", "friends", "candy", "holiday", "picnic",
                "balloon", "birthday", "rainbow",
            ],
            verbs: &[
                "dance",
                "smile",
                "laugh",
                "play",
                "shine",
                "sing",
                "jump",
                "celebrate",
                "skip",
                "hug",
            ],
            adjectives: &[
                "happy", "sunny", "sweet", "bright", "lovely", "merry", "cheerful", "warm", "lucky",
            ],
            exclamations: &["yay", "la la la", "whoo", "hooray"],
        },
        Mood::Wistful => &MoodWords {
            nouns: &[
                "rain",
                "memory",
                "autumn",
                "shadow",
                "letter",
                "tears",
                "winter",
                "ghost",
                "silence",
                "photograph",
                "river",
                "ashes",
            ],
            verbs: &[
                "remember", "fade", "cry", "wait", "wander", "lose", "miss", "mourn", "weep",
                "forget",
            ],
            adjectives: &[
                "lonely", "gray", "empty", "broken", "cold", "distant", "faded", "hollow", "weary",
            ],
            exclamations: &["oh", "alas", "goodbye"],
        },
        Mood::Silly => &MoodWords {
            nouns: &[
                "banana",
                "monkey",
                "pickle",
                "noodle",
                "kazoo",
                "penguin",
                "sock",
                "pancake",
                "goose",
                "mustache",
                "jellybean",
            ],
            verbs: &[
                "wiggle", "giggle", "tumble", "juggle", "wobble", "tickle", "sneeze", "hop",
                "waddle",
            ],
            adjectives: &[
                "silly",
                "funny",
                "goofy",
                "wacky",
                "squeaky",
                "clumsy",
                "ridiculous",
                "fuzzy",
                "upside-down",
            ],
            exclamations: &["boing", "ha ha", "whoopsie", "tra la"],
        },
        Mood::Aggressive => &MoodWords {
            nouns: &[
                "rage", "blood", "war", "enemy", "knife", "chaos", "scream", "hate", "venom",
                "machine", "wound", "riot",
            ],
            verbs: &[
                "crush", "scream", "destroy", "break", "strike", "tear", "bleed", "fight", "smash",
                "choke",
            ],
            adjectives: &[
                "angry", "violent", "savage", "bitter", "brutal", "twisted", "vicious", "dark",
                "toxic",
            ],
            exclamations: &["no", "now", "get out", "enough"],
        },
        Mood::Serene => &MoodWords {
            nouns: &[
                "breeze", "meadow", "ocean", "morning", "pillow", "garden", "moon", "cloud",
                "harbor", "candle", "feather",
            ],
            verbs: &[
                "rest", "float", "breathe", "drift", "sway", "dream", "linger", "unwind", "glide",
            ],
            adjectives: &[
                "calm", "gentle", "soft", "peaceful", "slow", "easy", "tender", "mellow", "still",
            ],
            exclamations: &["mm", "ah", "hush"],
        },
    }
}

/// Subject pronouns other than "I", which the `P` slot takes at the song's first-person rate.
const OTHER_PRONOUNS: &[&str] = &["you", "we", "they", "she", "he"];
/// Negated auxiliaries: "I can't forget", "we never sleep".
const NEGATIONS: &[&str] = &["don't", "can't", "won't", "never", "couldn't"];
const DETERMINERS: &[&str] = &["the", "a", "my", "your", "our", "this", "that"];
const PREPOSITIONS: &[&str] = &[
    "in", "on", "through", "to", "for", "with", "under", "across",
];
const NEUTRAL_NOUNS: &[&str] = &[
    "night", "day", "road", "time", "town", "door", "home", "world", "light", "way", "eyes",
    "hands", "car", "room", "street", "window", "song", "radio", "city", "name",
];
const NEUTRAL_VERBS: &[&str] = &[
    "go", "walk", "know", "see", "feel", "say", "take", "turn", "hold", "call", "need", "want",
    "find", "keep", "leave", "run",
];
const NEUTRAL_ADJECTIVES: &[&str] = &[
    "old", "new", "long", "little", "last", "same", "other", "whole", "only", "open",
];
const NEUTRAL_EXCLAMATIONS: &[&str] = &["oh", "hey", "yeah", "well"];
const ADVERBS: &[&str] = &[
    "again",
    "tonight",
    "away",
    "now",
    "forever",
    "tomorrow",
    "here",
    "there",
    "all night",
];

/// Share of emotion words taken from a random mood instead of the song's own.
const STRAY_MOOD_RATE: f64 = 0.2;

/// Sentence shapes; each letter is a slot (see [`LyricWriter::slot`]).
const TEMPLATES: &[&str] = &[
    "P V D A N",
    "P V X D N",
    "D A N V R",
    "P V D N X D N",
    "E , P V R",
    "X D A N P V",
    "P V D N and D N",
    "V , V , V D N",
    "P V R X D A N",
    "D N V and P V",
];

/// Sentence shapes with a negation (`G`), which unhappy lyrics use more.
const NEGATED_TEMPLATES: &[&str] = &[
    "P G V D N",
    "P G V R",
    "P G V X D A N",
    "no N , no N",
    "P G V and P G V",
];

/// Writes one song's lyrics.
struct LyricWriter<'a> {
    /// The song's own mood weights (the class's, jittered per song).
    moods: Vec<(Mood, f64)>,
    /// Probability that a content slot takes an emotion word.
    emotion_rate: f64,
    /// Probability that a line is a negated one.
    negation_rate: f64,
    /// Probability that a subject pronoun is "I".
    first_person_rate: f64,
    exclamation_probability: f64,
    rng: &'a mut RandomStream,
}

impl LyricWriter<'_> {
    fn word(&mut self, list: &'static [&'static str]) -> &'static str {
        list[self.rng.below(list.len())]
    }

    fn content(
        &mut self,
        neutral: &'static [&'static str],
        pick: fn(&MoodWords) -> &'static [&'static str],
    ) -> &'static str {
        if self.rng.chance(self.emotion_rate) {
            // Some emotion words come from any mood, as real lyrics borrow imagery freely.
            let mood = if self.rng.chance(STRAY_MOOD_RATE) {
                *self.rng.pick(&Mood::ALL)
            } else {
                let weights: Vec<f64> = self.moods.iter().map(|(_, w)| *w).collect();
                self.moods[self.rng.weighted(&weights)].0
            };
            self.word(pick(words(mood)))
        } else {
            self.word(neutral)
        }
    }

    fn slot(&mut self, slot: &'static str) -> &'static str {
        match slot {
            "P" => {
                if self.rng.chance(self.first_person_rate) {
                    "I"
                } else {
                    self.word(OTHER_PRONOUNS)
                }
            }
            "G" => self.word(NEGATIONS),
            "D" => self.word(DETERMINERS),
            "X" => self.word(PREPOSITIONS),
            "R" => self.word(ADVERBS),
            "N" => self.content(NEUTRAL_NOUNS, |w| w.nouns),
            "V" => self.content(NEUTRAL_VERBS, |w| w.verbs),
            "A" => self.content(NEUTRAL_ADJECTIVES, |w| w.adjectives),
            "E" => self.content(NEUTRAL_EXCLAMATIONS, |w| w.exclamations),
            literal => literal,
        }
    }

    fn line(&mut self) -> String {
        let templates = if self.rng.chance(self.negation_rate) {
            NEGATED_TEMPLATES
        } else {
            TEMPLATES
        };
        let template = *self.rng.pick(templates);
        let mut line = String::new();
        for slot in template.split(' ') {
            let word = self.slot(slot);
            if !line.is_empty() && word != "," {
                line.push(' ');
            }
            line.push_str(word);
        }
        let ending = self.rng.weighted(&[
            self.exclamation_probability,
            0.05,
            0.12,
            0.12,
            (0.71 - self.exclamation_probability).max(0.05),
        ]);
        line.push_str(["!", "?", ".", ",", ""][ending]);
        capitalize(&line)
    }

    fn stanza(&mut self, lines: usize) -> Vec<String> {
        (0..lines).map(|_| self.line()).collect()
    }
}

fn capitalize(line: &str) -> String {
    let mut chars = line.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Lyrics of one song of class `class` as lines (`""` separates stanzas).
///
/// Emotion words come from the class's moods by weight. Valence also shows in the style,
/// as psycholinguistics finds in unhappy text: more negated lines and more "I" as valence
/// falls. Each song reweights the moods (every weight times a factor in 0.4..1.6) and draws
/// how explicit it is, so two songs of one class do not read alike.
pub fn write_lyrics(class: &ClassProfile, rng: &mut RandomStream) -> WrittenLyrics {
    let emotion_rate = rng.uniform_in(0.25, 0.5);
    let moods = class
        .moods
        .iter()
        .map(|&(mood, weight)| (mood, weight * rng.uniform_in(0.4, 1.6)))
        .collect();
    let negation_rate = (0.14 - 0.18 * class.valence).clamp(0.02, 0.4) * rng.uniform_in(0.6, 1.4);
    let first_person_rate = (0.3 - 0.15 * class.valence) * rng.uniform_in(0.6, 1.4);
    let mut writer = LyricWriter {
        moods,
        emotion_rate,
        negation_rate,
        first_person_rate,
        exclamation_probability: class.exclamation_probability(),
        rng,
    };
    let verse_lines = if writer.rng.chance(0.5) { 4 } else { 6 };
    let chorus_lines = writer.rng.between(2, 4) as usize;
    let chorus = writer.stanza(chorus_lines);
    let verses = writer.rng.between(2, 3);
    let bridge = writer.rng.chance(0.4);
    let mut lines = Vec::new();
    for verse in 0..verses {
        lines.extend(writer.stanza(verse_lines));
        lines.push(String::new());
        lines.extend(chorus.iter().cloned());
        lines.push(String::new());
        if bridge && verse == 1 {
            lines.extend(writer.stanza(2));
            lines.push(String::new());
        }
    }
    // The song ends on the chorus, often repeated.
    lines.extend(chorus.iter().cloned());
    WrittenLyrics {
        lines,
        moods: writer.moods,
    }
}

/// A song's lyrics and the mood weights their emotion words were drawn with.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenLyrics {
    /// The lines, stanzas separated by empty lines.
    pub lines: Vec<String>,
    /// The class's mood weights, jittered for this song (not normalized).
    pub moods: Vec<(Mood, f64)>,
}

impl WrittenLyrics {
    /// The moods that make up at least `share` of the song's emotion words, in weight order.
    pub fn main_moods(&self, share: f64) -> Vec<Mood> {
        let total: f64 = self.moods.iter().map(|(_, w)| w).sum();
        let mut main: Vec<(Mood, f64)> = (self.moods.iter().copied())
            .filter(|(_, w)| *w >= share * total)
            .collect();
        main.sort_by(|a, b| b.1.total_cmp(&a.1));
        main.into_iter().map(|(m, _)| m).collect()
    }
}

/// How a lyrics file is stored on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 without BOM, LF line endings.
    Utf8,
    /// UTF-16 little endian with BOM, CRLF line endings (as some real lyrics files are).
    Utf16LeBom,
}

/// Encodes lines as a text file (final line terminated).
pub fn encode(lines: &[String], encoding: TextEncoding) -> Vec<u8> {
    match encoding {
        TextEncoding::Utf8 => {
            let mut text = lines.join("\n");
            text.push('\n');
            text.into_bytes()
        }
        TextEncoding::Utf16LeBom => {
            let mut text = lines.join("\r\n");
            text.push_str("\r\n");
            utf16le_with_bom(&text)
        }
    }
}

/// UTF-16 LE bytes with a byte-order mark.
pub fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::classes::Taxonomy;

    #[test]
    fn lyrics_have_a_repeated_chorus_and_emotion_words() {
        let mut rng = RandomStream::new(5, "test/lyrics");
        let class = Taxonomy::RussellQuadrants
            .classes()
            .iter()
            .find(|c| c.moods[0].0 == Mood::Aggressive)
            .unwrap();
        let lines = write_lyrics(class, &mut rng).lines;
        assert!(lines.len() >= 12);
        let text = lines.join(" ").to_lowercase();
        let mood_words = words(Mood::Aggressive);
        assert!(
            mood_words
                .nouns
                .iter()
                .chain(mood_words.verbs)
                .any(|w| text.contains(w))
        );
        let last = lines.last().unwrap();
        assert!(
            lines.iter().filter(|l| *l == last).count() >= 2,
            "chorus repeats"
        );
    }

    #[test]
    fn utf16_encoding_has_bom_and_crlf() {
        let bytes = encode(
            &["Hi".to_string(), "yo".to_string()],
            TextEncoding::Utf16LeBom,
        );
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).unwrap(), "Hi\r\nyo\r\n");
    }
}
