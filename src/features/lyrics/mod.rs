//! Lyrics features: a hashed bag of n-grams, stylistic features and, optionally, affective
//! lexicon statistics, in that order.
//!
//! Reading: a file over `max_bytes` is skipped unread; the rest goes through
//! [`crate::text::decode_text`] (UTF-8 with or without BOM, UTF-16 LE/BE with BOM or,
//! when unambiguous, without; CRLF or CR line breaks), so the same words give the same vector
//! whatever editor saved them. Binary data (NUL bytes, more than 1 % control characters) is an
//! error, not a bag of one-letter words. Then [`normalize_text`] (NFKC, lowercase, curly
//! apostrophes to `'`) and [`tokenize`] per line.
//!
//! Vector layout:
//! - `bow_0` .. `bow_{hash_dims - 1}`: term frequencies of all 1..=`max_ngram`-grams within a
//!   line, hashed with 64-bit FNV-1a into `hash_dims` buckets ([`hashing`] documents the exact
//!   hash); `1 + ln tf` when `sublinear_tf`. No IDF and no scaling here: the normalize stage
//!   fits those per fold, on training songs only;
//! - when `stylistic`: the 14 [`stylistic::STYLISTIC_NAMES`] (lines, words, unique-word ratio,
//!   repeated-line share, repeated stanzas (count and share), chorus-line share, words per
//!   line, punctuation per word, `!` and `?` per line, first-person, second-person and
//!   negation rates per word);
//! - when `lexicon` is set: `lexicon_{valence,arousal,dominance}_{mean,std,coverage}` over the
//!   song's words (every occurrence counts). The names do not depend on which columns the CSV
//!   has, so they stay a function of the spec: a dimension the file lacks is all zeros.
//!
//! Every value is finite; an empty text gives zeros, not an error.

pub mod hashing;
pub mod lexicon;
pub mod lrc;
pub mod minilm;
pub mod stylistic;
mod tokens;

pub use lexicon::{LEXICON_DIMENSIONS, Lexicon, LexiconError};
pub use minilm::MinilmSettings;
pub use tokens::{normalize_text, tokenize};

use crate::features::{
    CappedRead, FeatureError, KeyFile, KeyFileError, SettingRules, SongExtractor, Violation,
    read_at_most,
};
use crate::text::{self, TextError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use stylistic::{Line, STYLISTIC_NAMES, stylistic_features};
use thiserror::Error;

/// `extractor = "hashed-bow"` (`[modalities.lyrics]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HashedBowSettings {
    /// Hashed bag-of-words dimensions. Default 2048.
    pub hash_dims: usize,
    /// Longest n-gram hashed (1 = unigrams only). Default 2.
    pub max_ngram: usize,
    /// Sublinear term frequency (1 + ln tf). Default true.
    pub sublinear_tf: bool,
    /// Stylistic features (lines, repetition, pronouns, ...). Default true.
    pub stylistic: bool,
    /// Optional affective lexicon CSV (`word,valence,arousal,dominance`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lexicon: Option<PathBuf>,
    /// Largest lyrics file read, in bytes; a larger file is skipped, since no song's lyrics
    /// come near it and tokenizing it would take about 35 times its size in memory.
    /// Default 1048576 (1 MiB).
    pub max_bytes: usize,
}

impl Default for HashedBowSettings {
    fn default() -> Self {
        HashedBowSettings {
            hash_dims: 2048,
            max_ngram: 2,
            sublinear_tf: true,
            stylistic: true,
            lexicon: None,
            max_bytes: 1 << 20,
        }
    }
}

/// Version of the lyrics vectors: bump it whenever a value or name would change (tokenizer,
/// hash, stylistic definitions), so cached `extract.lyrics` artifacts are recomputed.
/// 2: UTF-16 without a byte-order mark is decoded (1 tokenized it letter by letter), binary
/// data is skipped. 3: LRC text (time-tagged lyrics) is read as its sung text (time and ID
/// tags, credits removed).
pub const VERSION: u32 = 3;

/// Why one lyrics file gave no features.
#[derive(Debug, Error)]
pub enum LyricsError {
    /// The file could not be read.
    #[error("cannot read lyrics file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than `max_bytes`.
    #[error(
        "lyrics file {path} is {bytes} bytes, more than modalities.lyrics.max_bytes = {max_bytes}; no song's lyrics come near that, so check the file, or raise max_bytes if it really is lyrics"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (or the bytes read before stopping).
        bytes: u64,
        /// The spec's cap.
        max_bytes: usize,
    },
    /// The bytes are not text in a supported encoding, or are binary data.
    #[error("cannot decode lyrics file {path}: {source}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// Why decoding failed.
        source: TextError,
    },
    /// The tokenizer failed on the text.
    #[error("cannot tokenize lyrics file {path}: {message}")]
    Tokenize {
        /// The file.
        path: PathBuf,
        /// The tokenizer's message.
        message: String,
    },
    /// The pretrained model could not be loaded.
    #[error("lyrics file {path}: {source}")]
    Model {
        /// The lyrics file being described.
        path: PathBuf,
        /// Why the model is unavailable.
        source: Box<minilm::MinilmError>,
    },
    /// The spec's lexicon could not be used (every song reports it).
    #[error("lyrics file {path}: {source}")]
    Lexicon {
        /// The lyrics file being described.
        path: PathBuf,
        /// What is wrong with the lexicon.
        source: LexiconError,
    },
}

/// The feature names, in vector order.
pub fn feature_names(section: &HashedBowSettings) -> Vec<String> {
    let mut names: Vec<String> = (0..section.hash_dims).map(|i| format!("bow_{i}")).collect();
    if section.stylistic {
        names.extend(STYLISTIC_NAMES.iter().map(|n| n.to_string()));
    }
    if section.lexicon.is_some() {
        for dim in LEXICON_DIMENSIONS {
            for stat in ["mean", "std", "coverage"] {
                names.push(format!("lexicon_{dim}_{stat}"));
            }
        }
    }
    names
}

/// The text of a lyrics file of at most `max_bytes`, decoded ([`crate::text::decode_text`]),
/// binary data refused, LRC text's tags removed ([`lrc`]): what every lyrics extractor reads.
pub fn read_lyrics(path: &Path, max_bytes: usize) -> Result<String, LyricsError> {
    let bytes = read_at_most(path, max_bytes).map_err(|err| match err {
        CappedRead::Io(source) => LyricsError::Read {
            path: path.to_owned(),
            source,
        },
        CappedRead::TooLarge { bytes } => LyricsError::TooLarge {
            path: path.to_owned(),
            bytes,
            max_bytes,
        },
    })?;
    let decode_err = |source| LyricsError::Decode {
        path: path.to_owned(),
        source,
    };
    let text = text::decode_text(&bytes).map_err(decode_err)?;
    text::check_control_characters(&text).map_err(decode_err)?;
    Ok(if lrc::is_lrc(&text) {
        lrc::sung_text(&text)
    } else {
        text
    })
}

/// One file's feature vector, the length of [`feature_names`].
pub fn extract(path: &Path, section: &HashedBowSettings) -> Result<Vec<f32>, LyricsError> {
    let text = read_lyrics(path, section.max_bytes)?;
    let lexicon = match &section.lexicon {
        Some(lexicon_path) => {
            Some(
                Lexicon::load_cached(lexicon_path).map_err(|source| LyricsError::Lexicon {
                    path: path.to_owned(),
                    source,
                })?,
            )
        }
        None => None,
    };
    Ok(extract_text(&text, section, lexicon.as_deref()))
}

/// The feature vector of decoded text; `lexicon` is used only when the section names one.
pub fn extract_text(
    text: &str,
    section: &HashedBowSettings,
    lexicon: Option<&Lexicon>,
) -> Vec<f32> {
    let normalized = normalize_text(text);
    let lines: Vec<Line> = normalized
        .lines()
        .map(|text| Line {
            text,
            words: tokenize(text),
        })
        .collect();
    let words: Vec<Vec<String>> = lines.iter().map(|l| l.words.clone()).collect();
    let mut values = hashing::hashed_term_frequencies(
        &words,
        section.hash_dims,
        section.max_ngram,
        section.sublinear_tf,
    );
    if section.stylistic {
        values.extend(stylistic_features(&lines));
    }
    if section.lexicon.is_some() {
        let all_words: Vec<String> = words.into_iter().flatten().collect();
        match lexicon {
            Some(lexicon) => values.extend(lexicon.aggregate(&all_words)),
            None => values.extend([0.0; 9]),
        }
    }
    // Defensive: every producer above is finite by construction; keep the promise anyway.
    for v in &mut values {
        if !v.is_finite() {
            *v = 0.0;
        }
    }
    values
}

impl SongExtractor for HashedBowSettings {
    fn name(&self) -> &'static str {
        "hashed-bow"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn feature_names(&self) -> Vec<String> {
        feature_names(self)
    }

    /// The lexicon, by content: editing it re-extracts, moving it does not.
    fn key_files(&self) -> Result<Vec<KeyFile>, KeyFileError> {
        let Some(path) = &self.lexicon else {
            return Ok(Vec::new());
        };
        Lexicon::load_cached(path).map_err(|source| KeyFileError {
            key: "lexicon",
            source: Box::new(source),
            hint: Some("fix the file or remove the key"),
        })?;
        Ok(vec![KeyFile {
            key: "lexicon",
            path: path.clone(),
        }])
    }

    fn resolve(&mut self, absolute: &dyn Fn(&Path) -> PathBuf) {
        self.lexicon = self.lexicon.as_deref().map(absolute);
    }

    fn violations(&self, table: &str) -> Vec<Violation> {
        let mut rules = SettingRules::new(table);
        rules.at_least("hash_dims", self.hash_dims, 1);
        rules.at_least("max_ngram", self.max_ngram, 1);
        rules.at_least("max_bytes", self.max_bytes, 1);
        rules.found
    }

    fn extract(&self, path: &Path) -> Result<Vec<f32>, FeatureError> {
        Ok(extract(path, self)?)
    }
}
