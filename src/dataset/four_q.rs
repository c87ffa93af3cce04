//! Layout `4q`: the 4Q audio emotion dataset as distributed (Panda, Malheiro and Paiva 2018):
//! 30-s MP3 clips in quadrant folders `Q1/` ... `Q4/` named by AllMusic id (`MT0000004637.mp3`),
//! each clip's quadrant in `panda_dataset_taffc_annotations.csv` (`Song,Quadrant`), and
//! `panda_dataset_taffc_metadata.csv` (`Song,Artist,Title,Quadrant,PQuad,...`, quoted text
//! with `; ` lists) whose columns become the songs' metadata (`split.group_by = "Artist"`
//! keeps an artist's clips on one side).
//!
//! The annotations file is the label; the metadata file's `Quadrant` and the folder a clip
//! lies in are further claims, and a disagreement is a label conflict. The root may be the
//! dataset folder (`MER_audio_taffc_dataset/`) or the folder holding it. The dataset has no
//! split: the authors repeated 10-fold cross-validation.

use std::path::Path;

use super::quadrant_folders::{QuadrantFolders, add_conflict, quadrant, quadrant_listing};
use super::table::{Columns, display_name, keyed_rows, parse_layout_labels};
use super::{Conflict, DatasetError, Listing};
use crate::modality::Modality;

/// The counts of the dataset's readme (balance per quadrant as the download page states it).
pub(super) const PUBLISHED: &str = "900 clips of about 30 s (Q1 225, Q2 225, Q3 225, Q4 225)";

pub(super) const ANNOTATIONS: &str = "panda_dataset_taffc_annotations.csv";
pub(super) const METADATA: &str = "panda_dataset_taffc_metadata.csv";
const ID_COLUMN: &str = "Song";
const QUADRANT_COLUMN: &str = "Quadrant";
const LAYOUT: &str = "4q";

/// Reads the annotations, the metadata and the quadrant folders.
pub(super) fn read(root: &Path) -> Result<Listing, DatasetError> {
    let root = super::dataset_folder(root, ANNOTATIONS);
    let path = root.join(ANNOTATIONS);
    let text = super::read_labels(&path, || {
        format!(
            "layout \"{LAYOUT}\" needs {ANNOTATIONS} ({ID_COLUMN},{QUADRANT_COLUMN}) in dataset.root or in the one folder inside it (MER_audio_taffc_dataset/)"
        )
    })?;
    let columns = Columns {
        id: ID_COLUMN,
        label: QUADRANT_COLUMN,
    };
    let table = parse_layout_labels(&text, &path, &columns, LAYOUT)?;
    let all_ids = table.all_ids.clone();
    let mut listing = quadrant_listing(table, &path);
    add_metadata(&root.join(METADATA), &path, &mut listing);
    QuadrantFolders {
        base: &root,
        modality: Modality::Audio,
        extension: "mp3",
        file_id_column: None,
    }
    .attach(&mut listing, &all_ids);
    Ok(listing)
}

/// Adds the metadata file's columns to the songs it describes; its `Quadrant`, where it
/// differs from the annotations', is a conflicting claim.
fn add_metadata(path: &Path, labels: &Path, listing: &mut Listing) {
    let consequence = "the songs have no artist, title or mood metadata";
    let Some(keyed) = keyed_rows(path, (ID_COLUMN, &[]), (labels, consequence), listing) else {
        return;
    };
    for row in &keyed.rows {
        let (song, line) = (&mut listing.songs[row.song], row.line);
        for (name, value) in keyed.header.iter().zip(row.record.iter()) {
            if name == ID_COLUMN || value.is_empty() {
                continue;
            }
            if name != QUADRANT_COLUMN {
                song.metadata.insert(name.clone(), value.to_string());
                continue;
            }
            let claimed = quadrant(value).unwrap_or_else(|| value.to_string());
            if claimed != song.label {
                let source = format!("{} line {line}", display_name(path));
                add_conflict(
                    &mut listing.conflicts,
                    Conflict::against(song, source, claimed),
                );
            }
        }
    }
}
