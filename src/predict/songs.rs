//! The songs to predict, from the command line's inputs: media files (the modality from the
//! extension, the song id from the file stem, so `012.mp3` and `012.txt` are one song),
//! folders (every such file below them, in name order), a CSV of paths per modality (`id`
//! and any of `audio`, `lyrics`, `midi`; paths relative to the CSV's folder; an empty cell is
//! an absent file) or a dataset spec (`.toml`: every song of its dataset).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::dataset::targets::SongTargets;
use crate::dataset::{DatasetLoad, Manifest, Song};
use crate::modality::{Modality, PerModality};

use super::PredictError;

/// One song to predict and its file per modality.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSong {
    /// Its id: the file stem, the CSV's `id`, the dataset's id.
    pub id: String,
    /// Its file per modality.
    pub files: PerModality<Option<PathBuf>>,
}

/// The songs of the inputs, in the order given, and the files that were not media of any
/// modality.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SongList {
    /// The songs, each once.
    pub songs: Vec<NewSong>,
    /// Files in the given folders that are not audio, lyrics or MIDI.
    pub ignored: Vec<PathBuf>,
}

/// The modality of a media file, by its extension (any case).
pub fn modality_of(path: &Path) -> Option<Modality> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "mp3" | "wav" | "flac" | "ogg" | "oga" | "aif" | "aiff" => Some(Modality::Audio),
        "txt" => Some(Modality::Lyrics),
        "mid" | "midi" => Some(Modality::Midi),
        _ => None,
    }
}

impl SongList {
    /// The songs of `inputs`; a spec input is read with `load_dataset`.
    pub fn collect(
        inputs: &[PathBuf],
        load_dataset: &dyn Fn(&Path) -> Result<DatasetLoad, PredictError>,
    ) -> Result<SongList, PredictError> {
        let mut list = SongList::default();
        let mut index = HashMap::new();
        for input in inputs {
            if input.is_dir() {
                list.add_folder(input, &mut index)?;
                continue;
            }
            if !input.is_file() {
                return Err(PredictError::NoInput(input.clone()));
            }
            let extension = input.extension().and_then(|e| e.to_str());
            match extension.map(str::to_ascii_lowercase).as_deref() {
                Some("csv") => list.add_csv(input, &mut index)?,
                Some("toml") => {
                    for song in load_dataset(input)?.manifest.songs {
                        for (modality, file) in song.files.iter() {
                            if let Some(file) = file {
                                list.add(&song.id, modality, file.clone(), &mut index)?;
                            }
                        }
                    }
                }
                _ => {
                    let modality =
                        modality_of(input).ok_or_else(|| PredictError::NotMedia(input.clone()))?;
                    list.add(&stem(input), modality, input.clone(), &mut index)?;
                }
            }
        }
        Ok(list)
    }

    /// The songs as an unlabelled dataset, which the extraction stages read.
    pub fn dataset(&self) -> DatasetLoad {
        let manifest = Manifest {
            classes: vec!["unlabelled".into()],
            songs: (self.songs.iter())
                .map(|song| Song {
                    id: song.id.clone(),
                    label: 0,
                    subcategory: None,
                    label_source: "mer predict input".into(),
                    files: song.files.clone(),
                    rows: Default::default(),
                    metadata: Default::default(),
                })
                .collect(),
        };
        DatasetLoad {
            listed: manifest.clone(),
            manifest,
            dropped: Vec::new(),
            problems: Vec::new(),
            targets: SongTargets::Classes,
        }
    }

    fn add_folder(
        &mut self,
        folder: &Path,
        index: &mut HashMap<String, usize>,
    ) -> Result<(), PredictError> {
        let walk = walkdir::WalkDir::new(folder).sort_by_file_name();
        for entry in walk {
            let entry = entry.map_err(|e| PredictError::Walk {
                folder: folder.to_path_buf(),
                reason: e.to_string(),
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.into_path();
            match modality_of(&path) {
                Some(modality) => self.add(&stem(&path), modality, path, index)?,
                None => self.ignored.push(path),
            }
        }
        Ok(())
    }

    fn add_csv(
        &mut self,
        csv: &Path,
        index: &mut HashMap<String, usize>,
    ) -> Result<(), PredictError> {
        let bad = |problem: String| PredictError::BadCsv {
            path: csv.to_path_buf(),
            problem,
        };
        let mut reader = csv::Reader::from_path(csv).map_err(|e| bad(e.to_string()))?;
        let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
        let id_column =
            (header.iter().position(|h| h == "id")).ok_or_else(|| bad("no `id` column".into()))?;
        let columns: Vec<(usize, Modality)> = (header.iter().enumerate())
            .filter_map(|(i, h)| Some((i, Modality::ALL.into_iter().find(|m| m.name() == h)?)))
            .collect();
        if columns.is_empty() {
            return Err(bad("no `audio`, `lyrics` or `midi` column".into()));
        }
        let base = csv.parent().unwrap_or(Path::new("."));
        for record in reader.records() {
            let record = record.map_err(|e| bad(e.to_string()))?;
            let id = record.get(id_column).unwrap_or_default().trim();
            let line = record.position().map_or(0, |p| p.line());
            if id.is_empty() {
                return Err(bad(format!("line {line}: empty `id`")));
            }
            for &(column, modality) in &columns {
                let cell = record.get(column).unwrap_or_default().trim();
                if !cell.is_empty() {
                    self.add(id, modality, base.join(cell), index)?;
                }
            }
            // A song whose every cell is empty is still listed: it is reported as skipped.
            if !index.contains_key(id) {
                index.insert(id.to_string(), self.songs.len());
                self.songs.push(NewSong {
                    id: id.to_string(),
                    files: PerModality::from_fn(|_| None),
                });
            }
        }
        Ok(())
    }

    fn add(
        &mut self,
        id: &str,
        modality: Modality,
        file: PathBuf,
        index: &mut HashMap<String, usize>,
    ) -> Result<(), PredictError> {
        let position = *index.entry(id.to_string()).or_insert_with(|| {
            self.songs.push(NewSong {
                id: id.to_string(),
                files: PerModality::from_fn(|_| None),
            });
            self.songs.len() - 1
        });
        let slot = &mut self.songs[position].files[modality];
        match slot {
            Some(existing) if *existing != file => Err(PredictError::TwoFiles {
                id: id.to_string(),
                modality,
                first: existing.clone(),
                second: file,
            }),
            _ => {
                *slot = Some(file);
                Ok(())
            }
        }
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}
