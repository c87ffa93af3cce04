//! The demo's EMOPIA stand-in (`mer demo --layout emopia`): every song a MIDI clip named as
//! EMOPIA names them, `Q{n}_{11-character YouTube-like id}_{segment}.mid`, three clips to a
//! song, under `EMOPIA_1.0/` with `label.csv`, `metadata_by_song.csv`, the song-level split
//! files and `key_mode_tempo.csv` (with its unnamed first column), as ../shared/DATASETS.md
//! describes the real files. Ids draw from a stream of their own (`demo/emopia/songs`), so the
//! clips' music is what the same songs would have in another layout.

use std::collections::BTreeMap;

use crate::rng::RandomStream;

use super::metadata::SongRecord;

/// The dataset's top folder, as in the archive.
pub(super) const TOP: &str = "EMOPIA_1.0";
/// Clips per song (the real dataset has 1 to 8, 2.8 on average).
const CLIPS_PER_SONG: usize = 3;
/// YouTube ids use these 64 characters.
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// Renames each record to a clip of a song: consecutive records of one label (the plan sorts
/// by label) are the clips of one song. The first song's id starts with `_` and the second's
/// holds `-`, quirks of the real ids that a loader must survive.
pub(super) fn name_clips(records: &mut [&mut SongRecord], seed: u64) {
    let mut rng = RandomStream::new(seed, "demo/emopia/songs");
    let mut song = 0usize;
    let mut start = 0;
    while start < records.len() {
        let label = records[start].label;
        let end = (start..records.len())
            .take(CLIPS_PER_SONG)
            .take_while(|&i| records[i].label == label)
            .last()
            .map_or(start + 1, |i| i + 1);
        let id = youtube_id(song, &mut rng);
        for (segment, record) in records[start..end].iter_mut().enumerate() {
            record.id = format!("{}_{id}_{segment}", record.label);
        }
        song += 1;
        start = end;
    }
}

fn youtube_id(song: usize, rng: &mut RandomStream) -> String {
    let mut id: Vec<u8> = (0..11)
        .map(|_| ID_ALPHABET[rng.below(ID_ALPHABET.len())])
        .collect();
    match song {
        0 => id[0] = b'_',
        1 => id[4] = b'-',
        _ => {}
    }
    String::from_utf8(id).expect("ASCII alphabet")
}

/// The song id of a clip named by [`name_clips`].
fn song_of(clip: &str) -> &str {
    &clip[3..14]
}

/// Which part of the song-level split a song is in: within each quadrant, of every seven
/// songs in order the second validates, the third tests and the rest train (about 70 / 15 /
/// 15, and every part has songs of a quadrant from its third song on).
fn part(position_in_quadrant: usize) -> &'static str {
    match position_in_quadrant % 7 {
        1 => "val",
        2 => "test",
        _ => "train",
    }
}

/// The metadata files, as (path under the output folder, content).
pub(super) fn files(records: &[SongRecord]) -> Vec<(String, Vec<u8>)> {
    let mut labels = String::from("ID,4Q,annotator\n");
    let mut key_mode = String::from(",name,keyname,keymode,tempo\n");
    // Songs in order of first clip, with their clips' quadrants.
    let mut songs: Vec<(&str, [usize; 4])> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (row, record) in records.iter().enumerate() {
        let quadrant = usize::from(record.label.as_bytes()[1] - b'0');
        labels.push_str(&format!("{},{quadrant},{}\n", record.id, row % 3));
        let (keyname, keymode) = match quadrant {
            1 | 4 => ("C", 1),
            _ => ("c", 2),
        };
        key_mode.push_str(&format!(
            "{row},{},{keyname},{keymode},{}\n",
            record.id,
            100 + 10 * quadrant
        ));
        let song = song_of(&record.id);
        let at = *index.entry(song).or_insert_with(|| {
            songs.push((song, [0; 4]));
            songs.len() - 1
        });
        songs[at].1[quadrant - 1] += 1;
    }
    let header = "songID,num_Q1,num_Q2,num_Q3,num_Q4,DominantQ\n";
    let mut by_song = String::from(header);
    let mut parts: BTreeMap<&str, String> = ["train", "val", "test"]
        .into_iter()
        .map(|p| (p, String::from(header)))
        .collect();
    let mut per_quadrant = [0usize; 4];
    for (song, counts) in &songs {
        let dominant = (0..4).max_by_key(|&q| (counts[q], 4 - q)).unwrap_or(0);
        let row = format!(
            "{song},{},{},{},{},{}\n",
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            dominant + 1
        );
        by_song.push_str(&row);
        let part = part(per_quadrant[dominant]);
        per_quadrant[dominant] += 1;
        parts.get_mut(part).expect("three parts").push_str(&row);
    }
    let mut files = vec![
        (format!("{TOP}/label.csv"), labels.into_bytes()),
        (format!("{TOP}/metadata_by_song.csv"), by_song.into_bytes()),
        (format!("{TOP}/key_mode_tempo.csv"), key_mode.into_bytes()),
    ];
    for (part, text) in parts {
        files.push((format!("{TOP}/split/{part}_SL.csv"), text.into_bytes()));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_of_one_song_share_its_quadrant_and_ids_have_the_real_quirks() {
        let mut records: Vec<SongRecord> = ["Q1", "Q1", "Q1", "Q1", "Q2", "Q2", "Q3"]
            .into_iter()
            .map(SongRecord::blank)
            .collect();
        let mut refs: Vec<&mut SongRecord> = records.iter_mut().collect();
        name_clips(&mut refs, 7);
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert!(
            ids[0].starts_with("Q1__") && ids[0].ends_with("_0"),
            "{ids:?}"
        );
        assert_eq!(song_of(ids[1]), song_of(ids[0]));
        assert!(
            ids[3].ends_with("_0") && song_of(ids[3]).contains('-'),
            "{ids:?}"
        );
        assert!(
            ids[4].starts_with("Q2_") && ids[4].ends_with("_0"),
            "{ids:?}"
        );
        assert!(
            ids[6].starts_with("Q3_") && ids[6].ends_with("_0"),
            "{ids:?}"
        );
        assert!(ids.iter().all(|id| id.len() == 16), "{ids:?}");
    }
}
