//! UTC timestamps (RFC 3339 and a compact file-name form).

use std::time::{SystemTime, UNIX_EPOCH};

use jiff::Timestamp;

/// `2026-11-03T10:15:00.123Z` (milliseconds, truncated; before 1970 clamps to the epoch).
pub fn rfc3339(t: SystemTime) -> String {
    timestamp(t).strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `20261103T101500Z`: sortable and safe in file names.
pub fn compact(t: SystemTime) -> String {
    timestamp(t).strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// The instant an [`rfc3339`] string names; `None` when it is not one.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let t = text.parse::<Timestamp>().ok()?;
    let nanos = u64::try_from(t.as_nanosecond()).ok()?;
    Some(UNIX_EPOCH + std::time::Duration::from_nanos(nanos))
}

/// `t` as a jiff timestamp, clamped to 1970 and to jiff's last instant (in year 9999).
fn timestamp(t: SystemTime) -> Timestamp {
    Timestamp::try_from(t.max(UNIX_EPOCH)).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789); // leap day 2024
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        assert_eq!(compact(t), "20240229T123456Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
