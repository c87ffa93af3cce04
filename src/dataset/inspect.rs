//! `mer data inspect`: what a dataset holds per class and modality, what the selection drops,
//! and every problem found, grouped so a long list stays readable. Class names and problem
//! lines come from the dataset's files, so their control characters are printed escaped.

use std::collections::BTreeMap;
use std::fmt;

use super::{DatasetLoad, DatasetProblem, ProblemKind};
use crate::modality::{Modality, ModalityMask, PerModality};
use crate::text::escape_for_terminal;
use crate::text_table::TextTable;

/// Problems shown per kind unless verbose.
const PROBLEMS_PER_KIND: usize = 10;

/// Song counts of one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassCounts {
    /// The class name.
    pub class: String,
    /// Listed songs of the class.
    pub songs: usize,
    /// Songs with a file, per modality.
    pub with: PerModality<usize>,
    /// Songs with all three modalities.
    pub all_three: usize,
    /// Songs with at least one selected modality.
    pub selected_any: usize,
}

/// A summary of a [`DatasetLoad`] for one modality selection, printed by `Display`.
#[derive(Debug, Clone)]
pub struct InspectReport {
    /// The selection the load was made for.
    pub selected: ModalityMask,
    /// Labelled songs the dataset lists.
    pub listed: usize,
    /// One row per class, in class order.
    pub classes: Vec<ClassCounts>,
    /// Songs with all three modalities.
    pub all_three: usize,
    /// Songs dropped for having no selected modality.
    pub dropped: usize,
    /// Problems grouped by kind, kinds in a fixed order.
    pub problems: BTreeMap<ProblemKind, Vec<DatasetProblem>>,
    /// Print every problem instead of the first few per kind.
    pub verbose: bool,
    /// The dataset's counts as its authors publish them, to hold this copy's against.
    pub published: Option<&'static str>,
    /// The range of each rating column the layout gives (see [`super::rating_scales`]).
    pub ratings: Vec<RatingRange>,
}

/// The values one rating column takes over the listed songs.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingRange {
    /// The metadata column, e.g. `valence`.
    pub column: &'static str,
    /// The scale the dataset rates on.
    pub scale: (f64, f64),
    /// Songs with a numeric value.
    pub songs: usize,
    /// The smallest and largest value; `None` when no song has one.
    pub span: Option<(f64, f64)>,
    /// Values outside `scale`.
    pub outside: usize,
}

impl RatingRange {
    fn of(listed: &super::Manifest, column: &'static str, scale: (f64, f64)) -> RatingRange {
        let values: Vec<f64> = (listed.songs.iter())
            .filter_map(|song| song.metadata_value(column)?.parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .collect();
        let span = values.iter().fold(None, |span: Option<(f64, f64)>, &v| {
            Some(span.map_or((v, v), |(low, high)| (low.min(v), high.max(v))))
        });
        RatingRange {
            column,
            scale,
            songs: values.len(),
            span,
            outside: (values.iter())
                .filter(|v| !(scale.0..=scale.1).contains(*v))
                .count(),
        }
    }
}

impl fmt::Display for RatingRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (low, high) = self.scale;
        match self.span {
            Some((min, max)) => write!(
                f,
                "{}: {min} to {max} over {} songs (scale {low} to {high})",
                self.column, self.songs
            )?,
            None => write!(
                f,
                "{}: no song has a value (scale {low} to {high})",
                self.column
            )?,
        }
        if self.outside > 0 {
            write!(f, "; {} outside the scale", self.outside)?;
        }
        Ok(())
    }
}

impl InspectReport {
    /// Counts `load`'s listed songs for `selected`.
    pub fn new(load: &DatasetLoad, selected: ModalityMask) -> InspectReport {
        let listed = &load.listed;
        let mut classes: Vec<ClassCounts> = listed
            .classes
            .iter()
            .map(|class| ClassCounts {
                class: class.clone(),
                songs: 0,
                with: PerModality::default(),
                all_three: 0,
                selected_any: 0,
            })
            .collect();
        for song in &listed.songs {
            let present = song.present();
            let row = &mut classes[song.label];
            row.songs += 1;
            for modality in present.iter() {
                row.with[modality] += 1;
            }
            row.all_three += usize::from(present.len() == Modality::ALL.len());
            row.selected_any += usize::from(!present.intersection(selected).is_empty());
        }
        let mut problems: BTreeMap<ProblemKind, Vec<DatasetProblem>> = BTreeMap::new();
        for problem in &load.problems {
            problems
                .entry(problem.kind())
                .or_default()
                .push(problem.clone());
        }
        InspectReport {
            selected,
            listed: listed.songs.len(),
            all_three: classes.iter().map(|c| c.all_three).sum(),
            classes,
            dropped: load.dropped.len(),
            problems,
            verbose: false,
            published: None,
            ratings: Vec::new(),
        }
    }

    /// Shows the range of each of the layout's rating `columns` over `load`'s listed songs.
    pub fn ratings(
        mut self,
        load: &DatasetLoad,
        columns: &[(&'static str, (f64, f64))],
    ) -> InspectReport {
        self.ratings = (columns.iter())
            .map(|&(column, scale)| RatingRange::of(&load.listed, column, scale))
            .collect();
        self
    }

    /// The same report, printing every problem when `verbose`.
    pub fn verbose(mut self, verbose: bool) -> InspectReport {
        self.verbose = verbose;
        self
    }

    /// Shows the dataset's published counts (see [`super::published_counts`]).
    pub fn published(mut self, published: Option<&'static str>) -> InspectReport {
        self.published = published;
        self
    }

    fn write_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table = TextTable::new([
            "class",
            "songs",
            "audio",
            "lyrics",
            "midi",
            "all-three",
            "selected-any",
        ]);
        for row in self.classes.iter().chain([&self.total()]) {
            table.push(counts_cells(row));
        }
        write!(f, "{table}")
    }

    fn total(&self) -> ClassCounts {
        let mut total = ClassCounts {
            class: "total".to_string(),
            songs: 0,
            with: PerModality::default(),
            all_three: 0,
            selected_any: 0,
        };
        for row in &self.classes {
            total.songs += row.songs;
            for (modality, count) in row.with.iter() {
                total.with[modality] += count;
            }
            total.all_three += row.all_three;
            total.selected_any += row.selected_any;
        }
        total
    }

    fn write_problems(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count: usize = self.problems.values().map(Vec::len).sum();
        if count == 0 {
            return writeln!(f, "Problems: none");
        }
        writeln!(f, "Problems: {count}")?;
        for (kind, problems) in &self.problems {
            writeln!(f, "  {kind} ({}):", problems.len())?;
            let shown = if self.verbose {
                problems.len()
            } else {
                PROBLEMS_PER_KIND.min(problems.len())
            };
            for problem in &problems[..shown] {
                // Problems quote ids, labels and file names from the dataset, verbatim.
                writeln!(f, "    {}", escape_for_terminal(&problem.to_string()))?;
            }
            if shown < problems.len() {
                writeln!(
                    f,
                    "    ... and {} more (--all lists all)",
                    problems.len() - shown
                )?;
            }
        }
        Ok(())
    }
}

fn counts_cells(row: &ClassCounts) -> Vec<String> {
    let mut cells = vec![
        escape_for_terminal(&row.class).into_owned(),
        row.songs.to_string(),
    ];
    cells.extend(row.with.iter().map(|(_, count)| count.to_string()));
    cells.push(row.all_three.to_string());
    cells.push(row.selected_any.to_string());
    cells
}

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Songs listed: {}", self.listed)?;
        if let Some(published) = self.published {
            writeln!(f, "Published: {published}")?;
        }
        if !self.ratings.is_empty() {
            writeln!(f, "Ratings:")?;
            for range in &self.ratings {
                writeln!(f, "  {range}")?;
            }
        }
        writeln!(f, "Selected modalities: {}", self.selected)?;
        self.write_table(f)?;
        writeln!(f, "Songs with all three modalities: {}", self.all_three)?;
        writeln!(
            f,
            "Songs dropped for the selection (no {} file): {}",
            self.selected, self.dropped
        )?;
        self.write_problems(f)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::dataset::{Manifest, Song};

    fn song(id: &str, label: usize, files: [bool; 3]) -> Song {
        Song {
            id: id.into(),
            label,
            subcategory: None,
            label_source: format!("clusters.txt line {id}"),
            files: PerModality::from(files.map(|f| f.then(|| PathBuf::from(id)))),
            rows: ModalityMask::NONE,
            metadata: BTreeMap::new(),
        }
    }

    fn load(problems: Vec<DatasetProblem>) -> DatasetLoad {
        let listed = Manifest {
            classes: vec!["calm".into(), "tense".into()],
            songs: vec![
                song("1", 0, [true, true, true]),
                song("2", 0, [true, false, false]),
                song("3", 1, [false, true, true]),
            ],
        };
        let midi: ModalityMask = [Modality::Midi].into_iter().collect();
        let (manifest, dropped) = listed.select(midi);
        DatasetLoad {
            targets: crate::dataset::targets::SongTargets::Classes,
            manifest,
            listed,
            dropped,
            problems,
        }
    }

    #[test]
    fn counts_per_class_and_modality() {
        let midi: ModalityMask = [Modality::Midi].into_iter().collect();
        let report = InspectReport::new(&load(vec![]), midi);
        assert_eq!(report.listed, 3);
        assert_eq!(report.classes[0].with, PerModality::from([2, 1, 1]));
        assert_eq!(report.classes[0].selected_any, 1);
        assert_eq!(report.classes[1].selected_any, 1);
        assert_eq!(report.all_three, 1);
        assert_eq!(report.dropped, 1);
        let text = report.to_string();
        assert!(text.contains("Songs listed: 3"), "{text}");
        assert!(text.contains("Problems: none"), "{text}");
        assert!(text.contains("selected-any"), "{text}");
    }

    #[test]
    fn labels_and_problems_print_control_characters_escaped() {
        let mut load = load(vec![DatasetProblem::UnlistedFile {
            path: PathBuf::from("Audio/\u{1b}]0;title\u{7}.mp3"),
        }]);
        load.listed.classes[0] = "\u{1b}[2Jcalm".into();
        let midi: ModalityMask = [Modality::Midi].into_iter().collect();
        let text = InspectReport::new(&load, midi).to_string();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(text.contains("\\u{1b}[2Jcalm"), "{text}");
        assert!(text.contains("Audio/\\u{1b}]0;title\\u{7}.mp3"), "{text}");
    }

    #[test]
    fn long_problem_lists_are_cut_unless_verbose() {
        let problems: Vec<DatasetProblem> = (0..13)
            .map(|i| DatasetProblem::UnlistedFile {
                path: PathBuf::from(format!("Audio/{i}.mp3")),
            })
            .collect();
        let load = load(problems);
        let midi: ModalityMask = [Modality::Midi].into_iter().collect();
        let short = InspectReport::new(&load, midi).to_string();
        assert!(short.contains("unlisted file present (13):"), "{short}");
        assert!(short.contains("... and 3 more"), "{short}");
        assert!(!short.contains("Audio/12.mp3"), "{short}");
        let long = InspectReport::new(&load, midi).verbose(true).to_string();
        assert!(long.contains("Audio/12.mp3"), "{long}");
        assert!(!long.contains("more"), "{long}");
    }
}
