//! The rules a spec must satisfy, one check per rule; all violations are reported together.
//!
//! Rules that need the dataset (folds against the smallest class) live with the split.

use std::path::Path;

use crate::features::FeatureSource;
use crate::modality::{Modality, ModalityMask};

use super::error::{Origin, ProblemKind, SpecError, SpecProblem};
use super::modality_keys::{ExtractorSettings, FlatKeys, KeyProblem, resolve as resolve_table};
use super::sources::{Sources, did_you_mean, spec_dir};
use super::training::TrainSettings;
use super::{
    DEFAULT_SEED, ExperimentSpec, Layout, ModalitySection, ModalitySections, RawSpec, SplitMethod,
    TaskKind, absolutize,
};

/// Checks `raw` and resolves it into an [`ExperimentSpec`].
pub(crate) fn check(mut raw: RawSpec, sources: &Sources<'_>) -> Result<ExperimentSpec, SpecError> {
    // Label smoothing means nothing for numbers: a regression does without it unless the
    // spec asks for it, which the training rules then refuse by key.
    let smoothing_unset = sources.origin_of("augment.label_smoothing") == Origin::Default;
    if raw.task.kind == TaskKind::Regression && smoothing_unset {
        raw.augment.label_smoothing = 0.0;
    }
    let mut rules = Rules {
        sources,
        problems: Vec::new(),
    };
    let seeds = rules.seeds(&raw);
    let modalities = rules.modalities(&raw);
    rules.dataset(&raw, &modalities);
    rules.numbers(&raw, &modalities);
    rules.fixed_split(&raw);
    rules.task(&raw);
    if !rules.problems.is_empty() {
        return Err(SpecError::Invalid(rules.problems));
    }
    Ok(resolve(raw, modalities, seeds, sources.path))
}

struct Rules<'a> {
    sources: &'a Sources<'a>,
    problems: Vec<SpecProblem>,
}

impl Rules<'_> {
    fn report(&mut self, kind: ProblemKind, key: &str, expected: &str, found: String) {
        self.problems.push(SpecProblem {
            kind,
            origin: self.sources.origin_of(key),
            key: key.to_string(),
            expected: expected.to_string(),
            found,
            hint: None,
        });
    }

    fn seeds(&mut self, raw: &RawSpec) -> Vec<u64> {
        match (&raw.seed, &raw.seeds) {
            (Some(_), Some(_)) => {
                self.report(
                    ProblemKind::Conflict,
                    "seeds",
                    "either `seed` or `seeds`, not both",
                    "both".to_string(),
                );
                Vec::new()
            }
            (Some(seed), None) => vec![*seed],
            (None, Some(seeds)) => {
                let mut unique = seeds.clone();
                unique.sort_unstable();
                unique.dedup();
                if seeds.is_empty() || unique.len() != seeds.len() {
                    self.report(
                        ProblemKind::OutOfRange,
                        "seeds",
                        "a non-empty list of distinct seeds",
                        format!("{seeds:?}"),
                    );
                }
                seeds.clone()
            }
            (None, None) => vec![DEFAULT_SEED],
        }
    }

    /// Resolves each modality's table into its extractor; a key of another extractor, or a
    /// precomputed extractor without its table, is reported with the key's origin.
    fn modalities(&mut self, raw: &RawSpec) -> ModalitySections {
        let m = &raw.modalities;
        if m.audio.is_none() && m.lyrics.is_none() && m.midi.is_none() {
            self.report(
                ProblemKind::MissingKey,
                "modalities",
                "at least one of [modalities.audio], [modalities.lyrics], [modalities.midi]",
                "none".to_string(),
            );
        }
        ModalitySections {
            audio: self.section(Modality::Audio, m.audio.as_ref()),
            lyrics: self.section(Modality::Lyrics, m.lyrics.as_ref()),
            midi: self.section(Modality::Midi, m.midi.as_ref()),
        }
    }

    fn section<E: ExtractorSettings>(
        &mut self,
        modality: Modality,
        keys: Option<&FlatKeys<E::Name>>,
    ) -> Option<ModalitySection<E>> {
        match resolve_table(keys?) {
            Ok(section) => Some(section),
            Err(problems) => {
                for problem in problems {
                    self.key_problem(modality, &problem);
                }
                None
            }
        }
    }

    fn key_problem(&mut self, modality: Modality, problem: &KeyProblem) {
        let key = format!("modalities.{modality}.{}", problem.key());
        let kind = match problem {
            KeyProblem::Foreign { .. } | KeyProblem::Unknown { .. } => ProblemKind::UnknownKey,
            KeyProblem::WrongType { .. } => ProblemKind::WrongType,
            KeyProblem::MissingTable => ProblemKind::MissingKey,
            KeyProblem::Misplaced { .. } => ProblemKind::UnknownKey,
            KeyProblem::BadList { .. } => ProblemKind::Conflict,
        };
        let hint = problem.hint();
        self.problems.push(SpecProblem {
            kind,
            origin: self.sources.origin_of(&key),
            key,
            expected: problem.expected(),
            found: problem.found(),
            hint,
        });
    }

    fn dataset(&mut self, raw: &RawSpec, modalities: &ModalitySections) {
        let d = &raw.dataset;
        if d.songs_with.as_ref().is_some_and(Vec::is_empty) {
            self.report(
                ProblemKind::OutOfRange,
                "dataset.songs_with",
                "at least one of \"audio\", \"lyrics\", \"midi\" (or no key: the selected modalities)",
                "[]".to_string(),
            );
        }
        match d.layout {
            Layout::MirexLike
            | Layout::Emopia
            | Layout::FourQ
            | Layout::Merge
            | Layout::Deam
            | Layout::Pmemo
            | Layout::MtgJamendo => {
                let table_only = [
                    ("labels", d.labels.is_some()),
                    ("id_column", d.id_column.is_some()),
                    ("label_column", d.label_column.is_some()),
                    ("paths", !d.paths.is_empty()),
                ];
                for (key, present) in table_only {
                    if present {
                        self.report(
                            ProblemKind::Conflict,
                            &format!("dataset.{key}"),
                            &format!(
                                "no such key with layout \"{}\" (its file names are fixed); it belongs to layout \"table\"",
                                d.layout.name()
                            ),
                            "a value".to_string(),
                        );
                    }
                }
            }
            Layout::Table => {
                for (key, template) in &d.paths {
                    let known = Modality::ALL.map(Modality::name);
                    if !known.contains(&key.as_str()) {
                        self.problems.push(SpecProblem {
                            kind: ProblemKind::UnknownKey,
                            origin: self.sources.origin_of(&format!("dataset.paths.{key}")),
                            key: format!("dataset.paths.{key}"),
                            expected: "one of `audio`, `lyrics`, `midi`".to_string(),
                            found: format!("`{key}`"),
                            hint: did_you_mean(key, &known),
                        });
                    } else if !template.contains("{id}") {
                        self.report(
                            ProblemKind::WrongType,
                            &format!("dataset.paths.{key}"),
                            "a path template containing `{id}`, e.g. \"audio/{id}.wav\"",
                            format!("\"{template}\""),
                        );
                    }
                }
                for modality in Modality::ALL {
                    let name = modality.name();
                    // Precomputed features need no media files: the matrix's rows are the songs'.
                    let section = modalities.summary(modality);
                    if section.is_some_and(|s| s.precomputed().is_none())
                        && !d.paths.contains_key(name)
                    {
                        self.report(
                            ProblemKind::MissingKey,
                            &format!("dataset.paths.{name}"),
                            &format!("a path template for the selected modality {name}, e.g. {name} = \"{name}/{{id}}.ext\""),
                            "nothing".to_string(),
                        );
                    }
                }
            }
        }
    }

    /// A fixed split takes every part from the dataset: the keys that shape a drawn split
    /// would be silently ignored, so setting one is an error.
    fn fixed_split(&mut self, raw: &RawSpec) {
        let split = &raw.split;
        if split.method != SplitMethod::Fixed {
            if let Some(column) = &split.column {
                self.report(
                    ProblemKind::OutOfRange,
                    "split.column",
                    "no value unless split.method = \"fixed\", whose parts it names",
                    format!("{column:?}"),
                );
            }
            return;
        }
        let drawn = [
            ("split.folds", split.folds.to_string()),
            ("split.test_fraction", split.test_fraction.to_string()),
            (
                "split.group_by",
                format!("{:?}", split.group_by.as_deref().unwrap_or("")),
            ),
            ("split.rare_classes", format!("{:?}", split.rare_classes)),
        ];
        for (key, found) in drawn {
            if self.sources.origin_of(key) != Origin::Default {
                self.report(
                    ProblemKind::OutOfRange,
                    key,
                    "no value with split.method = \"fixed\" (the dataset's split column names the train, validation and test songs); remove it, or set split.method = \"stratified\"",
                    found,
                );
            }
        }
    }

    /// The keys of `[task]` each belong to one kind: set for another, they would be silently
    /// ignored, so that is an error; a regression names its targets, each once, and each
    /// scale is a range.
    fn task(&mut self, raw: &RawSpec) {
        let task = &raw.task;
        let kind = task.kind;
        let key_kinds = [
            ("task.loss", TaskKind::Regression),
            ("task.targets", TaskKind::Regression),
            ("task.scales", TaskKind::Regression),
            ("task.tags_column", TaskKind::Multilabel),
            ("task.tag_separator", TaskKind::Multilabel),
            ("task.tags", TaskKind::Multilabel),
        ];
        for (key, owner) in key_kinds {
            if owner != kind && self.sources.origin_of(key) != Origin::Default {
                self.report(
                    ProblemKind::OutOfRange,
                    key,
                    &format!("no value unless task.kind = \"{}\"", owner.name()),
                    format!("a value with task.kind = \"{}\"", kind.name()),
                );
            }
        }
        if kind != TaskKind::Regression {
            return;
        }
        if task.targets.is_empty() {
            self.report(
                ProblemKind::OutOfRange,
                "task.targets",
                "the metadata columns of the regression targets, e.g. [\"valence\", \"arousal\"]",
                "none".into(),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for target in &task.targets {
            if target.trim().is_empty() || !seen.insert(target.trim().to_lowercase()) {
                self.report(
                    ProblemKind::OutOfRange,
                    "task.targets",
                    "distinct, non-empty column names",
                    format!("{:?}", task.targets),
                );
                break;
            }
        }
        for (target, [low, high]) in &task.scales {
            let key = format!("task.scales.{target}");
            if !task.targets.contains(target) {
                let expected = format!("a scale for one of task.targets ({:?})", task.targets);
                self.report(
                    ProblemKind::OutOfRange,
                    &key,
                    &expected,
                    format!("{target:?}"),
                );
            } else if !(low.is_finite() && high.is_finite() && low < high) {
                let found = format!("[{low}, {high}]");
                self.report(
                    ProblemKind::OutOfRange,
                    &key,
                    "[low, high] with low < high",
                    found,
                );
            }
        }
    }

    fn numbers(&mut self, raw: &RawSpec, modalities: &ModalitySections) {
        let mut n = NumberRules { rules: self };
        n.open_fraction("split.test_fraction", raw.split.test_fraction);
        n.at_least("split.folds", raw.split.folds, 2);
        let columns = [
            ("split.group_by", &raw.split.group_by, "\"artist\""),
            ("split.column", &raw.split.column, "\"split\""),
        ];
        for (key, column, example) in columns {
            if let Some(column) = column.as_deref().filter(|c| c.trim().is_empty()) {
                n.out_of_range(
                    key,
                    &format!("a metadata column's name, e.g. {example}"),
                    format!("\"{column}\""),
                );
            }
        }
        // Each extractor owns its rules; here each violation gains its modality and origin.
        for modality in Modality::ALL {
            let sources = modalities.sources(modality);
            for source in &sources {
                let FeatureSource::Extractor(extractor) = source else {
                    continue;
                };
                // Several extractors' keys sit in their own tables.
                let table = match sources.len() {
                    1 => format!("modalities.{modality}"),
                    _ => format!("modalities.{modality}.{}", extractor.name()),
                };
                for v in extractor.violations(&table) {
                    n.out_of_range(&v.key, &v.expected, v.found);
                }
            }
        }
        // `[model]`, `[augment]` and `[schedule]` rules are owned by the model's settings;
        // here each violation only gains the origin of its value.
        let training = TrainSettings {
            model: &raw.model,
            augment: &raw.augment,
            schedule: &raw.schedule,
            task: &raw.task,
        };
        for error in training.violations() {
            n.out_of_range(error.key(), &error.expected(), error.found());
        }
        n.at_least("eval.tta_passes", raw.eval.tta_passes, 1);
        n.at_least("executor.extract_shards", raw.executor.extract_shards, 1);
        if let Some(k) = raw.executor.slurm.max_parallel {
            n.at_least("executor.slurm.max_parallel", k, 1);
        }
        n.non_negative("eval.tta_noise", raw.eval.tta_noise);
        n.probability("eval.tta_modality_dropout", raw.eval.tta_modality_dropout);
    }
}

/// Range rules on numbers; NaN fails every one of them.
struct NumberRules<'r, 'a> {
    rules: &'r mut Rules<'a>,
}

impl NumberRules<'_, '_> {
    fn out_of_range(&mut self, key: &str, expected: &str, found: String) {
        self.rules
            .report(ProblemKind::OutOfRange, key, expected, found);
    }

    fn at_least(&mut self, key: &str, value: usize, min: usize) {
        if value < min {
            let expected = match min {
                1 => "a positive integer".to_string(),
                _ => format!("an integer >= {min}"),
            };
            self.out_of_range(key, &expected, value.to_string());
        }
    }

    fn non_negative(&mut self, key: &str, value: f64) {
        if !(value >= 0.0 && value.is_finite()) {
            self.out_of_range(key, "a number >= 0", value.to_string());
        }
    }

    /// A probability that may be zero (off) but never one.
    fn probability(&mut self, key: &str, value: f64) {
        if !(0.0..1.0).contains(&value) {
            self.out_of_range(key, "a number in [0, 1)", value.to_string());
        }
    }

    fn open_fraction(&mut self, key: &str, value: f64) {
        if !(value > 0.0 && value < 1.0) {
            self.out_of_range(key, "a fraction in (0, 1)", value.to_string());
        }
    }
}

/// Applies the defaults that depend on other values and makes paths absolute.
fn resolve(
    raw: RawSpec,
    mut modalities: ModalitySections,
    seeds: Vec<u64>,
    spec_path: &Path,
) -> ExperimentSpec {
    let base = spec_dir(spec_path);
    let name = raw.name.clone().unwrap_or_else(|| {
        spec_path.file_stem().map_or_else(
            || "experiment".to_string(),
            |s| s.to_string_lossy().into_owned(),
        )
    });
    let mut dataset = raw.dataset;
    dataset.root = absolutize(&base, &dataset.root);
    // Spelled out in canonical order, so the resolved spec (and its hash) says which songs
    // the experiment keeps however the list was written.
    let songs_with: ModalityMask = match &dataset.songs_with {
        Some(list) => list.iter().copied().collect(),
        None => Modality::ALL
            .into_iter()
            .filter(|m| modalities.is_selected(*m))
            .collect(),
    };
    dataset.songs_with = Some(songs_with.iter().collect());
    let absolute = |path: &Path| absolutize(&base, path);
    if let Some(audio) = &mut modalities.audio {
        audio.resolve(&absolute);
    }
    if let Some(lyrics) = &mut modalities.lyrics {
        lyrics.resolve(&absolute);
    }
    if let Some(midi) = &mut modalities.midi {
        midi.resolve(&absolute);
    }
    ExperimentSpec {
        name,
        seeds,
        dataset,
        modalities,
        normalize: raw.normalize,
        model: raw.model,
        augment: raw.augment,
        schedule: raw.schedule,
        split: raw.split,
        eval: raw.eval,
        sweep: raw.sweep,
        task: raw.task,
        executor: raw.executor,
    }
}
