//! `mer demo`: a synthetic multimodal music-emotion dataset, deterministic from a seed.
//!
//! Every song has a class (five MIREX clusters or four Russell quadrants) and three views of
//! one piece of music generated for that class: a standard MIDI file ([`score`], [`midi`]), a
//! WAV rendered from the same notes ([`synth`]) and lyrics ([`lyrics`]). The modalities carry
//! complementary evidence, as in real music: the sound mostly arousal, the harmony (read best
//! from MIDI) and the words mostly valence and theme, each with noise of its own; the table
//! in [`classes`] says which modality carries which cue. So each modality alone is clearly
//! informative but confuses some pairs of classes, and fusing them tells those pairs apart.
//!
//! Like the real MIREX-like archive, some modalities are missing, some labels are wrong
//! (`label_noise`; the content follows the true class) and ids are sorted by label, which
//! leaks the label to any unshuffled split.
//!
//! Determinism: the same [`DemoOptions`] give byte-identical files, whatever the thread
//! count, because every random number comes from a [`RandomStream`] named by (seed, song):
//! `demo/dataset` plans the set, `demo/song/<index>` makes each song. Across machines this
//! also holds for MIDI, lyrics and metadata; audio goes through the platform's `sin`/`exp`,
//! which IEEE 754 does not pin to the last bit.

pub mod classes;
pub mod lyrics;
pub mod metadata;
pub mod midi;
pub mod score;
pub mod synth;

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::rng::RandomStream;

use classes::{ClassProfile, Taxonomy};
use lyrics::TextEncoding;
use metadata::SongRecord;

/// The stream that plans the dataset as a whole (classes, missing modalities, label noise).
const DATASET_PURPOSE: &str = "demo/dataset";

/// The stream of song `index` (0-based), independent of every other song's.
fn song_purpose(index: usize) -> String {
    format!("demo/song/{index}")
}

/// File layout of the generated dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DemoLayout {
    /// The MIREX-like archive: `Audio/`, `Lyrics/`, `MIDIs/`, `clusters.txt`,
    /// `categories.txt`, `dataset info.csv` and the `split-by-categories-*.bat` files.
    #[default]
    MirexLike,
    /// `labels.csv` (`id,label,subcategory,title,artist`) with `audio/`, `lyrics/`, `midi/`.
    Table,
}

/// What to generate. [`Default`] gives 200 songs of 12 s, seed 7, MIREX-like layout.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Folder to create; must not exist yet or be empty.
    pub out: PathBuf,
    /// Number of songs (at least 1; default 200).
    pub songs: usize,
    /// Seed of every random choice (default 7).
    pub seed: u64,
    /// File layout (default MIREX-like).
    pub layout: DemoLayout,
    /// Four Russell quadrants instead of the five MIREX clusters (default false).
    pub quadrants: bool,
    /// Length of each song in seconds, 2 to 60 (default 12).
    pub seconds: f32,
    /// Fraction of songs with a lyrics file, 0 to 1 (default 0.85).
    pub lyrics_fraction: f64,
    /// Fraction of songs with a MIDI file, 0 to 1 (default 0.25). Audio exists for all songs.
    pub midi_fraction: f64,
    /// Fraction of songs whose metadata label is a wrong class, 0 to 1 (default 0.05).
    pub label_noise: f64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            out: PathBuf::from("demo-data"),
            songs: 200,
            seed: 7,
            layout: DemoLayout::MirexLike,
            quadrants: false,
            seconds: 12.0,
            lyrics_fraction: 0.85,
            midi_fraction: 0.25,
            label_noise: 0.05,
        }
    }
}

impl DemoOptions {
    /// The label set these options ask for.
    pub fn taxonomy(&self) -> Taxonomy {
        if self.quadrants {
            Taxonomy::RussellQuadrants
        } else {
            Taxonomy::MirexClusters
        }
    }

    fn check(&self) -> Result<(), DemoError> {
        let invalid = |name, value: String, expected| {
            Err(DemoError::InvalidOption {
                name,
                value,
                expected,
            })
        };
        if self.songs == 0 {
            return invalid("songs", "0".into(), "at least 1");
        }
        if !(2.0..=60.0).contains(&self.seconds) {
            return invalid("seconds", self.seconds.to_string(), "between 2 and 60");
        }
        for (name, value) in [
            ("lyrics_fraction", self.lyrics_fraction),
            ("midi_fraction", self.midi_fraction),
            ("label_noise", self.label_noise),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return invalid(name, value.to_string(), "a fraction between 0 and 1");
            }
        }
        Ok(())
    }
}

/// Why generation failed; each variant names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// An option is out of range.
    #[error("invalid demo option {name} = {value}: expected {expected}")]
    InvalidOption {
        /// Option name as in [`DemoOptions`].
        name: &'static str,
        /// The rejected value.
        value: String,
        /// The accepted range.
        expected: &'static str,
    },
    /// The output folder already holds files that the new dataset would mix with.
    #[error("output folder '{}' is not empty; choose a new folder or delete it first", path.display())]
    OutputNotEmpty {
        /// The folder.
        path: PathBuf,
    },
    /// Reading or writing a path failed.
    #[error("could not write '{}'", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Encoding a WAV file failed.
    #[error("could not encode WAV '{}'", path.display())]
    Wav {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: hound::Error,
    },
}

/// Songs of one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassCount {
    /// Class label, e.g. `Cluster 2`.
    pub label: &'static str,
    /// Songs whose content was generated for this class.
    pub songs: usize,
    /// Songs the metadata labels with this class (differs by label noise).
    pub labelled: usize,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// Number of songs.
    pub songs: usize,
    /// Per class, in label order.
    pub per_class: Vec<ClassCount>,
    /// Songs whose metadata label is wrong on purpose.
    pub relabeled: usize,
    /// Audio files written (every song).
    pub audio_files: usize,
    /// Lyrics files written.
    pub lyrics_files: usize,
    /// Of those, files in UTF-16 LE with BOM and CRLF.
    pub utf16_lyrics_files: usize,
    /// MIDI files written.
    pub midi_files: usize,
    /// All files written, metadata and README included.
    pub files_written: usize,
    /// Total bytes written.
    pub bytes_written: u64,
}

/// Share of lyrics files stored as UTF-16 LE with BOM, like a few files of real collections.
const UTF16_LYRICS_FRACTION: f64 = 0.05;

/// One song as planned from the dataset stream, before its content is generated.
#[derive(Debug, Clone)]
struct PlannedSong {
    /// Class the content is generated for.
    class: usize,
    /// Class the metadata states.
    label_class: usize,
    record: SongRecord,
    lyrics: Option<TextEncoding>,
    midi: bool,
}

/// Writes the dataset described by `opts`; see the module documentation.
pub fn generate(opts: &DemoOptions) -> Result<DemoSummary, DemoError> {
    opts.check()?;
    prepare_output(&opts.out)?;
    let paths = LayoutPaths::new(&opts.out, opts.layout);
    for dir in [&paths.audio_dir, &paths.lyrics_dir, &paths.midi_dir] {
        fs::create_dir_all(dir).map_err(|source| DemoError::Io {
            path: dir.clone(),
            source,
        })?;
    }
    let classes = opts.taxonomy().classes();
    let plan = plan_dataset(opts, classes);
    let seconds = f64::from(opts.seconds);

    let written: Vec<(usize, u64)> = plan
        .par_iter()
        .enumerate()
        .map(|(index, song)| write_song(opts.seed, index, song, classes, seconds, &paths))
        .collect::<Result<_, _>>()?;
    let (song_files, song_bytes) = written
        .iter()
        .fold((0, 0), |(f, b), (files, bytes)| (f + files, b + bytes));

    let records: Vec<SongRecord> = plan.iter().map(|s| s.record.clone()).collect();
    let mut meta_files = metadata_files(opts.layout, classes, &records, seconds);
    let meta_bytes: u64 = meta_files.iter().map(|(_, c)| c.len() as u64).sum();
    let mut summary = summarize(
        &plan,
        classes,
        song_files + meta_files.len() + 1,
        song_bytes + meta_bytes,
    );
    let readme = readme(opts, &plan, classes, &summary);
    summary.bytes_written += readme.len() as u64;
    meta_files.push(("README.txt".into(), readme.into_bytes()));
    for (name, content) in &meta_files {
        write_file(&opts.out.join(name), content)?;
    }
    Ok(summary)
}

/// The layout's label and description files, as (file name, content).
fn metadata_files(
    layout: DemoLayout,
    classes: &[ClassProfile],
    records: &[SongRecord],
    seconds: f64,
) -> Vec<(String, Vec<u8>)> {
    match layout {
        DemoLayout::MirexLike => {
            let mut files = vec![
                (
                    "clusters.txt".into(),
                    metadata::clusters_txt(records).into_bytes(),
                ),
                (
                    "categories.txt".into(),
                    metadata::categories_txt(records).into_bytes(),
                ),
                (
                    "dataset info.csv".into(),
                    metadata::dataset_info_csv(records, "wav", wav_size(seconds), seconds),
                ),
            ];
            for (name, ext) in [("audio", "wav"), ("lyrics", "txt"), ("midi", "mid")] {
                files.push((
                    format!("split-by-categories-{name}.bat"),
                    metadata::split_bat(classes, records, ext).into_bytes(),
                ));
            }
            files
        }
        DemoLayout::Table => vec![("labels.csv".into(), metadata::labels_csv(records))],
    }
}

/// Where each kind of file goes in a layout.
struct LayoutPaths {
    audio_dir: PathBuf,
    lyrics_dir: PathBuf,
    midi_dir: PathBuf,
}

impl LayoutPaths {
    fn new(out: &Path, layout: DemoLayout) -> Self {
        let [audio, lyrics, midi] = match layout {
            DemoLayout::MirexLike => ["Audio", "Lyrics", "MIDIs"],
            DemoLayout::Table => ["audio", "lyrics", "midi"],
        };
        LayoutPaths {
            audio_dir: out.join(audio),
            lyrics_dir: out.join(lyrics),
            midi_dir: out.join(midi),
        }
    }
}

fn prepare_output(out: &Path) -> Result<(), DemoError> {
    let io = |source| DemoError::Io {
        path: out.to_path_buf(),
        source,
    };
    if out.exists() {
        if fs::read_dir(out).map_err(io)?.next().is_some() {
            return Err(DemoError::OutputNotEmpty {
                path: out.to_path_buf(),
            });
        }
    } else {
        fs::create_dir_all(out).map_err(io)?;
    }
    Ok(())
}

fn write_file(path: &Path, content: &[u8]) -> Result<(), DemoError> {
    fs::write(path, content).map_err(|source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `count` of `n` items, rounded to the nearest whole item.
fn share(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).round() as usize).min(n)
}

/// Classes, labels, sub-categories, ids, missing modalities and metadata, from the dataset
/// stream. Exact counts (not per-song coin flips) keep small test sets on target.
fn plan_dataset(opts: &DemoOptions, classes: &[ClassProfile]) -> Vec<PlannedSong> {
    let mut rng = RandomStream::new(opts.seed, DATASET_PURPOSE);
    let n = opts.songs;
    let k = classes.len();
    // Balanced: the first n % k classes get one song more.
    let true_classes: Vec<usize> = (0..k)
        .flat_map(|c| std::iter::repeat_n(c, n / k + usize::from(c < n % k)))
        .collect();
    let mut label_classes = true_classes.clone();
    for i in rng.subset(n, share(n, opts.label_noise)) {
        let offset = 1 + rng.below(k - 1);
        label_classes[i] = (true_classes[i] + offset) % k;
    }

    // Sub-categories round-robin within each stated label, in shuffled order; then ids are
    // assigned sorted by label and sub-category like the archive (whose sub-categories sort
    // case-insensitively: "whimsical" sits between "Silly" and "Witty").
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut next_sub = vec![0usize; k];
    let mut subcategory = vec![""; n];
    for &i in &order {
        let class = &classes[label_classes[i]];
        subcategory[i] =
            class.subcategories[next_sub[label_classes[i]] % class.subcategories.len()];
        next_sub[label_classes[i]] += 1;
    }
    order.sort_by_key(|&i| (label_classes[i], subcategory[i].to_lowercase()));

    let has_lyrics = membership(n, share(n, opts.lyrics_fraction), &mut rng);
    let has_midi = membership(n, share(n, opts.midi_fraction), &mut rng);
    let lyric_positions: Vec<usize> = (0..n).filter(|&p| has_lyrics[p]).collect();
    let utf16_count = (lyric_positions.len() as f64 * UTF16_LYRICS_FRACTION).ceil() as usize;
    let mut utf16 = vec![false; n];
    for j in rng.subset(lyric_positions.len(), utf16_count) {
        utf16[lyric_positions[j]] = true;
    }

    let width = n.to_string().len().max(3);
    order
        .iter()
        .enumerate()
        .map(|(position, &i)| PlannedSong {
            class: true_classes[i],
            label_class: label_classes[i],
            record: song_record(
                format!("{:0width$}", position + 1),
                &classes[label_classes[i]],
                subcategory[i],
                &mut rng,
            ),
            lyrics: has_lyrics[position].then_some(if utf16[position] {
                TextEncoding::Utf16LeBom
            } else {
                TextEncoding::Utf8
            }),
            midi: has_midi[position],
        })
        .collect()
}

fn membership(n: usize, count: usize, rng: &mut RandomStream) -> Vec<bool> {
    let mut member = vec![false; n];
    for i in rng.subset(n, count) {
        member[i] = true;
    }
    member
}

fn song_record(
    id: String,
    class: &ClassProfile,
    subcategory: &'static str,
    rng: &mut RandomStream,
) -> SongRecord {
    // A few rows of the archive have no track number or year; keep that quirk.
    let known = rng.chance(0.97);
    SongRecord {
        id,
        label: class.label,
        subcategory,
        title: metadata::song_title(rng),
        artist: metadata::artist_name(rng),
        album: metadata::album_name(rng),
        track: known.then(|| rng.between(1, 14) as u32),
        year: known.then(|| rng.between(1962, 2010) as u32),
        last_modified: format!(
            "{:02}-{:02}-{}",
            rng.between(1, 28),
            rng.between(1, 12),
            rng.between(2010, 2011)
        ),
    }
}

/// Bytes of a 16-bit mono WAV of `seconds` (44-byte canonical header).
fn wav_size(seconds: f64) -> u64 {
    44 + 2 * (seconds * f64::from(synth::SAMPLE_RATE)).round() as u64
}

/// Generates and writes one song's files; returns (files, bytes) written.
fn write_song(
    seed: u64,
    index: usize,
    song: &PlannedSong,
    classes: &[ClassProfile],
    seconds: f64,
    paths: &LayoutPaths,
) -> Result<(usize, u64), DemoError> {
    let mut rng = RandomStream::new(seed, &song_purpose(index));
    let class = &classes[song.class];
    let id = &song.record.id;
    // Audio and MIDI render one score, so they share the song's arousal; the lyrics do not.
    let arousal = rng.normal(class.arousal, classes::SONG_AROUSAL_SPREAD);
    let score = score::compose(class, arousal, seconds, &mut rng);

    let wav_path = paths.audio_dir.join(format!("{id}.wav"));
    let samples = synth::render(&score, arousal, seconds, &mut rng);
    let wav = wav_bytes(&samples).map_err(|source| DemoError::Wav {
        path: wav_path.clone(),
        source,
    })?;
    write_file(&wav_path, &wav)?;
    let (mut files, mut bytes) = (1, wav.len() as u64);

    // Lyrics are drawn even when not written, so a song's content does not depend on
    // which modalities happen to be missing.
    let lyric_class = if rng.chance(classes::LYRICS_AT_ODDS) {
        (song.class + 1 + rng.below(classes.len() - 1)) % classes.len()
    } else {
        song.class
    };
    let lines = lyrics::write_lyrics(&classes[lyric_class], &mut rng);
    if let Some(encoding) = song.lyrics {
        let text = lyrics::encode(&lines, encoding);
        write_file(&paths.lyrics_dir.join(format!("{id}.txt")), &text)?;
        files += 1;
        bytes += text.len() as u64;
    }
    if song.midi {
        let smf = midi::to_smf_bytes(&score, &song.record.title);
        write_file(&paths.midi_dir.join(format!("{id}.mid")), &smf)?;
        files += 1;
        bytes += smf.len() as u64;
    }
    Ok((files, bytes))
}

fn wav_bytes(samples: &[i16]) -> Result<Vec<u8>, hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: synth::SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + 2 * samples.len()));
    let mut writer = hound::WavWriter::new(&mut cursor, spec)?;
    let mut sample_writer = writer.get_i16_writer(samples.len() as u32);
    for &s in samples {
        sample_writer.write_sample(s);
    }
    sample_writer.flush()?;
    writer.finalize()?;
    Ok(cursor.into_inner())
}

fn summarize(
    plan: &[PlannedSong],
    classes: &[ClassProfile],
    files: usize,
    bytes: u64,
) -> DemoSummary {
    let count = |f: &dyn Fn(&PlannedSong) -> bool| plan.iter().filter(|s| f(s)).count();
    DemoSummary {
        songs: plan.len(),
        per_class: classes
            .iter()
            .enumerate()
            .map(|(c, class)| ClassCount {
                label: class.label,
                songs: count(&|s| s.class == c),
                labelled: count(&|s| s.label_class == c),
            })
            .collect(),
        relabeled: count(&|s| s.class != s.label_class),
        audio_files: plan.len(),
        lyrics_files: count(&|s| s.lyrics.is_some()),
        utf16_lyrics_files: count(&|s| s.lyrics == Some(TextEncoding::Utf16LeBom)),
        midi_files: count(&|s| s.midi),
        files_written: files,
        bytes_written: bytes,
    }
}

fn readme(
    opts: &DemoOptions,
    plan: &[PlannedSong],
    classes: &[ClassProfile],
    summary: &DemoSummary,
) -> String {
    let mut text = format!(
        "SYNTHETIC DATA generated by `mer demo` (mer {version}). Not real music: every note,\n\
         sound, lyric line, title and artist was generated from the seed below; nothing comes\n\
         from any real dataset. Same options => byte-identical files.\n\n\
         seed = {seed}\nsongs = {songs}\nlayout = {layout:?}\nlabels = {taxonomy:?}\n\
         seconds = {seconds}\nlyrics_fraction = {lyrics}\nmidi_fraction = {midi}\n\
         label_noise = {noise}\n\n\
         Audio: mono 16-bit WAV, {rate} Hz (the real archive has mp3; loaders should accept any\n\
         audio extension). Lyrics: UTF-8 with LF, except {utf16} files in UTF-16 LE with BOM\n\
         and CRLF. Ids are sorted by label, like the real archive: shuffle before splitting.\n\n\
         Files: {audio} audio, {lyrics_files} lyrics, {midi_files} MIDI.\n",
        version = env!("CARGO_PKG_VERSION"),
        seed = opts.seed,
        songs = opts.songs,
        layout = opts.layout,
        taxonomy = opts.taxonomy(),
        seconds = opts.seconds,
        lyrics = opts.lyrics_fraction,
        midi = opts.midi_fraction,
        noise = opts.label_noise,
        rate = synth::SAMPLE_RATE,
        utf16 = summary.utf16_lyrics_files,
        audio = summary.audio_files,
        lyrics_files = summary.lyrics_files,
        midi_files = summary.midi_files,
    );
    text.push_str("\nSongs per class (content / metadata label):\n");
    for c in &summary.per_class {
        text.push_str(&format!("  {}: {} / {}\n", c.label, c.songs, c.labelled));
    }
    text.push_str(&format!(
        "\nDeliberately wrong metadata labels ({}; content follows the true class):\n",
        summary.relabeled
    ));
    for song in plan.iter().filter(|s| s.class != s.label_class) {
        text.push_str(&format!(
            "  {}: labelled {}, generated as {}\n",
            song.record.id, classes[song.label_class].label, classes[song.class].label
        ));
    }
    text
}
