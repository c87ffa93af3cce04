//! Datasets: reading a dataset layout into a [`Manifest`] of labelled songs and their files,
//! and reporting every problem found on the way.
//!
//! Layouts: `mirex-like` (the MIREX-like mood archive as distributed) and `table` (a labels CSV
//! plus path templates).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::modality::{Modality, ModalityMask};

/// One labelled song and its files.
#[derive(Debug, Clone, PartialEq)]
pub struct Song {
    /// Dataset id, e.g. `"001"`.
    pub id: String,
    /// Index into [`Manifest::classes`].
    pub label: usize,
    /// Finer label where the dataset has one (MIREX-like: the mood adjective).
    pub subcategory: Option<String>,
    /// File per modality, indexed in [`Modality::ALL`] order; `None` when absent.
    pub files: [Option<PathBuf>; 3],
    /// Extra metadata columns (title, artist, ...).
    pub metadata: BTreeMap<String, String>,
}

impl Song {
    /// The song's file for `modality`, if it has one.
    pub fn file(&self, modality: Modality) -> Option<&Path> {
        self.files[modality as usize].as_deref()
    }

    /// The modalities this song has a file for.
    pub fn present(&self) -> ModalityMask {
        Modality::ALL
            .into_iter()
            .filter(|m| self.file(*m).is_some())
            .collect()
    }
}

/// The songs of an experiment, with their class names.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Class names, sorted; a song's `label` indexes this.
    pub classes: Vec<String>,
    /// Songs in dataset order.
    pub songs: Vec<Song>,
}
