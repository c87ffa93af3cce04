//! Acceptance tests of the synthetic dataset generator, read back with independent parsers
//! (`hound` for WAV, `midly` for MIDI, std for text).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mer::demo::{DemoError, DemoLayout, DemoOptions, DemoSummary, generate};
use midly::{MetaMessage, Smf, TrackEventKind};
use tempfile::TempDir;

/// A generated set kept alive for the whole test binary, so each set is generated once.
struct Generated {
    dir: TempDir,
    summary: DemoSummary,
}

impl Generated {
    fn new(opts: DemoOptions) -> Generated {
        let dir = TempDir::new().unwrap();
        let summary = generate(&DemoOptions {
            out: dir.path().join("demo"),
            ..opts
        })
        .unwrap();
        Generated { dir, summary }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("demo")
    }
}

fn small_options(seed: u64) -> DemoOptions {
    DemoOptions {
        songs: 30,
        seed,
        seconds: 3.0,
        ..DemoOptions::default()
    }
}

fn small() -> &'static Generated {
    static SET: OnceLock<Generated> = OnceLock::new();
    SET.get_or_init(|| Generated::new(small_options(7)))
}

/// Many short songs, every MIDI file written and no label noise: for class statistics.
fn per_class_set() -> &'static Generated {
    static SET: OnceLock<Generated> = OnceLock::new();
    SET.get_or_init(|| {
        Generated::new(DemoOptions {
            songs: 100,
            seed: 11,
            seconds: 2.0,
            lyrics_fraction: 0.0,
            midi_fraction: 1.0,
            label_noise: 0.0,
            ..DemoOptions::default()
        })
    })
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Relative path -> blake3 hash of every file under `root`.
fn hash_tree(root: &Path) -> BTreeMap<String, String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            (
                rel,
                blake3::hash(&fs::read(e.path()).unwrap())
                    .to_hex()
                    .to_string(),
            )
        })
        .collect()
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn decode_utf16le_bom(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16 LE byte-order mark");
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

fn rms(path: &Path) -> f64 {
    let mut reader = hound::WavReader::open(path).unwrap();
    let samples: Vec<f64> = reader
        .samples::<i16>()
        .map(|s| f64::from(s.unwrap()) / 32768.0)
        .collect();
    (samples.iter().map(|x| x * x).sum::<f64>() / samples.len() as f64).sqrt()
}

struct MidiFacts {
    tempo_bpm: f64,
    minor: bool,
}

fn midi_facts(path: &Path) -> MidiFacts {
    let bytes = fs::read(path).unwrap();
    let smf = Smf::parse(&bytes).unwrap();
    let metas = || {
        smf.tracks[0].iter().filter_map(|e| match e.kind {
            TrackEventKind::Meta(m) => Some(m),
            _ => None,
        })
    };
    let tempo = metas()
        .find_map(|m| match m {
            MetaMessage::Tempo(t) => Some(60_000_000.0 / f64::from(t.as_int())),
            _ => None,
        })
        .expect("tempo meta event in the conductor track");
    let minor = metas()
        .find_map(|m| match m {
            MetaMessage::KeySignature(_, minor) => Some(minor),
            _ => None,
        })
        .expect("key signature meta event in the conductor track");
    MidiFacts {
        tempo_bpm: tempo,
        minor,
    }
}

#[test]
fn wav_files_are_mono_22050_hz_full_length_audible_and_unclipped() {
    let set = small();
    let wavs = files_in(&set.root().join("Audio"));
    assert_eq!(wavs.len(), 30);
    for path in wavs {
        assert_eq!(path.extension().unwrap(), "wav");
        let mut reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (1, 22050, 16)
        );
        assert_eq!(reader.duration(), 3 * 22050, "{}", path.display());
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        let peak = samples.iter().map(|s| i32::from(*s).abs()).max().unwrap();
        assert!(
            peak > 1000,
            "{} is nearly silent (peak {peak})",
            path.display()
        );
        assert!(peak <= 32767, "{} clips", path.display());
    }
}

#[test]
fn midi_files_are_type_1_with_tempo_key_and_several_tracks() {
    let set = small();
    let mids = files_in(&set.root().join("MIDIs"));
    assert!(!mids.is_empty());
    for path in mids {
        let bytes = fs::read(&path).unwrap();
        let smf = Smf::parse(&bytes).unwrap();
        assert_eq!(
            smf.header.format,
            midly::Format::Parallel,
            "{}",
            path.display()
        );
        assert!(smf.tracks.len() >= 4, "conductor + melody + chords + bass");
        midi_facts(&path);
    }
}

#[test]
fn same_seed_gives_byte_identical_files_whatever_the_thread_count() {
    // The shared set used the default pool; this one runs every song on one thread.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let again = pool.install(|| Generated::new(small_options(7)));
    let first = hash_tree(&small().root());
    assert!(first.len() > 60);
    assert_eq!(first, hash_tree(&again.root()));
}

#[test]
fn different_seed_gives_different_files() {
    let other = Generated::new(DemoOptions {
        songs: 10,
        ..small_options(8)
    });
    let first = hash_tree(&small().root());
    let second = hash_tree(&other.root());
    let audio = "Audio/001.wav";
    assert_ne!(first[audio], second[audio]);
    assert_ne!(first["clusters.txt"], second["clusters.txt"]);
}

#[test]
fn classes_are_balanced_and_modality_fractions_are_near_the_requested_ones() {
    let set = small();
    let s = &set.summary;
    assert_eq!(s.songs, 30);
    assert!(
        s.per_class.iter().all(|c| c.songs == 6),
        "{:?}",
        s.per_class
    );
    let lyrics = files_in(&set.root().join("Lyrics")).len();
    let midis = files_in(&set.root().join("MIDIs")).len();
    assert_eq!((lyrics, midis), (s.lyrics_files, s.midi_files));
    assert!(
        (24..=28).contains(&lyrics),
        "{lyrics} lyrics for 0.85 of 30"
    );
    assert!(
        (6..=9).contains(&midis),
        "{midis} MIDI files for 0.25 of 30"
    );
    // 0.05 of 30 songs, rounded: two labels are wrong on purpose.
    assert_eq!(s.relabeled, 2);
    let labelled: usize = s.per_class.iter().map(|c| c.labelled).sum();
    assert_eq!(labelled, 30);
}

#[test]
fn metadata_files_follow_the_archive_formats() {
    let root = small().root();
    let clusters = lines(&root.join("clusters.txt"));
    let categories = lines(&root.join("categories.txt"));
    assert_eq!((clusters.len(), categories.len()), (30, 30));
    assert!(clusters.iter().all(|c| c.starts_with("Cluster ")));
    // Ids are sorted by stated label, like the archive.
    assert!(clusters.windows(2).all(|w| w[0] <= w[1]));

    let csv = decode_utf16le_bom(&fs::read(root.join("dataset info.csv")).unwrap());
    let rows: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(
        rows[0],
        "Title;Artist;Album;Track;Year;Length;Size;Last Modified;Filename;"
    );
    assert_eq!(rows.len(), 31);
    assert!(
        rows.iter()
            .all(|r| r.ends_with(';') && r.split(';').count() == 10)
    );
    assert!(rows[1].ends_with(";001.wav;"));

    for (name, ext) in [("audio", "wav"), ("lyrics", "txt"), ("midi", "mid")] {
        let bat = lines(&root.join(format!("split-by-categories-{name}.bat")));
        assert_eq!(bat.len(), 28 + 30);
        assert_eq!(bat[0], r#"mkdir "Cluster 1\Boisterous\""#);
        let first_move = format!(
            r#"move 001.{ext} "{}\{}\001.{ext}""#,
            clusters[0], categories[0]
        );
        assert_eq!(bat[28], first_move);
    }
}

#[test]
fn some_lyrics_are_utf16_with_bom_and_crlf_and_all_decode() {
    let mut utf16 = 0;
    for path in files_in(&small().root().join("Lyrics")) {
        let bytes = fs::read(&path).unwrap();
        let text = if bytes.starts_with(&[0xFF, 0xFE]) {
            utf16 += 1;
            let text = decode_utf16le_bom(&bytes);
            assert!(text.contains("\r\n"));
            text
        } else {
            String::from_utf8(bytes).unwrap()
        };
        assert!(text.split_whitespace().count() > 40, "{}", path.display());
    }
    assert!(utf16 >= 1);
    assert_eq!(utf16, small().summary.utf16_lyrics_files);
}

#[test]
fn class_dependent_properties_hold_on_average() {
    let set = per_class_set();
    let root = set.root();
    let clusters = lines(&root.join("clusters.txt"));
    let mut tempo: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut minor: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut loudness: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (i, label) in clusters.iter().enumerate() {
        let id = format!("{:03}", i + 1);
        let facts = midi_facts(&root.join(format!("MIDIs/{id}.mid")));
        tempo.entry(label).or_default().push(facts.tempo_bpm);
        minor
            .entry(label)
            .or_default()
            .push(f64::from(u8::from(facts.minor)));
        loudness
            .entry(label)
            .or_default()
            .push(rms(&root.join(format!("Audio/{id}.wav"))));
    }
    let mean = |m: &BTreeMap<&str, Vec<f64>>, k: &str| m[k].iter().sum::<f64>() / m[k].len() as f64;
    assert!(mean(&tempo, "Cluster 1") > mean(&tempo, "Cluster 3"));
    assert!(mean(&tempo, "Cluster 5") > mean(&tempo, "Cluster 3"));
    assert!(mean(&minor, "Cluster 3") > mean(&minor, "Cluster 2"));
    assert!(mean(&minor, "Cluster 5") > mean(&minor, "Cluster 2"));
    assert!(mean(&loudness, "Cluster 5") > mean(&loudness, "Cluster 3"));
    // Overlap: no single feature separates the high- and low-arousal clusters.
    let slowest_fast = tempo["Cluster 5"].iter().cloned().fold(f64::MAX, f64::min);
    let fastest_slow = tempo["Cluster 3"].iter().cloned().fold(0.0, f64::max);
    assert!(
        slowest_fast < fastest_slow,
        "tempo ranges of clusters 3 and 5 overlap"
    );
}

#[test]
fn table_layout_writes_labels_csv_and_lowercase_folders() {
    let set = Generated::new(DemoOptions {
        songs: 8,
        seconds: 2.0,
        layout: DemoLayout::Table,
        quadrants: true,
        midi_fraction: 0.5,
        ..DemoOptions::default()
    });
    let root = set.root();
    let labels = lines(&root.join("labels.csv"));
    assert_eq!(labels[0], "id,label,subcategory,title,artist");
    assert_eq!(labels.len(), 9);
    assert!(labels[1].starts_with("001,Q1,"));
    assert_eq!(files_in(&root.join("audio")).len(), 8);
    assert_eq!(files_in(&root.join("midi")).len(), 4);
    assert!(root.join("audio/001.wav").is_file());
    assert_eq!(set.summary.per_class.len(), 4);
    let readme = fs::read_to_string(root.join("README.txt")).unwrap();
    assert!(readme.contains("SYNTHETIC") && readme.contains("seed = 7"));
}

#[test]
fn out_of_range_options_are_rejected() {
    let dir = TempDir::new().unwrap();
    let opts = DemoOptions {
        out: dir.path().join("x"),
        seconds: 1.0,
        ..DemoOptions::default()
    };
    let err = generate(&opts).unwrap_err();
    assert!(
        matches!(
            err,
            DemoError::InvalidOption {
                name: "seconds",
                ..
            }
        ),
        "{err}"
    );
    let err = generate(&DemoOptions {
        label_noise: 1.5,
        seconds: 2.0,
        ..opts
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            DemoError::InvalidOption {
                name: "label_noise",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_non_empty_output_folder_is_refused() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("keep.txt"), "mine").unwrap();
    let err = generate(&DemoOptions {
        out: dir.path().to_path_buf(),
        songs: 2,
        seconds: 2.0,
        ..DemoOptions::default()
    })
    .unwrap_err();
    assert!(matches!(err, DemoError::OutputNotEmpty { .. }));
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

/// The demo's mirex-like output goes through the real loader: every song listed, labelled as
/// `clusters.txt` says, with files as counted, and no problem beyond the partial modalities.
#[test]
fn mirex_like_output_passes_the_real_loader_with_the_requested_counts() {
    use mer::dataset::{self, ProblemKind};
    use mer::modality::{Modality, ModalityMask};
    use mer::spec::sections::{DatasetSection, LabelConflictPolicy, Layout};

    let set = small();
    let section = DatasetSection {
        layout: Layout::MirexLike,
        root: set.root(),
        labels: None,
        id_column: None,
        label_column: None,
        paths: BTreeMap::new(),
        on_label_conflict: LabelConflictPolicy::Fail,
        songs_with: None,
    };
    let all: ModalityMask = Modality::ALL.into_iter().collect();
    let load = dataset::load(&section, all).expect("the real loader reads the demo");
    let listed = &load.listed;
    assert_eq!(listed.songs.len(), 30);
    assert_eq!(listed.classes.len(), 5);
    let with = |m: Modality| listed.songs.iter().filter(|s| s.file(m).is_some()).count();
    assert_eq!(with(Modality::Audio), set.summary.audio_files);
    assert_eq!(with(Modality::Lyrics), set.summary.lyrics_files);
    assert_eq!(with(Modality::Midi), set.summary.midi_files);
    assert_eq!(set.summary.audio_files, 30);
    assert!(
        (24..=27).contains(&set.summary.lyrics_files),
        "about 85 % lyrics"
    );
    assert!((6..=9).contains(&set.summary.midi_files), "about 25 % MIDI");
    let clusters = lines(&set.root().join("clusters.txt"));
    for (song, cluster) in listed.songs.iter().zip(&clusters) {
        assert_eq!(&listed.classes[song.label], cluster, "song {}", song.id);
    }
    let unexpected: Vec<String> = load
        .problems
        .iter()
        .filter(|p| p.kind() != ProblemKind::ModalityPartial)
        .map(ToString::to_string)
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}
