//! The per-song extractor interface: what the extraction stage needs from an extractor, and
//! nothing about which one it is.

use std::path::{Path, PathBuf};

use crate::cache::ConfigSlice;

use super::FeatureError;

/// An extractor that turns one song's media file into a fixed vector of `f32`. Implemented by
/// each extractor's settings struct, in the extractor's module.
pub trait SongExtractor: Sync + SettingsSlice {
    /// Its name in specs, the value of `extractor`.
    fn name(&self) -> &'static str;

    /// Version of the vectors it returns: bumped whenever a value or name would change, so
    /// cached artifacts are recomputed (enters the stage key).
    fn version(&self) -> u32;

    /// Names of the vector's entries, in order; depends only on the settings.
    fn feature_names(&self) -> Vec<String>;

    /// The settings it reads, as dotted key paths under `prefix` (`modalities.audio`): by
    /// default every field of the settings struct. Files it names enter the key by content
    /// through [`SongExtractor::key_files`] instead.
    fn key_config(&self, prefix: &str) -> ConfigSlice {
        self.settings_slice(prefix)
    }

    /// Files besides each song's media file whose content enters the key (a lexicon), by the
    /// key path under the modality that names them. Each is read here once, so a bad one is
    /// one clear error rather than one per song.
    fn key_files(&self) -> Result<Vec<KeyFile>, KeyFileError> {
        Ok(Vec::new())
    }

    /// Fills in what the settings derive from other values (defaults that depend on other
    /// keys) and makes the paths they name absolute with `absolute` (against the spec's
    /// folder). Called once when the spec is checked; nothing to do by default.
    fn resolve(&mut self, absolute: &dyn Fn(&Path) -> PathBuf) {
        let _ = absolute;
    }

    /// Every setting out of its range, by key path under `table` (the extractor's table in
    /// the spec, `modalities.audio`); empty by default. The spec's check reports them with the
    /// file and line of each value.
    fn violations(&self, table: &str) -> Vec<Violation> {
        let _ = table;
        Vec::new()
    }

    /// One song's vector, `feature_names().len()` long.
    fn extract(&self, path: &Path) -> Result<Vec<f32>, FeatureError>;
}

/// One setting of an extractor out of its range.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The key path (`modalities.audio.n_mels`).
    pub key: String,
    /// What the key accepts, in words.
    pub expected: String,
    /// The value found.
    pub found: String,
}

/// Range rules on the settings of an extractor's table, collecting what they find; NaN fails
/// every one.
#[derive(Debug)]
pub struct SettingRules<'t> {
    table: &'t str,
    /// What the rules found.
    pub found: Vec<Violation>,
}

impl<'t> SettingRules<'t> {
    /// Rules on the keys of `table` (`modalities.audio`).
    pub fn new(table: &'t str) -> Self {
        SettingRules {
            table,
            found: Vec::new(),
        }
    }

    /// The path of `key` in the table, for messages that name another key.
    pub fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.table)
    }

    /// Records `key` as out of range.
    pub fn out_of_range(&mut self, key: &str, expected: impl Into<String>, found: impl ToString) {
        self.found.push(Violation {
            key: self.path(key),
            expected: expected.into(),
            found: found.to_string(),
        });
    }

    /// An integer of at least `min`.
    pub fn at_least(&mut self, key: &str, value: usize, min: usize) {
        if value < min {
            let expected = match min {
                1 => "a positive integer".to_string(),
                _ => format!("an integer >= {min}"),
            };
            self.out_of_range(key, expected, value);
        }
    }

    /// A finite number above zero.
    pub fn positive(&mut self, key: &str, value: f64) {
        if !(value > 0.0 && value.is_finite()) {
            self.out_of_range(key, "a positive number", value);
        }
    }

    /// A finite number of at least zero.
    pub fn non_negative(&mut self, key: &str, value: f64) {
        if !(value >= 0.0 && value.is_finite()) {
            self.out_of_range(key, "a number >= 0", value);
        }
    }

    /// A list that may not be empty, `example` saying what it holds.
    pub fn not_empty<T>(&mut self, key: &str, list: &[T], example: &str) {
        if list.is_empty() {
            self.out_of_range(key, example, "[]");
        }
    }
}

/// A file an extractor's settings name, which enters the stage key by its content.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// The key that names it, within the modality's table (`lexicon`).
    pub key: &'static str,
    /// The file.
    pub path: PathBuf,
}

/// A file an extractor's settings name is unusable.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {source}{}", hint.map_or(String::new(), |hint| format!("; {hint}")))]
pub struct KeyFileError {
    /// The key that names it, within the modality's table.
    pub key: &'static str,
    /// What is wrong with it.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
    /// What to do, when the error itself does not say.
    pub hint: Option<&'static str>,
}

/// Settings flattened into dotted key paths, for every serializable settings struct.
pub trait SettingsSlice {
    /// The settings as dotted key paths under `prefix`.
    fn settings_slice(&self, prefix: &str) -> ConfigSlice;
}

impl<T: serde::Serialize> SettingsSlice for T {
    fn settings_slice(&self, prefix: &str) -> ConfigSlice {
        ConfigSlice::from_serialize(prefix, self)
            .expect("extractor settings are plain data and always flatten")
    }
}
