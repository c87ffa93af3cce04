//! Metadata files of both layouts, byte-for-byte in the archive's formats.
//!
//! The MIREX-like archive's files, as checked on the dev copy:
//! - `clusters.txt`, `categories.txt`: one label per line, line i = song i, LF endings.
//! - `dataset info.csv`: UTF-16 LE with BOM, CRLF, `;` separator, a trailing `;` on every
//!   line, no quoting, header `Title;Artist;Album;Track;Year;Length;Size;Last Modified;Filename;`;
//!   Size like `352,00 KB` (decimal comma), Last Modified as `dd-mm-yyyy`; a few rows leave
//!   Track and Year empty.
//! - `split-by-categories-{audio,lyrics,midi}.bat`: LF endings, one `mkdir "Cluster k\Sub\"`
//!   per sub-category in the archive's folder order, then `move NNN.ext "Cluster k\Sub\NNN.ext"`
//!   for every song, whether or not that modality's file exists.

use super::classes::ClassProfile;
use super::lyrics::utf16le_with_bom;
use crate::rng::RandomStream;

/// What the metadata files say about one song (the label may be a noisy one).
#[derive(Debug, Clone, PartialEq)]
pub struct SongRecord {
    /// Zero-padded id, e.g. `007`.
    pub id: String,
    /// Label as the metadata states it.
    pub label: &'static str,
    /// Sub-category adjective under `label`.
    pub subcategory: &'static str,
    /// Generated song title.
    pub title: String,
    /// Generated artist name.
    pub artist: String,
    /// Generated album name.
    pub album: String,
    /// Track number on the album, if known.
    pub track: Option<u32>,
    /// Release year, if known.
    pub year: Option<u32>,
    /// File date as `dd-mm-yyyy`.
    pub last_modified: String,
}

#[cfg(test)]
impl SongRecord {
    /// A record of `label` with every other field empty, for tests of the layouts' writers.
    pub(crate) fn blank(label: &'static str) -> SongRecord {
        SongRecord {
            id: String::new(),
            label,
            subcategory: "",
            title: String::new(),
            artist: String::new(),
            album: String::new(),
            track: None,
            year: None,
            last_modified: String::new(),
        }
    }
}

const TITLE_ADJECTIVES: &[&str] = &[
    "Velvet", "Paper", "Silver", "Crooked", "Neon", "Hidden", "Electric", "Quiet", "Broken",
    "Golden", "Restless", "Hollow", "Crimson", "Tangled", "Midnight", "Lucky", "Wooden", "Frozen",
];
const TITLE_NOUNS: &[&str] = &[
    "Harbor",
    "Engine",
    "Garden",
    "Signal",
    "Ladder",
    "Lantern",
    "Highway",
    "Mirror",
    "Circus",
    "Compass",
    "Parade",
    "Window",
    "Orchard",
    "Satellite",
    "Canyon",
    "Ribbon",
    "Tide",
    "Balcony",
];
const FIRST_NAMES: &[&str] = &[
    "Avery", "Jonah", "Mira", "Theo", "Lena", "Rufus", "Ines", "Cal", "Dara", "Otis", "Priya",
    "Wes", "Nell", "Tobias", "Yara", "Emmett",
];
const LAST_NAMES: &[&str] = &[
    "Harlow",
    "Quill",
    "Marsh",
    "Okafor",
    "Lindqvist",
    "Brandt",
    "Vale",
    "Moreau",
    "Castell",
    "Pike",
    "Whitlock",
    "Adeyemi",
    "Sorensen",
    "Delacroix",
    "Fenn",
    "Rowe",
];

fn title_words(rng: &mut RandomStream) -> String {
    format!("{} {}", rng.pick(TITLE_ADJECTIVES), rng.pick(TITLE_NOUNS))
}

/// A made-up title.
pub fn song_title(rng: &mut RandomStream) -> String {
    match rng.below(4) {
        0 => format!("The {}", title_words(rng)),
        1 => format!("{} ({})", title_words(rng), rng.pick(TITLE_NOUNS)),
        _ => title_words(rng),
    }
}

/// A made-up artist: a person, a duo or a band.
pub fn artist_name(rng: &mut RandomStream) -> String {
    match rng.below(3) {
        0 => format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)),
        1 => format!("{} & {}", rng.pick(FIRST_NAMES), rng.pick(FIRST_NAMES)),
        _ => format!(
            "The {} {}s",
            rng.pick(TITLE_ADJECTIVES),
            rng.pick(TITLE_NOUNS)
        ),
    }
}

/// A made-up album name.
pub fn album_name(rng: &mut RandomStream) -> String {
    match rng.below(3) {
        0 => format!("{} [Demo]", title_words(rng)),
        1 => format!("Songs from the {}", rng.pick(TITLE_NOUNS)),
        _ => title_words(rng),
    }
}

/// Line i is song i's label.
pub fn clusters_txt(songs: &[SongRecord]) -> String {
    songs.iter().map(|s| format!("{}\n", s.label)).collect()
}

/// Line i is song i's sub-category.
pub fn categories_txt(songs: &[SongRecord]) -> String {
    songs
        .iter()
        .map(|s| format!("{}\n", s.subcategory))
        .collect()
}

/// The archive's `Size` column: kibibytes with two decimals and a decimal comma.
fn size_kb(bytes: u64) -> String {
    format!("{:.2} KB", bytes as f64 / 1024.0).replace('.', ",")
}

/// `dataset info.csv`: one row per song; `audio_bytes` and `seconds` describe the audio file.
pub fn dataset_info_csv(
    songs: &[SongRecord],
    audio_ext: &str,
    audio_bytes: u64,
    seconds: f64,
) -> Vec<u8> {
    let mut text =
        String::from("Title;Artist;Album;Track;Year;Length;Size;Last Modified;Filename;\r\n");
    let optional = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    for s in songs {
        text.push_str(&format!(
            "{};{};{};{};{};{};{};{};{}.{};\r\n",
            s.title,
            s.artist,
            s.album,
            optional(s.track),
            optional(s.year),
            seconds.round() as u32,
            size_kb(audio_bytes),
            s.last_modified,
            s.id,
            audio_ext,
        ));
    }
    utf16le_with_bom(&text)
}

/// One `split-by-categories-*.bat` file for files with extension `ext`.
pub fn split_bat(classes: &[ClassProfile], songs: &[SongRecord], ext: &str) -> String {
    let mut text = String::new();
    for class in classes {
        for sub in class.subcategories {
            text.push_str(&format!("mkdir \"{}\\{}\\\"\n", class.label, sub));
        }
    }
    for s in songs {
        text.push_str(&format!(
            "move {id}.{ext} \"{}\\{}\\{id}.{ext}\"\n",
            s.label,
            s.subcategory,
            id = s.id,
        ));
    }
    text
}

/// The scale of [`Annotation`]'s ratings: 1 to 9, as DEAM's static annotations.
pub const RATING_SCALE: (f64, f64) = (1.0, 9.0);

/// Separates the tags in the `tags` column.
pub const TAG_SEPARATOR: &str = ";";

/// What annotators said of a song besides its class (table layout only; the MIREX-like
/// archive has no such file): valence and arousal ratings on [`RATING_SCALE`], and mood tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Valence rating, 1 (unpleasant) to 9 (pleasant).
    pub valence: f64,
    /// Arousal rating, 1 (calm) to 9 (excited).
    pub arousal: f64,
    /// Mood tags, e.g. `cheerful`, `energetic`.
    pub tags: Vec<&'static str>,
}

/// `labels.csv` of the table layout:
/// `id,label,subcategory,title,artist,valence,arousal,tags`, RFC 4180 quoting, tags joined by
/// [`TAG_SEPARATOR`]; `annotations[i]` belongs to `songs[i]`.
pub fn labels_csv(songs: &[SongRecord], annotations: &[Annotation]) -> Vec<u8> {
    let header = [
        "id",
        "label",
        "subcategory",
        "title",
        "artist",
        "valence",
        "arousal",
        "tags",
    ];
    let rows = songs.iter().zip(annotations).map(|(s, a)| {
        vec![
            s.id.clone(),
            s.label.to_string(),
            s.subcategory.to_string(),
            s.title.clone(),
            s.artist.clone(),
            format!("{:.2}", a.valence),
            format!("{:.2}", a.arousal),
            a.tags.join(TAG_SEPARATOR),
        ]
    });
    csv_bytes(&header, rows, csv::QuoteStyle::Necessary)
}

/// A CSV file of `header` and `rows` (of any lengths, as ragged real files have), quoted as
/// `quoting` says.
pub(super) fn csv_bytes(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
    quoting: csv::QuoteStyle,
) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .quote_style(quoting)
        .from_writer(Vec::new());
    let header = header.iter().map(|h| h.to_string()).collect::<Vec<_>>();
    for row in std::iter::once(header).chain(rows) {
        (writer.write_record(&row)).expect("writing CSV into memory cannot fail");
    }
    writer
        .into_inner()
        .expect("flushing CSV into memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::classes::Taxonomy;

    fn record(id: &str, label: &'static str, sub: &'static str) -> SongRecord {
        SongRecord {
            id: id.into(),
            label,
            subcategory: sub,
            title: "Paper Tide".into(),
            artist: "Mira Vale".into(),
            album: "Songs from the Harbor".into(),
            track: None,
            year: Some(1999),
            last_modified: "01-02-2010".into(),
        }
    }

    #[test]
    fn bat_lists_folders_then_moves() {
        let classes = Taxonomy::MirexClusters.classes();
        let songs = [record("001", "Cluster 1", "Boisterous")];
        let bat = split_bat(classes, &songs, "mid");
        let lines: Vec<&str> = bat.lines().collect();
        assert_eq!(lines[0], r#"mkdir "Cluster 1\Boisterous\""#);
        assert_eq!(lines.len(), 28 + 1);
        assert_eq!(lines[28], r#"move 001.mid "Cluster 1\Boisterous\001.mid""#);
        assert!(bat.ends_with('\n') && !bat.contains('\r'));
    }

    #[test]
    fn dataset_info_is_utf16_semicolon_crlf_with_trailing_separator() {
        let songs = [record("001", "Cluster 1", "Rowdy")];
        let bytes = dataset_info_csv(&songs, "wav", 529_244, 12.0);
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let text = String::from_utf16(&units).unwrap();
        assert_eq!(
            text,
            "Title;Artist;Album;Track;Year;Length;Size;Last Modified;Filename;\r\n\
             Paper Tide;Mira Vale;Songs from the Harbor;;1999;12;516,84 KB;01-02-2010;001.wav;\r\n"
        );
    }

    #[test]
    fn labels_csv_quotes_fields_with_commas() {
        let mut song = record("002", "Q1", "Happy");
        song.title = "Oh, Tide".into();
        let annotation = Annotation {
            valence: 7.125,
            arousal: 3.0,
            tags: vec!["cheerful", "calm"],
        };
        let text = String::from_utf8(labels_csv(&[song], &[annotation])).unwrap();
        assert_eq!(
            text,
            "id,label,subcategory,title,artist,valence,arousal,tags\n\
             002,Q1,Happy,\"Oh, Tide\",Mira Vale,7.12,3.00,cheerful;calm\n"
        );
    }
}
