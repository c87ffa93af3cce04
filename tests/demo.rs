//! Acceptance tests of the synthetic dataset generator, read back with independent parsers
//! (`hound` for WAV, `midly` for MIDI, std for text).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mer::demo::classes::{ClassProfile, Mood, Taxonomy};
use mer::demo::lyrics::words;
use mer::demo::{
    DemoError, DemoLayout, DemoOptions, DemoSummary, GENERATOR_VERSION, Refresh, STAMP_FILE,
    generate, refresh,
};
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

/// Many short songs, every lyrics and MIDI file written and no label noise: for class
/// statistics.
fn per_class_set() -> &'static Generated {
    static SET: OnceLock<Generated> = OnceLock::new();
    SET.get_or_init(|| {
        Generated::new(DemoOptions {
            songs: 100,
            seed: 11,
            seconds: 2.0,
            lyrics_fraction: 1.0,
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

/// Per class of the per-class set (content class = label, as it has no label noise): one
/// value per song from `measure(root, id)`, in song order.
fn per_class<F: Fn(&Path, &str) -> f64>(measure: F) -> Vec<(&'static ClassProfile, Vec<f64>)> {
    let root = per_class_set().root();
    let clusters = lines(&root.join("clusters.txt"));
    Taxonomy::MirexClusters
        .classes()
        .iter()
        .map(|class| {
            let values = (0..clusters.len())
                .filter(|&i| clusters[i] == class.label)
                .map(|i| measure(&root, &format!("{:03}", i + 1)))
                .collect();
            (class, values)
        })
        .collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Mean of the classes selected by `keep`, pooled over their songs.
fn pooled_mean(table: &[(&ClassProfile, Vec<f64>)], keep: impl Fn(&ClassProfile) -> bool) -> f64 {
    let values: Vec<f64> = table
        .iter()
        .filter(|(c, _)| keep(c))
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    mean(&values)
}

/// For every pair of classes at least 0.4 apart on arousal, the more aroused one has the
/// higher mean: the cues audio and MIDI read follow arousal, whatever the valence.
fn rises_with_arousal(table: &[(&ClassProfile, Vec<f64>)], what: &str) {
    for (low, low_values) in table {
        for (high, high_values) in table {
            if high.arousal - low.arousal >= 0.4 {
                assert!(
                    mean(high_values) > mean(low_values),
                    "{what}: {} (arousal {}) {:.3} <= {} (arousal {}) {:.3}",
                    high.label,
                    high.arousal,
                    mean(high_values),
                    low.label,
                    low.arousal,
                    mean(low_values)
                );
            }
        }
    }
}

#[test]
fn music_tempo_and_loudness_follow_arousal_and_mode_follows_valence() {
    let tempo = per_class(|root, id| midi_facts(&root.join(format!("MIDIs/{id}.mid"))).tempo_bpm);
    let loudness = per_class(|root, id| rms(&root.join(format!("Audio/{id}.wav"))));
    let minor = per_class(|root, id| {
        f64::from(u8::from(
            midi_facts(&root.join(format!("MIDIs/{id}.mid"))).minor,
        ))
    });
    rises_with_arousal(&tempo, "MIDI tempo");
    rises_with_arousal(&loudness, "audio RMS");
    let minor_negative = pooled_mean(&minor, |c| c.valence < 0.0);
    let minor_positive = pooled_mean(&minor, |c| c.valence > 0.0);
    assert!(
        minor_negative > minor_positive + 0.2,
        "minor share {minor_negative:.2} (negative valence) vs {minor_positive:.2} (positive)"
    );
    // Overlap: tempo alone does not separate neighbouring arousal levels.
    let range = |label: &str| {
        let (_, v) = tempo.iter().find(|(c, _)| c.label == label).unwrap();
        let min = v.iter().copied().fold(f64::MAX, f64::min);
        let max = v.iter().copied().fold(f64::MIN, f64::max);
        (min, max)
    };
    let (excited, cheerful) = (range("Cluster 1"), range("Cluster 2"));
    assert!(
        excited.0 < cheerful.1,
        "tempo ranges of clusters 1 and 2 overlap"
    );
}

/// The lowercase words of song `id`'s lyrics file (UTF-8 or UTF-16 with BOM).
fn lyric_words(root: &Path, id: &str) -> Vec<String> {
    let bytes = fs::read(root.join(format!("Lyrics/{id}.txt"))).unwrap();
    let text = if bytes.starts_with(&[0xFF, 0xFE]) {
        decode_utf16le_bom(&bytes)
    } else {
        String::from_utf8(bytes).unwrap()
    };
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Share of a song's emotion words (nouns, verbs, adjectives of any mood) that belong to
/// `moods`; words of several moods are left out.
fn mood_share(root: &Path, id: &str, moods: &[Mood]) -> f64 {
    let mood_of = |word: &str| {
        let found: Vec<Mood> = Mood::ALL
            .into_iter()
            .filter(|m| {
                let w = words(*m);
                w.nouns
                    .iter()
                    .chain(w.verbs)
                    .chain(w.adjectives)
                    .any(|x| *x == word)
            })
            .collect();
        (found.len() == 1).then(|| found[0])
    };
    let tagged: Vec<Mood> = lyric_words(root, id)
        .iter()
        .filter_map(|w| mood_of(w))
        .collect();
    tagged.iter().filter(|m| moods.contains(m)).count() as f64 / tagged.len().max(1) as f64
}

#[test]
fn lyrics_follow_valence_and_theme() {
    // Valence: unhappy classes use more unhappy words and more negated lines.
    let dark = per_class(|root, id| mood_share(root, id, &[Mood::Wistful, Mood::Aggressive]));
    let negations = per_class(|root, id| {
        let words = lyric_words(root, id);
        let negated = words
            .iter()
            .filter(|w| w.ends_with("n't") || *w == "never")
            .count();
        negated as f64 / words.len() as f64
    });
    for (table, what) in [
        (&dark, "unhappy-word share"),
        (&negations, "negations per word"),
    ] {
        for (negative, n) in table.iter().filter(|(c, _)| c.valence < 0.0) {
            for (positive, p) in table.iter().filter(|(c, _)| c.valence > 0.0) {
                assert!(
                    mean(n) > mean(p),
                    "{what}: {} {:.3} <= {} {:.3}",
                    negative.label,
                    mean(n),
                    positive.label,
                    mean(p)
                );
            }
        }
    }
    // Theme: each class's main mood is, on average, more frequent in its own lyrics than in
    // any other class's, which is what tells apart classes that sound alike.
    let classes = Taxonomy::MirexClusters.classes();
    for class in classes {
        let main = class.moods[0].0;
        let shares = per_class(|root, id| mood_share(root, id, &[main]));
        let own = mean(
            &shares
                .iter()
                .find(|(c, _)| c.label == class.label)
                .unwrap()
                .1,
        );
        for (other, values) in shares.iter().filter(|(c, _)| c.label != class.label) {
            assert!(
                own > mean(values),
                "{main:?} words: {} {own:.3} <= {} {:.3}",
                class.label,
                other.label,
                mean(values)
            );
        }
    }
}

/// A tiny option set for the stamp tests: 3 songs of 2 s.
fn tiny(out: &Path, seed: u64) -> DemoOptions {
    DemoOptions {
        out: out.to_path_buf(),
        songs: 3,
        seed,
        seconds: 2.0,
        ..DemoOptions::default()
    }
}

#[test]
fn refresh_keeps_an_up_to_date_dataset_and_rewrites_a_stale_one() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("demo");
    assert!(matches!(
        refresh(&tiny(&out, 1)).unwrap(),
        Refresh::Generated(_)
    ));
    let stamp = fs::read_to_string(out.join(STAMP_FILE)).unwrap();
    assert!(stamp.contains(&format!("generator = {GENERATOR_VERSION}\n")));
    assert!(stamp.contains("seed = 1\n"));

    // Same options: nothing is rewritten (a file of ours survives).
    fs::write(out.join("marker"), "kept").unwrap();
    assert_eq!(refresh(&tiny(&out, 1)).unwrap(), Refresh::UpToDate);
    assert!(out.join("marker").exists());

    // Other options: the folder is replaced by the new dataset.
    let Refresh::Replaced { previous, .. } = refresh(&tiny(&out, 2)).unwrap() else {
        panic!("a dataset of seed 1 is not the one of seed 2");
    };
    assert_eq!(previous.as_deref(), Some(stamp.as_str()));
    assert!(!out.join("marker").exists());
    let fresh = Generated::new(tiny(Path::new("unused"), 2));
    assert_eq!(hash_tree(&out), hash_tree(&fresh.root()));

    // An older generator's output: a different version in the stamp, or no stamp at all
    // (generators before the stamp), is rewritten too.
    let older = fs::read_to_string(out.join(STAMP_FILE))
        .unwrap()
        .replace(&format!("generator = {GENERATOR_VERSION}"), "generator = 1");
    fs::write(out.join(STAMP_FILE), older).unwrap();
    assert!(matches!(
        refresh(&tiny(&out, 2)).unwrap(),
        Refresh::Replaced { .. }
    ));
    fs::remove_file(out.join(STAMP_FILE)).unwrap();
    assert!(matches!(
        refresh(&tiny(&out, 2)).unwrap(),
        Refresh::Replaced { previous: None, .. }
    ));
    assert_eq!(hash_tree(&out), hash_tree(&fresh.root()));
}

#[test]
fn refresh_never_deletes_a_folder_that_is_not_a_demo_dataset() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = refresh(&tiny(dir.path(), 1)).unwrap_err();
    assert!(matches!(err, DemoError::NotADemoDataset { .. }), "{err}");
    assert!(err.to_string().contains(STAMP_FILE), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
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
    assert_eq!(
        labels[0],
        "id,label,subcategory,title,artist,valence,arousal,tags"
    );
    assert_eq!(labels.len(), 9);
    assert!(labels[1].starts_with("001,Q1,"));
    assert_eq!(files_in(&root.join("audio")).len(), 8);
    assert_eq!(files_in(&root.join("midi")).len(), 4);
    assert!(root.join("audio/001.wav").is_file());
    assert_eq!(set.summary.per_class.len(), 4);
    let readme = fs::read_to_string(root.join("README.txt")).unwrap();
    assert!(readme.contains("SYNTHETIC") && readme.contains("seed = 7"));
}

/// The table layout's ratings and tags follow the classes' places on the valence-arousal
/// plane, and drawing them moves nothing else: the audio is byte for byte the MIREX-like
/// layout's of the same seed.
#[test]
fn table_layout_rates_valence_and_arousal_and_tags_moods() {
    let options = DemoOptions {
        songs: 80,
        seconds: 2.0,
        quadrants: true,
        ..DemoOptions::default()
    };
    let set = Generated::new(DemoOptions {
        layout: DemoLayout::Table,
        ..options.clone()
    });
    let mut reader = csv::Reader::from_path(set.root().join("labels.csv")).unwrap();
    let mut by_quadrant: BTreeMap<String, Vec<(f64, f64, String)>> = BTreeMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        let rating = |i: usize| row[i].parse::<f64>().unwrap();
        let (valence, arousal) = (rating(5), rating(6));
        assert!((1.0..=9.0).contains(&valence) && (1.0..=9.0).contains(&arousal));
        (by_quadrant.entry(row[1].to_string()).or_default()).push((
            valence,
            arousal,
            row[7].to_string(),
        ));
    }
    let mean = |q: &str, pick: fn(&(f64, f64, String)) -> f64| {
        let songs = &by_quadrant[q];
        songs.iter().map(pick).sum::<f64>() / songs.len() as f64
    };
    // Q1 pleasant and excited, Q2 unpleasant and excited, Q3 unpleasant and calm, Q4 pleasant
    // and calm; 5 is the middle of the scale.
    for (q, pleasant, excited) in [
        ("Q1", true, true),
        ("Q2", false, true),
        ("Q3", false, false),
        ("Q4", true, false),
    ] {
        assert_eq!(mean(q, |s| s.0) > 5.0, pleasant, "{q} valence");
        assert_eq!(mean(q, |s| s.1) > 5.0, excited, "{q} arousal");
    }
    let share_tagged = |q: &str, tag: &str| {
        let songs = &by_quadrant[q];
        let tagged = songs.iter().filter(|s| s.2.split(';').any(|t| t == tag));
        tagged.count() as f64 / songs.len() as f64
    };
    assert!(share_tagged("Q2", "energetic") > share_tagged("Q3", "energetic"));
    assert!(share_tagged("Q3", "calm") > share_tagged("Q1", "calm"));
    let several = by_quadrant.values().flatten().filter(|s| s.2.contains(';'));
    assert!(several.count() > 10, "several tags per song are common");

    let archive = Generated::new(options);
    for id in ["001", "040", "080"] {
        let table = fs::read(set.root().join(format!("audio/{id}.wav"))).unwrap();
        let mirex = fs::read(archive.root().join(format!("Audio/{id}.wav"))).unwrap();
        assert!(table == mirex, "audio of song {id} differs between layouts");
    }
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
