//! Decoding the text files datasets ship with: metadata written on Windows (UTF-16 with BOM,
//! CRLF) as well as plain UTF-8, so every parser downstream sees one encoding and `\n` only.

use thiserror::Error;

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
const UTF16_LE_BOM: &[u8] = &[0xFF, 0xFE];
const UTF16_BE_BOM: &[u8] = &[0xFE, 0xFF];

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
}

/// Decodes UTF-8 (with or without BOM) or UTF-16 LE/BE (with BOM) into a `String` whose line
/// breaks are all `\n` (CRLF and lone CR become `\n`). The BOM is removed.
pub fn decode_text(bytes: &[u8]) -> Result<String, TextError> {
    let text = if let Some(rest) = bytes.strip_prefix(UTF16_LE_BOM) {
        decode_utf16(rest, "little-endian", u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(UTF16_BE_BOM) {
        decode_utf16(rest, "big-endian", u16::from_be_bytes)?
    } else {
        let rest = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        decode_utf8(rest)?
    };
    Ok(normalize_newlines(&text))
}

fn decode_utf8(bytes: &[u8]) -> Result<String, TextError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(err) => {
            // UTF-16 text of ASCII characters is half NUL bytes; saying so saves a hex dump.
            let looks_utf16 =
                bytes.len() >= 4 && bytes.iter().filter(|b| **b == 0).count() * 4 >= bytes.len();
            Err(TextError::InvalidUtf8 {
                offset: err.valid_up_to(),
                hint: if looks_utf16 {
                    " (it looks like UTF-16 without a byte-order mark)"
                } else {
                    ""
                },
            })
        }
    }
}

fn decode_utf16(
    bytes: &[u8],
    endian: &'static str,
    to_unit: fn([u8; 2]) -> u16,
) -> Result<String, TextError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(TextError::OddUtf16Length {
            endian,
            len: bytes.len(),
        });
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| to_unit([pair[0], pair[1]]))
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
}
