//! Stylistic features: size, vocabulary, repetition, punctuation and pronouns.

use std::collections::HashMap;

/// First-person singular and plural forms, contractions included.
const FIRST_PERSON: [&str; 18] = [
    "i",
    "me",
    "my",
    "mine",
    "myself",
    "i'm",
    "i've",
    "i'll",
    "i'd",
    "we",
    "us",
    "our",
    "ours",
    "ourselves",
    "we're",
    "we've",
    "we'll",
    "we'd",
];
/// Second-person forms, with the archaic and colloquial ones common in lyrics.
const SECOND_PERSON: [&str; 14] = [
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "you're",
    "you've",
    "you'll",
    "you'd",
    "ya",
    "u",
    "thee",
    "thou",
    "thy",
];
/// Negation words; any word ending in "n't" counts as well.
const NEGATIONS: [&str; 11] = [
    "no", "not", "never", "nothing", "nobody", "none", "nowhere", "neither", "nor", "cannot",
    "ain't",
];

/// The names of [`stylistic_features`], in order.
pub const STYLISTIC_NAMES: [&str; 14] = [
    "style_lines",
    "style_words",
    "style_unique_word_ratio",
    "style_repeated_line_share",
    "style_repeated_stanza_count",
    "style_repeated_stanza_share",
    "style_chorus_line_share",
    "style_words_per_line",
    "style_punctuation_per_word",
    "style_exclamations_per_line",
    "style_questions_per_line",
    "style_first_person_rate",
    "style_second_person_rate",
    "style_negation_rate",
];

/// One normalized line with its words.
pub struct Line<'a> {
    /// The line's text (normalized).
    pub text: &'a str,
    /// Its words.
    pub words: Vec<String>,
}

/// The values for [`STYLISTIC_NAMES`]. A line without words is blank: it separates stanzas
/// and counts nowhere else. Lines compare by their words, so punctuation and spacing
/// differences do not hide a repeat.
pub fn stylistic_features(lines: &[Line]) -> Vec<f32> {
    let sung: Vec<&Line> = lines.iter().filter(|l| !l.words.is_empty()).collect();
    let words: Vec<&str> = sung
        .iter()
        .flat_map(|l| l.words.iter().map(String::as_str))
        .collect();
    let n_lines = sung.len() as f64;
    let n_words = words.len() as f64;
    let keys: Vec<String> = sung.iter().map(|l| l.words.join(" ")).collect();
    let (repeated_stanzas, stanzas) = repeated_stanzas(lines);
    let text = || sung.iter().flat_map(|l| l.text.chars());
    // Apostrophes are part of words ("don't"), not punctuation.
    let punctuation = text().filter(|c| is_punctuation(*c) && *c != '\'').count();
    let count_in = |set: &[&str]| words.iter().filter(|w| set.contains(w)).count() as f64;
    let negations = words
        .iter()
        .filter(|w| NEGATIONS.contains(w) || w.ends_with("n't"))
        .count();
    let unique = words.iter().collect::<std::collections::HashSet<_>>().len();
    let values = [
        n_lines,
        n_words,
        ratio(unique as f64, n_words),
        ratio(repeated_line_count(&keys) as f64, n_lines),
        repeated_stanzas as f64,
        ratio(repeated_stanzas as f64, stanzas as f64),
        ratio(chorus_line_count(&keys) as f64, n_lines),
        ratio(n_words, n_lines),
        ratio(punctuation as f64, n_words),
        ratio(text().filter(|c| *c == '!').count() as f64, n_lines),
        ratio(text().filter(|c| *c == '?').count() as f64, n_lines),
        ratio(count_in(&FIRST_PERSON), n_words),
        ratio(count_in(&SECOND_PERSON), n_words),
        ratio(negations as f64, n_words),
    ];
    values.iter().map(|v| *v as f32).collect()
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

/// ASCII punctuation plus the typographic marks lyrics sites use.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || "\u{2026}\u{201C}\u{201D}\u{2014}\u{2013}\u{00A1}\u{00BF}".contains(c)
}

/// Lines whose words occur as a line more than once in the song.
fn repeated_line_count(keys: &[String]) -> usize {
    let counts = occurrences(keys.iter());
    keys.iter().filter(|k| counts[k] > 1).count()
}

/// Lines inside a repeated run: a pair of consecutive lines that occurs again elsewhere in the
/// song. Catches choruses in lyrics written without blank lines between stanzas.
fn chorus_line_count(keys: &[String]) -> usize {
    let pairs: Vec<(&String, &String)> = keys.windows(2).map(|w| (&w[0], &w[1])).collect();
    let counts = occurrences(pairs.iter());
    let mut in_chorus = vec![false; keys.len()];
    for (i, pair) in pairs.iter().enumerate() {
        if counts[pair] > 1 {
            in_chorus[i] = true;
            in_chorus[i + 1] = true;
        }
    }
    in_chorus.iter().filter(|c| **c).count()
}

/// Stanzas (separated by blank lines) that repeat an earlier stanza word for word, and the
/// number of stanzas.
fn repeated_stanzas(lines: &[Line]) -> (usize, usize) {
    let mut stanzas: Vec<Vec<String>> = vec![Vec::new()];
    for line in lines {
        match (line.words.is_empty(), stanzas.last_mut()) {
            (true, Some(current)) if !current.is_empty() => stanzas.push(Vec::new()),
            (false, Some(current)) => current.push(line.words.join(" ")),
            _ => {}
        }
    }
    stanzas.retain(|s| !s.is_empty());
    let mut seen = std::collections::HashSet::new();
    let repeats = stanzas.iter().filter(|s| !seen.insert(*s)).count();
    (repeats, stanzas.len())
}

fn occurrences<T: std::hash::Hash + Eq>(items: impl Iterator<Item = T>) -> HashMap<T, usize> {
    let mut counts = HashMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    counts
}
