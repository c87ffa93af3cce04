//! Decoding the text files datasets ship with (metadata, lyrics, lexicons): metadata written on Windows (UTF-16 with or
//! without BOM, CRLF) as well as plain UTF-8, so every parser downstream sees one encoding and
//! `\n` only; telling text from binary garbage; and escaping the control characters of
//! dataset strings (labels, ids, file names) before they reach a terminal.

use std::borrow::Cow;
use std::fmt::Write;

use thiserror::Error;

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
const UTF16_LE_BOM: &[u8] = &[0xFF, 0xFE];
const UTF16_BE_BOM: &[u8] = &[0xFE, 0xFF];

/// The hint for bytes that look like UTF-16 without a byte-order mark but cannot be read as it.
const BOMLESS_UTF16_HINT: &str = " (it looks like UTF-16 without a byte-order mark)";

/// Share of control characters above which text is taken for binary garbage: real lyrics have
/// none (the 160 MIREX-like dev lyrics have none), a file of random bytes has about one in
/// eight.
pub const MAX_CONTROL_SHARE: f64 = 0.01;

/// Why a text file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TextError {
    /// No UTF-16 byte-order mark, and the bytes are not valid UTF-8.
    #[error(
        "not valid UTF-8 at byte {offset}{hint}; save the file as UTF-8 or as UTF-16 with a byte-order mark"
    )]
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
        /// Extra words when the bytes look like UTF-16 without a byte-order mark.
        hint: &'static str,
    },
    /// NUL bytes, which text never has, in bytes that are not unambiguously UTF-16.
    #[error(
        "NUL byte at byte {offset}{hint}; save the file as UTF-8 or as UTF-16 with a byte-order mark"
    )]
    NulByte {
        /// Byte offset of the first NUL byte.
        offset: usize,
        /// Extra words when the bytes look like UTF-16 without a byte-order mark.
        hint: &'static str,
    },
    /// A UTF-16 byte-order mark, but an odd number of bytes follow it.
    #[error("UTF-16 ({endian}) with an odd number of bytes ({len}); the file looks truncated")]
    OddUtf16Length {
        /// `"little-endian"` or `"big-endian"`.
        endian: &'static str,
        /// Byte length after the byte-order mark.
        len: usize,
    },
    /// A UTF-16 byte-order mark, but an unpaired surrogate in the text.
    #[error("invalid UTF-16 ({endian}): unpaired surrogate; the file looks corrupt")]
    InvalidUtf16 {
        /// `"little-endian"` or `"big-endian"`.
        endian: &'static str,
    },
    /// Decodes, but too many characters are control characters for it to be text.
    #[error(
        "{count} of {total} characters are control characters (the first, {first}, on line {line}); this is binary data, not text: replace the file with the plain text"
    )]
    ControlCharacters {
        /// Control characters other than tab, line and page breaks.
        count: usize,
        /// Characters in the text.
        total: usize,
        /// The first one, escaped (`\u{1b}`).
        first: String,
        /// Its 1-based line.
        line: usize,
    },
}

/// Byte order of UTF-16 code units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Utf16Order {
    Little,
    Big,
}

impl Utf16Order {
    fn name(self) -> &'static str {
        match self {
            Utf16Order::Little => "little-endian",
            Utf16Order::Big => "big-endian",
        }
    }

    fn unit(self, pair: [u8; 2]) -> u16 {
        match self {
            Utf16Order::Little => u16::from_le_bytes(pair),
            Utf16Order::Big => u16::from_be_bytes(pair),
        }
    }
}

/// Decodes UTF-8 (with or without BOM) or UTF-16 LE/BE (with BOM, or without one when its NUL
/// bytes leave no doubt about the byte order) into a `String` whose line breaks are all `\n`
/// (CRLF and lone CR become `\n`). The BOM is removed. NUL bytes are an error: text has none.
pub fn decode_text(bytes: &[u8]) -> Result<String, TextError> {
    let text = if let Some(rest) = bytes.strip_prefix(UTF16_LE_BOM) {
        decode_utf16(rest, Utf16Order::Little)?
    } else if let Some(rest) = bytes.strip_prefix(UTF16_BE_BOM) {
        decode_utf16(rest, Utf16Order::Big)?
    } else if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        decode_utf8(rest)?
    } else {
        decode_unmarked(bytes)?
    };
    Ok(normalize_newlines(&text))
}

/// Bytes without a byte-order mark: UTF-8, or UTF-16 when [`unmarked_utf16_order`] is sure.
fn decode_unmarked(bytes: &[u8]) -> Result<String, TextError> {
    // UTF-16 text of ASCII characters is half NUL bytes, which are valid UTF-8: without this,
    // every letter would become a word of its own.
    if let Some(order) = unmarked_utf16_order(bytes)
        && let Ok(text) = decode_utf16(bytes, order)
    {
        return Ok(text);
    }
    decode_utf8(bytes)
}

/// The byte order of UTF-16 text without a byte-order mark, when its NUL bytes leave no doubt:
/// an even length, NUL bytes at one parity only (the high bytes of Latin-script characters),
/// and there in at least three code units of four (Latin-script text has nearly all; text in
/// other scripts is left to the error and its hint).
fn unmarked_utf16_order(bytes: &[u8]) -> Option<Utf16Order> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let nul_bytes_at = |parity: usize| {
        bytes
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let units = bytes.len() / 2;
    match (nul_bytes_at(0), nul_bytes_at(1)) {
        (0, odd) if odd * 4 >= units * 3 => Some(Utf16Order::Little),
        (even, 0) if even * 4 >= units * 3 => Some(Utf16Order::Big),
        _ => None,
    }
}

/// Whether bytes look like UTF-16 without a byte-order mark (a quarter or more NUL bytes),
/// for the hint of an error.
fn bomless_utf16_hint(bytes: &[u8]) -> &'static str {
    let looks_utf16 =
        bytes.len() >= 4 && bytes.iter().filter(|b| **b == 0).count() * 4 >= bytes.len();
    if looks_utf16 { BOMLESS_UTF16_HINT } else { "" }
}

fn decode_utf8(bytes: &[u8]) -> Result<String, TextError> {
    let text = std::str::from_utf8(bytes).map_err(|err| TextError::InvalidUtf8 {
        offset: err.valid_up_to(),
        hint: bomless_utf16_hint(bytes),
    })?;
    if let Some(offset) = bytes.iter().position(|b| *b == 0) {
        return Err(TextError::NulByte {
            offset,
            hint: bomless_utf16_hint(bytes),
        });
    }
    Ok(text.to_owned())
}

fn decode_utf16(bytes: &[u8], order: Utf16Order) -> Result<String, TextError> {
    let endian = order.name();
    if !bytes.len().is_multiple_of(2) {
        return Err(TextError::OddUtf16Length {
            endian,
            len: bytes.len(),
        });
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| order.unit([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| TextError::InvalidUtf16 { endian })
}

fn normalize_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// Control characters that plain text may hold: tab, line feed, vertical tab, form feed
/// (page breaks) and carriage return.
fn is_text_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Decoded text that is really binary data: more than [`MAX_CONTROL_SHARE`] of its characters
/// are control characters other than tab, line and page breaks.
pub fn check_control_characters(text: &str) -> Result<(), TextError> {
    let mut total = 0;
    let mut count = 0;
    let mut first = None;
    let mut line = 1;
    for c in text.chars() {
        total += 1;
        if c == '\n' {
            line += 1;
        } else if c.is_control() && !is_text_whitespace(c) {
            count += 1;
            first.get_or_insert((c, line));
        }
    }
    match first {
        Some((c, line)) if count as f64 > MAX_CONTROL_SHARE * total as f64 => {
            Err(TextError::ControlCharacters {
                count,
                total,
                first: c.escape_unicode().to_string(),
                line,
            })
        }
        _ => Ok(()),
    }
}

/// Whether a terminal could act on `c` instead of showing it: control characters (escape
/// sequences start with one, a carriage return overwrites the line) and the bidirectional
/// overrides that reorder what is shown.
fn is_unsafe_to_print(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character a terminal would act on written as a Rust escape (`\u{1b}`,
/// `\n`), so a label, id or file name from a dataset prints as what it is, on one line.
pub fn escape_for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_to_print) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_to_print(c) {
            // `escape_debug` gives `\n`, `\t`, `\r` and `\u{1b}`, as Rust and Python write them.
            let _ = write!(out, "{}", c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le_with_bom(text: &str) -> Vec<u8> {
        let mut bytes = UTF16_LE_BOM.to_vec();
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    #[test]
    fn plain_utf8_passes_through() {
        assert_eq!(decode_text(b"a;b\nc").unwrap(), "a;b\nc");
    }

    #[test]
    fn utf8_bom_is_removed() {
        assert_eq!(
            decode_text(b"\xEF\xBB\xBFid,label\n").unwrap(),
            "id,label\n"
        );
    }

    #[test]
    fn utf16_le_with_bom_and_crlf() {
        let bytes = utf16le_with_bom("Title;Artist;\r\nCaf\u{e9};X;\r\n");
        assert_eq!(
            decode_text(&bytes).unwrap(),
            "Title;Artist;\nCaf\u{e9};X;\n"
        );
    }

    #[test]
    fn utf16_be_with_bom() {
        let mut bytes = UTF16_BE_BOM.to_vec();
        bytes.extend("h\u{e9}\r\n".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode_text(&bytes).unwrap(), "h\u{e9}\n");
    }

    #[test]
    fn lone_cr_and_crlf_become_lf() {
        assert_eq!(decode_text(b"a\r\nb\rc\n\r\n").unwrap(), "a\nb\nc\n\n");
    }

    #[test]
    fn odd_utf16_length_is_an_error() {
        let err = decode_text(&[0xFF, 0xFE, b'a', 0, b'b']).unwrap_err();
        assert!(matches!(err, TextError::OddUtf16Length { len: 3, .. }));
    }

    #[test]
    fn unpaired_surrogate_is_an_error() {
        let err = decode_text(&[0xFF, 0xFE, 0x00, 0xD8]).unwrap_err();
        assert!(matches!(err, TextError::InvalidUtf16 { .. }));
    }

    #[test]
    fn invalid_utf8_names_offset_and_guesses_bomless_utf16() {
        let err = decode_text(b"ab\xFFcd").unwrap_err();
        assert_eq!(
            err,
            TextError::InvalidUtf8 {
                offset: 2,
                hint: ""
            }
        );
        let bomless: Vec<u8> = "Title;\u{e9}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .chain([0xFF])
            .collect();
        let message = decode_text(&bomless).unwrap_err().to_string();
        assert!(
            message.contains("UTF-16 without a byte-order mark"),
            "{message}"
        );
    }

    fn utf16_without_bom(text: &str, to_bytes: fn(u16) -> [u8; 2]) -> Vec<u8> {
        text.encode_utf16().flat_map(to_bytes).collect()
    }

    #[test]
    fn utf16_without_bom_is_decoded_when_unambiguous() {
        let text = "Walking on\r\nthe moon \u{e9}t\u{e9}\n";
        for to_bytes in [u16::to_le_bytes, u16::to_be_bytes] {
            let bytes = utf16_without_bom(text, to_bytes);
            assert_eq!(
                decode_text(&bytes).unwrap(),
                "Walking on\nthe moon \u{e9}t\u{e9}\n"
            );
        }
    }

    #[test]
    fn ambiguous_utf16_without_bom_is_an_error_with_the_hint() {
        // Cut in the middle of a code unit: no byte order can be trusted.
        let mut cut = utf16_without_bom("la la la", u16::to_le_bytes);
        cut.pop();
        // NUL bytes at both parities: neither order fits.
        let mixed = b"a\0b\0\0c\0d".to_vec();
        for bytes in [cut, mixed] {
            let err = decode_text(&bytes).unwrap_err();
            assert!(matches!(err, TextError::NulByte { .. }), "{err}");
            assert!(
                err.to_string().contains("UTF-16 without a byte-order mark"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_few_binary_bytes_are_not_taken_for_utf16() {
        // One NUL in two code units would decode, as U+FF66 U+00C0, but proves nothing.
        let err = decode_text(&[0x66, 0xFF, 0xC0, 0x00]).unwrap_err();
        assert!(
            matches!(err, TextError::InvalidUtf8 { offset: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn nul_bytes_in_utf8_are_an_error_naming_the_offset() {
        let err = decode_text(b"first line\nsecond\0line").unwrap_err();
        assert_eq!(
            err,
            TextError::NulByte {
                offset: 17,
                hint: ""
            }
        );
    }

    #[test]
    fn control_character_garbage_is_not_text() {
        let garbage: String = (0..400u32)
            .map(|i| char::from_u32(1 + i % 31).unwrap())
            .collect();
        let err = check_control_characters(&garbage).unwrap_err();
        assert!(
            matches!(err, TextError::ControlCharacters { line: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("\\u{1}"), "{err}");
    }

    #[test]
    fn text_with_breaks_tabs_and_one_stray_control_is_text() {
        let lyrics = format!("{}\x0c\tchorus\r\n\x1a", "la la la\n".repeat(20));
        check_control_characters(&lyrics).unwrap();
    }

    #[test]
    fn escape_for_terminal_writes_controls_as_escapes() {
        assert!(matches!(escape_for_terminal("calm"), Cow::Borrowed("calm")));
        assert_eq!(
            escape_for_terminal("\x1b[31mred\x1b[0m\r\nx\u{202e}y"),
            "\\u{1b}[31mred\\u{1b}[0m\\r\\nx\\u{202e}y"
        );
        assert_eq!(escape_for_terminal("caf\u{e9}"), "caf\u{e9}");
    }
}
