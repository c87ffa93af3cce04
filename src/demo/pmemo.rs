//! The demo's PMEmo stand-in (`mer demo --layout pmemo`): under `PMEmo2019/`, chorus MP3s
//! `chorus/{musicId}.mp3`, LRC lyrics `lyrics/{musicId}.lrc` (ID tags, Chinese credit lines,
//! time tags), the four annotation files (static and dynamic, means and standard deviations,
//! arousal before valence, 0 to 1), `metadata.csv` and two comment files, as
//! ../shared/DATASETS.md describes the real ones.
//!
//! Song numbers are sparse in 1 to 1000 and follow a shuffled order of their own stream
//! (`demo/pmemo/songs`). Like the real set, a few choruses have no ratings: every 30th song
//! (at least one) is in `chorus/` and `metadata.csv` only. The ratings are the songs' 1-9
//! ratings ([`Annotation`]) mapped onto 0 to 1; the dynamic ones drift around them, one row
//! per 0.5-s frame from 15.5 s.

use std::path::{Path, PathBuf};

use crate::rng::RandomStream;

use super::metadata::{Annotation, RATING_SCALE, SongRecord, csv_bytes};
use super::mp3::Mp3Format;

/// The dataset's top folder.
pub(super) const TOP: &str = "PMEmo2019";
/// Every this many songs, one has a chorus but no ratings.
const UNRATED_EVERY: usize = 30;

/// A song's number and whether it has ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PmemoSong {
    number: u32,
    rated: bool,
}

/// Numbers the songs (each record's id becomes its number), sparse and in an order of their
/// own, and marks the unrated ones.
pub(super) fn name_songs(records: &mut [&mut SongRecord], seed: u64) -> Vec<PmemoSong> {
    let n = records.len();
    let mut rng = RandomStream::new(seed, "demo/pmemo/songs");
    let order = rng.permutation(n);
    let step = (1000 / n.max(1)).clamp(1, 4);
    let mut songs = vec![
        PmemoSong {
            number: 0,
            rated: true
        };
        n
    ];
    let mut number = 0;
    for (rank, &position) in order.iter().enumerate() {
        number += 1 + rng.below(step) as u32;
        let unrated = rank % UNRATED_EVERY == UNRATED_EVERY - 1
            || (n > 1 && n < UNRATED_EVERY && rank == n - 1);
        songs[position] = PmemoSong {
            number,
            rated: !unrated,
        };
        records[position].id = number.to_string();
    }
    songs
}

/// Where a song's chorus goes; every fifth is stereo at twice the rate.
pub(super) fn audio_file(out: &Path, index: usize, record: &SongRecord) -> (PathBuf, Mp3Format) {
    let path = out
        .join(TOP)
        .join("chorus")
        .join(format!("{}.mp3", record.id));
    (path, Mp3Format::varied(index, 5))
}

/// Where a song's lyrics go.
pub(super) fn lyrics_file(out: &Path, record: &SongRecord) -> PathBuf {
    out.join(TOP)
        .join("lyrics")
        .join(format!("{}.lrc", record.id))
}

/// The lyrics as an LRC file: ID tags, the credit lines PMEmo's files carry, then each
/// line with its time tag (CRLF, as files from Windows tools have).
pub(super) fn lrc_bytes(lines: &[String], record: &SongRecord) -> Vec<u8> {
    let mut text = format!(
        "[ar:{}]\r\n[ti:{}]\r\n[00:00.00] 作词 : {}\r\n[00:01.00] 作曲 : {}\r\n",
        record.artist, record.title, record.artist, record.artist
    );
    for (i, line) in lines.iter().enumerate() {
        let at = 12.0 + 2.5 * i as f64;
        text.push_str(&format!(
            "[{:02}:{:05.2}]{line}\r\n",
            (at / 60.0) as u32,
            at % 60.0
        ));
    }
    text.into_bytes()
}

/// The folders of a copy.
pub(super) fn folders(out: &Path) -> Vec<PathBuf> {
    ["chorus", "lyrics", "annotations"]
        .map(|f| out.join(TOP).join(f))
        .to_vec()
}

/// The annotation, metadata and comment files, as (path under the output folder, content);
/// `records[i]` and `annotations[i]` belong to `songs[i]`.
pub(super) fn files(
    songs: &[PmemoSong],
    records: &[SongRecord],
    annotations: &[Annotation],
    seconds: f64,
) -> Vec<(String, Vec<u8>)> {
    let mut by_number: Vec<usize> = (0..songs.len()).collect();
    by_number.sort_by_key(|&i| songs[i].number);
    let rated: Vec<usize> = by_number
        .iter()
        .copied()
        .filter(|&i| songs[i].rated)
        .collect();
    let (low, high) = RATING_SCALE;
    let unit = |x: f64| (x - low) / (high - low);
    let spread = |i: usize, k: u32| 0.05 + f64::from((songs[i].number * 17 + k * 7) % 20) / 100.0;

    let mut means = String::from("musicId,Arousal(mean),Valence(mean)\n");
    let mut stds = String::from("musicId,Arousal(std),Valence(std)\n");
    let mut dynamic = String::from("musicId,frameTime,Arousal(mean),Valence(mean)\n");
    let mut dynamic_std = String::from("musicId,frameTime,Arousal(std),Valence(std)\n");
    for &i in &rated {
        let (number, a) = (songs[i].number, &annotations[i]);
        let (arousal, valence) = (unit(a.arousal), unit(a.valence));
        means.push_str(&format!("{number},{arousal:.3},{valence:.3}\n"));
        stds.push_str(&format!(
            "{number},{:.3},{:.3}\n",
            spread(i, 0),
            spread(i, 1)
        ));
        for f in 0..(2.0 * seconds) as usize {
            let drift = 0.08 * (0.5 * f as f64 + f64::from(number)).sin();
            let time = 15.5 + 0.5 * f as f64;
            dynamic.push_str(&format!(
                "{number},{time:.1},{:.4},{:.4}\n",
                (arousal + drift).clamp(0.0, 1.0),
                (valence - drift).clamp(0.0, 1.0)
            ));
            dynamic_std.push_str(&format!(
                "{number},{time:.1},{:.4},{:.4}\n",
                spread(i, 2),
                spread(i, 3)
            ));
        }
    }

    let header = [
        "musicId",
        "fileName",
        "title",
        "artist",
        "album",
        "duration",
        "chorus_start_time",
        "chorus_end_time",
    ];
    let rows = by_number.iter().map(|&i| {
        let (number, record) = (songs[i].number, &records[i]);
        let start = 60 + (number % 90);
        let end = start + seconds as u32;
        vec![
            number.to_string(),
            format!("{} - {}.mp3", record.artist, record.title),
            record.title.clone(),
            record.artist.clone(),
            record.album.clone(),
            format!("{seconds:.1}"),
            format!("{:02}:{:02}", start / 60, start % 60),
            format!("{:02}:{:02}", end / 60, end % 60),
        ]
    });
    let metadata = csv_bytes(&header, rows, csv::QuoteStyle::Necessary);

    let mut files = vec![
        (
            format!("{TOP}/annotations/static_annotations.csv"),
            means.into_bytes(),
        ),
        (
            format!("{TOP}/annotations/static_annotations_std.csv"),
            stds.into_bytes(),
        ),
        (
            format!("{TOP}/annotations/dynamic_annotations.csv"),
            dynamic.into_bytes(),
        ),
        (
            format!("{TOP}/annotations/dynamic_annotations_std.csv"),
            dynamic_std.into_bytes(),
        ),
        (format!("{TOP}/metadata.csv"), metadata),
    ];
    if let Some(&i) = rated.first() {
        let number = songs[i].number;
        files.push((
            format!("{TOP}/comments/netease/{number}.txt"),
            "副歌太好听了\n听哭了 😭\n".as_bytes().to_vec(),
        ));
        files.push((
            format!("{TOP}/comments/soundcloud/{number}.txt"),
            "love this chorus 🔥\nso calm\n".as_bytes().to_vec(),
        ));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_sparse_and_some_choruses_have_no_ratings() {
        let mut records: Vec<SongRecord> = (0..60).map(|_| SongRecord::blank("Q1")).collect();
        let mut refs: Vec<&mut SongRecord> = records.iter_mut().collect();
        let songs = name_songs(&mut refs, 7);
        let mut numbers: Vec<u32> = songs.iter().map(|s| s.number).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 60);
        assert!(numbers.iter().all(|&n| (1..=1000).contains(&n)));
        assert_eq!(songs.iter().filter(|s| !s.rated).count(), 2);
        let lrc = String::from_utf8(lrc_bytes(&["la la".into()], &records[0])).unwrap();
        assert!(
            lrc.starts_with("[ar:") && lrc.contains("作词") && lrc.ends_with("[00:12.00]la la\r\n"),
            "{lrc}"
        );
    }
}
