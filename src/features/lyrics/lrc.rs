//! LRC files (time-tagged lyrics, PMEmo's `lyrics/{id}.lrc`): the sung text alone. Time tags
//! (`[01:02.34]`, several on a line) are stripped, ID tags (`[ar:...]`, `[ti:...]`,
//! `[offset:...]`) and Chinese credit lines (作词 / 作曲, "words by" / "music by") dropped, as
//! PMEmo's own analysis does.

/// Whether `path` names an LRC file (extension `lrc`, any case).
pub fn is_lrc(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("lrc"))
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
        assert!(is_lrc(std::path::Path::new("lyrics/108.LRC")));
        assert!(!is_lrc(std::path::Path::new("lyrics/108.txt")));
    }
}
