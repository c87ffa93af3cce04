//! Plain-text tables for the terminal: every column padded to its widest cell, the first
//! columns (names) left-aligned and the rest (numbers) right-aligned, rows indented by two
//! spaces, trailing blanks trimmed.

use std::fmt;

/// A table being built row by row; `Display` lays it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextTable {
    headings: Vec<String>,
    rows: Vec<Vec<String>>,
    left: usize,
}

impl TextTable {
    /// A table with these column headings; the first column is left-aligned.
    pub fn new<S: Into<String>>(headings: impl IntoIterator<Item = S>) -> Self {
        TextTable {
            headings: headings.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            left: 1,
        }
    }

    /// Left-aligns the first `columns` columns (names), right-aligns the others.
    pub fn left_aligned(mut self, columns: usize) -> Self {
        self.left = columns;
        self
    }

    /// Appends a row; missing cells print empty, extra cells are kept.
    pub fn push(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn widths(&self) -> Vec<usize> {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .fold(self.headings.len(), usize::max);
        let mut widths = vec![0; columns];
        for row in std::iter::once(&self.headings).chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        widths
    }

    fn write_row(
        &self,
        f: &mut fmt::Formatter<'_>,
        cells: &[String],
        widths: &[usize],
    ) -> fmt::Result {
        let mut line = String::from(" ");
        for (i, &width) in widths.iter().enumerate() {
            let cell = cells.get(i).map_or("", String::as_str);
            line.push_str(if i == 0 { " " } else { "  " });
            // `{:<w$}` pads by chars, so names with non-ASCII letters line up too.
            if i < self.left {
                line.push_str(&format!("{cell:<width$}"));
            } else {
                line.push_str(&format!("{cell:>width$}"));
            }
        }
        writeln!(f, "{}", line.trim_end())
    }
}

impl fmt::Display for TextTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let widths = self.widths();
        self.write_row(f, &self.headings, &widths)?;
        for row in &self.rows {
            self.write_row(f, row, &widths)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_align_left_numbers_right() {
        let mut table = TextTable::new(["run", "set", "f1"]).left_aligned(2);
        table.push(vec!["audio".into(), "x".into(), "0.5".into()]);
        table.push(vec!["all".into(), "longer".into(), "0.25".into()]);
        assert_eq!(
            table.to_string(),
            "  run    set       f1\n  audio  x        0.5\n  all    longer  0.25\n"
        );
    }
}
