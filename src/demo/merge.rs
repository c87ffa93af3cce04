//! The demo's MERGE stand-in (`mer demo --layout merge`): the six sets of MERGE v1.1 as
//! ../shared/DATASETS.md describes them, each in its folder `MERGE_{Audio,Lyrics,Bimodal}_
//! {Complete,Balanced}/` with its metadata and `av_values` files, quadrant folders and both
//! split schemes under `tvt_dataframes/`.
//!
//! Every song has audio; those with lyrics are also in the lyrics and bimodal sets. A
//! balanced set keeps, in each quadrant, as many songs as the smallest quadrant has. Most
//! ids are AllMusic's (`MT` and 10 digits, the same for a song's audio and lyrics); every
//! fifth song is from the private collections, `A{nnn}` for its audio and `L{nnn}` for its
//! lyrics, and the first of those is hyphenated (`A001-06`), as some real ids are. A song's
//! split is the same in every set: within its quadrant, of every 20 songs 14 train, 3
//! validate and 3 test (70-15-15), of every 10, 4, 3 and 3 (40-30-30), interleaved.

use std::path::{Path, PathBuf};

use super::classes::ClassProfile;
use super::metadata::{Annotation, RATING_SCALE, SongRecord, csv_bytes};

/// The sets' kinds, as the folder and the file names spell them.
const KINDS: [(&str, &str); 3] = [
    ("Audio", "audio"),
    ("Lyrics", "lyrics"),
    ("Bimodal", "bimodal"),
];
const BALANCES: [(&str, &str); 2] = [("Complete", "complete"), ("Balanced", "balanced")];

/// A song's ids and the sets it is in.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct MergeSong {
    audio_id: String,
    lyric_id: String,
    quadrant: &'static str,
    has_lyrics: bool,
    /// In the balanced audio set.
    audio_balanced: bool,
    /// In the balanced lyrics and bimodal sets.
    lyrics_balanced: bool,
    /// Position among the songs of its quadrant, which gives its split.
    rank: usize,
}

impl MergeSong {
    /// Whether the song is in the set of `kind` (`audio`, `lyrics`, `bimodal`) and `balance`.
    fn in_set(&self, kind: &str, balance: &str) -> bool {
        let balanced = balance == "balanced";
        match kind {
            "audio" => !balanced || self.audio_balanced,
            _ => self.has_lyrics && (!balanced || self.lyrics_balanced),
        }
    }

    /// The part of split `scheme` the song is in, as the file names spell it: the parts
    /// interleave, so a quadrant of three songs has one in each.
    fn part(&self, scheme: &str) -> &'static str {
        let (cycle, validate, test): (usize, &[usize], &[usize]) = match scheme {
            "70_15_15" => (20, &[1, 8, 15], &[2, 9, 16]),
            _ => (10, &[1, 4, 7], &[2, 5, 8]),
        };
        let position = self.rank % cycle;
        if validate.contains(&position) {
            "validate"
        } else if test.contains(&position) {
            "test"
        } else {
            "train"
        }
    }
}

/// Names the songs (each record's id becomes its audio id) and places them in the sets;
/// `has_lyrics[i]` says whether song `i` has lyrics.
pub(super) fn plan(records: &mut [&mut SongRecord], has_lyrics: &[bool]) -> Vec<MergeSong> {
    let mut songs = Vec::with_capacity(records.len());
    let mut private = 0;
    for (i, record) in records.iter_mut().enumerate() {
        let (audio_id, lyric_id) = if i % 5 == 4 {
            private += 1;
            let audio = match private {
                1 => format!("A{private:03}-{:02}", private + 5),
                _ => format!("A{private:03}"),
            };
            (audio, format!("L{private:03}"))
        } else {
            let id = format!("MT{:010}", 4000 + 37 * i);
            (id.clone(), id)
        };
        record.id = audio_id.clone();
        songs.push(MergeSong {
            audio_id,
            lyric_id,
            quadrant: record.label,
            has_lyrics: has_lyrics[i],
            audio_balanced: false,
            lyrics_balanced: false,
            rank: 0,
        });
    }
    let smallest = |counted: &dyn Fn(&MergeSong) -> bool| {
        (["Q1", "Q2", "Q3", "Q4"].iter())
            .map(|q| {
                songs
                    .iter()
                    .filter(|s| s.quadrant == *q && counted(s))
                    .count()
            })
            .min()
            .unwrap_or(0)
    };
    let (audio_keep, lyrics_keep) = (smallest(&|_| true), smallest(&|s| s.has_lyrics));
    let mut seen = std::collections::HashMap::<&str, [usize; 2]>::new();
    for song in &mut songs {
        let counts = seen.entry(song.quadrant).or_default();
        song.rank = counts[0];
        song.audio_balanced = counts[0] < audio_keep;
        song.lyrics_balanced = song.has_lyrics && counts[1] < lyrics_keep;
        counts[0] += 1;
        counts[1] += usize::from(song.has_lyrics);
    }
    songs
}

/// The folder of the set of `kind` and `balance`.
fn set_folder(kind: &str, balance: &str) -> String {
    let title = |pairs: &[(&'static str, &'static str)], name: &str| {
        (pairs.iter())
            .find(|(_, lower)| *lower == name)
            .map_or("", |(title, _)| *title)
    };
    format!(
        "MERGE_{}_{}",
        title(&KINDS, kind),
        title(&BALANCES, balance)
    )
}

/// Every set's (kind, balance), lower case.
fn sets() -> impl Iterator<Item = (&'static str, &'static str)> {
    KINDS.into_iter().flat_map(|(_, kind)| {
        BALANCES
            .into_iter()
            .map(move |(_, balance)| (kind, balance))
    })
}

/// Where a song's MP3 goes: once in each set with audio that holds it.
pub(super) fn audio_paths(out: &Path, song: &MergeSong) -> Vec<PathBuf> {
    (sets().filter(|(kind, _)| *kind != "lyrics"))
        .filter(|(kind, balance)| song.in_set(kind, balance))
        .map(|(kind, balance)| {
            let folder = out.join(set_folder(kind, balance));
            let folder = if kind == "bimodal" {
                folder.join("audio")
            } else {
                folder
            };
            folder
                .join(song.quadrant)
                .join(format!("{}.mp3", song.audio_id))
        })
        .collect()
}

/// Where a song's lyrics go: once in each set with lyrics that holds it.
pub(super) fn lyrics_paths(out: &Path, song: &MergeSong) -> Vec<PathBuf> {
    (sets().filter(|(kind, _)| *kind != "audio"))
        .filter(|(kind, balance)| song.in_set(kind, balance))
        .map(|(kind, balance)| {
            let folder = out.join(set_folder(kind, balance));
            let folder = if kind == "bimodal" {
                folder.join("lyrics")
            } else {
                folder
            };
            folder
                .join(song.quadrant)
                .join(format!("{}.txt", song.lyric_id))
        })
        .collect()
}

/// Every set's quadrant folders, which exist even when empty.
pub(super) fn folders(out: &Path, classes: &[ClassProfile]) -> Vec<PathBuf> {
    let mut folders = Vec::new();
    for (kind, balance) in sets() {
        let set = out.join(set_folder(kind, balance));
        let media = match kind {
            "bimodal" => vec![set.join("audio"), set.join("lyrics")],
            _ => vec![set],
        };
        for folder in media {
            folders.extend(classes.iter().map(|c| folder.join(c.label)));
        }
    }
    folders
}

const METADATA_COLUMNS: [&str; 24] = [
    "AllMusic Id",
    "AllMusic Extraction Date",
    "Artist",
    "Title",
    "Relevance",
    "Year",
    "LowestYear",
    "Duration",
    "Moods",
    "MoodsAll",
    "MoodsAllWeights",
    "Genres",
    "GenreWeights",
    "Themes",
    "ThemeWeights",
    "Styles",
    "StyleWeights",
    "AppearancesTrackIDs",
    "AppearancesAlbumIDs",
    "Sample",
    "SampleURL",
    "ActualYear",
    "num_Genres",
    "num_MoodsAll",
];

/// The metadata, values and split files of every set, as (path under the output folder,
/// content); `annotations[i]` and `records[i]` belong to `songs[i]`.
pub(super) fn files(
    songs: &[MergeSong],
    records: &[SongRecord],
    annotations: &[Annotation],
    seconds: f64,
) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for (kind, balance) in sets() {
        let folder = set_folder(kind, balance);
        let name = format!("{kind}_{balance}");
        let members: Vec<usize> = (0..songs.len())
            .filter(|&i| songs[i].in_set(kind, balance))
            .collect();
        let ids = |i: usize| -> Vec<String> {
            let song = &songs[i];
            match kind {
                "audio" => vec![song.audio_id.clone()],
                "lyrics" => vec![song.lyric_id.clone()],
                _ => vec![song.audio_id.clone(), song.lyric_id.clone()],
            }
        };
        let id_header: Vec<&str> = match kind {
            "bimodal" => vec!["Audio_Song", "Lyric_Song"],
            _ => vec!["Song"],
        };

        let mut header: Vec<&str> = id_header.clone();
        header.push("Quadrant");
        header.extend(METADATA_COLUMNS);
        let rows = members.iter().map(|&i| {
            let mut row = ids(i);
            row.push(songs[i].quadrant.to_string());
            row.extend(metadata_row(&songs[i], &records[i], seconds));
            row
        });
        files.push((
            format!("{folder}/merge_{name}_metadata.csv"),
            csv_bytes(&header, rows, csv::QuoteStyle::Necessary),
        ));

        let mut header = id_header.clone();
        header.extend(["Arousal", "Valence"]);
        let mut sorted = members.clone();
        sorted.sort_by_key(|&i| ids(i));
        let (low, high) = RATING_SCALE;
        let unit = |x: f64| format!("{:.4}", (x - low) / (high - low));
        let rows = sorted.iter().map(|&i| {
            let mut row = ids(i);
            row.extend([unit(annotations[i].arousal), unit(annotations[i].valence)]);
            row
        });
        files.push((
            format!("{folder}/merge_{name}_av_values.csv"),
            csv_bytes(&header, rows, csv::QuoteStyle::Necessary),
        ));

        for scheme in ["70_15_15", "40_30_30"] {
            for part in ["train", "validate", "test"] {
                let rows = (members.iter())
                    .filter(|&&i| songs[i].part(scheme) == part)
                    .map(|&i| vec![ids(i).remove(0), songs[i].quadrant.to_string()]);
                files.push((
                    format!("{folder}/tvt_dataframes/tvt_{scheme}/tvt_{scheme}_{part}_{name}.csv"),
                    csv_bytes(&["Song", "Quadrant"], rows, csv::QuoteStyle::Necessary),
                ));
            }
        }
    }
    files
}

/// The metadata columns after the ids and the quadrant; `Year` is free text, as in the real
/// files.
fn metadata_row(song: &MergeSong, record: &SongRecord, seconds: f64) -> Vec<String> {
    let year = record.year.unwrap_or(1970);
    let free_year = match song.rank % 3 {
        0 => format!("{year}-??-??"),
        1 => format!("20/06/{year}"),
        _ => year.to_string(),
    };
    let all_music = if song.audio_id.starts_with("MT") {
        song.audio_id.clone()
    } else {
        format!("MT{:010}", 900_000 + song.rank)
    };
    vec![
        all_music,
        "2016-05-10".into(),
        record.artist.clone(),
        record.title.clone(),
        format!("{}", 5 + song.rank % 5),
        free_year,
        year.to_string(),
        format!("{seconds:.0}"),
        record.subcategory.to_string(),
        format!("{}; {}", record.subcategory, "Reflective"),
        "7; 4".into(),
        "Pop/Rock".into(),
        "10".into(),
        String::new(),
        String::new(),
        "Alternative Pop/Rock".into(),
        "9".into(),
        format!("MT{:010}", 700_000 + song.rank),
        format!("MW{:010}", 800_000 + song.rank),
        "True".into(),
        format!("https://example.org/samples/{}.mp3", song.audio_id),
        year.to_string(),
        "1".into(),
        "2".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_sets_have_equal_quadrants_and_ids_have_the_real_quirks() {
        let labels = ["Q1", "Q1", "Q1", "Q2", "Q2", "Q3", "Q3", "Q4", "Q4", "Q4"];
        let mut records: Vec<SongRecord> = labels.into_iter().map(SongRecord::blank).collect();
        let mut refs: Vec<&mut SongRecord> = records.iter_mut().collect();
        let has_lyrics = [true, false, true, true, true, true, false, true, true, true];
        let songs = plan(&mut refs, &has_lyrics);
        for (kind, balance) in sets() {
            let per_quadrant: Vec<usize> = ["Q1", "Q2", "Q3", "Q4"]
                .iter()
                .map(|q| {
                    songs
                        .iter()
                        .filter(|s| s.quadrant == *q && s.in_set(kind, balance))
                        .count()
                })
                .collect();
            if balance == "balanced" {
                assert!(
                    per_quadrant.iter().all(|&n| n == per_quadrant[0]),
                    "{kind}: {per_quadrant:?}"
                );
            }
        }
        assert_eq!(songs[4].audio_id, "A001-06");
        assert_eq!(songs[4].lyric_id, "L001");
        assert_eq!(songs[9].audio_id, "A002");
        assert!(songs[0].audio_id.starts_with("MT") && songs[0].lyric_id == songs[0].audio_id);
        assert_eq!(records[4].id, "A001-06");
        assert_eq!(set_folder("bimodal", "complete"), "MERGE_Bimodal_Complete");
    }

    #[test]
    fn splits_follow_the_schemes_shares() {
        let mut song = MergeSong {
            audio_id: String::new(),
            lyric_id: String::new(),
            quadrant: "Q1",
            has_lyrics: true,
            audio_balanced: true,
            lyrics_balanced: true,
            rank: 0,
        };
        let mut counts = std::collections::BTreeMap::new();
        for rank in 0..20 {
            song.rank = rank;
            *counts.entry((song.part("70_15_15"), "70")).or_insert(0) += 1;
            *counts.entry((song.part("40_30_30"), "40")).or_insert(0) += 1;
        }
        assert_eq!(counts[&("train", "70")], 14);
        assert_eq!(counts[&("validate", "70")], 3);
        assert_eq!(counts[&("test", "40")], 6);
    }
}
