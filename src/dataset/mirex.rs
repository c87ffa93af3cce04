//! Layout `mirex-like`: the MIREX-like mood archive (Panda et al. 2013) exactly as distributed.
//!
//! `clusters.txt` gives the labels (line i is song i, id `{:03}`), `categories.txt` the
//! subcategories, `dataset info.csv` the title/artist metadata and the audio list, and the three
//! `split-by-categories-*.bat` files repeat the labels, which are cross-checked.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::Path;

use super::media::{FolderIndex, child_ignoring_case};
use super::{Conflict, DatasetError, DatasetProblem, LabelClaim, LabelledSong, Listing};
use crate::modality::{Modality, PerModality};
use crate::spec::sections::DatasetSection;
use crate::text::{TextError, decode_text};

const CLUSTERS: &str = "clusters.txt";
const CATEGORIES: &str = "categories.txt";
const INFO: &str = "dataset info.csv";
const PARTIAL_NOTE: &str = "the archive's lyrics and MIDI are partial";

/// Where one modality lives in the archive.
struct MediaKind {
    modality: Modality,
    folder: &'static str,
    /// Accepted extensions, the archive's own first. The archive's audio is mp3, but the same
    /// layout with re-encoded (or the demo's generated) audio is just as valid.
    extensions: &'static [&'static str],
    bat: &'static str,
}

/// Audio extensions the decoder reads.
const AUDIO_EXTENSIONS: &[&str] = &["mp3", "wav", "flac", "ogg"];

const MEDIA: [MediaKind; 3] = [
    MediaKind {
        modality: Modality::Audio,
        folder: "Audio",
        extensions: AUDIO_EXTENSIONS,
        bat: "split-by-categories-audio.bat",
    },
    MediaKind {
        modality: Modality::Lyrics,
        folder: "Lyrics",
        extensions: &["txt"],
        bat: "split-by-categories-lyrics.bat",
    },
    MediaKind {
        modality: Modality::Midi,
        folder: "MIDIs",
        extensions: &["mid", "midi"],
        bat: "split-by-categories-midi.bat",
    },
];

/// Reads the archive under `section.root`.
pub(super) fn read(section: &DatasetSection) -> Result<Listing, DatasetError> {
    let root = &section.root;
    let mut problems = Vec::new();
    let clusters_path = root.join(CLUSTERS);
    let clusters_text = read_required(&clusters_path)?;
    let clusters = lines(&clusters_text);
    let categories_path = root.join(CATEGORIES);
    let categories_text = read_optional(
        &categories_path,
        "songs get no subcategory and the .bat files are checked for clusters only",
        &mut problems,
    );
    let categories = categories_text.as_deref().map(lines);
    if let Some(categories) = &categories
        && categories.len() != clusters.len()
    {
        problems.push(DatasetProblem::CountMismatch {
            reference: clusters_path.clone(),
            reference_count: clusters.len(),
            other: categories_path.clone(),
            other_count: categories.len(),
        });
    }
    let reference = reference_labels(
        &clusters,
        categories.as_deref(),
        &clusters_path,
        &mut problems,
    );
    let mut songs: Vec<LabelledSong> = reference
        .iter()
        .map(|r| LabelledSong {
            id: r.id.clone(),
            label: r.label.clone(),
            subcategory: r.subcategory.clone(),
            label_source: r.claim().source,
            files: PerModality::default(),
            metadata: BTreeMap::new(),
        })
        .collect();
    let by_id: HashMap<String, usize> = songs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.clone(), i))
        .collect();

    let audio_listed = read_info(
        root,
        &clusters_path,
        clusters.len(),
        &by_id,
        &mut songs,
        &mut problems,
    );

    let mut conflicts = BTreeMap::new();
    let mut listed_by_modality = Vec::new();
    for kind in &MEDIA {
        let bat_path = root.join(kind.bat);
        let consequence = format!(
            "labels are not cross-checked against it and every song is taken as listed for {}",
            kind.modality
        );
        let listed = match read_optional(&bat_path, &consequence, &mut problems) {
            Some(text) => {
                let entries = parse_bat(&text, &bat_path, kind.extensions, &mut problems);
                let check = CrossCheck {
                    bat_path: &bat_path,
                    labels_path: &clusters_path,
                    reference: &reference,
                    by_id: &by_id,
                };
                check.run(&entries, &mut conflicts, &mut problems)
            }
            None => by_id.keys().cloned().collect(),
        };
        listed_by_modality.push(listed);
    }
    // The audio list comes from `dataset info.csv`, where the archive states its recordings.
    if let Some(audio) = audio_listed {
        listed_by_modality[0] = audio;
    }

    for (kind, listed) in MEDIA.iter().zip(&listed_by_modality) {
        attach_media(root, kind, listed, &mut songs, &mut problems);
    }

    let conflicts = conflicts
        .into_iter()
        .map(|(id, claims)| Conflict { id, claims })
        .collect();
    Ok(Listing {
        songs,
        problems,
        conflicts,
    })
}

/// A song's label as `clusters.txt` and `categories.txt` give it.
#[derive(Debug, Clone, PartialEq)]
struct ReferenceLabel {
    id: String,
    line: usize,
    label: String,
    subcategory: Option<String>,
}

impl ReferenceLabel {
    fn claim(&self) -> LabelClaim {
        let source = if self.subcategory.is_some() {
            format!("{CLUSTERS}/{CATEGORIES} line {}", self.line)
        } else {
            format!("{CLUSTERS} line {}", self.line)
        };
        LabelClaim {
            source,
            label: self.label.clone(),
            subcategory: self.subcategory.clone(),
        }
    }
}

fn song_id(line: usize) -> String {
    format!("{line:03}")
}

fn reference_labels(
    clusters: &[&str],
    categories: Option<&[&str]>,
    clusters_path: &Path,
    problems: &mut Vec<DatasetProblem>,
) -> Vec<ReferenceLabel> {
    let mut labels = Vec::with_capacity(clusters.len());
    for (i, cluster) in clusters.iter().enumerate() {
        let line = i + 1;
        let id = song_id(line);
        if cluster.is_empty() {
            problems.push(DatasetProblem::EmptyLabel {
                path: clusters_path.to_path_buf(),
                line,
                id,
            });
            continue;
        }
        let subcategory = categories
            .and_then(|c| c.get(i))
            .filter(|s| !s.is_empty())
            .map(|s| s.to_string());
        labels.push(ReferenceLabel {
            id,
            line,
            label: cluster.to_string(),
            subcategory,
        });
    }
    labels
}

/// Attaches `dataset info.csv` metadata to songs; returns the ids it lists audio for, or
/// `None` when the file is unusable.
fn read_info(
    root: &Path,
    clusters_path: &Path,
    song_count: usize,
    by_id: &HashMap<String, usize>,
    songs: &mut [LabelledSong],
    problems: &mut Vec<DatasetProblem>,
) -> Option<HashSet<String>> {
    let info_path = root.join(INFO);
    let text = read_optional(
        &info_path,
        "songs get no title/artist metadata and audio files are not checked against it",
        problems,
    )?;
    let rows = parse_info(&text, &info_path, problems);
    if rows.len() != song_count {
        problems.push(DatasetProblem::CountMismatch {
            reference: clusters_path.to_path_buf(),
            reference_count: song_count,
            other: info_path.clone(),
            other_count: rows.len(),
        });
    }
    let mut listed = HashSet::new();
    for (i, row) in rows.into_iter().enumerate() {
        let id = song_id(i + 1);
        let Some(fields) = row.fields else { continue };
        let expected = format!("{id}.mp3");
        let names_song = |found: &str| {
            found.rsplit_once('.').is_some_and(|(stem, extension)| {
                stem == id
                    && AUDIO_EXTENSIONS
                        .iter()
                        .any(|e| extension.eq_ignore_ascii_case(e))
            })
        };
        if let Some(found) = fields.get("Filename")
            && !names_song(found)
        {
            problems.push(DatasetProblem::FilenameMismatch {
                path: info_path.clone(),
                line: row.line,
                id: id.clone(),
                expected,
                found: found.clone(),
            });
        }
        if let Some(&index) = by_id.get(&id) {
            songs[index].metadata = fields;
            listed.insert(id);
        }
    }
    Some(listed)
}

/// One data row of `dataset info.csv`; `fields` is `None` for a row that could not be read
/// (it still takes its song's position).
#[derive(Debug, Clone, PartialEq)]
struct InfoRow {
    line: usize,
    fields: Option<BTreeMap<String, String>>,
}

/// Parses `dataset info.csv`: `;`-separated, a trailing `;`, no quoting (titles contain
/// literal `"`). A row with too many fields has an unquoted `;` in its title: the other
/// columns are anchored from the right and the surplus is joined back into the first column.
fn parse_info(text: &str, path: &Path, problems: &mut Vec<DatasetProblem>) -> Vec<InfoRow> {
    let all = lines(text);
    let Some((header, rows)) = all.split_first() else {
        return Vec::new();
    };
    let header = split_fields(header);
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let line = i + 2;
            InfoRow {
                line,
                fields: parse_info_row(&header, row, path, line, problems),
            }
        })
        .collect()
}

fn parse_info_row(
    header: &[&str],
    row: &str,
    path: &Path,
    line: usize,
    problems: &mut Vec<DatasetProblem>,
) -> Option<BTreeMap<String, String>> {
    let fields = split_fields(row);
    if fields.len() < header.len() || header.is_empty() {
        problems.push(DatasetProblem::MalformedLine {
            path: path.to_path_buf(),
            line,
            reason: format!(
                "{} `;`-separated field(s) where the header has {} ({})",
                fields.len(),
                header.len(),
                header.join(";")
            ),
        });
        return None;
    }
    let surplus = fields.len() - header.len();
    let first = fields[..=surplus].join(";");
    if surplus > 0 {
        problems.push(DatasetProblem::AmbiguousLine {
            path: path.to_path_buf(),
            line,
            assumption: format!(
                "{} `;`-separated fields where the header has {}; assumed {} part of {} (\"{first}\")",
                fields.len(),
                header.len(),
                if surplus == 1 {
                    "the extra `;` is".to_string()
                } else {
                    format!("the {surplus} extra `;` are")
                },
                header[0]
            ),
        });
    }
    let values = std::iter::once(first.as_str()).chain(fields[surplus + 1..].iter().copied());
    Some(
        header
            .iter()
            .zip(values)
            .map(|(name, value)| (name.trim(), value.trim()))
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
    )
}

/// Splits on `;`, dropping the empty field a trailing `;` leaves. Fields are not trimmed, so
/// a title re-joined from pieces keeps its spaces.
fn split_fields(line: &str) -> Vec<&str> {
    let line = line.strip_suffix(';').unwrap_or(line);
    line.split(';').collect()
}

/// One `move` line of a `.bat` file.
#[derive(Debug, Clone, PartialEq)]
struct BatEntry {
    line: usize,
    id: String,
    cluster: String,
    subcategory: String,
}

/// Parses `move 001.mp3 "Cluster 1\Boisterous\001.mp3"` lines; `mkdir` and other harmless
/// batch lines are skipped, anything else is reported.
fn parse_bat(
    text: &str,
    path: &Path,
    extensions: &[&str],
    problems: &mut Vec<DatasetProblem>,
) -> Vec<BatEntry> {
    let extension = extensions[0];
    let mut entries = Vec::new();
    for (i, raw) in lines(text).iter().enumerate() {
        let line = i + 1;
        let (command, rest) = raw.split_once(char::is_whitespace).unwrap_or((raw, ""));
        let command = command.to_ascii_lowercase();
        if raw.is_empty()
            || raw.starts_with('@')
            || raw.starts_with("::")
            || ["mkdir", "md", "rem", "cd", "echo"].contains(&command.as_str())
        {
            continue;
        }
        let parsed = if command == "move" {
            parse_move(rest.trim(), extensions)
        } else {
            Err(format!("unexpected command `{command}`"))
        };
        match parsed {
            Ok((id, cluster, subcategory)) => entries.push(BatEntry {
                line,
                id,
                cluster,
                subcategory,
            }),
            Err(reason) => problems.push(DatasetProblem::MalformedLine {
                path: path.to_path_buf(),
                line,
                reason: format!(
                    "{reason}; expected `move NNN.{extension} \"Cluster k\\Subcategory\\NNN.{extension}\"`"
                ),
            }),
        }
    }
    entries
}

/// `(id, cluster, subcategory)` from the arguments of a `move`.
fn parse_move(args: &str, extensions: &[&str]) -> Result<(String, String, String), String> {
    let (source, destination) = split_first_argument(args);
    let destination = unquote(destination.trim());
    let Some((stem, source_extension)) = source.rsplit_once('.') else {
        return Err(format!("source `{source}` has no extension"));
    };
    if !extensions
        .iter()
        .any(|e| source_extension.eq_ignore_ascii_case(e))
    {
        return Err(format!(
            "source `{source}` is not a .{} file",
            extensions.join(" or .")
        ));
    }
    let parts: Vec<&str> = destination.split('\\').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [cluster, subcategory, _file] => Ok((
            stem.to_string(),
            cluster.trim().to_string(),
            subcategory.trim().to_string(),
        )),
        _ => Err(format!(
            "destination \"{destination}\" is not `cluster\\subcategory\\file`"
        )),
    }
}

fn split_first_argument(args: &str) -> (&str, &str) {
    if let Some(quoted) = args.strip_prefix('"')
        && let Some((first, rest)) = quoted.split_once('"')
    {
        return (first, rest);
    }
    args.split_once(char::is_whitespace).unwrap_or((args, ""))
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

/// Compares one `.bat` file's labels with the reference labels.
struct CrossCheck<'a> {
    bat_path: &'a Path,
    labels_path: &'a Path,
    reference: &'a [ReferenceLabel],
    by_id: &'a HashMap<String, usize>,
}

impl CrossCheck<'_> {
    /// Records disagreements in `conflicts` (per id, reference claim first) and returns the
    /// ids the file lists.
    fn run(
        &self,
        entries: &[BatEntry],
        conflicts: &mut BTreeMap<String, Vec<LabelClaim>>,
        problems: &mut Vec<DatasetProblem>,
    ) -> HashSet<String> {
        let mut first_line: HashMap<&str, usize> = HashMap::new();
        for entry in entries {
            let Some(&index) = self.by_id.get(&entry.id) else {
                problems.push(DatasetProblem::UnknownId {
                    path: self.bat_path.to_path_buf(),
                    line: entry.line,
                    id: entry.id.clone(),
                    labels: self.labels_path.to_path_buf(),
                });
                continue;
            };
            if let Some(&first) = first_line.get(entry.id.as_str()) {
                problems.push(DatasetProblem::DuplicateId {
                    path: self.bat_path.to_path_buf(),
                    line: entry.line,
                    first_line: first,
                    id: entry.id.clone(),
                });
                continue;
            }
            first_line.insert(&entry.id, entry.line);
            let reference = &self.reference[index];
            let subcategory_agrees = reference
                .subcategory
                .as_ref()
                .is_none_or(|s| *s == entry.subcategory);
            if reference.label != entry.cluster || !subcategory_agrees {
                conflicts
                    .entry(entry.id.clone())
                    .or_insert_with(|| vec![reference.claim()])
                    .push(LabelClaim {
                        source: format!("{} line {}", file_name(self.bat_path), entry.line),
                        label: entry.cluster.clone(),
                        subcategory: Some(entry.subcategory.clone()),
                    });
            }
        }
        first_line.into_keys().map(str::to_string).collect()
    }
}

/// Fills in one modality's files and reports missing and unlisted ones.
fn attach_media(
    root: &Path,
    kind: &MediaKind,
    listed: &HashSet<String>,
    songs: &mut [LabelledSong],
    problems: &mut Vec<DatasetProblem>,
) {
    let folder = child_ignoring_case(root, kind.folder);
    let mut index = match FolderIndex::read(&folder) {
        Ok(Some(index)) => index,
        Ok(None) => {
            problems.push(DatasetProblem::FolderMissing {
                modality: kind.modality,
                path: folder,
            });
            return;
        }
        Err(err) => {
            problems.push(DatasetProblem::MetadataUnavailable {
                path: folder,
                reason: format!("cannot list folder: {err}"),
                consequence: format!("no song has {}", kind.modality),
            });
            return;
        }
    };
    let (mut listed_count, mut missing) = (0, 0);
    for song in songs.iter_mut() {
        let name = format!("{}.{}", song.id, kind.extensions[0]);
        song.files[kind.modality] = kind
            .extensions
            .iter()
            .find_map(|extension| index.claim(&format!("{}.{extension}", song.id)));
        if !listed.contains(&song.id) {
            continue;
        }
        listed_count += 1;
        if song.files[kind.modality].is_some() {
            continue;
        }
        missing += 1;
        // Every recording of the archive is expected; lyrics and MIDI are known to be partial.
        if kind.modality == Modality::Audio {
            problems.push(DatasetProblem::ListedFileMissing {
                modality: kind.modality,
                id: song.id.clone(),
                path: folder.join(&name),
            });
        }
    }
    if kind.modality != Modality::Audio && missing > 0 {
        problems.push(DatasetProblem::ModalityPartial {
            modality: kind.modality,
            missing,
            listed: listed_count,
            note: PARTIAL_NOTE.to_string(),
        });
    }
    problems.extend(
        index
            .unclaimed()
            .map(|(_, path)| DatasetProblem::UnlistedFile {
                path: path.to_path_buf(),
            }),
    );
}

/// Lines without the empty one a final newline leaves, each trimmed.
fn lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').map(str::trim).collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

enum ReadFailure {
    Io(io::Error),
    Text(TextError),
}

fn read_text(path: &Path) -> Result<String, ReadFailure> {
    let bytes = std::fs::read(path).map_err(ReadFailure::Io)?;
    decode_text(&bytes).map_err(ReadFailure::Text)
}

fn read_required(path: &Path) -> Result<String, DatasetError> {
    super::read_labels(path, || {
        "layout \"mirex-like\" needs clusters.txt (one \"Cluster k\" per line, line i = song i) in dataset.root".to_string()
    })
}

/// The file's text, or `None` with a problem saying what is lost.
fn read_optional(
    path: &Path,
    consequence: &str,
    problems: &mut Vec<DatasetProblem>,
) -> Option<String> {
    match read_text(path) {
        Ok(text) => Some(text),
        Err(failure) => {
            let reason = match failure {
                ReadFailure::Io(err) if err.kind() == io::ErrorKind::NotFound => {
                    "not found".to_string()
                }
                ReadFailure::Io(err) => format!("cannot read: {err}"),
                ReadFailure::Text(err) => format!("cannot decode: {err}"),
            };
            problems.push(DatasetProblem::MetadataUnavailable {
                path: path.to_path_buf(),
                reason,
                consequence: consequence.to_string(),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests;
