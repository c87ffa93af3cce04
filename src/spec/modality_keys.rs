//! The flat TOML table of each modality (`[modalities.audio] n_mels = 64`), and its resolution
//! into the section's extractor variant.
//!
//! The table is typed key by key, every key optional, so figment reports a mistyped or
//! misspelt key with its file position as for any section. Resolution then keeps the keys of
//! the chosen extractor and reports every key of another one (`n_mels` under
//! `extractor = "precomputed"`) as an unknown key naming its extractor. A section serializes
//! back to the same flat table, with its keys in the order they always had, so resolved specs,
//! their hashes and the extraction stage keys are those of the flat sections before.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::modalities::{
    AudioSettings, ExtractorSettings, HashedBowSettings, LyricsSettings, MidiSettings,
    ModalitySection, OnError, PRECOMPUTED, Pooling, PrecomputedSection, SpectralSettings,
    SymbolicSettings,
};
use crate::modality::Modality;

/// Audio extractor names, the values of `[modalities.audio] extractor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AudioExtractor {
    /// [`AudioSettings::Spectral`].
    Spectral,
    /// [`AudioSettings::Precomputed`].
    Precomputed,
}

/// Lyrics extractor names, the values of `[modalities.lyrics] extractor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LyricsExtractor {
    /// [`LyricsSettings::HashedBow`].
    HashedBow,
    /// [`LyricsSettings::Precomputed`].
    Precomputed,
}

/// MIDI extractor names, the values of `[modalities.midi] extractor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MidiExtractor {
    /// [`MidiSettings::Symbolic`].
    Symbolic,
    /// [`MidiSettings::Precomputed`].
    Precomputed,
}

/// `[modalities.audio]` as written: the keys of every audio extractor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioKeys {
    #[serde(skip_serializing_if = "Option::is_none")]
    extractor: Option<AudioExtractor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_rate: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n_fft: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hop_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n_mels: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n_mfcc: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fmin: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fmax: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pooling: Option<Vec<Pooling>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_error: Option<OnError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    precomputed: Option<PrecomputedSection>,
}

/// `[modalities.lyrics]` as written: the keys of every lyrics extractor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LyricsKeys {
    #[serde(skip_serializing_if = "Option::is_none")]
    extractor: Option<LyricsExtractor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash_dims: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ngram: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sublinear_tf: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stylistic: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lexicon: Option<std::path::PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_error: Option<OnError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    precomputed: Option<PrecomputedSection>,
}

/// `[modalities.midi]` as written: the keys of every MIDI extractor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MidiKeys {
    #[serde(skip_serializing_if = "Option::is_none")]
    extractor: Option<MidiExtractor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_events: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_error: Option<OnError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    precomputed: Option<PrecomputedSection>,
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

/// Why a modality's table does not resolve into one extractor's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// A key that another extractor of the modality reads.
    Foreign {
        /// The key, within the modality's table.
        key: String,
        /// The chosen extractor.
        extractor: &'static str,
        /// The keys the chosen extractor and every extractor read.
        expected: Vec<&'static str>,
        /// The extractor that reads the key.
        owner: &'static str,
    },
    /// `extractor = "precomputed"` without its `precomputed` table.
    MissingTable,
}

impl KeyProblem {
    /// The key the problem is about, within the modality's table.
    pub fn key(&self) -> &str {
        match self {
            KeyProblem::Foreign { key, .. } => key,
            KeyProblem::MissingTable => PRECOMPUTED,
        }
    }

    /// What the key should be, in a spec author's words.
    pub fn expected(&self) -> String {
        match self {
            KeyProblem::Foreign {
                extractor,
                expected,
                ..
            } => {
                let keys: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
                format!(
                    "a key of extractor = \"{extractor}\": one of {}",
                    keys.join(", ")
                )
            }
            KeyProblem::MissingTable => {
                "a table with `path` to the feature matrix (extractor is \"precomputed\")"
                    .to_string()
            }
        }
    }

    /// What was found.
    pub fn found(&self) -> String {
        match self {
            KeyProblem::Foreign { key, owner, .. } => {
                format!("`{key}`, a key of extractor = \"{owner}\"")
            }
            KeyProblem::MissingTable => "nothing".to_string(),
        }
    }
}

/// Keys every extractor of a modality reads, besides `extractor` itself.
const SHARED_KEYS: [&str; 1] = ["on_error"];

/// One modality's flat table and its extractor enum.
pub trait FlatTable: Serialize + DeserializeOwned {
    /// The extractor enum the table resolves into.
    type Settings: ExtractorSettings + Default;

    /// Every extractor of the modality, with the keys it reads.
    fn extractors() -> Vec<(&'static str, &'static [&'static str])>;

    /// The settings of extractor `name` from the table's keys that it reads.
    fn settings(name: &str, table: toml::Table) -> Result<Self::Settings, KeyProblem>;

    /// The keys `settings` holds, as the flat table writes them.
    fn keys_of(settings: &Self::Settings) -> toml::Table;
}

impl FlatTable for AudioKeys {
    type Settings = AudioSettings;

    fn extractors() -> Vec<(&'static str, &'static [&'static str])> {
        vec![
            ("spectral", fields_of::<SpectralSettings>()),
            (PRECOMPUTED, &[PRECOMPUTED]),
        ]
    }

    fn settings(name: &str, table: toml::Table) -> Result<AudioSettings, KeyProblem> {
        match name {
            PRECOMPUTED => precomputed(table).map(AudioSettings::Precomputed),
            _ => Ok(AudioSettings::Spectral(from_table(table))),
        }
    }

    fn keys_of(settings: &AudioSettings) -> toml::Table {
        match settings {
            AudioSettings::Spectral(s) => to_table(s),
            AudioSettings::Precomputed(table) => precomputed_keys(table),
        }
    }
}

impl FlatTable for LyricsKeys {
    type Settings = LyricsSettings;

    fn extractors() -> Vec<(&'static str, &'static [&'static str])> {
        vec![
            ("hashed-bow", fields_of::<HashedBowSettings>()),
            (PRECOMPUTED, &[PRECOMPUTED]),
        ]
    }

    fn settings(name: &str, table: toml::Table) -> Result<LyricsSettings, KeyProblem> {
        match name {
            PRECOMPUTED => precomputed(table).map(LyricsSettings::Precomputed),
            _ => Ok(LyricsSettings::HashedBow(from_table(table))),
        }
    }

    fn keys_of(settings: &LyricsSettings) -> toml::Table {
        match settings {
            LyricsSettings::HashedBow(s) => to_table(s),
            LyricsSettings::Precomputed(table) => precomputed_keys(table),
        }
    }
}

impl FlatTable for MidiKeys {
    type Settings = MidiSettings;

    fn extractors() -> Vec<(&'static str, &'static [&'static str])> {
        vec![
            ("symbolic", fields_of::<SymbolicSettings>()),
            (PRECOMPUTED, &[PRECOMPUTED]),
        ]
    }

    fn settings(name: &str, table: toml::Table) -> Result<MidiSettings, KeyProblem> {
        match name {
            PRECOMPUTED => precomputed(table).map(MidiSettings::Precomputed),
            _ => Ok(MidiSettings::Symbolic(from_table(table))),
        }
    }

    fn keys_of(settings: &MidiSettings) -> toml::Table {
        match settings {
            MidiSettings::Symbolic(s) => to_table(s),
            MidiSettings::Precomputed(table) => precomputed_keys(table),
        }
    }
}

/// Resolves a modality's flat table into its section: the chosen extractor (the modality's
/// default when `extractor` is absent) with the keys it reads, defaults for the rest. Every
/// key of another extractor is a problem.
pub fn resolve<K: FlatTable>(keys: &K) -> Result<ModalitySection<K::Settings>, Vec<KeyProblem>> {
    let mut table = to_table(keys);
    let name = match table.remove("extractor") {
        Some(toml::Value::String(name)) => name,
        _ => K::Settings::default().name().to_string(),
    };
    let on_error = table
        .remove("on_error")
        .map(|value| value.try_into().expect("on_error was typed when read"))
        .unwrap_or_default();
    let extractors = K::extractors();
    let (chosen, own) = extractors
        .iter()
        .find(|(n, _)| *n == name)
        .copied()
        .expect("extractor names were typed when read");
    let foreign: Vec<KeyProblem> = table
        .keys()
        .filter(|key| !own.contains(&key.as_str()))
        .map(|key| KeyProblem::Foreign {
            key: key.clone(),
            extractor: chosen,
            expected: own.iter().chain(&SHARED_KEYS).copied().collect(),
            owner: extractors
                .iter()
                .find(|(_, keys)| keys.contains(&key.as_str()))
                .map_or("none", |(n, _)| n),
        })
        .collect();
    if !foreign.is_empty() {
        return Err(foreign);
    }
    let extractor = K::settings(chosen, table).map_err(|problem| vec![problem])?;
    Ok(ModalitySection {
        extractor,
        on_error,
    })
}

/// The flat table `section` is written as: `extractor`, its keys, `on_error`.
pub fn flatten<K: FlatTable>(section: &ModalitySection<K::Settings>) -> K {
    let mut table = K::keys_of(&section.extractor);
    table.insert("extractor".into(), section.extractor.name().into());
    table.insert("on_error".into(), to_value(&section.on_error));
    toml::Value::Table(table)
        .try_into()
        .expect("a section's keys are keys of its flat table")
}

/// The section type each flat table resolves into, for serde.
pub trait Section: Sized {
    /// Its flat table.
    type Keys: FlatTable;
}

impl Section for ModalitySection<AudioSettings> {
    type Keys = AudioKeys;
}

impl Section for ModalitySection<LyricsSettings> {
    type Keys = LyricsKeys;
}

impl Section for ModalitySection<MidiSettings> {
    type Keys = MidiKeys;
}

impl<E> Serialize for ModalitySection<E>
where
    ModalitySection<E>: Section,
    <ModalitySection<E> as Section>::Keys: FlatTable<Settings = E>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        flatten::<<Self as Section>::Keys>(self).serialize(serializer)
    }
}

impl<'de, E> Deserialize<'de> for ModalitySection<E>
where
    ModalitySection<E>: Section,
    <ModalitySection<E> as Section>::Keys: FlatTable<Settings = E>,
{
    /// A resolved spec loads back the same way (`mer validate` prints it); a key of another
    /// extractor is an error naming the key.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let keys = <Self as Section>::Keys::deserialize(deserializer)?;
        resolve(&keys).map_err(|problems| {
            let problem = &problems[0];
            D::Error::custom(format!(
                "key `{}`: expected {}, found {}",
                problem.key(),
                problem.expected(),
                problem.found()
            ))
        })
    }
}

fn precomputed(mut table: toml::Table) -> Result<PrecomputedSection, KeyProblem> {
    let value = table.remove(PRECOMPUTED).ok_or(KeyProblem::MissingTable)?;
    Ok(value
        .try_into()
        .expect("the precomputed table was typed when read"))
}

fn precomputed_keys(table: &PrecomputedSection) -> toml::Table {
    toml::Table::from_iter([(PRECOMPUTED.to_string(), to_value(table))])
}

fn to_value(value: &impl Serialize) -> toml::Value {
    toml::Value::try_from(value).expect("spec values are plain data")
}

fn to_table(value: &impl Serialize) -> toml::Table {
    match to_value(value) {
        toml::Value::Table(table) => table,
        _ => unreachable!("sections serialize to tables"),
    }
}

/// Settings of one extractor from the keys it reads; its defaults fill the rest.
fn from_table<T: DeserializeOwned>(table: toml::Table) -> T {
    toml::Value::Table(table)
        .try_into()
        .expect("the keys were typed when read and belong to this extractor")
}

/// The keys a settings struct reads: serde's own field list, so the list cannot drift from
/// the struct.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Fields(Option<&'static [&'static str]>);
    impl<'de> Deserializer<'de> for &mut Fields {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(Self::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields = Fields(None);
    let _ = T::deserialize(&mut fields);
    fields.0.expect("extractor settings are structs")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(text: &str) -> Result<ModalitySection<AudioSettings>, Vec<KeyProblem>> {
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
    fn flattening_gives_back_the_written_keys_in_the_old_order() {
        let section = audio("n_mels = 64\non_error = \"fail\"\n").unwrap();
        let text = toml::to_string(&flatten::<AudioKeys>(&section)).unwrap();
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
