//! Text normalization and word tokenization shared by every lyrics feature.

use unicode_normalization::UnicodeNormalization;

/// Apostrophe look-alikes that lyrics sites use for `'` (right/left single quotes, modifier
/// letter apostrophe, prime).
const APOSTROPHES: [char; 4] = ['\u{2019}', '\u{2018}', '\u{02BC}', '\u{2032}'];

/// NFKC, lowercase, and every apostrophe look-alike as `'`, so "Don’t", "DON'T" and
/// "don't" are one word.
pub fn normalize_text(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if APOSTROPHES.contains(&c) { '\'' } else { c })
        .collect()
}

/// Words of one normalized line: runs of letters and digits, with an apostrophe kept only
/// between two of them ("don't", "rock'n'roll"); leading or trailing apostrophes ("'cause",
/// "goin'") are dropped, everything else separates words.
pub fn tokenize(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let inner_apostrophe = c == '\''
            && !word.is_empty()
            && chars.get(i + 1).is_some_and(|next| next.is_alphanumeric());
        if c.is_alphanumeric() || inner_apostrophe {
            word.push(c);
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apostrophes_and_case_fold() {
        let line = normalize_text("DON\u{2019}T Stop, 'cause I'm goin' ﬁne!");
        assert_eq!(
            tokenize(&line),
            ["don't", "stop", "cause", "i'm", "goin", "fine"]
        );
    }
}
