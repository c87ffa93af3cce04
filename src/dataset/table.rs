//! Layout `table`: a labels CSV (`id,label`, more columns kept as metadata) and one path
//! template per modality, e.g. `audio = "audio/{id}.wav"`, both relative to the root.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::media::FolderIndex;
use super::{Conflict, DatasetError, DatasetProblem, LabelClaim, LabelledSong, Listing};
use crate::modality::{Modality, PerModality};
use crate::spec::lexically_normal;
use crate::spec::sections::DatasetSection;

const DEFAULT_LABELS: &str = "labels.csv";
const DEFAULT_ID_COLUMN: &str = "id";
const DEFAULT_LABEL_COLUMN: &str = "label";
const SUBCATEGORY_COLUMN: &str = "subcategory";
const ID_PLACEHOLDER: &str = "{id}";

/// Reads the labels CSV and finds each song's files.
pub(super) fn read(section: &DatasetSection) -> Result<Listing, DatasetError> {
    let root = &section.root;
    let templates = parse_templates(&section.paths)?;
    let labels_path = root.join(
        section
            .labels
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_LABELS)),
    );
    let text = super::read_labels(&labels_path, || {
        "layout \"table\" needs a labels CSV with an id and a label column; set dataset.labels to its path relative to dataset.root".to_string()
    })?;
    let columns = Columns {
        id: section.id_column.as_deref().unwrap_or(DEFAULT_ID_COLUMN),
        label: section
            .label_column
            .as_deref()
            .unwrap_or(DEFAULT_LABEL_COLUMN),
    };
    let table = parse_labels(&text, &labels_path, &columns)?;
    let mut listing = Listing {
        songs: table
            .rows
            .into_iter()
            .map(|row| row.into_song(&labels_path))
            .collect(),
        problems: table.problems,
        conflicts: table.conflicts,
    };
    for template in &templates {
        attach_files(root, template, &table.all_ids, &mut listing);
    }
    Ok(listing)
}

/// A `dataset.paths` entry: the modality and the template split around `{id}`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Template {
    modality: Modality,
    text: String,
}

impl Template {
    /// The template `text` (relative to the root, with `{id}`) of `modality`'s files.
    pub(super) fn new(modality: Modality, text: &str) -> Template {
        Template {
            modality,
            text: text.to_string(),
        }
    }

    fn path(&self, root: &Path, id: &str) -> PathBuf {
        root.join(self.text.replace(ID_PLACEHOLDER, id))
    }

    /// Folder, file-name prefix and suffix when `{id}` is only in the file name, the case in
    /// which the folder can be listed once and leftovers reported.
    fn file_pattern(&self) -> Option<(&str, &str, &str)> {
        let (folder, file) = match self.text.rsplit_once('/') {
            Some((folder, file)) => (folder, file),
            None => ("", self.text.as_str()),
        };
        if folder.contains(ID_PLACEHOLDER) || file.matches(ID_PLACEHOLDER).count() != 1 {
            return None;
        }
        let (prefix, suffix) = file.split_once(ID_PLACEHOLDER)?;
        Some((folder, prefix, suffix))
    }
}

fn parse_templates(paths: &BTreeMap<String, String>) -> Result<Vec<Template>, DatasetError> {
    paths
        .iter()
        .map(|(key, template)| {
            let bad = |reason| DatasetError::BadTemplate {
                key: key.clone(),
                template: template.clone(),
                reason,
            };
            let modality = Modality::ALL
                .into_iter()
                .find(|m| m.name() == key)
                .ok_or_else(|| bad("not a modality"))?;
            if !template.contains(ID_PLACEHOLDER) {
                return Err(bad("no {id} in the template"));
            }
            Ok(Template {
                modality,
                // Templates are written with `/` on every system; Windows paths accept it too.
                text: template.replace('\\', "/"),
            })
        })
        .collect()
}

/// The id and label columns of a labels CSV.
pub(super) struct Columns<'a> {
    pub(super) id: &'a str,
    pub(super) label: &'a str,
}

/// One usable row of the labels CSV.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub(super) line: u64,
    pub(super) id: String,
    pub(super) label: String,
    subcategory: Option<String>,
    pub(super) metadata: BTreeMap<String, String>,
}

impl Row {
    pub(super) fn into_song(self, path: &Path) -> LabelledSong {
        LabelledSong {
            label_source: self.claim(path).source,
            id: self.id,
            label: self.label,
            subcategory: self.subcategory,
            files: PerModality::default(),
            metadata: self.metadata,
        }
    }

    fn claim(&self, path: &Path) -> LabelClaim {
        LabelClaim {
            source: format!("{} line {}", display_name(path), self.line),
            label: self.label.clone(),
            subcategory: self.subcategory.clone(),
        }
    }
}

/// A labels CSV as read: its usable rows and what was wrong with the others.
#[derive(Debug, Default)]
pub(super) struct LabelTable {
    pub(super) rows: Vec<Row>,
    /// Every id in the file, usable row or not, so their files are not called unlisted.
    pub(super) all_ids: HashSet<String>,
    pub(super) problems: Vec<DatasetProblem>,
    pub(super) conflicts: Vec<Conflict>,
}

/// Reads a labels CSV (`text` of the file at `path`) by column name: a missing column is an
/// error, a bad row a problem with its line.
pub(super) fn parse_labels(
    text: &str,
    path: &Path,
    columns: &Columns,
) -> Result<LabelTable, DatasetError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let malformed = |err: csv::Error| DatasetError::MalformedLabels {
        path: path.to_path_buf(),
        line: err.position().map_or(1, |p| p.line()),
        reason: err.to_string(),
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(malformed)?
        .iter()
        .map(str::to_string)
        .collect();
    let find = |column: &str, key: &'static str| {
        header
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| DatasetError::MissingColumn {
                path: path.to_path_buf(),
                column: column.to_string(),
                key,
                found: header.clone(),
            })
    };
    let id_at = find(columns.id, "id_column")?;
    let label_at = find(columns.label, "label_column")?;
    let subcategory_at = header.iter().position(|h| h == SUBCATEGORY_COLUMN);

    let mut table = LabelTable::default();
    let mut first_row: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        let line = record.position().map_or(0, |p| p.line());
        let problem_line = usize::try_from(line).unwrap_or(usize::MAX);
        if record.len() != header.len() {
            table.problems.push(DatasetProblem::MalformedLine {
                path: path.to_path_buf(),
                line: problem_line,
                reason: format!(
                    "{} field(s) where the header has {} ({})",
                    record.len(),
                    header.len(),
                    header.join(",")
                ),
            });
            if let Some(id) = record.get(id_at).filter(|id| !id.is_empty()) {
                table.all_ids.insert(id.to_string());
            }
            continue;
        }
        let id = record[id_at].to_string();
        if id.is_empty() {
            table.problems.push(DatasetProblem::MalformedLine {
                path: path.to_path_buf(),
                line: problem_line,
                reason: format!("empty id (column \"{}\")", columns.id),
            });
            continue;
        }
        table.all_ids.insert(id.clone());
        let label = record[label_at].to_string();
        if label.is_empty() {
            table.problems.push(DatasetProblem::EmptyLabel {
                path: path.to_path_buf(),
                line: problem_line,
                id,
            });
            continue;
        }
        let metadata = header
            .iter()
            .zip(record.iter())
            .enumerate()
            .filter(|(i, (_, value))| {
                *i != id_at && *i != label_at && Some(*i) != subcategory_at && !value.is_empty()
            })
            .map(|(_, (name, value))| (name.clone(), value.to_string()))
            .collect();
        let row = Row {
            line,
            id,
            label,
            subcategory: subcategory_at
                .map(|i| record[i].to_string())
                .filter(|s| !s.is_empty()),
            metadata,
        };
        match first_row.get(&row.id) {
            Some(&first) => repeat_row(first, row, path, &mut table),
            None => {
                first_row.insert(row.id.clone(), table.rows.len());
                table.rows.push(row);
            }
        }
    }
    Ok(table)
}

/// [`parse_labels`] for a fixed layout's labels file (`text` read from `path`): a missing column
/// is [`DatasetError::LayoutColumn`], naming the layout whose file it should be.
pub(super) fn parse_layout_labels(
    text: &str,
    path: &Path,
    columns: &Columns,
    layout: &'static str,
) -> Result<LabelTable, DatasetError> {
    parse_labels(text, path, columns).map_err(|err| match err {
        DatasetError::MissingColumn {
            path,
            column,
            found,
            ..
        } => DatasetError::LayoutColumn {
            path,
            column,
            layout,
            found,
        },
        other => other,
    })
}

/// A metadata CSV read whole: its trimmed header and its rows with their 1-based lines.
#[derive(Debug, Default)]
pub(super) struct MetadataTable {
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<(usize, csv::StringRecord)>,
}

impl MetadataTable {
    /// Reads the CSV (or, with `delimiter`, TSV) at `path`: BOM, CRLF and stray spaces
    /// around cells tolerated, rows of any length kept. The error is a reason to show.
    pub(super) fn read(path: &Path, delimiter: u8) -> Result<MetadataTable, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let text = super::decode_text(&bytes).map_err(|e| e.to_string())?;
        MetadataTable::parse(&text, delimiter)
    }

    /// [`MetadataTable::read`] of a file's decoded `text`.
    pub(super) fn parse(text: &str, delimiter: u8) -> Result<MetadataTable, String> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header = (reader.headers().map_err(|e| e.to_string())?.iter())
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| e.to_string())?;
            let line = record.position().map_or(0, |p| p.line());
            rows.push((usize::try_from(line).unwrap_or(usize::MAX), record));
        }
        Ok(MetadataTable { header, rows })
    }

    /// [`MetadataTable::read`] of a layout's labels file, whose absence or damage stops the
    /// load: `hint` says what the layout expects there.
    pub(super) fn read_labels(
        path: &Path,
        delimiter: u8,
        hint: impl FnOnce() -> String,
    ) -> Result<MetadataTable, DatasetError> {
        let text = super::read_labels(path, hint)?;
        MetadataTable::parse(&text, delimiter).map_err(|reason| DatasetError::MalformedLabels {
            path: path.to_path_buf(),
            line: 1,
            reason,
        })
    }

    /// The position of `column` in a fixed layout's file read from `path`, matched with the
    /// spaces inside header names removed (DEAM writes `valence_ max_mean`), or the error
    /// naming the file, the column, the layout and the header.
    pub(super) fn layout_column(
        &self,
        path: &Path,
        column: &str,
        layout: &'static str,
    ) -> Result<usize, DatasetError> {
        let squeezed = |name: &str| -> String { name.split_whitespace().collect() };
        (self.header.iter())
            .position(|h| squeezed(h) == squeezed(column))
            .ok_or_else(|| DatasetError::LayoutColumn {
                path: path.to_path_buf(),
                column: column.to_string(),
                layout,
                found: self.header.clone(),
            })
    }

    /// The position of `column`, or a reason naming it and the header.
    pub(super) fn column(&self, column: &str) -> Result<usize, String> {
        (self.header.iter().position(|h| h == column)).ok_or_else(|| {
            format!(
                "line 1 has no column `{column}` (the header is `{}`)",
                self.header.join(",")
            )
        })
    }

    /// The non-empty values of `column`, with their lines.
    pub(super) fn values(&self, column: &str) -> Result<Vec<(usize, String)>, String> {
        let at = self.column(column)?;
        Ok((self.rows.iter())
            .filter_map(|(line, record)| {
                let value = record.get(at).filter(|v| !v.is_empty())?;
                Some((*line, value.to_string()))
            })
            .collect())
    }
}

/// The rows of a metadata file keyed by song: each row whose `id_column` names a listed song,
/// with the file's header. An unreadable file, or one without `id_column` or a column of `needed`, is reported
/// with `consequence` (what is lost) and gives `None`; a row of an unlisted id is reported
/// as unknown (`labels` being the file the songs come from).
pub(super) fn keyed_rows(
    path: &Path,
    (id_column, needed): (&str, &[&str]),
    (labels, consequence): (&Path, &str),
    listing: &mut Listing,
) -> Option<KeyedRows> {
    let read = MetadataTable::read(path, b',').and_then(|table| {
        for column in needed {
            table.column(column)?;
        }
        let at = table.column(id_column)?;
        Ok((table, at))
    });
    let (table, id_at) = match read {
        Ok(read) => read,
        Err(reason) => {
            listing.problems.push(DatasetProblem::MetadataUnavailable {
                path: path.to_path_buf(),
                reason,
                consequence: consequence.to_string(),
            });
            return None;
        }
    };
    let index = listing.song_index();
    let mut rows = Vec::new();
    let mut unknown = Vec::new();
    for (line, record) in table.rows {
        let id = record.get(id_at).unwrap_or_default();
        match index.get(id) {
            Some(&song) => rows.push(KeyedRow { line, song, record }),
            None => unknown.push(DatasetProblem::UnknownId {
                path: path.to_path_buf(),
                line,
                id: id.to_string(),
                labels: labels.to_path_buf(),
            }),
        }
    }
    listing.problems.extend(unknown);
    Some(KeyedRows {
        header: table.header,
        rows,
    })
}

/// What [`keyed_rows`] gives: the file's header and its rows of listed songs.
pub(super) struct KeyedRows {
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<KeyedRow>,
}

/// A row of a metadata file and the song it describes.
pub(super) struct KeyedRow {
    /// 1-based line.
    pub(super) line: usize,
    /// Index into the listing's songs.
    pub(super) song: usize,
    pub(super) record: csv::StringRecord,
}

impl KeyedRows {
    /// `row`'s non-empty value in `column`.
    pub(super) fn value<'a>(&self, row: &'a KeyedRow, column: &str) -> Option<&'a str> {
        let at = self.header.iter().position(|h| h == column)?;
        row.record.get(at).filter(|v| !v.is_empty())
    }
}

/// A repeated id: the same label is a harmless duplicate; another label is a conflict.
fn repeat_row(first: usize, repeat: Row, path: &Path, table: &mut LabelTable) {
    let first = &table.rows[first];
    if first.label == repeat.label && first.subcategory == repeat.subcategory {
        table.problems.push(DatasetProblem::DuplicateId {
            path: path.to_path_buf(),
            line: usize::try_from(repeat.line).unwrap_or(usize::MAX),
            first_line: usize::try_from(first.line).unwrap_or(usize::MAX),
            id: repeat.id,
        });
        return;
    }
    let first_claim = first.claim(path);
    let claim = repeat.claim(path);
    match table.conflicts.iter_mut().find(|c| c.id == repeat.id) {
        Some(conflict) => conflict.claims.push(claim),
        None => table.conflicts.push(Conflict {
            id: repeat.id.clone(),
            claims: vec![first_claim, claim],
        }),
    }
}

/// Fills in one modality's files, reporting listed-but-missing and unlisted files.
pub(super) fn attach_files(
    root: &Path,
    template: &Template,
    all_ids: &HashSet<String>,
    listing: &mut Listing,
) {
    let template_outside = template_leads_outside(root, template);
    if let Some(path) = &template_outside {
        listing.problems.push(DatasetProblem::PathOutsideRoot {
            modality: template.modality,
            template: template.text.clone(),
            id: None,
            path: path.clone(),
        });
    }
    let pattern = template.file_pattern();
    let mut index =
        pattern.and_then(|(folder, _, _)| FolderIndex::read(&root.join(folder)).ok().flatten());
    // A template whose folder is absent would otherwise report every song's file on its own.
    if let Some((folder, _, _)) = pattern
        && index.is_none()
        && !root.join(folder).exists()
    {
        listing.problems.push(DatasetProblem::FolderMissing {
            modality: template.modality,
            path: root.join(folder),
        });
        return;
    }
    for song in &mut listing.songs {
        let path = template.path(root, &song.id);
        let found = match (&mut index, pattern) {
            (Some(index), Some((_, prefix, suffix))) => {
                index.claim(&format!("{prefix}{}{suffix}", song.id))
            }
            _ => path.is_file().then(|| path.clone()),
        };
        match &found {
            None => listing.problems.push(DatasetProblem::ListedFileMissing {
                modality: template.modality,
                id: song.id.clone(),
                path,
            }),
            // Only ids can lead a template that stays inside the root out of it (`..`, `/`).
            Some(file) if template_outside.is_none() && !lexically_within(root, file) => {
                listing.problems.push(DatasetProblem::PathOutsideRoot {
                    modality: template.modality,
                    template: template.text.clone(),
                    id: Some(song.id.clone()),
                    path: lexically_normal(file),
                });
            }
            Some(_) => {}
        }
        song.files[template.modality] = found;
    }
    let (Some(index), Some((_, prefix, suffix))) = (&index, pattern) else {
        return;
    };
    for (name, path) in index.unclaimed() {
        // macOS archive debris (`._001.mid`) is no file of the dataset.
        if name.starts_with("._") {
            continue;
        }
        if let Some(id) = id_in_name(name, prefix, suffix)
            && !all_ids.contains(id)
            && path.is_file()
        {
            listing.problems.push(DatasetProblem::UnlistedFile {
                path: path.to_path_buf(),
            });
        }
    }
}

/// Where `template` leads when it leads outside `root` whatever the id (`../audio/{id}.wav`,
/// an absolute path), with `{id}` left in the path shown.
fn template_leads_outside(root: &Path, template: &Template) -> Option<PathBuf> {
    // A plain id cannot climb, so whatever leaves the root here is the template's doing.
    let example = template.path(root, "id");
    (!lexically_within(root, &example)).then(|| lexically_normal(&root.join(&template.text)))
}

/// Whether `path` lies under `root` once `.` and `..` are resolved, without asking the file
/// system (a symbolic link inside the root that points out of it is not caught).
fn lexically_within(root: &Path, path: &Path) -> bool {
    lexically_normal(path).starts_with(lexically_normal(root))
}

/// The id part of a file name matching `prefix{id}suffix` (suffix ignoring case, as lookups).
fn id_in_name<'a>(name: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(prefix)?;
    let cut = rest.len().checked_sub(suffix.len())?;
    let (id, end) = (rest.get(..cut)?, rest.get(cut..)?);
    (!id.is_empty() && end.eq_ignore_ascii_case(suffix)).then_some(id)
}

pub(super) fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: Columns = Columns {
        id: "id",
        label: "label",
    };

    fn parse(text: &str) -> LabelTable {
        parse_labels(text, Path::new("labels.csv"), &COLUMNS).unwrap()
    }

    #[test]
    fn extra_columns_become_metadata_and_subcategory_is_used() {
        let table = parse("id,title,label,subcategory,artist\nsong1, Hey Jude ,happy,joyful,\n");
        let row = &table.rows[0];
        assert_eq!(row.id, "song1");
        assert_eq!(row.label, "happy");
        assert_eq!(row.subcategory.as_deref(), Some("joyful"));
        assert_eq!(
            row.metadata,
            BTreeMap::from([("title".to_string(), "Hey Jude".to_string())])
        );
        assert!(table.problems.is_empty());
    }

    #[test]
    fn missing_column_is_an_error_naming_the_header() {
        let err = parse_labels("id,mood\na,x\n", Path::new("labels.csv"), &COLUMNS).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("labels.csv line 1"), "{text}");
        assert!(text.contains("\"id\", \"mood\""), "{text}");
    }

    #[test]
    fn duplicates_empty_labels_and_short_rows_are_problems_with_lines() {
        let table = parse("id,label\na,x\nb,\na,x\nc\na,y\n");
        let found: Vec<(ProblemLine, usize)> = table
            .problems
            .iter()
            .map(|p| match p {
                DatasetProblem::EmptyLabel { line, .. } => (ProblemLine::Empty, *line),
                DatasetProblem::DuplicateId { line, .. } => (ProblemLine::Duplicate, *line),
                DatasetProblem::MalformedLine { line, .. } => (ProblemLine::Malformed, *line),
                other => panic!("unexpected {other}"),
            })
            .collect();
        assert_eq!(
            found,
            [
                (ProblemLine::Empty, 3),
                (ProblemLine::Duplicate, 4),
                (ProblemLine::Malformed, 5)
            ]
        );
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.conflicts.len(), 1);
        assert_eq!(table.conflicts[0].claims[0].source, "labels.csv line 2");
        assert_eq!(table.conflicts[0].claims[1].source, "labels.csv line 6");
        assert!(table.all_ids.contains("c"));
    }

    #[derive(Debug, PartialEq)]
    enum ProblemLine {
        Empty,
        Duplicate,
        Malformed,
    }

    #[test]
    fn utf8_bom_does_not_hide_the_id_column() {
        let text = crate::text::decode_text(b"\xEF\xBB\xBFid,label\r\na,x\r\n").unwrap();
        assert_eq!(parse(&text).rows[0].id, "a");
    }

    #[test]
    fn templates_split_around_id() {
        let paths = BTreeMap::from([
            ("audio".to_string(), "audio/{id}.wav".to_string()),
            ("lyrics".to_string(), "{id}/lyrics.txt".to_string()),
        ]);
        let templates = parse_templates(&paths).unwrap();
        assert_eq!(templates[0].file_pattern(), Some(("audio", "", ".wav")));
        assert_eq!(templates[1].file_pattern(), None);
        assert_eq!(
            templates[0].path(Path::new("/d"), "7"),
            PathBuf::from("/d/audio/7.wav")
        );
        let bad = BTreeMap::from([("video".to_string(), "v/{id}.mp4".to_string())]);
        assert!(matches!(
            parse_templates(&bad),
            Err(DatasetError::BadTemplate { .. })
        ));
    }

    #[test]
    fn id_is_cut_from_matching_names_only() {
        assert_eq!(id_in_name("s12.WAV", "s", ".wav"), Some("12"));
        assert_eq!(id_in_name("s.wav", "s", ".wav"), None);
        assert_eq!(id_in_name("notes.txt", "", ".wav"), None);
    }

    #[test]
    fn paths_are_judged_inside_the_root_after_resolving_dots() {
        let root = Path::new("/d/data");
        assert!(lexically_within(
            root,
            Path::new("/d/data/./audio/../a.wav")
        ));
        assert!(!lexically_within(
            root,
            Path::new("/d/data/audio/../../a.wav")
        ));
        assert!(!lexically_within(root, Path::new("/d/database/a.wav")));
        let templates = parse_templates(&BTreeMap::from([
            ("audio".to_string(), "../shared/{id}.wav".to_string()),
            ("lyrics".to_string(), "lyrics/{id}.txt".to_string()),
            ("midi".to_string(), "/elsewhere/{id}.mid".to_string()),
        ]))
        .unwrap();
        let outside: Vec<Option<PathBuf>> = templates
            .iter()
            .map(|t| template_leads_outside(root, t))
            .collect();
        assert_eq!(
            outside,
            [
                Some(PathBuf::from("/d/shared/{id}.wav")),
                None,
                Some(PathBuf::from("/elsewhere/{id}.mid"))
            ]
        );
    }
}
