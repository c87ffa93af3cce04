//! Line and column of a key in a TOML text, so spec errors point into the file.

use toml::de::{DeTable, DeValue};

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Where `path` (e.g. `["schedule", "epochs"]`) is written in `text`: the position of its
/// deepest key that exists. `None` when the text does not parse or names no part of the path.
pub(crate) fn key_position(text: &str, path: &[String]) -> Option<(usize, usize)> {
    let root = DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let mut found = None;
    let mut segments = path.iter().peekable();
    while let Some(segment) = segments.next() {
        let (key, value) = table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == segment.as_str())?;
        found = Some(key.span().start);
        let mut value = value.get_ref();
        // Arrays of tables (`[[sweep.variant]]`) are addressed by index in the path.
        if let DeValue::Array(items) = value {
            match segments.peek().and_then(|s| s.parse::<usize>().ok()) {
                Some(index) => {
                    segments.next();
                    let Some(item) = items.get(index) else { break };
                    found = Some(item.span().start);
                    value = item.get_ref();
                }
                None => break,
            }
        }
        match value {
            DeValue::Table(inner) => table = inner,
            _ => break,
        }
    }
    found.map(|offset| line_col(text, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn finds_nested_keys_and_array_items() {
        let text = "name = \"x\"\n\n[schedule]\nlr = 0.1\n  epochs = 3\n\n[[sweep.variant]]\nname = \"a\"\n";
        assert_eq!(key_position(text, &path("schedule.epochs")), Some((5, 3)));
        assert_eq!(key_position(text, &path("name")), Some((1, 1)));
        assert_eq!(
            key_position(text, &path("sweep.variant.0.name")),
            Some((8, 1))
        );
        assert_eq!(key_position(text, &path("model.width")), None);
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\nçd", 5), (2, 2));
    }
}
