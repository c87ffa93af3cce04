//! Media kept in one folder per Russell quadrant, `Q1/` ... `Q4/` (the 4Q audio set and
//! MERGE): each song's file is looked up in its quadrant's folder, a file found in another
//! quadrant's folder is a label conflict (the folder is a second claim about the label), and
//! files no song lists are reported.

use std::collections::HashSet;
use std::path::Path;

use super::media::{FolderIndex, child_ignoring_case};
use super::table::LabelTable;
use super::{Conflict, DatasetProblem, LabelledSong, Listing};
use crate::modality::Modality;

/// The quadrant folders, in label order.
pub(super) const QUADRANTS: [&str; 4] = ["Q1", "Q2", "Q3", "Q4"];

/// `Q1` ... `Q4` from a cell reading `Q3`, `q3` or `3`.
pub(super) fn quadrant(value: &str) -> Option<String> {
    let value = value.trim();
    let digit = value
        .strip_prefix(['Q', 'q'])
        .unwrap_or(value)
        .parse::<u8>();
    match digit {
        Ok(n @ 1..=4) => Some(format!("Q{n}")),
        _ => None,
    }
}

/// The rows of a labels table whose label reads as a quadrant ([`quadrant`]), the others
/// reported with their line.
pub(super) fn quadrant_listing(table: LabelTable, path: &Path) -> Listing {
    let mut listing = Listing {
        problems: table.problems,
        conflicts: table.conflicts,
        songs: Vec::new(),
    };
    for row in table.rows {
        let Some(label) = quadrant(&row.label) else {
            listing.problems.push(DatasetProblem::MalformedLine {
                path: path.to_path_buf(),
                line: usize::try_from(row.line).unwrap_or(usize::MAX),
                reason: format!(
                    "song {}: the quadrant is `{}`, expected Q1, Q2, Q3 or Q4",
                    row.id, row.label
                ),
            });
            continue;
        };
        let mut song = row.into_song(path);
        song.label = label;
        listing.songs.push(song);
    }
    listing
}

/// Where one modality's files lie: `base/Q{n}/{file id}.{extension}`.
pub(super) struct QuadrantFolders<'a> {
    /// The folder holding `Q1/` ... `Q4/`.
    pub(super) base: &'a Path,
    pub(super) modality: Modality,
    /// Without the dot, matched without regard to case.
    pub(super) extension: &'a str,
    /// The metadata column naming a song's file when it is not the song's id (MERGE's bimodal
    /// sets name lyrics by `Lyric_Song`).
    pub(super) file_id_column: Option<&'a str>,
}

impl QuadrantFolders<'_> {
    /// Sets each song's file of this modality, reporting missing folders and files, files in
    /// another quadrant's folder (as conflicts) and files named by none of `listed_ids` (the
    /// ids of every row, usable or not) nor by a song.
    pub(super) fn attach(&self, listing: &mut Listing, listed_ids: &HashSet<String>) {
        let mut indexes = Vec::with_capacity(QUADRANTS.len());
        for quadrant in QUADRANTS {
            let folder = child_ignoring_case(self.base, quadrant);
            let index = FolderIndex::read(&folder).ok().flatten();
            if index.is_none() {
                listing.problems.push(DatasetProblem::FolderMissing {
                    modality: self.modality,
                    path: folder,
                });
            }
            indexes.push(index);
        }
        let mut listed = listed_ids.clone();
        let mut conflicts = Vec::new();
        for song in &mut listing.songs {
            let Some(file_id) = self.file_id(song) else {
                continue;
            };
            let name = format!("{file_id}.{}", self.extension);
            let own = QUADRANTS.iter().position(|q| *q == song.label);
            let order = own
                .into_iter()
                .chain((0..QUADRANTS.len()).filter(|q| Some(*q) != own));
            let found = order
                .filter_map(|q| Some((q, indexes[q].as_mut()?.claim(&name)?)))
                .next();
            match found {
                Some((q, path)) => {
                    if Some(q) != own {
                        conflicts.push(folder_conflict(song, q, &name));
                    }
                    song.files[self.modality] = Some(path);
                }
                None => listing.problems.push(DatasetProblem::ListedFileMissing {
                    modality: self.modality,
                    id: song.id.clone(),
                    path: self.base.join(QUADRANTS[own.unwrap_or(0)]).join(&name),
                }),
            }
            listed.insert(file_id);
        }
        for conflict in conflicts {
            add_conflict(&mut listing.conflicts, conflict);
        }
        for index in indexes.iter().flatten() {
            self.report_unlisted(index, &listed, &mut listing.problems);
        }
    }

    fn file_id(&self, song: &LabelledSong) -> Option<String> {
        match self.file_id_column {
            Some(column) => song.metadata.get(column).cloned(),
            None => Some(song.id.clone()),
        }
    }

    fn report_unlisted(
        &self,
        index: &FolderIndex,
        listed: &HashSet<String>,
        problems: &mut Vec<DatasetProblem>,
    ) {
        for (name, path) in index.unclaimed() {
            let stem = (name.rsplit_once('.'))
                .filter(|(_, ext)| ext.eq_ignore_ascii_case(self.extension))
                .map(|(stem, _)| stem);
            // macOS archive debris (`._MT0000004637.mp3`) is no file of the dataset.
            if let Some(stem) = stem
                && !name.starts_with("._")
                && !listed.contains(stem)
                && path.is_file()
            {
                problems.push(DatasetProblem::UnlistedFile {
                    path: path.to_path_buf(),
                });
            }
        }
    }
}

/// A song whose file lies in quadrant `q`'s folder though its label says another.
fn folder_conflict(song: &LabelledSong, q: usize, name: &str) -> Conflict {
    let source = format!("folder {}/{name}", QUADRANTS[q]);
    Conflict::against(song, source, QUADRANTS[q].to_string())
}

/// Adds `conflict`'s claims to the song's conflict if it has one already.
pub(super) fn add_conflict(conflicts: &mut Vec<Conflict>, conflict: Conflict) {
    match conflicts.iter_mut().find(|c| c.id == conflict.id) {
        Some(known) => known.claims.extend(conflict.claims.into_iter().skip(1)),
        None => conflicts.push(conflict),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrants_read_with_or_without_the_letter() {
        assert_eq!(quadrant("Q3").as_deref(), Some("Q3"));
        assert_eq!(quadrant(" q1 ").as_deref(), Some("Q1"));
        assert_eq!(quadrant("4").as_deref(), Some("Q4"));
        for bad in ["Q5", "Q0", "", "Quadrant 1", "QQ1"] {
            assert_eq!(quadrant(bad), None, "{bad}");
        }
    }
}
