//! Properties of the stratified hold-out + k-fold split that experiments rely on.

mod util;

use std::collections::BTreeSet;

use mer::spec::SplitSection;
use mer::split::{SplitError, SplitPlan, grouped_split, min_class_songs, stratified_split};

/// Labels sorted by class, as MIREX-like ids are: 170/164/215/191/163 songs.
fn mirex_like_labels() -> Vec<usize> {
    [170, 164, 215, 191, 163]
        .iter()
        .enumerate()
        .flat_map(|(class, &n)| std::iter::repeat_n(class, n))
        .collect()
}

fn names(n: usize) -> Vec<String> {
    (1..=n).map(|c| format!("Cluster {c}")).collect()
}

fn split(labels: &[usize], seed: u64) -> SplitPlan {
    stratified_split(labels, &names(5), 0.2, 5, seed).expect("valid split")
}

fn count_class(songs: &[usize], labels: &[usize], class: usize) -> usize {
    songs.iter().filter(|&&s| labels[s] == class).count()
}

#[test]
fn test_set_is_stratified_within_one_song_per_class() {
    let labels = mirex_like_labels();
    let plan = split(&labels, 42);
    assert_eq!(plan.test.len(), (903.0f64 * 0.2).round() as usize);
    for (class, n) in [170, 164, 215, 191, 163].into_iter().enumerate() {
        let proportional = n as f64 * 0.2;
        let got = count_class(&plan.test, &labels, class) as f64;
        assert!(
            (got - proportional).abs() < 1.0,
            "class {class}: {got} vs {proportional}"
        );
    }
}

#[test]
fn folds_are_stratified_disjoint_and_cover_the_non_test_songs() {
    let labels = mirex_like_labels();
    let plan = split(&labels, 42);
    let test: BTreeSet<usize> = plan.test.iter().copied().collect();
    let mut seen = BTreeSet::new();
    for fold in &plan.folds {
        let valid: BTreeSet<usize> = fold.valid.iter().copied().collect();
        let train: BTreeSet<usize> = fold.train.iter().copied().collect();
        assert!(
            valid.is_disjoint(&train),
            "fold {} trains on its validation songs",
            fold.index
        );
        assert!(
            valid.is_disjoint(&test) && train.is_disjoint(&test),
            "fold {} touches the test set",
            fold.index
        );
        assert_eq!(valid.len() + train.len(), 903 - test.len());
        assert!(seen.is_disjoint(&valid), "validation sets overlap");
        seen.extend(valid);
    }
    let cv: BTreeSet<usize> = (0..903).filter(|s| !test.contains(s)).collect();
    assert_eq!(seen, cv, "validation sets must cover every non-test song");

    let sizes: Vec<usize> = plan.folds.iter().map(|f| f.valid.len()).collect();
    assert!(
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
        "{sizes:?}"
    );
    for class in 0..5 {
        let in_cv = cv.iter().filter(|&&s| labels[s] == class).count() as f64;
        for fold in &plan.folds {
            let got = count_class(&fold.valid, &labels, class) as f64;
            assert!(
                (got - in_cv / 5.0).abs() < 1.0,
                "class {class} fold {}: {got}",
                fold.index
            );
        }
    }
}

#[test]
fn class_sorted_ids_are_shuffled_not_sliced() {
    let labels = mirex_like_labels();
    let plan = split(&labels, 42);
    // An unshuffled split would take each class's first songs; a shuffled one spreads out.
    let first_of_class_0: Vec<usize> = (0..34).collect();
    assert_ne!(&plan.test[..34], &first_of_class_0[..]);
    let spread = plan.test.iter().filter(|&&s| s < 170).max().unwrap();
    assert!(
        *spread > 100,
        "class-0 test songs all near the start: max index {spread}"
    );
}

#[test]
fn same_seed_same_split_different_seed_different_split() {
    let labels = mirex_like_labels();
    assert_eq!(split(&labels, 42), split(&labels, 42));
    let other = split(&labels, 43);
    assert_ne!(split(&labels, 42).test, other.test);
    assert_ne!(split(&labels, 42).folds[0].valid, other.folds[0].valid);
}

#[test]
fn more_folds_than_the_smallest_class_allows_is_an_error_naming_the_class() {
    let labels: Vec<usize> = [vec![0; 40], vec![1; 5]].concat();
    let err = stratified_split(&labels, &names(2), 0.2, 5, 1).unwrap_err();
    assert_eq!(
        err,
        SplitError::TooManyFolds {
            folds: 5,
            class: "Cluster 2".into(),
            available: 4
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("split.folds = 5") && message.contains("at most 4"),
        "{message}"
    );
}

#[test]
fn an_empty_test_set_is_an_error() {
    let labels = vec![0, 0, 1, 1, 0, 1];
    let err = stratified_split(&labels, &names(2), 0.05, 2, 1).unwrap_err();
    assert!(
        matches!(err, SplitError::EmptyTestSet { songs: 6, .. }),
        "{err}"
    );
}

/// The folds a message suggests with `split.folds to at most N` or `split.folds = N`.
fn suggested_folds(message: &str) -> Vec<usize> {
    ["split.folds to at most ", "split.folds = "]
        .iter()
        .flat_map(|prefix| {
            message
                .match_indices(prefix)
                .map(|(i, _)| &message[i + prefix.len()..])
        })
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

#[test]
fn too_many_folds_never_suggests_fewer_than_two_folds() {
    // Classes of 40 and 1 or 2 songs: the small one has 0 or 1 song for cross-validation.
    for small in [1, 2] {
        let labels: Vec<usize> = [vec![0; 40], vec![1; small]].concat();
        let err = stratified_split(&labels, &names(2), 0.2, 5, 1).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, SplitError::TooManyFolds { .. }), "{message}");
        assert!(
            suggested_folds(&message).iter().all(|&folds| folds >= 2),
            "{message}"
        );
        assert!(message.contains("add songs"), "{message}");
    }
}

#[test]
fn an_empty_test_set_suggests_a_fraction_that_gives_a_test_song() {
    for songs in [2usize, 3, 6, 19, 101] {
        let labels: Vec<usize> = (0..songs).map(|i| i % 2).collect();
        let err = stratified_split(&labels, &names(2), 0.001, 2, 1).unwrap_err();
        let message = err.to_string();
        let fraction: f64 = message
            .split("at least ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no fraction suggested: {message}"));
        assert!(fraction > 0.0 && fraction < 1.0, "{message}");
        assert!((songs as f64 * fraction).round() >= 1.0, "{message}");
    }
}

#[test]
fn a_class_of_min_class_songs_always_splits_and_one_fewer_is_rare() {
    for folds in 2..=6 {
        for test_fraction in [0.1, 0.2, 0.25, 0.33, 0.5, 0.7] {
            let section = SplitSection {
                folds,
                test_fraction,
                ..SplitSection::default()
            };
            let needed = min_class_songs(&section);
            // However the hold-out's remainders fall, a class of `needed` songs fills every
            // fold: beside classes of every size from `needed` to 3 * needed.
            let labels: Vec<usize> = (0..=2 * needed)
                .enumerate()
                .flat_map(|(class, extra)| std::iter::repeat_n(class, needed + extra))
                .collect();
            let classes = names(2 * needed + 1);
            for seed in 0..5 {
                let split = stratified_split(&labels, &classes, test_fraction, folds, seed);
                assert!(split.is_ok(), "{folds} folds, {test_fraction}: {split:?}");
            }
            // One song fewer can miss a fold when the hold-out takes its largest share.
            let share = ((needed - 1) as f64 * test_fraction).ceil() as usize;
            assert!(needed - 1 - share < folds, "{folds} folds, {test_fraction}");
        }
    }
    assert_eq!(min_class_songs(&SplitSection::default()), 7);
}

/// The MIREX-like labels with artists: groups of 1 to 6 songs of mostly one class, in a
/// fixed pseudo-random pattern (songs of an artist are spread over the id range).
fn artists(labels: &[usize]) -> Vec<usize> {
    let mut groups = Vec::with_capacity(labels.len());
    let (mut artist, mut left) = (0, 0);
    for _ in labels {
        if left == 0 {
            artist += 1;
            left = 1 + (artist * 5) % 6;
        }
        left -= 1;
        groups.push(artist);
    }
    groups
}

fn grouped(labels: &[usize], groups: &[usize], seed: u64) -> SplitPlan {
    let section = SplitSection {
        group_by: Some("artist".into()),
        ..SplitSection::default()
    };
    grouped_split(labels, groups, &section, seed).expect("enough groups")
}

#[test]
fn no_group_is_on_both_sides_of_the_hold_out_or_of_a_fold() {
    let labels = mirex_like_labels();
    let groups = artists(&labels);
    let plan = grouped(&labels, &groups, 42);
    let group_set = |songs: &[usize]| songs.iter().map(|&s| groups[s]).collect::<BTreeSet<_>>();
    let test = group_set(&plan.test);
    for fold in &plan.folds {
        let (train, valid) = (group_set(&fold.train), group_set(&fold.valid));
        assert!(train.is_disjoint(&valid), "fold {}", fold.index);
        assert!(test.is_disjoint(&train) && test.is_disjoint(&valid));
        let mut all: Vec<usize> = fold
            .train
            .iter()
            .chain(&fold.valid)
            .chain(&plan.test)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..labels.len()).collect::<Vec<_>>(),
            "every song once"
        );
    }
    // Whole groups cost a little balance, not much: within 3 songs of the share per class.
    for (class, n) in [170, 164, 215, 191, 163].into_iter().enumerate() {
        let got = count_class(&plan.test, &labels, class) as f64;
        assert!((got - n as f64 * 0.2).abs() <= 3.0, "class {class}: {got}");
        for fold in &plan.folds {
            let got = count_class(&fold.valid, &labels, class) as f64;
            let share = (n as f64 - count_class(&plan.test, &labels, class) as f64) / 5.0;
            assert!(
                (got - share).abs() <= 3.0,
                "class {class} fold {}: {got} vs {share}",
                fold.index
            );
        }
    }
}

#[test]
fn a_grouped_split_depends_on_the_seed_and_only_on_it() {
    let labels = mirex_like_labels();
    let groups = artists(&labels);
    assert_eq!(grouped(&labels, &groups, 7), grouped(&labels, &groups, 7));
    assert_ne!(
        grouped(&labels, &groups, 7).test,
        grouped(&labels, &groups, 8).test
    );
}

#[test]
fn too_few_groups_for_the_folds_is_refused_with_their_count() {
    let labels = mirex_like_labels();
    let section = SplitSection {
        group_by: Some("artist".into()),
        ..SplitSection::default()
    };
    for groups in [
        labels.clone(),
        labels.iter().map(|&c| c % 4).collect::<Vec<_>>(),
    ] {
        let err = grouped_split(&labels, &groups, &section, 1).unwrap_err();
        assert!(
            matches!(
                err,
                SplitError::TooFewGroups {
                    groups: 4 | 5,
                    folds: 5,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("split.group_by = \"artist\" gives"),
            "{err}"
        );
    }
}

const GROUPED_SPEC: &str = r#"
[dataset]
layout = "mirex-like"
root = "data"

[modalities.lyrics]

[split]
test_fraction = 0.25
folds = 2
group_by = "artist"

[schedule]
epochs = 2
"#;

#[test]
fn a_run_splits_by_the_metadata_column_and_a_missing_column_is_named_before_any_stage() {
    let dir = util::TestDir::new();
    dir.write_demo(40, 2, 7);
    dir.write("exp.toml", GROUPED_SPEC);
    let (ok, _, stderr) = util::output(dir.mer().args(["run", "exp.toml"]));
    assert!(ok, "{stderr}");
    dir.write(
        "exp.toml",
        GROUPED_SPEC.replace("\"artist\"", "\"producer\""),
    );
    let (ok, _, stderr) = util::output(dir.mer().args(["plan", "exp.toml"]));
    assert!(!ok);
    assert!(
        stderr.contains("split.group_by = \"producer\", but no song has that metadata column; its columns are Album, Artist,"),
        "{stderr}"
    );
}

const FIXED_SPEC: &str = r#"
[dataset]
layout = "table"
root = "data"
paths = { lyrics = "lyrics/{id}.txt" }

[modalities.lyrics]

[split]
method = "fixed"

[schedule]
epochs = 2
"#;

/// `mer demo --layout table`, with a `Split` column: of every ten songs six train, two
/// validate and two test; the last song has no value.
fn table_demo_with_split_column(dir: &util::TestDir) -> (BTreeSet<String>, usize) {
    let (ok, _, stderr) = util::output(dir.mer().args([
        "demo",
        "--out",
        "data",
        "--layout",
        "table",
        "--songs",
        "40",
        "--seconds",
        "2",
    ]));
    assert!(ok, "{stderr}");
    let labels = std::fs::read_to_string(dir.path("data/labels.csv")).unwrap();
    let mut lines: Vec<String> = labels.lines().map(String::from).collect();
    lines[0].push_str(",Split");
    let mut test = BTreeSet::new();
    let rows = lines.len() - 1;
    for (i, line) in lines.iter_mut().skip(1).enumerate() {
        let part = match i % 10 {
            _ if i == rows - 1 => "",
            0..6 => "train",
            6..8 => "Validation",
            _ => "test",
        };
        if part == "test" {
            test.insert(line.split(',').next().unwrap().to_string());
        }
        line.push(',');
        line.push_str(part);
    }
    dir.write("data/labels.csv", lines.join("\n") + "\n");
    (test, rows)
}

#[test]
fn a_fixed_split_tests_exactly_the_songs_the_dataset_names() {
    let dir = util::TestDir::new();
    let (test, _) = table_demo_with_split_column(&dir);
    dir.write("exp.toml", FIXED_SPEC);
    let (ok, _, stderr) = util::output(dir.mer().args(["run", "exp.toml"]));
    assert!(ok, "{stderr}");
    let folder = dir.report_folder(&stderr);
    let predicted: BTreeSet<String> = util::read_csv(&folder.join("predictions.csv"))
        .iter()
        .map(|row| row["id"].clone())
        .collect();
    // The demo leaves some songs without lyrics; those are in no experiment.
    let with_lyrics: BTreeSet<String> = (test.iter())
        .filter(|id| dir.path(&format!("data/lyrics/{id}.txt")).is_file())
        .cloned()
        .collect();
    assert!(with_lyrics.len() >= 4, "{with_lyrics:?}");
    assert_eq!(predicted, with_lyrics, "the test songs that have lyrics");
    let history = util::read_csv(&folder.join("history.csv"));
    assert!(
        !history.is_empty() && history.iter().all(|row| row["fold"] == "0"),
        "one fold"
    );
}

#[test]
fn a_fixed_split_refuses_unknown_parts_and_the_keys_of_a_drawn_split() {
    let dir = util::TestDir::new();
    table_demo_with_split_column(&dir);
    let labels = std::fs::read_to_string(dir.path("data/labels.csv")).unwrap();
    dir.write(
        "data/labels.csv",
        labels.replacen(",test\n", ",holdout\n", 1),
    );
    dir.write("exp.toml", FIXED_SPEC);
    let (ok, _, stderr) = util::output(dir.mer().args(["plan", "exp.toml"]));
    assert!(!ok);
    assert!(
        stderr.contains("has the value \"holdout\"; expected train, validation"),
        "{stderr}"
    );
    let with_folds = FIXED_SPEC.replace("method = \"fixed\"", "method = \"fixed\"\nfolds = 3");
    dir.write("exp.toml", with_folds);
    let (ok, _, stderr) = util::output(dir.mer().args(["plan", "exp.toml"]));
    assert!(!ok);
    assert!(stderr.contains("split.folds"), "{stderr}");
}

/// 150 songs with 4 tags, tag k on about one song in 2^(k+1), some songs with none.
fn tag_sets() -> Vec<bool> {
    let mut draw = mer::rng::RandomStream::new(9, "test/tag-sets");
    (0..150 * 4)
        .map(|i| draw.chance(0.5_f64.powi((i % 4) + 1)))
        .collect()
}

#[test]
fn a_multilabel_split_covers_every_song_once_and_keeps_tags_in_every_fold() {
    let carried = tag_sets();
    let plan = mer::split::multilabel_split(&carried, 4, 0.2, 4, 7).unwrap();
    assert_eq!(plan.test.len(), 30);
    let mut seen: Vec<usize> = plan.test.clone();
    for fold in &plan.folds {
        seen.extend(&fold.valid);
        assert!(fold.valid.iter().all(|s| !fold.train.contains(s)));
        assert_eq!(fold.train.len() + fold.valid.len(), 120);
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..150).collect::<Vec<_>>());
    // The rarest tag (about 9 songs) has a song in the test set and in every fold.
    let rare = |songs: &[usize]| songs.iter().filter(|&&s| carried[s * 4 + 3]).count();
    let total = rare(&(0..150).collect::<Vec<_>>());
    assert!((5..=14).contains(&total), "{total}");
    assert!(rare(&plan.test) >= 1);
    assert!(plan.folds.iter().all(|f| rare(&f.valid) >= 1), "{plan:?}");
    assert_eq!(
        plan,
        mer::split::multilabel_split(&carried, 4, 0.2, 4, 7).unwrap()
    );
}

#[test]
fn a_multilabel_split_with_more_folds_than_songs_says_so() {
    let carried = vec![true, false, false, true, true, true];
    let error = mer::split::multilabel_split(&carried, 2, 0.34, 4, 1).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("split.folds = 4, but only "),
        "{message}"
    );
    assert!(message.ends_with("left for cross-validation after the hold-out; lower split.folds"));
}

#[test]
fn regression_strata_stratify_a_split_by_target_quantiles() {
    // Valence rises with the song index (ids sorted by it, as a dataset may be); arousal
    // cycles independently of it.
    let values: Vec<f32> = (0..80)
        .flat_map(|i| [i as f32 / 80.0, ((i * 7) % 10) as f32 / 10.0])
        .collect();
    let strata = mer::split::quantile_strata(&values, 2, 2);
    let names: Vec<String> = (0..4).map(|s| format!("stratum-{s}")).collect();
    let plan = stratified_split(&strata, &names, 0.25, 4, 3).unwrap();
    // Each side of each target's median holds half the test set, within one song per stratum.
    assert_eq!(plan.test.len(), 20);
    for target in 0..2 {
        let mut sorted: Vec<f32> = values.iter().skip(target).step_by(2).copied().collect();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[40];
        let below = (plan.test.iter())
            .filter(|&&s| values[2 * s + target] < median)
            .count();
        assert!(
            below.abs_diff(10) <= 2,
            "target {target}: {below} of 20 below"
        );
    }
}
