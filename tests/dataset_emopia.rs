//! Layout `emopia`: a small stand-in in EMOPIA's exact layout (written here: tiny MIDI clips,
//! `label.csv`, the song-level split files, the metadata files with their quirks), read by
//! `mer data inspect` and `mer run`, and damaged copies whose errors name file and line.

mod util;

use std::fmt::Write as _;

use util::{TestDir, output};

/// Song ids: 11 characters, some with `_` or `-`, one starting with `_`.
const SONGS: [&str; 12] = [
    "0vLPYiPN7qY",
    "_8v0MFBZoco",
    "aYe-2Glruu4",
    "RL_cmmNVLfs",
    "b1b2b3b4b5b",
    "c-c_c-c_c-c",
    "d4d4d4d4d4d",
    "e5e5e5e5e5e",
    "f6f6f6f6f6f",
    "g7g7g7g7g7g",
    "h8h8h8h8h8h",
    "i9i9i9i9i9i",
];

/// A format-0 MIDI file of a few notes whose pitch, loudness and pace follow the quadrant.
fn clip(quadrant: usize, segment: usize) -> Vec<u8> {
    let pitch = [72u8, 60, 48, 64][quadrant - 1] + segment as u8;
    let velocity = [110u8, 120, 40, 60][quadrant - 1];
    let step = [60u8, 40, 120, 100][quadrant - 1];
    let mut track = vec![0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20];
    for note in 0..8u8 {
        track.extend([0x00, 0x90, pitch + note % 5, velocity]);
        track.extend([step, 0x80, pitch + note % 5, 0x40]);
    }
    track.extend([0x00, 0xFF, 0x2F, 0x00]);
    let mut bytes = b"MThd\0\0\0\x06\0\0\0\x01\0\x60MTrk".to_vec();
    bytes.extend((track.len() as u32).to_be_bytes());
    bytes.extend(track);
    bytes
}

/// Writes the stand-in into `EMOPIA_1.0/` (the archive's top folder): three clips of each
/// song, three songs per quadrant; songs 0-5 train, 6-8 validation, 9-11 test (their order
/// interleaves the quadrants). `label.csv` has a BOM and CRLF line ends.
fn write_emopia(dir: &TestDir) {
    let root = "data/EMOPIA_1.0";
    let mut labels = String::from("\u{feff}ID,4Q,annotator\r\n");
    let mut by_song = String::from("songID,num_Q1,num_Q2,num_Q3,num_Q4,DominantQ\n");
    let mut key_mode = String::from(",name,keyname,keymode,tempo\n");
    let mut parts = [String::new(), String::new(), String::new()];
    for (i, song) in SONGS.iter().enumerate() {
        let quadrant = i % 4 + 1;
        let mut counts = [0; 4];
        counts[quadrant - 1] = 3;
        let row = format!(
            "{song},{},{},{},{},{quadrant}\n",
            counts[0], counts[1], counts[2], counts[3]
        );
        by_song.push_str(&row);
        parts[match i {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        }]
        .push_str(&row);
        for segment in 0..3 {
            let id = format!("Q{quadrant}_{song}_{segment}");
            write!(labels, "{id},{quadrant},a{}\r\n", i % 2).unwrap();
            writeln!(key_mode, "{},{id},C,1,120.0", i * 3 + segment).unwrap();
            dir.write(&format!("{root}/midis/{id}.mid"), clip(quadrant, segment));
        }
    }
    dir.write(&format!("{root}/label.csv"), labels);
    dir.write(&format!("{root}/metadata_by_song.csv"), by_song);
    dir.write(&format!("{root}/key_mode_tempo.csv"), key_mode);
    let header = "songID,num_Q1,num_Q2,num_Q3,num_Q4,DominantQ\n";
    for (name, part) in ["train", "val", "test"].iter().zip(parts) {
        dir.write(
            &format!("{root}/split/{name}_SL.csv"),
            format!("{header}{part}"),
        );
    }
    // macOS archive debris, which the loader ignores.
    dir.write(
        &format!("{root}/midis/._Q1_0vLPYiPN7qY_0.mid"),
        b"\0\x05\x16\x07",
    );
}

const SPEC: &str = r#"
seeds = [1]

[dataset]
layout = "emopia"
root = "data"

[modalities.midi]

[split]
method = "fixed"

[schedule]
epochs = 3
"#;

fn project() -> TestDir {
    let dir = TestDir::new();
    write_emopia(&dir);
    dir.write("emopia.toml", SPEC);
    dir
}

fn inspect(dir: &TestDir) -> (bool, String) {
    let (ok, stdout, stderr) = output(dir.mer().args(["data", "inspect", "emopia.toml", "--all"]));
    (ok, stdout + &stderr)
}

#[test]
fn the_stand_in_loads_with_its_quadrants_songs_and_split() {
    let dir = project();
    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(text.contains("Songs listed: 36"), "{text}");
    assert!(text.contains("Published: 1078 clips (Q1 250"), "{text}");
    for quadrant in ["Q1", "Q2", "Q3", "Q4"] {
        // songs, audio, lyrics, midi: nine clips each, all with MIDI.
        assert_eq!(
            &util::class_counts(&text, quadrant)[..4],
            [9, 0, 0, 9],
            "{text}"
        );
    }
    assert!(!text.contains("._Q1"), "macOS debris is ignored: {text}");

    // The fixed split: the clips of songs 0-5 train, 6-8 validate, 9-11 test.
    let (ok, _, stderr) = output(dir.mer().args(["run", "emopia.toml"]));
    assert!(ok, "{stderr}");
    let report = dir.report_folder(&stderr);
    let predictions = util::read_csv(&report.join("predictions.csv"));
    let tested = util::scored_ids(&predictions);
    let expected: Vec<String> = (9..12)
        .flat_map(|i| (0..3).map(move |s| format!("Q{}_{}_{s}", i % 4 + 1, SONGS[i])))
        .collect();
    let mut expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(tested, expected);
}

#[test]
fn grouping_by_song_keeps_a_songs_clips_on_one_side() {
    let dir = project();
    dir.write(
        "emopia.toml",
        SPEC.replace(
            "method = \"fixed\"",
            "group_by = \"song\"\nfolds = 2\ntest_fraction = 0.25",
        ),
    );
    let (ok, _, stderr) = output(
        dir.mer()
            .args(["run", "emopia.toml", "--debug-mock-stages"]),
    );
    assert!(ok, "{stderr}");
    let report = dir.report_folder(&stderr);
    let predictions = util::read_csv(&report.join("predictions.csv"));
    let mut songs: Vec<&str> = predictions.iter().map(|r| &r["id"][3..14]).collect();
    songs.sort();
    songs.dedup();
    for song in &songs {
        let clips = (predictions.iter())
            .filter(|r| &r["id"][3..14] == *song)
            .map(|r| r["id"].as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        assert_eq!(clips, 3, "all of {song}'s clips are tested together");
    }
}

#[test]
fn damaged_copies_are_reported_naming_file_and_line() {
    let dir = project();
    let root = dir.path("data/EMOPIA_1.0");
    // A missing clip, a row with a quadrant out of range, a clip whose name says another
    // quadrant than its row, and a missing split file.
    std::fs::remove_file(root.join("midis/Q2_0vLPYiPN7qY_1.mid")).ok();
    std::fs::remove_file(root.join("midis/Q2__8v0MFBZoco_1.mid")).unwrap();
    let labels = std::fs::read_to_string(root.join("label.csv")).unwrap();
    let labels = labels
        .replace("Q3_aYe-2Glruu4_0,3,", "Q3_aYe-2Glruu4_0,7,")
        .replace("Q4_RL_cmmNVLfs_2,4,", "Q4_RL_cmmNVLfs_2,1,");
    std::fs::write(root.join("label.csv"), labels).unwrap();
    std::fs::remove_file(root.join("split/val_SL.csv")).unwrap();
    let (ok, text) = inspect(&dir);
    assert!(ok, "{text}");
    assert!(text.contains("midis/Q2__8v0MFBZoco_1.mid"), "{text}");
    assert!(
        text.contains("label.csv line 8") && text.contains("4Q is `7`, expected an integer 1 to 4"),
        "{text}"
    );
    assert!(
        text.contains("Q4_RL_cmmNVLfs_2") && text.contains("file name Q4_RL_cmmNVLfs_2.mid"),
        "{text}"
    );
    assert!(text.contains("split/val_SL.csv"), "{text}");

    // A wrong column is an error naming the file, the column and the header.
    let labels = std::fs::read_to_string(root.join("label.csv")).unwrap();
    std::fs::write(root.join("label.csv"), labels.replacen("4Q", "quadrant", 1)).unwrap();
    let (ok, text) = inspect(&dir);
    assert!(!ok);
    assert!(
        text.contains("label.csv line 1: no column \"4Q\", which layout \"emopia\" reads")
            && text.contains("\"ID\", \"quadrant\", \"annotator\""),
        "{text}"
    );
}

#[test]
fn the_demo_stand_in_runs_with_the_shipped_experiment() {
    let dir = util::shipped_demo("emopia", 84, 4);
    let (ok, stdout, stderr) =
        output(
            dir.mer()
                .args(["data", "inspect", "experiments/demo-emopia.toml"]),
        );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Songs listed: 84"), "{stdout}");
    for quadrant in ["Q1", "Q2", "Q3", "Q4"] {
        // Balanced classes (a few labels are wrong on purpose), every clip with its MIDI.
        let counts = util::class_counts(&stdout, quadrant);
        assert!(
            (18..=24).contains(&counts[0]) && counts[3] == counts[0],
            "{stdout}"
        );
    }
    assert!(stdout.contains("Problems: none"), "{stdout}");

    let (ok, _, stderr) = output(dir.mer().args(["run", "experiments/demo-emopia.toml"]));
    assert!(ok, "{stderr}");
    let report = dir.report_folder(&stderr);
    // Exactly the clips of the songs test_SL.csv lists are scored.
    let root = dir.path("data/demo-emopia/EMOPIA_1.0");
    let test_songs: Vec<String> = util::read_csv(&root.join("split/test_SL.csv"))
        .into_iter()
        .map(|r| r["songID"].clone())
        .collect();
    let predictions = util::read_csv(&report.join("predictions.csv"));
    let scored = util::scored_ids(&predictions);
    let clips: Vec<String> = util::read_csv(&root.join("label.csv"))
        .into_iter()
        .map(|r| r["ID"].clone())
        .filter(|id| test_songs.iter().any(|s| id[3..14] == *s))
        .collect();
    let mut clips: Vec<&str> = clips.iter().map(String::as_str).collect();
    clips.sort();
    assert!(!clips.is_empty());
    assert_eq!(scored, clips);
}
