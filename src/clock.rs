//! UTC timestamps (RFC 3339 and a compact file-name form) without a date-time crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// `2026-11-03T10:15:00.123Z` (milliseconds; before 1970 clamps to the epoch).
pub fn rfc3339(t: SystemTime) -> String {
    let (days, secs, millis) = split(t);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `20261103T101500Z`: sortable and safe in file names.
pub fn compact(t: SystemTime) -> String {
    let (days, secs, _) = split(t);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn split(t: SystemTime) -> (i64, u64, u32) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let total = since.as_secs();
    (
        (total / 86_400) as i64,
        total % 86_400,
        since.subsec_millis(),
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789); // leap day 2024
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
        assert_eq!(compact(t), "20240229T123456Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
