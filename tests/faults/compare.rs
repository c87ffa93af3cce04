//! Corrupt report files given to `mer compare`: NaN, infinite and out-of-range cells in
//! `metrics.csv`, `predictions.csv`, `per_class.csv` and `history.csv` of a real report folder.
//! Every number compare uses must be refused naming the file, line and column, never turned
//! into a confident statistic (a NaN as a Holm-adjusted 0, `songs = -5` shown as 0).

use std::path::{Path, PathBuf};

use mer::results::Metric;

use crate::project::{Outcome, Project};

/// The values injected into a cell: what a crash, a diverged run or a hand edit leaves.
const BAD_VALUES: [&str; 4] = ["NaN", "inf", "-5", "1.7"];

/// A finished fast run and a pristine copy of its report folder to corrupt copies of.
struct Base {
    project: Project,
    report: PathBuf,
}

impl Base {
    fn new() -> Base {
        let project = Project::new();
        let run = project.run(&["run", "exp.toml"]);
        assert!(run.ok(), "the fast run failed: {}", run.stderr);
        let report = project
            .report_folders("exp")
            .pop()
            .expect("a report folder");
        Base { project, report }
    }

    /// A copy of the report named `name`, with `file`'s cell (`row`, `column`) set to `value`;
    /// `row` picks the first row whose cells match every (column, value) pair.
    fn corrupted(
        &self,
        name: &str,
        file: &str,
        row: &[(&str, &str)],
        column: &str,
        value: &str,
    ) -> (PathBuf, u64) {
        let copy = self.project.path(&format!("corrupt/{name}"));
        copy_folder(&self.report, &copy);
        let line = set_cell(&copy.join(file), row, column, value);
        (copy, line)
    }

    /// `mer compare` of the pristine report against `other`.
    fn compare(&self, other: &Path) -> Outcome {
        let out = self.project.path("comparison");
        let (base, other, out) = (
            self.report.to_string_lossy(),
            other.to_string_lossy(),
            out.to_string_lossy(),
        );
        self.project
            .run(&["compare", &base, &other, "--resamples", "50", "--out", &out])
    }
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Sets one cell of a CSV file and returns its 1-based line.
fn set_cell(path: &Path, row: &[(&str, &str)], column: &str, value: &str) -> u64 {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let index = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", path.display()))
    };
    let mut records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let target = records
        .iter()
        .position(|r| row.iter().all(|(c, v)| &r[index(c)] == *v))
        .unwrap_or_else(|| panic!("{}: no row {row:?}", path.display()));
    let mut cells: Vec<String> = records[target].iter().map(String::from).collect();
    cells[index(column)] = value.to_string();
    records[target] = csv::StringRecord::from(cells);
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(&header).unwrap();
    for record in &records {
        writer.write_record(record).unwrap();
    }
    writer.flush().unwrap();
    target as u64 + 2
}

/// Whether `outcome` refused the comparison naming `file`, `line` and `column`, without a
/// panic; the reason otherwise.
fn refused_naming(outcome: &Outcome, file: &str, line: u64, column: &str) -> Result<(), String> {
    let stderr = &outcome.stderr;
    let named = stderr.contains(file)
        && stderr.contains(&format!("line {line}"))
        && stderr.contains(&format!("column `{column}`"));
    if outcome.ok() || outcome.code.is_none() || stderr.contains("panicked") || !named {
        return Err(format!(
            "exit {:?}, stderr: {}",
            outcome.code,
            stderr.trim()
        ));
    }
    Ok(())
}

/// Tries every case, then fails listing each case that did not hold.
fn check_all(cases: Vec<(String, Result<(), String>)>) {
    let failed: Vec<String> = cases
        .iter()
        .filter_map(|(case, result)| result.as_ref().err().map(|e| format!("{case}: {e}")))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} cases did not hold:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

/// The headline row of `metrics.csv`.
const HEADLINE: [(&str, &str); 4] = [
    ("model", "ensemble+tta"),
    ("split", "test"),
    ("group", "all"),
    ("seed", "4"),
];

#[test]
fn corrupt_metrics_are_refused_naming_file_line_and_column() {
    let base = Base::new();
    let (copy, _) = base.corrupted("unchanged", "metrics.csv", &HEADLINE, "seed", "4");
    let control = base.compare(&copy);
    assert!(
        control.ok() && control.stdout.contains("seed-fold"),
        "the unchanged copy must compare: {}",
        control.stderr
    );

    let columns = Metric::ALL
        .into_iter()
        .map(Metric::name)
        .chain(["macro_f1_low", "accuracy_high"]);
    let mut cases = Vec::new();
    for column in columns {
        for value in BAD_VALUES {
            let name = format!("metrics-{column}-{value}");
            let (copy, line) = base.corrupted(&name, "metrics.csv", &HEADLINE, column, value);
            let outcome = base.compare(&copy);
            // A loss or a Brier score of 1.7 is possible; a share, an F1 or a count is not.
            let possible = value == "1.7" && ["log_loss", "brier"].contains(&column);
            let result = if possible {
                if outcome.ok() {
                    Ok(())
                } else {
                    Err(format!("a possible value was refused: {}", outcome.stderr))
                }
            } else {
                refused_naming(&outcome, "metrics.csv", line, column)
            };
            cases.push((format!("{column} = {value}"), result));
        }
    }
    check_all(cases);
}

#[test]
fn corrupt_probabilities_per_class_f1_and_curves_are_refused() {
    let base = Base::new();
    let predictions = std::fs::read_to_string(base.report.join("predictions.csv")).unwrap();
    let header = predictions.lines().next().unwrap();
    let probability_columns: Vec<&str> =
        header.split(',').filter(|c| c.starts_with("p[")).collect();
    assert!(probability_columns.len() >= 2, "{header}");
    let first_song = predictions
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap();

    let mut cases = Vec::new();
    for column in &probability_columns {
        for value in BAD_VALUES {
            let name = format!("predictions-{column}-{value}");
            let row = [("id", first_song)];
            let (copy, line) = base.corrupted(&name, "predictions.csv", &row, column, value);
            let outcome = base.compare(&copy);
            let result = refused_naming(&outcome, "predictions.csv", line, column);
            cases.push((format!("predictions.csv {column} = {value}"), result));
        }
    }
    // Each probability in [0, 1] but the row no longer sums to 1.
    let row = [("id", first_song)];
    let column = probability_columns[0];
    let (copy, line) = base.corrupted("predictions-sum", "predictions.csv", &row, column, "1");
    let original: f64 = read_cell(&base.report.join("predictions.csv"), &row, column);
    let outcome = base.compare(&copy);
    let result = if original == 0.0 {
        Ok(())
    } else {
        let last = probability_columns[probability_columns.len() - 1];
        refused_naming(
            &outcome,
            "predictions.csv",
            line,
            &format!("{column} .. {last}"),
        )
        .and_then(|()| expect(&outcome.stderr, "summing to 1"))
    };
    cases.push(("predictions.csv row sum != 1".to_string(), result));

    for (file, column) in [("per_class.csv", "f1"), ("history.csv", "valid_macro_f1")] {
        for value in BAD_VALUES {
            let name = format!("{file}-{value}");
            let row = [("seed", "4")];
            let (copy, line) = base.corrupted(&name, file, &row, column, value);
            let outcome = base.compare(&copy);
            let result = refused_naming(&outcome, file, line, column);
            cases.push((format!("{file} {column} = {value}"), result));
        }
    }
    check_all(cases);
}

fn read_cell(path: &Path, row: &[(&str, &str)], column: &str) -> f64 {
    crate::util::read_csv(path)
        .into_iter()
        .find(|r| row.iter().all(|(c, v)| r[*c] == *v))
        .map(|r| crate::util::number(&r, column))
        .expect("the row")
}

fn expect(text: &str, part: &str) -> Result<(), String> {
    if text.contains(part) {
        Ok(())
    } else {
        Err(format!("no `{part}` in: {text}"))
    }
}
