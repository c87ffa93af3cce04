//! Lyrics features: encodings, hashing, term frequency, stylistic counts, lexicon, dev set.

mod util;

use mer::features::lyrics::hashing::ngram_bucket;
use mer::features::lyrics::{Lexicon, LyricsError, extract, extract_text, feature_names};
use mer::spec::HashedBowSettings;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        bytes.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    bytes
}

fn value(section: &HashedBowSettings, values: &[f32], name: &str) -> f32 {
    let names = feature_names(section);
    let i = names.iter().position(|n| n == name).unwrap();
    values[i]
}

#[test]
fn encodings_and_line_endings_give_identical_features() {
    let text = "Don\u{2019}t stop me now\nI'm having such a good time\n\nDon't stop me now!\n";
    let crlf = text.replace('\n', "\r\n");
    let dir = tempfile::tempdir().unwrap();
    let section = HashedBowSettings::default();
    let mut with_bom = vec![0xEF, 0xBB, 0xBF];
    with_bom.extend(text.as_bytes());
    let files = [
        write(dir.path(), "utf8.txt", text.as_bytes()),
        write(dir.path(), "bom.txt", &with_bom),
        write(dir.path(), "crlf.txt", crlf.as_bytes()),
        write(dir.path(), "le.txt", &utf16(text, false)),
        write(dir.path(), "be.txt", &utf16(&crlf, true)),
        // Without a byte-order mark: the NUL high bytes of Latin text give the order away.
        write(dir.path(), "le-no-bom.txt", &utf16(text, false)[2..]),
        write(dir.path(), "be-no-bom.txt", &utf16(&crlf, true)[2..]),
    ];
    let reference = extract(&files[0], &section).unwrap();
    assert_eq!(reference.len(), feature_names(&section).len());
    assert_eq!(value(&section, &reference, "style_lines"), 3.0);
    for file in &files[1..] {
        assert_eq!(
            extract(file, &section).unwrap(),
            reference,
            "{}",
            file.display()
        );
    }
}

#[test]
fn files_over_max_bytes_and_binary_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let section = HashedBowSettings {
        max_bytes: 1000,
        ..HashedBowSettings::default()
    };
    let long = write(dir.path(), "long.txt", "la la la\n".repeat(200).as_bytes());
    let err = extract(&long, &section).unwrap_err();
    assert!(
        matches!(err, LyricsError::TooLarge { bytes: 1800, .. }),
        "{err}"
    );
    // A file that never ends is refused after max_bytes + 1 bytes, not read forever.
    #[cfg(unix)]
    {
        let endless = dir.path().join("endless.txt");
        std::os::unix::fs::symlink("/dev/zero", &endless).unwrap();
        let err = extract(&endless, &section).unwrap_err();
        assert!(
            matches!(err, LyricsError::TooLarge { bytes: 1001, .. }),
            "{err}"
        );
    }
    let binary: Vec<u8> = (0..500u32).map(|i| (1 + i % 8) as u8).collect();
    let binary = write(dir.path(), "binary.txt", &binary);
    let message = extract(&binary, &section).unwrap_err().to_string();
    assert!(
        message.contains("binary.txt") && message.contains("control characters"),
        "{message}"
    );
}

#[test]
fn ngram_buckets_are_pinned() {
    // FNV-1a 64 of the UTF-8 n-gram, modulo 2048: these must never change, or cached
    // features and trained models silently stop meaning what they did.
    let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    assert_eq!(ngram_bucket(&words("love"), 2048), 2033);
    assert_eq!(ngram_bucket(&words("i love"), 2048), 1468);
    let section = HashedBowSettings::default();
    let values = extract_text("I LOVE", &section, None);
    assert_eq!(values[2033], 1.0);
    assert_eq!(values[1468], 1.0);
    let total: f32 = values[..2048].iter().sum();
    assert_eq!(total, 3.0, "unigrams i, love and the bigram");
}

#[test]
fn sublinear_term_frequency() {
    let mut section = HashedBowSettings {
        max_ngram: 1,
        stylistic: false,
        ..HashedBowSettings::default()
    };
    let text = "love love\nlove love";
    let sublinear = extract_text(text, &section, None);
    assert_eq!(sublinear.len(), 2048);
    assert!((sublinear[2033] - (1.0 + 4f32.ln())).abs() < 1e-6);
    section.sublinear_tf = false;
    let raw = extract_text(text, &section, None);
    assert_eq!(raw[2033], 4.0);
    // Bigrams stop at line ends: "love love" occurs twice, not three times.
    section.max_ngram = 2;
    let with_bigrams = extract_text(text, &section, None);
    let bigram = ngram_bucket(&["love".to_string(), "love".to_string()], 2048);
    assert_eq!(with_bigrams[bigram], 2.0);
}

#[test]
fn stylistic_counts_on_a_hand_made_text() {
    let text = "Hello, my friend!\nYou are not alone?\n\nWe sing\n\nHello, my friend!\nYou are not alone?\n";
    let section = HashedBowSettings {
        hash_dims: 16,
        ..HashedBowSettings::default()
    };
    let v = extract_text(text, &section, None);
    let get = |name: &str| value(&section, &v, name);
    let close = |name: &str, expected: f64| {
        assert!(
            (f64::from(get(name)) - expected).abs() < 1e-6,
            "{name} = {}, expected {expected}",
            get(name)
        )
    };
    close("style_lines", 5.0);
    close("style_words", 16.0);
    close("style_unique_word_ratio", 9.0 / 16.0);
    close("style_repeated_line_share", 4.0 / 5.0);
    close("style_repeated_stanza_count", 1.0);
    close("style_repeated_stanza_share", 1.0 / 3.0);
    close("style_chorus_line_share", 4.0 / 5.0);
    close("style_words_per_line", 16.0 / 5.0);
    close("style_punctuation_per_word", 6.0 / 16.0);
    close("style_exclamations_per_line", 2.0 / 5.0);
    close("style_questions_per_line", 2.0 / 5.0);
    close("style_first_person_rate", 3.0 / 16.0);
    close("style_second_person_rate", 2.0 / 16.0);
    close("style_negation_rate", 2.0 / 16.0);
}

#[test]
fn lexicon_mean_std_and_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let lexicon_path = write(
        dir.path(),
        "vad.csv",
        b"Word,Valence,Arousal\nlove,8,6\nHATE,2,7\nsad,2,\n",
    );
    let section = HashedBowSettings {
        hash_dims: 8,
        stylistic: false,
        lexicon: Some(lexicon_path.clone()),
        ..HashedBowSettings::default()
    };
    let names = feature_names(&section);
    assert_eq!(names.len(), 8 + 9);
    let song = write(dir.path(), "song.txt", b"Love, hate,\nsad the");
    let v = extract(&song, &section).unwrap();
    let get = |name: &str| f64::from(value(&section, &v, name));
    assert!((get("lexicon_valence_mean") - 4.0).abs() < 1e-6);
    assert!((get("lexicon_valence_std") - 8f64.sqrt()).abs() < 1e-6);
    assert!((get("lexicon_valence_coverage") - 0.75).abs() < 1e-6);
    assert!((get("lexicon_arousal_mean") - 6.5).abs() < 1e-6);
    assert!((get("lexicon_arousal_std") - 0.5).abs() < 1e-6);
    assert!((get("lexicon_arousal_coverage") - 0.5).abs() < 1e-6);
    for stat in ["mean", "std", "coverage"] {
        assert_eq!(get(&format!("lexicon_dominance_{stat}")), 0.0);
    }
    assert_eq!(Lexicon::load(&lexicon_path).unwrap().len(), 3);
}

#[test]
fn bad_lexicon_and_missing_file_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let lexicon = write(dir.path(), "bad.csv", b"word,valance\nlove,8\n");
    let err = Lexicon::load(&lexicon).unwrap_err().to_string();
    assert!(err.contains("bad.csv") && err.contains("valance"), "{err}");
    let section = HashedBowSettings {
        lexicon: Some(lexicon),
        ..HashedBowSettings::default()
    };
    let song = write(dir.path(), "song.txt", b"love");
    let err = extract(&song, &section).unwrap_err().to_string();
    assert!(err.contains("song.txt") && err.contains("bad.csv"), "{err}");
    let missing = extract(
        &dir.path().join("absent.txt"),
        &HashedBowSettings::default(),
    );
    assert!(missing.unwrap_err().to_string().contains("absent.txt"));
    let not_text = write(dir.path(), "binary.txt", &[0x66, 0xFF, 0xC0, 0x00]);
    let err = extract(&not_text, &HashedBowSettings::default()).unwrap_err();
    assert!(err.to_string().contains("binary.txt"));
}

#[test]
fn empty_text_is_zeros() {
    let section = HashedBowSettings::default();
    let v = extract_text("", &section, None);
    assert_eq!(v.len(), feature_names(&section).len());
    assert!(v.iter().all(|x| *x == 0.0));
}

#[test]
fn dev_set_lyrics_are_finite() {
    let section = HashedBowSettings::default();
    let width = feature_names(&section).len();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(util::mirex_dev().join("Lyrics"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt")))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    let mut words = 0.0;
    for path in &paths {
        let v = extract(path, &section).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.len(), width);
        assert!(v.iter().all(|x| x.is_finite()), "{}", path.display());
        words += value(&section, &v, "style_words");
    }
    eprintln!(
        "dev-set lyrics: {} files, {words} words in all",
        paths.len()
    );
}
