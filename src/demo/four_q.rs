//! The demo's 4Q stand-in (`mer demo --layout 4q`): every song an MP3 clip in the folder of
//! its stated quadrant, `MER_audio_taffc_dataset/Q{n}/MT{10 digits}.mp3`, with
//! `panda_dataset_taffc_annotations.csv`, `panda_dataset_taffc_metadata.csv` (text fields
//! quoted, lists joined by `; `, as ../shared/DATASETS.md describes the real files) and
//! `readme.txt`. Ids draw from a stream of their own (`demo/4q/songs`), so the clips' music
//! is what the same songs have in the other layouts.

use std::path::{Path, PathBuf};

use crate::rng::RandomStream;

use super::classes::ClassProfile;
use super::metadata::{SongRecord, csv_bytes};
use super::mp3::Mp3Format;

/// The dataset's top folder, as users extract it.
pub(super) const TOP: &str = "MER_audio_taffc_dataset";

/// Gives each record an AllMusic-like id, `MT` and 10 digits, increasing in dataset order.
pub(super) fn name_songs(records: &mut [&mut SongRecord], seed: u64) {
    let mut rng = RandomStream::new(seed, "demo/4q/songs");
    let mut number = 1000;
    for record in records {
        number += 1 + rng.below(5000);
        record.id = format!("MT{number:010}");
    }
}

/// Where a song's clip goes and how it is encoded: every tenth stereo at twice the rate.
pub(super) fn audio_file(out: &Path, index: usize, record: &SongRecord) -> (PathBuf, Mp3Format) {
    let path = (out.join(TOP).join(record.label)).join(format!("{}.mp3", record.id));
    (path, Mp3Format::varied(index, 10))
}

/// The folders of a copy: one per quadrant.
pub(super) fn folders(out: &Path, classes: &[ClassProfile]) -> Vec<PathBuf> {
    (classes.iter())
        .map(|class| out.join(TOP).join(class.label))
        .collect()
}

const METADATA_HEADER: [&str; 14] = [
    "Song",
    "Artist",
    "Title",
    "Quadrant",
    "PQuad",
    "MoodsTotal",
    "Moods",
    "MoodsFoundStr",
    "MoodsStr",
    "MoodsStrSplit",
    "Genres",
    "GenresStr",
    "Sample",
    "SampleURL",
];

const GENRES: [&str; 4] = ["Pop/Rock", "Electronic", "Jazz", "Folk"];

/// The metadata files, as (path under the output folder, content).
pub(super) fn files(records: &[SongRecord], classes: &[ClassProfile]) -> Vec<(String, Vec<u8>)> {
    let mut annotations = String::from("Song,Quadrant\n");
    let mut rows = Vec::with_capacity(records.len());
    for (row, record) in records.iter().enumerate() {
        annotations.push_str(&format!("{},{}\n", record.id, record.label));
        let moods = moods(record, classes);
        let genres = &GENRES[..1 + row % 2];
        let (found, total) = (moods.len(), moods.len() + row % 3);
        rows.push(vec![
            record.id.clone(),
            record.artist.clone(),
            record.title.clone(),
            record.label.to_string(),
            format!("{:.2}", found as f64 / total as f64),
            total.to_string(),
            total.to_string(),
            found.to_string(),
            moods.join("; "),
            moods.join("; ").to_lowercase(),
            genres.len().to_string(),
            genres.join("; "),
            "1".to_string(),
            format!("https://example.org/samples/{}.mp3", record.id),
        ]);
    }
    // The real file quotes every text field.
    let metadata = csv_bytes(&METADATA_HEADER, rows, csv::QuoteStyle::NonNumeric);
    vec![
        (
            format!("{TOP}/panda_dataset_taffc_annotations.csv"),
            annotations.into_bytes(),
        ),
        (format!("{TOP}/panda_dataset_taffc_metadata.csv"), metadata),
        (format!("{TOP}/readme.txt"), README.as_bytes().to_vec()),
    ]
}

/// The song's sub-category first, then the other adjectives of its stated class.
fn moods(record: &SongRecord, classes: &[ClassProfile]) -> Vec<&'static str> {
    let others = (classes.iter())
        .find(|c| c.label == record.label)
        .map_or(&[][..], |c| c.subcategories);
    std::iter::once(record.subcategory)
        .chain(others.iter().copied().filter(|m| *m != record.subcategory))
        .take(2)
        .collect()
}

const README: &str = "Panda et al. TAFFC Dataset - 2018 (SYNTHETIC STAND-IN written by `mer demo --layout 4q`;\n\
no file comes from the real dataset)\n\n\
Q1/ ... Q4/: 30-s MP3 clips named by AllMusic sample id, one folder per quadrant.\n\
panda_dataset_taffc_annotations.csv: Song, Quadrant.\n\
panda_dataset_taffc_metadata.csv: Song, Artist, Title, Quadrant, PQuad, MoodsTotal, Moods,\n\
MoodsFoundStr, MoodsStr, MoodsStrSplit, Genres, GenresStr, Sample, SampleURL.\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_allmusic_like_and_unique() {
        let mut records: Vec<SongRecord> = (0..50).map(|_| SongRecord::blank("Q1")).collect();
        let mut refs: Vec<&mut SongRecord> = records.iter_mut().collect();
        name_songs(&mut refs, 7);
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert!(
            (ids.iter()).all(|id| id.len() == 12
                && id.starts_with("MT")
                && id[2..].bytes().all(|b| b.is_ascii_digit())),
            "{ids:?}"
        );
    }
}
