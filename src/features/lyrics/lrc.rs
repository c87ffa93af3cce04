//! LRC text (time-tagged lyrics, PMEmo's `lyrics/{id}.lrc`): the sung text alone. Time tags
//! (`[01:02.34]`, several on a line) are stripped, ID tags (`[ar:...]`, `[ti:...]`,
//! `[offset:...]`) and Chinese credit lines (作词 / 作曲, "words by" / "music by") dropped, as
//! PMEmo's own analysis does. LRC is recognized by its content, not its file name, because the
//! cache keys a song's features by the file's content alone.

/// Whether `text` is LRC: at least half of its non-empty lines start with a time tag.
pub fn is_lrc(text: &str) -> bool {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let timed = (lines.iter())
        .filter(|line| {
            let tag = line.strip_prefix('[').and_then(|r| r.split_once(']'));
            tag.is_some_and(|(inside, _)| is_time(inside))
        })
        .count();
    !lines.is_empty() && 2 * timed >= lines.len()
}

/// The lyrics of an LRC file's text, one sung line per line.
pub fn sung_text(text: &str) -> String {
    let mut sung = Vec::new();
    for line in text.lines() {
        let mut rest = line.trim();
        let mut tagged = false;
        while let Some(tag) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            let (inside, after) = tag;
            if !is_time(inside) {
                // An ID tag: the whole line is metadata.
                rest = "";
                break;
            }
            (rest, tagged) = (after.trim_start(), true);
        }
        let credit = rest.contains('作');
        if !rest.is_empty() && !credit && (tagged || !line.trim_start().starts_with('[')) {
            sung.push(rest.trim_end());
        }
    }
    sung.join("\n")
}

/// `mm:ss`, `mm:ss.xx` or `mm:ss:xx`.
fn is_time(tag: &str) -> bool {
    let mut parts = tag.splitn(2, ':');
    let minutes = parts.next().unwrap_or_default();
    let seconds = parts.next().unwrap_or_default();
    !minutes.is_empty()
        && minutes.bytes().all(|b| b.is_ascii_digit())
        && !seconds.is_empty()
        && seconds
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_tags_id_tags_and_credits_are_removed() {
        let lrc = "[ar:Some Artist]\r\n[ti:Some Title]\r\n[offset:500]\r\n[00:00.00] 作词 : 某人\r\n\
                   [00:01.00]作曲：某人\r\n[00:12.34]First line\r\n[00:15.00][01:20.50]Chorus line  \r\n\
                   [00:20.00]\r\nplain line\r\n";
        assert_eq!(sung_text(lrc), "First line\nChorus line\nplain line");
        assert!(is_lrc(lrc));
        assert!(!is_lrc("First line\n[Chorus]\nSecond line\n"));
        assert!(!is_lrc(""));
    }
}
