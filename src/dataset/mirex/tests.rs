use super::*;

const HEADER: &str = "Title;Artist;Album;Track;Year;Length;Size;Last Modified;Filename;";

#[test]
fn info_row_with_extra_semicolon_joins_it_into_the_title() {
    let text = format!(
        "{HEADER}\nRain; Or Shine;Band [1];Live [Bonus Tracks];9;2001;30;352,00 KB;22-05-2011;782.mp3;\n"
    );
    let mut problems = Vec::new();
    let rows = parse_info(&text, Path::new("info.csv"), &mut problems);
    let fields = rows[0].fields.as_ref().unwrap();
    assert_eq!(fields["Title"], "Rain; Or Shine");
    assert_eq!(fields["Artist"], "Band [1]");
    assert_eq!(fields["Album"], "Live [Bonus Tracks]");
    assert_eq!(fields["Filename"], "782.mp3");
    assert_eq!(fields["Year"], "2001");
    assert!(matches!(
        &problems[..],
        [DatasetProblem::AmbiguousLine { line: 2, .. }]
    ));
}

#[test]
fn info_row_with_literal_quotes_and_short_row() {
    let text = format!(
        "{HEADER}\nSmall Song;Doe, Jane \";Oak;1;1969;30;352,00 KB;22-05-2011;357.mp3;\nonly;three;fields;\n"
    );
    let mut problems = Vec::new();
    let rows = parse_info(&text, Path::new("info.csv"), &mut problems);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].fields.as_ref().unwrap()["Artist"], "Doe, Jane \"");
    assert_eq!(rows[1].fields, None);
    assert!(matches!(
        &problems[..],
        [DatasetProblem::MalformedLine { line: 3, .. }]
    ));
}

#[test]
fn bat_lines_parse_and_mkdir_is_skipped() {
    let text = "mkdir \"Cluster 1\\Boisterous\\\"\r\nmove 001.mp3 \"Cluster 1\\Boisterous\\001.mp3\"\nmove 002.txt \"Cluster 1\\Rowdy\\002.txt\"\nmove 003.mp3 \"Cluster 1\"\n";
    let text = decode_text(text.as_bytes()).unwrap();
    let mut problems = Vec::new();
    let entries = parse_bat(&text, Path::new("a.bat"), &["mp3"], &mut problems);
    assert_eq!(
        entries,
        [BatEntry {
            line: 2,
            id: "001".into(),
            cluster: "Cluster 1".into(),
            subcategory: "Boisterous".into()
        }]
    );
    let lines: Vec<usize> = problems
        .iter()
        .map(|p| match p {
            DatasetProblem::MalformedLine { line, .. } => *line,
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(lines, [3, 4]);
}

#[test]
fn bat_disagreement_is_recorded_with_both_claims() {
    let reference = vec![
        ReferenceLabel {
            id: "001".into(),
            line: 1,
            label: "Cluster 1".into(),
            subcategory: Some("Boisterous".into()),
        },
        ReferenceLabel {
            id: "002".into(),
            line: 2,
            label: "Cluster 1".into(),
            subcategory: Some("Rowdy".into()),
        },
    ];
    let by_id = HashMap::from([("001".to_string(), 0), ("002".to_string(), 1)]);
    let text = "move 001.mid \"Cluster 1\\Boisterous\\001.mid\"\nmove 002.mid \"Cluster 2\\Fun\\002.mid\"\nmove 777.mid \"Cluster 2\\Fun\\777.mid\"\n";
    let mut problems = Vec::new();
    let bat = Path::new("/d/split-by-categories-midi.bat");
    let entries = parse_bat(text, bat, &["mid"], &mut problems);
    let check = CrossCheck {
        bat_path: bat,
        labels_path: Path::new("/d/clusters.txt"),
        reference: &reference,
        by_id: &by_id,
    };
    let mut conflicts = BTreeMap::new();
    let listed = check.run(&entries, &mut conflicts, &mut problems);
    assert_eq!(
        listed,
        HashSet::from(["001".to_string(), "002".to_string()])
    );
    assert_eq!(conflicts.len(), 1);
    let claims = &conflicts["002"];
    assert_eq!(claims[0].source, "clusters.txt/categories.txt line 2");
    assert_eq!(claims[1].source, "split-by-categories-midi.bat line 2");
    assert_eq!(claims[1].label, "Cluster 2");
    assert_eq!(claims[1].subcategory.as_deref(), Some("Fun"));
    assert!(matches!(
        &problems[..],
        [DatasetProblem::UnknownId { line: 3, .. }]
    ));
}

#[test]
fn empty_cluster_line_is_reported_and_skipped() {
    let mut problems = Vec::new();
    let labels = reference_labels(
        &["Cluster 1", "", "Cluster 3"],
        Some(&["Agressive", "whimsical", "Tense - Anxious"]),
        Path::new("clusters.txt"),
        &mut problems,
    );
    let ids: Vec<&str> = labels.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["001", "003"]);
    assert_eq!(labels[1].subcategory.as_deref(), Some("Tense - Anxious"));
    assert!(matches!(
        &problems[..],
        [DatasetProblem::EmptyLabel { line: 2, .. }]
    ));
}
