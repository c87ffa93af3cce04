//! The demo's MTG-Jamendo stand-in (`mer demo --layout mtg-jamendo`): under
//! `mtg-jamendo-dataset/`, `data/autotagging_moodtheme.tsv` (tab-separated, CRLF, one field per
//! tag after the first), split-0's three files, the tag lists, and the audio as the unpacked
//! tars give it, `audios/NN/{n}.mp3`, as ../shared/DATASETS.md describes the real files.
//!
//! Each track's tags are the song's mood tags ([`Annotation`]), `mood/theme---` prefixed. The
//! last track carries only `horror`, a tag the splits drop, so it is in no split file. Track
//! numbers are sparse and follow a shuffled order of their own stream (`demo/mtg-jamendo/
//! songs`); split-0 gives, of every 20 tracks in that order, 14 to train, 3 to validation and
//! 3 to test, interleaved.

use std::path::{Path, PathBuf};

use crate::rng::RandomStream;

use super::metadata::{Annotation, SongRecord};
use super::mp3::Mp3Format;

/// The dataset repository's folder.
pub(super) const TOP: &str = "mtg-jamendo-dataset";
const HEADER: &str = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\r\n";
const PREFIX: &str = "mood/theme---";
/// The tag every split drops; the stand-in's last track carries only it.
const DROPPED: &str = "horror";

/// A track's number and its place in split-0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct JamendoTrack {
    number: u32,
    /// Position in the stream's order (which gives the split).
    rank: usize,
}

impl JamendoTrack {
    fn part(&self, tracks: usize) -> Option<&'static str> {
        if self.rank == tracks - 1 {
            return None;
        }
        Some(match self.rank % 20 {
            1 | 8 | 15 => "validation",
            2 | 9 | 16 => "test",
            _ => "train",
        })
    }
}

/// Numbers the tracks (each record's id becomes `track_` and 7 digits).
pub(super) fn name_tracks(records: &mut [&mut SongRecord], seed: u64) -> Vec<JamendoTrack> {
    let mut rng = RandomStream::new(seed, "demo/mtg-jamendo/songs");
    let order = rng.permutation(records.len());
    let mut tracks = vec![JamendoTrack { number: 0, rank: 0 }; records.len()];
    let mut number = 200;
    for (rank, &position) in order.iter().enumerate() {
        number += 1 + rng.below(900) as u32;
        tracks[position] = JamendoTrack { number, rank };
        records[position].id = format!("track_{number:07}");
    }
    tracks
}

/// `NN/{n}.mp3`, as the tars unpack and the `PATH` column writes it.
fn relative_path(number: u32) -> String {
    format!("{:02}/{number}.mp3", number % 100)
}

/// Where a track's MP3 goes; every fifth stereo at twice the rate.
pub(super) fn audio_file(out: &Path, index: usize, track: &JamendoTrack) -> (PathBuf, Mp3Format) {
    let path = out
        .join(TOP)
        .join("audios")
        .join(relative_path(track.number));
    (path, Mp3Format::varied(index, 5))
}

/// The metadata files, as (path under the output folder, content); `annotations[i]` belongs
/// to `tracks[i]`.
pub(super) fn files(
    tracks: &[JamendoTrack],
    annotations: &[Annotation],
    seconds: f64,
) -> Vec<(String, Vec<u8>)> {
    let n = tracks.len();
    let mut by_number: Vec<usize> = (0..n).collect();
    by_number.sort_by_key(|&i| tracks[i].number);
    let tags = |i: usize| -> Vec<&str> {
        if tracks[i].rank == n - 1 {
            return vec![DROPPED];
        }
        match &annotations[i].tags[..] {
            [] => vec!["background"],
            tags => tags.to_vec(),
        }
    };
    let row = |i: usize, tags: &[&str]| {
        let number = tracks[i].number;
        let tags: Vec<String> = tags.iter().map(|t| format!("{PREFIX}{t}")).collect();
        format!(
            "track_{number:07}\tartist_{:06}\talbum_{:06}\t{}\t{seconds:.1}\t{}\r\n",
            number / 7,
            number / 3,
            relative_path(number),
            tags.join("\t")
        )
    };
    let mut all = String::from(HEADER);
    let mut parts: Vec<(&str, String)> = ["train", "validation", "test"]
        .into_iter()
        .map(|p| (p, String::from(HEADER)))
        .collect();
    let mut every_tag = std::collections::BTreeSet::new();
    for &i in &by_number {
        let tags = tags(i);
        every_tag.extend(tags.iter().copied());
        all.push_str(&row(i, &tags));
        if let Some(part) = tracks[i].part(n) {
            let text = &mut parts
                .iter_mut()
                .find(|(p, _)| *p == part)
                .expect("three parts")
                .1;
            text.push_str(&row(i, &tags));
        }
    }
    let listed = |tags: &mut dyn Iterator<Item = &&str>| -> Vec<u8> {
        let lines: Vec<String> = tags.map(|t| format!("{PREFIX}{t}\n")).collect();
        lines.concat().into_bytes()
    };
    let mut files = vec![
        (
            format!("{TOP}/data/autotagging_moodtheme.tsv"),
            all.into_bytes(),
        ),
        (
            format!("{TOP}/data/tags/moodtheme.txt"),
            listed(&mut every_tag.iter()),
        ),
        (
            format!("{TOP}/data/tags/moodtheme_split.txt"),
            listed(&mut every_tag.iter().filter(|t| **t != DROPPED)),
        ),
    ];
    for (part, text) in parts {
        files.push((
            format!("{TOP}/data/splits/split-0/autotagging_moodtheme-{part}.tsv"),
            text.into_bytes(),
        ));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_are_numbered_sparsely_and_the_last_is_in_no_split() {
        let mut records: Vec<SongRecord> = (0..30).map(|_| SongRecord::blank("Q1")).collect();
        let mut refs: Vec<&mut SongRecord> = records.iter_mut().collect();
        let tracks = name_tracks(&mut refs, 7);
        let last = tracks.iter().find(|t| t.rank == 29).unwrap();
        assert_eq!(last.part(30), None);
        let parts: Vec<Option<&str>> = tracks.iter().map(|t| t.part(30)).collect();
        for part in ["train", "validation", "test"] {
            assert!(parts.contains(&Some(part)), "{parts:?}");
        }
        assert!(
            records
                .iter()
                .all(|r| r.id.len() == 13 && r.id.starts_with("track_"))
        );
        assert_eq!(relative_path(948), "48/948.mp3");
    }
}
