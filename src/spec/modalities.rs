//! `[modalities.*]`: which modalities an experiment uses and, per modality, which extractor
//! computes its features, with only that extractor's settings.
//!
//! A modality's section is the keys every extractor shares (`on_error`) plus one variant of
//! its extractor enum (`extractor = "spectral"` holds `n_fft`, `n_mels`, ...;
//! `extractor = "precomputed"` holds the matrix table). The TOML is flat, as it always was;
//! [`super::modality_keys`] turns the flat table into the variant and reports a key of another
//! extractor as an error. Adding an extractor is its file under `features/` (its settings
//! struct implementing `SongExtractor`) plus one line in its modality's list below.

use serde::{Deserialize, Serialize};

pub use super::modality_keys::{ExtractorSettings, ModalitySection, OnError, PRECOMPUTED};
use super::modality_keys::{FlatKeys, extractors};
use crate::features::FeatureSource;
pub use crate::features::audio::{MusicnnSettings, OnnxSettings, Pooling, SpectralSettings};
pub use crate::features::lyrics::{HashedBowSettings, MinilmSettings};
pub use crate::features::midi::SymbolicSettings;
pub use crate::features::precomputed::PrecomputedSection;
use crate::modality::Modality;

extractors! {
    /// The audio extractors, with their settings.
    pub enum AudioSettings, names AudioExtractor {
        /// `extractor = "spectral"`: librosa-compatible spectral, timbral, harmonic and rhythm
        /// features, pooled per song.
        Spectral("spectral", SpectralSettings),
        /// `extractor = "musicnn"`: the pretrained musicnn network's layers, pooled over
        /// 3 s patches.
        Musicnn("musicnn", MusicnnSettings),
        /// `extractor = "onnx"`: a user's ONNX model on waveform or log-mel patches, one
        /// output pooled over the patches.
        Onnx("onnx", OnnxSettings),
    }
}

extractors! {
    /// The lyrics extractors, with their settings.
    pub enum LyricsSettings, names LyricsExtractor {
        /// `extractor = "hashed-bow"`: hashed bag of n-grams plus stylistic features (and a
        /// lexicon if given).
        HashedBow("hashed-bow", HashedBowSettings),
        /// `extractor = "minilm"`: all-MiniLM-L6-v2 sentence embeddings of the lines.
        Minilm("minilm", MinilmSettings),
    }
}

extractors! {
    /// The MIDI extractors, with their settings.
    pub enum MidiSettings, names MidiExtractor {
        /// `extractor = "symbolic"`: jSymbolic-style tempo, rhythm, pitch, melody, harmony,
        /// key, dynamics and instrumentation features.
        Symbolic("symbolic", SymbolicSettings),
    }
}

/// `[modalities.audio]`.
pub type AudioSection = ModalitySection<AudioSettings>;
/// `[modalities.lyrics]`.
pub type LyricsSection = ModalitySection<LyricsSettings>;
/// `[modalities.midi]`.
pub type MidiSection = ModalitySection<MidiSettings>;

/// `[modalities.audio]` as written.
pub type AudioKeys = FlatKeys<AudioExtractor>;
/// `[modalities.lyrics]` as written.
pub type LyricsKeys = FlatKeys<LyricsExtractor>;
/// `[modalities.midi]` as written.
pub type MidiKeys = FlatKeys<MidiExtractor>;

/// `[modalities]`: the modalities this experiment uses; a modality is selected by having a table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModalitySections {
    /// `[modalities.audio]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioSection>,
    /// `[modalities.lyrics]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lyrics: Option<LyricsSection>,
    /// `[modalities.midi]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub midi: Option<MidiSection>,
}

/// `[modalities]` as written, before each table is resolved into its extractor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModalityTables {
    /// `[modalities.audio]`.
    pub audio: Option<AudioKeys>,
    /// `[modalities.lyrics]`.
    pub lyrics: Option<LyricsKeys>,
    /// `[modalities.midi]`.
    pub midi: Option<MidiKeys>,
}

impl ModalityTables {
    /// Whether the sources wrote a table for `modality`.
    pub fn is_selected(&self, modality: Modality) -> bool {
        match modality {
            Modality::Audio => self.audio.is_some(),
            Modality::Lyrics => self.lyrics.is_some(),
            Modality::Midi => self.midi.is_some(),
        }
    }

    /// Drops the table of `modality` (a sweep member without it).
    pub fn remove(&mut self, modality: Modality) {
        match modality {
            Modality::Audio => self.audio = None,
            Modality::Lyrics => self.lyrics = None,
            Modality::Midi => self.midi = None,
        }
    }
}

/// What every modality's section says, whatever its extractors.
#[derive(Clone)]
pub struct SectionSummary<'a> {
    /// The modality's `on_error`.
    pub on_error: OnError,
    /// Where its features come from: each extractor, or the matrix table, in the spec's order.
    pub sources: Vec<FeatureSource<'a>>,
}

impl<'a> SectionSummary<'a> {
    /// The matrix table, when `extractor = "precomputed"` (which is never joined with others).
    pub fn precomputed(&self) -> Option<&'a PrecomputedSection> {
        match self.sources[..] {
            [FeatureSource::Precomputed(table)] => Some(table),
            _ => None,
        }
    }
}

impl ModalitySections {
    /// What the section of `modality` says; `None` when the modality is not selected. The one
    /// place that maps a modality to its section.
    pub fn summary(&self, modality: Modality) -> Option<SectionSummary<'_>> {
        match modality {
            Modality::Audio => self.audio.as_ref().map(ModalitySection::summary),
            Modality::Lyrics => self.lyrics.as_ref().map(ModalitySection::summary),
            Modality::Midi => self.midi.as_ref().map(ModalitySection::summary),
        }
    }

    /// Whether the spec has a table for `modality`.
    pub fn is_selected(&self, modality: Modality) -> bool {
        self.summary(modality).is_some()
    }

    /// Where the features of `modality` come from, one source per extractor; empty when it
    /// is not selected.
    pub fn sources(&self, modality: Modality) -> Vec<FeatureSource<'_>> {
        self.summary(modality)
            .map(|s| s.sources)
            .unwrap_or_default()
    }

    /// The precomputed feature file of `modality`, when it is selected with
    /// `extractor = "precomputed"`.
    pub fn precomputed(&self, modality: Modality) -> Option<&PrecomputedSection> {
        self.summary(modality)?.precomputed()
    }

    /// What a song's `modality` does when it cannot be extracted (default `skip`).
    pub fn on_error(&self, modality: Modality) -> OnError {
        self.summary(modality)
            .map(|s| s.on_error)
            .unwrap_or_default()
    }
}

impl<E: ExtractorSettings> ModalitySection<E> {
    fn summary(&self) -> SectionSummary<'_> {
        SectionSummary {
            on_error: self.on_error,
            sources: self.extractors.iter().map(E::source).collect(),
        }
    }

    /// Fills in each extractor's derived defaults and makes the paths it names absolute.
    pub fn resolve(&mut self, absolute: &dyn Fn(&std::path::Path) -> std::path::PathBuf) {
        for extractor in &mut self.extractors {
            extractor.resolve(absolute);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::modality_keys::{KeyProblem, fields_of, resolve};
    use super::*;

    fn audio(text: &str) -> Result<AudioSection, Vec<KeyProblem>> {
        resolve(&toml::from_str::<AudioKeys>(text).unwrap())
    }

    #[test]
    fn an_empty_table_is_the_default_extractor() {
        let section = audio("").unwrap();
        assert_eq!(section, ModalitySection::default());
        assert_eq!(
            fields_of::<SymbolicSettings>(),
            &["max_bytes", "max_events"]
        );
    }

    #[test]
    fn a_spectral_key_under_precomputed_names_its_extractor() {
        let problems =
            audio("extractor = \"precomputed\"\nn_mels = 64\nprecomputed = { path = \"e.csv\" }\n")
                .unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key(), "n_mels");
        assert_eq!(
            problems[0].expected(),
            "a key of extractor = \"precomputed\": one of `precomputed`, `on_error`"
        );
        assert_eq!(
            problems[0].found(),
            "`n_mels`, a key of extractor = \"spectral\""
        );
    }

    #[test]
    fn an_unknown_key_gets_a_suggestion_and_a_mistyped_value_its_key() {
        let problems = audio("n_mel = 64\n").unwrap_err();
        assert_eq!(problems[0].key(), "n_mel");
        assert!(problems[0].expected().starts_with("one of `sample_rate`"));
        assert_eq!(
            problems[0].hint().as_deref(),
            Some("did you mean `n_mels`?")
        );
        let problems = audio("n_mels = \"many\"\nhop_length = 256\n").unwrap_err();
        assert_eq!(
            problems[0],
            KeyProblem::WrongType {
                key: "n_mels".into(),
                expected: "a non-negative integer".into(),
                found: "string \"many\"".into(),
            }
        );
    }

    #[test]
    fn flattening_gives_back_the_written_keys_in_the_old_order() {
        let section = audio("n_mels = 64\non_error = \"fail\"\n").unwrap();
        let text = toml::to_string(&section).unwrap();
        assert!(
            text.starts_with("extractor = \"spectral\"\nsample_rate = 22050\n"),
            "{text}"
        );
        assert!(
            text.ends_with("pooling = [\"mean\", \"std\"]\non_error = \"fail\"\n"),
            "{text}"
        );
        assert_eq!(audio(&text).unwrap(), section);
    }
}
