//! Recovery for MIDI files whose channel messages carry data bytes above 127.
//!
//! midly's default (non-strict) parser does not fail on such a byte: it stops reading the track
//! there and silently drops the rest of it, so a single stray byte can lose most of a song. This
//! pass walks the chunk and event structure itself, without interpreting anything, and clears
//! the top bit of every data byte of a channel message (`0x80..=0xEF`), which is what the
//! writer of the file evidently meant (the message length is fixed by its status, so the
//! events after it stay aligned). Well-formed files come back unchanged.

/// The bytes to parse and how many data bytes had to be masked.
pub(crate) struct RepairedBytes {
    /// The file with every stray data byte masked to 7 bits.
    pub(crate) bytes: Vec<u8>,
    /// How many data bytes were above 127.
    pub(crate) masked: usize,
}

/// Masks data bytes above 127 in every `MTrk` chunk. Never fails: where the structure is too
/// broken to follow (a truncated chunk, a missing status), the rest of that chunk is left as
/// it is for midly to make of it what it can.
pub(crate) fn mask_stray_data_bytes(raw: &[u8]) -> RepairedBytes {
    let mut bytes = raw.to_vec();
    let mut masked = 0;
    let mut pos = 0;
    while pos + 8 <= bytes.len() {
        let id = [bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]];
        let len = u32::from_be_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let start = pos + 8;
        // A chunk claiming more bytes than the file has: midly uses the remainder; so do we.
        let end = start.saturating_add(len).min(bytes.len());
        if &id == b"MTrk" {
            masked += mask_track(&mut bytes[start..end]);
        }
        pos = end;
    }
    RepairedBytes { bytes, masked }
}

/// Walks one track's events, masking channel-message data bytes; returns how many it masked.
fn mask_track(track: &mut [u8]) -> usize {
    let mut masked = 0;
    let mut pos = 0;
    let mut running_status: Option<u8> = None;
    while pos < track.len() {
        let Some(after_delta) = skip_varlen(track, pos) else {
            break;
        };
        pos = after_delta;
        let Some(&first) = track.get(pos) else {
            break;
        };
        let status = if first >= 0x80 {
            pos += 1;
            first
        } else {
            match running_status {
                Some(status) => status,
                None => break,
            }
        };
        match status {
            0x80..=0xEF => {
                running_status = Some(status);
                let data_len = if matches!(status & 0xF0, 0xC0 | 0xD0) {
                    1
                } else {
                    2
                };
                for byte in track.iter_mut().skip(pos).take(data_len) {
                    if *byte > 0x7F {
                        *byte &= 0x7F;
                        masked += 1;
                    }
                }
                pos += data_len;
            }
            0xF0 | 0xF7 => {
                running_status = None;
                let Some(next) = skip_sized_payload(track, pos) else {
                    break;
                };
                pos = next;
            }
            0xFF => {
                running_status = None;
                let Some(next) = skip_sized_payload(track, pos + 1) else {
                    break;
                };
                pos = next;
            }
            // System common / real-time bytes do not belong in a file: stop following it.
            _ => break,
        }
    }
    masked
}

/// The position after a variable-length quantity starting at `pos` (at most 4 bytes).
fn skip_varlen(bytes: &[u8], pos: usize) -> Option<usize> {
    read_varlen(bytes, pos).map(|(_, next)| next)
}

/// Reads a variable-length quantity: its value and the position after it.
fn read_varlen(bytes: &[u8], pos: usize) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for i in 0..4 {
        let byte = *bytes.get(pos + i)?;
        value = (value << 7) | usize::from(byte & 0x7F);
        if byte < 0x80 {
            return Some((value, pos + i + 1));
        }
    }
    Some((value, pos + 4))
}

/// Skips a length-prefixed payload (sysex, meta) starting with its length at `pos`.
fn skip_sized_payload(bytes: &[u8], pos: usize) -> Option<usize> {
    let (len, start) = read_varlen(bytes, pos)?;
    Some(start.saturating_add(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with_track(track: &[u8]) -> Vec<u8> {
        let mut bytes = b"MThd\0\0\0\x06\0\0\0\x01\x01\xE0MTrk".to_vec();
        bytes.extend_from_slice(&(track.len() as u32).to_be_bytes());
        bytes.extend_from_slice(track);
        bytes
    }

    #[test]
    fn masks_only_channel_data_bytes() {
        // Note on with velocity 0xE4, then running status, then a meta event whose payload
        // legitimately holds bytes above 127.
        let track = [
            0x00, 0x90, 0x3C, 0xE4, 0x60, 0x3E, 0x50, 0x00, 0xFF, 0x01, 0x02, 0xC3, 0xA9, 0x00,
            0xFF, 0x2F, 0x00,
        ];
        let repaired = mask_stray_data_bytes(&file_with_track(&track));
        assert_eq!(repaired.masked, 1);
        let body = &repaired.bytes[22..];
        assert_eq!(&body[..4], &[0x00, 0x90, 0x3C, 0x64]);
        assert_eq!(&body[11..13], &[0xC3, 0xA9]);
    }

    #[test]
    fn truncated_input_does_not_panic() {
        for cut in 0..30 {
            let track = [0x00, 0x90, 0x3C, 0xE4, 0x81, 0x80];
            let bytes = file_with_track(&track);
            let _ = mask_stray_data_bytes(&bytes[..cut.min(bytes.len())]);
        }
    }
}
