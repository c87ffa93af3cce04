//! The demo's DEAM stand-in (`mer demo --layout deam`): `MEMD_audio/{id}.mp3` (mono and
//! stereo, at two rates), the two static files with their exact headers (a space after every
//! comma; the second's 13 columns with the `valence_ max_mean` typo), the two dynamic files
//! (2 Hz from `sample_15000ms`, ragged rows), the three years' metadata files with their
//! header spellings, tabs, non-breaking spaces and ragged tag fields, and one openSMILE-style
//! features file, as ../shared/DATASETS.md describes the real ones.
//!
//! Song numbers fall in the years' ranges, with gaps: about 45 % of the songs in 2013 (2 to
//! 1000), 50 % in 2014 (1001 to 2000) and the rest, the "full songs", in 2015 (2001 on, at
//! least three). They follow a shuffled order of their own stream (`demo/deam/songs`), so a
//! song's year says nothing of its class. The static means are the songs' 1-9 ratings
//! ([`Annotation`]); the dynamic ratings drift around the same values on -1 to 1.

use std::path::{Path, PathBuf};

use crate::rng::RandomStream;

use super::metadata::{Annotation, RATING_SCALE, SongRecord, csv_bytes};
use super::mp3::Mp3Format;

const AVERAGED: &str = "annotations/annotations averaged per song";
/// 2 Hz: one dynamic rating per 500 ms, from 15 s.
const FIRST_FRAME_MS: usize = 15_000;
const FRAME_MS: usize = 500;

/// A song's number and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DeamSong {
    number: u32,
    year: u16,
}

/// Numbers the songs (each record's id becomes its number) and returns number and year per
/// song.
pub(super) fn name_songs(records: &mut [&mut SongRecord], seed: u64) -> Vec<DeamSong> {
    let n = records.len();
    let mut rng = RandomStream::new(seed, "demo/deam/songs");
    let order = rng.permutation(n);
    let full = (n / 10).clamp(3.min(n), 58);
    let excerpts = n - full;
    let in_2013 = (excerpts * 9).div_ceil(19).min(excerpts);
    let mut songs = vec![DeamSong { number: 0, year: 0 }; n];
    let (mut next_2013, mut next_2014, mut next_2015) = (1, 1000, 2000);
    for (rank, &position) in order.iter().enumerate() {
        let (next, year) = match rank {
            r if r < in_2013 => (&mut next_2013, 2013),
            r if r < excerpts => (&mut next_2014, 2014),
            _ => (&mut next_2015, 2015),
        };
        // Gaps in the numbering, as the real ids have; 2015's are consecutive.
        *next += if year == 2015 {
            1
        } else {
            1 + rng.below(2) as u32
        };
        songs[position] = DeamSong {
            number: *next,
            year,
        };
        records[position].id = next.to_string();
    }
    songs
}

/// Where a song's MP3 goes and how it is encoded: every fourth stereo at twice the rate.
pub(super) fn audio_file(out: &Path, index: usize, record: &SongRecord) -> (PathBuf, Mp3Format) {
    let path = out.join("MEMD_audio").join(format!("{}.mp3", record.id));
    (path, Mp3Format::varied(index, 4))
}

/// The annotation, metadata and features files, as (path under the output folder, content);
/// `records[i]` and `annotations[i]` belong to `songs[i]`.
pub(super) fn files(
    songs: &[DeamSong],
    records: &[SongRecord],
    annotations: &[Annotation],
    seconds: f64,
) -> Vec<(String, Vec<u8>)> {
    let mut by_number: Vec<usize> = (0..songs.len()).collect();
    by_number.sort_by_key(|&i| songs[i].number);
    let excerpt = |&&i: &&usize| songs[i].year != 2015;

    let mut first = String::from("song_id, valence_mean, valence_std, arousal_mean, arousal_std\n");
    for &i in by_number.iter().filter(excerpt) {
        let (a, number) = (&annotations[i], songs[i].number);
        first.push_str(&format!(
            "{number},{},{},{},{}\n",
            short(a.valence),
            short(spread(number, 0)),
            short(a.arousal),
            short(spread(number, 1))
        ));
    }
    let mut second = String::from(
        "song_id, valence_mean, valence_std, valence_ max_mean, valence_max_std, valence_min_mean, valence_min_std, arousal_mean, arousal_std, arousal_max_mean, arousal_max_std, arousal_min_mean, arousal_min_std\n",
    );
    for &i in by_number.iter().filter(|i| !excerpt(i)) {
        let (a, number) = (&annotations[i], songs[i].number);
        let mut row = number.to_string();
        for (k, mean) in [a.valence, a.arousal].into_iter().enumerate() {
            let (low, high) = RATING_SCALE;
            for value in [
                mean,
                spread(number, k),
                (mean + 1.0).min(high),
                spread(number, k + 2),
                (mean - 1.0).max(low),
                spread(number, k + 4),
            ] {
                row.push_str(&format!(",{}", short(value)));
            }
        }
        second.push_str(&row);
        second.push('\n');
    }

    let frames = |i: usize| {
        let per_second = 1000 / FRAME_MS;
        let length = if songs[i].year == 2015 {
            2.0 * seconds
        } else {
            seconds
        };
        (length as usize) * per_second
    };
    let most = (0..songs.len()).map(frames).max().unwrap_or(0);
    let header: Vec<String> = (0..most)
        .map(|f| format!("sample_{}ms", FIRST_FRAME_MS + f * FRAME_MS))
        .collect();
    let dynamic = |rating: fn(&Annotation) -> f64| {
        let mut text = format!("song_id,{}\n", header.join(","));
        for &i in &by_number {
            let number = songs[i].number;
            let centre = unit(rating(&annotations[i]));
            let mut row = number.to_string();
            for f in 0..most {
                row.push(',');
                if f < frames(i) {
                    let drift = 0.15 * (0.4 * f as f64 + f64::from(number)).sin();
                    row.push_str(&format!("{:.4}", (centre + drift).clamp(-1.0, 1.0)));
                }
            }
            text.push_str(&row);
            text.push('\n');
        }
        text
    };

    let mut files = vec![
        (
            format!("{AVERAGED}/song_level/static_annotations_averaged_songs_1_2000.csv"),
            first.into_bytes(),
        ),
        (
            format!("{AVERAGED}/song_level/static_annotations_averaged_songs_2000_2058.csv"),
            second.into_bytes(),
        ),
        (
            format!("{AVERAGED}/dynamic (per second annotations)/valence.csv"),
            dynamic(|a| a.valence).into_bytes(),
        ),
        (
            format!("{AVERAGED}/dynamic (per second annotations)/arousal.csv"),
            dynamic(|a| a.arousal).into_bytes(),
        ),
    ];
    files.extend(metadata_files(songs, records, &by_number, seconds));
    if let Some(&i) = by_number.first() {
        files.push((
            format!("features/{}.csv", songs[i].number),
            features_csv(seconds).into_bytes(),
        ));
    }
    files
}

/// A 1-9 rating on -1 to 1.
fn unit(rating: f64) -> f64 {
    let (low, high) = RATING_SCALE;
    2.0 * (rating - low) / (high - low) - 1.0
}

/// A plausible standard deviation over raters, fixed by the song and the column.
fn spread(number: u32, column: usize) -> f64 {
    0.5 + f64::from((number * 37 + column as u32 * 11) % 100) / 100.0
}

/// A number as the real files print it: at most two decimals, no trailing zeros (`3`, `3.1`).
fn short(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `metadata_2013.csv`, `_2014.csv` and `_2015.csv`, each with its year's header and quirks.
fn metadata_files(
    songs: &[DeamSong],
    records: &[SongRecord],
    by_number: &[usize],
    seconds: f64,
) -> Vec<(String, Vec<u8>)> {
    let in_year = |year: u16| {
        by_number
            .iter()
            .copied()
            .filter(move |&i| songs[i].year == year)
    };
    let segment = |start: f64| format!("{:.2}", start / 60.0);
    let header_2013 = [
        "song_id",
        "file_name",
        "Artist",
        "Song title",
        "start of the segment (min.sec)",
        "end of the segment (min.sec)",
        "Genre",
    ];
    let rows_2013 = in_year(2013).map(|i| {
        let (number, record) = (songs[i].number, &records[i]);
        vec![
            number.to_string(),
            format!("{number}.mp3"),
            format!("{}\t", record.artist),
            format!("{}\u{a0}", record.title),
            segment(30.0),
            segment(30.0 + seconds),
            "Rock ".into(),
        ]
    });
    let header_2014 = [
        "Id",
        "Artist",
        "Album",
        "Track",
        "Genre",
        "segment start",
        "segment end",
    ];
    let rows_2014 = in_year(2014).enumerate().map(|(k, i)| {
        let (number, record) = (songs[i].number, &records[i]);
        let mut row = vec![
            number.to_string(),
            record.artist.clone(),
            record.album.clone(),
            record.title.clone(),
            "Electronic".into(),
            "60".into(),
            format!("{}", 60.0 + seconds),
        ];
        // Last.fm tags trail the row, as many as the song has.
        let tags = ["chill", "ambient", "downtempo"].iter().take(k % 4);
        row.extend(tags.map(|t| t.to_string()));
        row
    });
    let header_2015 = ["id", "file name", "title", "artist", "album", "genre"];
    let rows_2015 = in_year(2015).map(|i| {
        let (number, record) = (songs[i].number, &records[i]);
        vec![
            number.to_string(),
            format!("{number}.mp3"),
            record.title.clone(),
            record.artist.clone(),
            record.album.clone(),
            "Classical".into(),
            "Baroque".into(),
        ]
    });
    let quoting = csv::QuoteStyle::Necessary;
    vec![
        (
            "metadata/metadata_2013.csv".to_string(),
            csv_bytes(&header_2013, rows_2013, quoting),
        ),
        (
            "metadata/metadata_2014.csv".to_string(),
            csv_bytes(&header_2014, rows_2014, quoting),
        ),
        (
            "metadata/metadata_2015.csv".to_string(),
            csv_bytes(&header_2015, rows_2015, quoting),
        ),
    ]
}

/// An openSMILE-style frame features file: `;`-separated, one row per 0.5 s.
fn features_csv(seconds: f64) -> String {
    let mut text = String::from(
        "frameTime;F0final_sma_stddev;F0final_sma_amean;pcm_RMSenergy_sma_amean;pcm_fftMag_mfcc_sma[1]_amean\n",
    );
    for f in 0..(2.0 * seconds) as usize {
        let t = f as f64 * 0.5;
        text.push_str(&format!(
            "{t:.1};{:.4};{:.4};{:.4};{:.4}\n",
            10.0 + (t * 0.3).sin(),
            120.0 + 5.0 * t.cos(),
            0.05 + 0.01 * t.sin(),
            -2.0 + t.cos()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fall_in_their_years_ranges_with_gaps() {
        let mut records: Vec<SongRecord> = (0..40).map(|_| SongRecord::blank("Q1")).collect();
        let mut refs: Vec<&mut SongRecord> = records.iter_mut().collect();
        let songs = name_songs(&mut refs, 7);
        let count = |year| songs.iter().filter(|s| s.year == year).count();
        assert_eq!((count(2013), count(2014), count(2015)), (18, 18, 4));
        for song in &songs {
            let range = match song.year {
                2013 => 2..=1000,
                2014 => 1001..=2000,
                _ => 2001..=2058,
            };
            assert!(range.contains(&song.number), "{song:?}");
        }
        let mut numbers: Vec<u32> = songs.iter().map(|s| s.number).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 40);
        assert_eq!(records[0].id, songs[0].number.to_string());
        assert_eq!(short(3.0), "3");
        assert_eq!(short(3.10), "3.1");
    }
}
