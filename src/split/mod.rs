//! Seeded stratified hold-out and k-fold splits.
//!
//! MIREX-like song ids are sorted by class, so every split shuffles within each class before
//! assigning songs; the shuffles draw from [`RandomStream`]s named `split/holdout` and
//! `split/folds`, so a split depends only on the labels (in dataset order), the fractions and
//! the seed. Per class, the test set and every fold hold within one song of their proportional
//! share; fold sizes differ by at most one song overall.
//!
//! The rule that needs the dataset lives here too: a class needs one song per fold after its
//! share of the test set ([`min_class_songs`]). Smaller classes are reported and left out when
//! the dataset is loaded, before any stage runs ([`leave_out_rare_classes`],
//! `split.rare_classes`), so every command sees the same songs.

mod stratify;

use std::fmt::Write as _;

use crate::dataset::targets::SongTargets;
use crate::dataset::{DatasetLoad, DatasetProblem, Manifest, RareClass};
use crate::rng::RandomStream;
use crate::spec::{RareClassPolicy, SplitMethod, SplitSection};

pub use stratify::{iterative_stratification, quantile_strata};

/// One cross-validation fold: the songs it trains on and the songs it validates on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldSplit {
    /// 0-based fold number.
    pub index: usize,
    /// Song indices (into the manifest) used for training, ascending.
    pub train: Vec<usize>,
    /// Song indices held out for validation (early stopping, out-of-fold predictions), ascending.
    pub valid: Vec<usize>,
}

/// A hold-out test set plus k folds over the remaining songs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitPlan {
    /// The seed the split was drawn with.
    pub seed: u64,
    /// Song indices of the hold-out test set, ascending.
    pub test: Vec<usize>,
    /// The folds over the songs not in `test`.
    pub folds: Vec<FoldSplit>,
}

/// Why songs cannot be split as asked. Every value a message suggests passes spec validation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitError {
    /// A class has fewer cross-validation songs than folds, so some fold would miss it.
    #[error(
        "split.folds = {folds}, but class `{class}` has only {available} songs left for cross-validation after the hold-out; {}",
        fold_advice(*available)
    )]
    TooManyFolds {
        /// Requested folds.
        folds: usize,
        /// Name of the smallest class.
        class: String,
        /// Its cross-validation songs.
        available: usize,
    },
    /// The hold-out fraction leaves the test set empty.
    #[error(
        "split.test_fraction = {fraction} of {songs} songs leaves no test song; {}",
        test_fraction_advice(*songs)
    )]
    EmptyTestSet {
        /// Songs in the experiment.
        songs: usize,
        /// Requested fraction.
        fraction: f64,
    },
    /// Classes too small to stratify, with `split.rare_classes = "fail"`, or so many that
    /// leaving them out would leave fewer than two classes.
    #[error(
        "{} class(es) have too few songs to split with split.folds = {folds} and split.test_fraction = {test_fraction} (split.rare_classes = \"{}\"):{}",
        classes.len(),
        policy_name(*policy),
        rare_classes_advice(classes, *policy, *kept_classes, *folds_that_fit)
    )]
    RareClasses {
        /// `split.folds`.
        folds: usize,
        /// `split.test_fraction`.
        test_fraction: f64,
        /// The classes, with their songs and the lines that label them.
        classes: Vec<RareClass>,
        /// `split.rare_classes`.
        policy: RareClassPolicy,
        /// Classes with songs that leaving the rare ones out would keep.
        kept_classes: usize,
        /// The most folds every one of these classes can fill, when at least 2.
        folds_that_fit: Option<usize>,
    },
    /// `split.group_by` or `split.column` names a column no song has.
    #[error(
        "{key} = \"{column}\", but no song has that metadata column; {}",
        column_advice(key, known)
    )]
    NoColumn {
        /// The spec key that names the column.
        key: &'static str,
        /// The column asked for.
        column: String,
        /// The columns the songs have.
        known: Vec<String>,
    },
    /// A fixed split's column holds a value that names no part.
    #[error(
        "split.column = \"{column}\": song `{song}` has the value \"{value}\"; expected train, validation (or valid, val, dev) or test, or no value to leave the song out"
    )]
    UnknownPart {
        /// The column.
        column: String,
        /// The song.
        song: String,
        /// Its value.
        value: String,
    },
    /// A fixed split leaves a part without songs.
    #[error(
        "split.column = \"{column}\" names no {part} song among the experiment's songs; every part needs songs (check the column's values, or use split.method = \"stratified\")"
    )]
    EmptyPart {
        /// The column.
        column: String,
        /// `train`, `validation` or `test`.
        part: &'static str,
    },
    /// Too few groups, or groups too large, to fill the hold-out and every fold.
    #[error(
        "split.group_by = \"{column}\" gives {groups} group(s), too few to hold out a test set and fill split.folds = {folds} folds with whole groups; lower split.folds, change split.test_fraction, or group by another column"
    )]
    TooFewGroups {
        /// The column.
        column: String,
        /// Groups among the experiment's songs.
        groups: usize,
        /// `split.folds`.
        folds: usize,
    },
    /// Fewer cross-validation songs than folds (a multi-label split, which has no class to
    /// name).
    #[error(
        "split.folds = {folds}, but only {songs} song(s) are left for cross-validation after the hold-out; lower split.folds"
    )]
    TooFewSongs {
        /// Songs left after the hold-out.
        songs: usize,
        /// `split.folds`.
        folds: usize,
    },
}

fn column_advice(key: &str, known: &[String]) -> String {
    if known.is_empty() {
        format!("this dataset's songs have no metadata columns; remove {key}")
    } else {
        format!("its columns are {}", known.join(", "))
    }
}

/// The smallest valid fold count is 2 (`split.folds` validation).
const MIN_FOLDS: usize = 2;

fn fold_advice(available: usize) -> String {
    if available >= MIN_FOLDS {
        format!(
            "set split.folds to at most {available}, lower split.test_fraction, or add songs of that class"
        )
    } else {
        "add songs of that class, or set split.rare_classes = \"drop\" to leave it out".to_string()
    }
}

/// The smallest fraction with two decimals whose share of `songs` rounds to one song.
fn test_fraction_advice(songs: usize) -> String {
    if songs < 2 {
        return "add songs: one song cannot be both tested and trained on".to_string();
    }
    let fraction = (50.0 / songs as f64).ceil() / 100.0;
    format!("raise split.test_fraction to at least {fraction}")
}

fn policy_name(policy: RareClassPolicy) -> &'static str {
    match policy {
        RareClassPolicy::Drop => "drop",
        RareClassPolicy::Fail => "fail",
    }
}

/// The classes, one per line, then what to do.
fn rare_classes_advice(
    classes: &[RareClass],
    policy: RareClassPolicy,
    kept_classes: usize,
    folds_that_fit: Option<usize>,
) -> String {
    let mut text = String::new();
    for class in classes {
        let _ = write!(text, "\n  - {class}");
    }
    let mut advice = vec!["add songs of these classes".to_string()];
    if kept_classes < 2 {
        let _ = write!(
            text,
            "\nleaving them out would leave {kept_classes} class(es), and a classifier needs at least 2"
        );
    } else if policy == RareClassPolicy::Fail {
        advice.push("set split.rare_classes = \"drop\" to leave them out".to_string());
    }
    if let Some(folds) = folds_that_fit {
        advice.push(format!("set split.folds to at most {folds}"));
    }
    let _ = write!(text, "\n{}", advice.join(", or "));
    text
}

/// Songs a class needs for `section`'s split: one per fold after the most the hold-out can
/// take from it (its share of the test set, rounded up).
pub fn min_class_songs(section: &SplitSection) -> usize {
    if section.method == SplitMethod::Fixed {
        // The dataset's split decides; any class with a song can stay.
        return 1;
    }
    let (folds, fraction) = (section.folds, section.test_fraction);
    // n - ceil(n f) >= n (1 - f) - 1 reaches `folds` by n = (folds + 1) / (1 - f); the bound
    // also ends the search for a fraction that validation would refuse.
    let bound = ((folds as f64 + 1.0) / (1.0 - fraction)).clamp(0.0, 1e9) as usize + 2;
    (folds..=bound.max(folds))
        .find(|&n| cross_validation_songs(n, fraction) >= folds)
        .unwrap_or(bound)
}

/// The songs a class of `songs` keeps for cross-validation when the hold-out takes the most
/// it can from it.
fn cross_validation_songs(songs: usize, test_fraction: f64) -> usize {
    songs.saturating_sub((songs as f64 * test_fraction).ceil() as usize)
}

/// Reports every class of `data`'s experiment songs that is too small for `section`'s split
/// and, with `split.rare_classes = "drop"`, leaves its songs out of the manifest (the songs
/// stay listed: extraction does not depend on the split). Classes without songs are not
/// rare: they have nothing to split.
pub fn leave_out_rare_classes(
    mut data: DatasetLoad,
    section: &SplitSection,
) -> Result<DatasetLoad, SplitError> {
    let needed = min_class_songs(section);
    let manifest = &data.manifest;
    let rare: Vec<usize> = manifest
        .class_counts()
        .iter()
        .enumerate()
        .filter(|&(_, &count)| count > 0 && count < needed)
        .map(|(class, _)| class)
        .collect();
    if rare.is_empty() {
        return Ok(data);
    }
    let classes: Vec<RareClass> = rare
        .iter()
        .map(|&class| RareClass {
            class: manifest.classes[class].clone(),
            songs: manifest
                .songs
                .iter()
                .filter(|song| song.label == class)
                .map(|song| (song.id.clone(), song.label_source.clone()))
                .collect(),
            needed,
        })
        .collect();
    let kept = manifest.without_classes(&rare);
    let kept_classes = kept.class_counts().iter().filter(|&&n| n > 0).count();
    if section.rare_classes == RareClassPolicy::Fail || kept_classes < 2 {
        let folds_that_fit = classes
            .iter()
            .map(|c| cross_validation_songs(c.songs.len(), section.test_fraction))
            .min()
            .filter(|&folds| folds >= MIN_FOLDS);
        return Err(SplitError::RareClasses {
            folds: section.folds,
            test_fraction: section.test_fraction,
            classes,
            policy: section.rare_classes,
            kept_classes,
            folds_that_fit,
        });
    }
    data.manifest = kept;
    data.problems
        .extend(classes.into_iter().map(DatasetProblem::RareClass));
    Ok(data)
}

/// Splits songs with class `labels[i]` (dataset order) into a stratified hold-out test set of
/// about `test_fraction` and `folds` stratified folds over the rest.
///
/// `class_names[c]` names class `c` in errors.
pub fn stratified_split(
    labels: &[usize],
    class_names: &[String],
    test_fraction: f64,
    folds: usize,
    seed: u64,
) -> Result<SplitPlan, SplitError> {
    let mut by_class = songs_by_class(labels, class_names.len());
    let quotas = test_quotas(&by_class, test_fraction);
    if quotas.iter().sum::<usize>() == 0 {
        return Err(SplitError::EmptyTestSet {
            songs: labels.len(),
            fraction: test_fraction,
        });
    }

    let mut holdout_stream = RandomStream::new(seed, "split/holdout");
    let mut test = Vec::new();
    for (songs, &quota) in by_class.iter_mut().zip(&quotas) {
        holdout_stream.shuffle(songs);
        test.extend(songs.drain(..quota));
    }
    check_fold_count(&by_class, &quotas, class_names, folds)?;

    let mut fold_stream = RandomStream::new(seed, "split/folds");
    let mut fold_of = vec![usize::MAX; labels.len()];
    // Dealing continues across classes so that overall fold sizes stay within one song.
    let mut next_fold = 0;
    for songs in &mut by_class {
        fold_stream.shuffle(songs);
        for &song in songs.iter() {
            fold_of[song] = next_fold;
            next_fold = (next_fold + 1) % folds;
        }
    }

    test.sort_unstable();
    Ok(SplitPlan {
        seed,
        test,
        folds: fold_splits(&fold_of, folds),
    })
}

/// A hold-out test set of about `test_fraction` and `folds` folds over the rest for songs with
/// several tags each (`carried`, songs x `width`), each part by iterative stratification
/// ([`iterative_stratification`]), drawing from the streams `split/holdout-tags` and
/// `split/fold-tags`.
pub fn multilabel_split(
    carried: &[bool],
    width: usize,
    test_fraction: f64,
    folds: usize,
    seed: u64,
) -> Result<SplitPlan, SplitError> {
    let songs = carried.len() / width;
    let mut holdout_stream = RandomStream::new(seed, "split/holdout-tags");
    let parts = [test_fraction, 1.0 - test_fraction];
    let holdout = iterative_stratification(carried, width, &parts, &mut holdout_stream);
    let test = members(&holdout, |p| p == 0);
    if test.is_empty() {
        return Err(SplitError::EmptyTestSet {
            songs,
            fraction: test_fraction,
        });
    }
    let cv = members(&holdout, |p| p == 1);
    if cv.len() < folds {
        return Err(SplitError::TooFewSongs {
            songs: cv.len(),
            folds,
        });
    }
    let cv_carried: Vec<bool> = (cv.iter())
        .flat_map(|&s| &carried[s * width..][..width])
        .copied()
        .collect();
    let mut fold_stream = RandomStream::new(seed, "split/fold-tags");
    let shares = vec![1.0 / folds as f64; folds];
    let cv_fold = iterative_stratification(&cv_carried, width, &shares, &mut fold_stream);
    let mut fold_of = vec![usize::MAX; songs];
    for (&song, &fold) in cv.iter().zip(&cv_fold) {
        fold_of[song] = fold;
    }
    Ok(SplitPlan {
        seed,
        test,
        folds: fold_splits(&fold_of, folds),
    })
}

/// The split of `data`'s songs that `section` asks for under `seed`: [`split_manifest`], but
/// songs with tags and a drawn, ungrouped split are split by iterative stratification of their
/// tags ([`multilabel_split`]) instead of by class.
pub fn split_data(
    data: &DatasetLoad,
    section: &SplitSection,
    seed: u64,
) -> Result<SplitPlan, SplitError> {
    match (&data.targets, section.method, &section.group_by) {
        (SongTargets::Tags(tags), SplitMethod::Stratified, None) => multilabel_split(
            &tags.carried,
            tags.vocabulary.len().max(1),
            section.test_fraction,
            section.folds,
            seed,
        ),
        _ => split_manifest(&data.manifest, section, seed),
    }
}

/// The split of `manifest`'s songs that `section` asks for under `seed`: the dataset's own
/// with `split.method = "fixed"`, else drawn, grouped by a metadata column when
/// `split.group_by` names one.
pub fn split_manifest(
    manifest: &Manifest,
    section: &SplitSection,
    seed: u64,
) -> Result<SplitPlan, SplitError> {
    let labels: Vec<usize> = manifest.songs.iter().map(|song| song.label).collect();
    match (section.method, &section.group_by) {
        (SplitMethod::Fixed, _) => fixed_split(manifest, section.fixed_column(), seed),
        (SplitMethod::Stratified, None) => stratified_split(
            &labels,
            &manifest.classes,
            section.test_fraction,
            section.folds,
            seed,
        ),
        (SplitMethod::Stratified, Some(column)) => {
            let groups = song_groups(manifest, column)?;
            grouped_split(&labels, &groups, section, seed)
        }
    }
}

/// Every song's value in `column`; an error naming `key` when no song has one.
fn column_values(
    manifest: &Manifest,
    key: &'static str,
    column: &str,
) -> Result<Vec<Option<String>>, SplitError> {
    manifest
        .column_values(column)
        .map_err(|missing| SplitError::NoColumn {
            key,
            column: missing.column,
            known: missing.known,
        })
}

/// Each song's group under `split.group_by = column`: songs with the same value of the
/// metadata column (matched without regard to case, values trimmed) share a group; a song
/// without a value is a group of its own. Groups are numbered by first appearance.
pub fn song_groups(manifest: &Manifest, column: &str) -> Result<Vec<usize>, SplitError> {
    let values = column_values(manifest, "split.group_by", column)?;
    let mut numbers = std::collections::HashMap::new();
    let mut next = 0;
    Ok((manifest.songs.iter().zip(values))
        .map(|(song, value)| {
            let key = value.unwrap_or_else(|| format!("\0{}", song.id));
            *numbers.entry(key).or_insert_with(|| {
                next += 1;
                next - 1
            })
        })
        .collect())
}

/// The part of a fixed split a value names, without regard to case.
fn part_named(value: &str) -> Option<FixedPart> {
    match value.to_ascii_lowercase().as_str() {
        "train" | "training" => Some(FixedPart::Train),
        "validation" | "valid" | "val" | "dev" => Some(FixedPart::Validation),
        "test" => Some(FixedPart::Test),
        _ => None,
    }
}

/// A part of a fixed split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FixedPart {
    Train,
    Validation,
    Test,
}

/// The dataset's own split (`split.method = "fixed"`): the test songs, and one fold that
/// trains on the train songs and validates on the validation songs, as `column` names them.
/// Songs without a value are in no part. The same for every seed (which still seeds
/// training).
pub fn fixed_split(manifest: &Manifest, column: &str, seed: u64) -> Result<SplitPlan, SplitError> {
    let values = column_values(manifest, "split.column", column)?;
    let mut parts = [Vec::new(), Vec::new(), Vec::new()];
    for (index, (song, value)) in manifest.songs.iter().zip(values).enumerate() {
        let Some(value) = value else { continue };
        let part = part_named(&value).ok_or_else(|| SplitError::UnknownPart {
            column: column.to_string(),
            song: song.id.clone(),
            value: value.clone(),
        })?;
        parts[part as usize].push(index);
    }
    let [train, valid, test] = parts;
    for (songs, part) in [(&train, "train"), (&valid, "validation"), (&test, "test")] {
        if songs.is_empty() {
            return Err(SplitError::EmptyPart {
                column: column.to_string(),
                part,
            });
        }
    }
    Ok(SplitPlan {
        seed,
        test,
        folds: vec![FoldSplit {
            index: 0,
            train,
            valid,
        }],
    })
}

/// A hold-out test set and folds in which no group straddles two parts, each part's class
/// counts as near their proportional share as whole groups allow: groups are dealt largest
/// first (ties in seeded random order) to the part whose class counts they bring closest to
/// its targets. The groups must fill the test set and every fold.
pub fn grouped_split(
    labels: &[usize],
    groups: &[usize],
    section: &SplitSection,
    seed: u64,
) -> Result<SplitPlan, SplitError> {
    let classes = labels.iter().max().map_or(0, |&c| c + 1);
    let count = groups.iter().max().map_or(0, |&g| g + 1);
    let mut class_counts = vec![vec![0.0; classes]; count];
    for (&group, &label) in groups.iter().zip(labels) {
        class_counts[group][label] += 1.0;
    }
    let totals = |members: &[usize]| {
        let mut total = vec![0.0; classes];
        for &g in members {
            total
                .iter_mut()
                .zip(&class_counts[g])
                .for_each(|(t, c)| *t += c);
        }
        total
    };
    let all: Vec<usize> = (0..count).collect();
    let fraction = section.test_fraction;
    let whole = totals(&all);
    let targets = [
        whole.iter().map(|n| n * fraction).collect(),
        whole.iter().map(|n| n * (1.0 - fraction)).collect(),
    ];
    let holdout = deal(
        all,
        &class_counts,
        &targets,
        &mut RandomStream::new(seed, "split/holdout-groups"),
    );
    let cv: Vec<usize> = (0..count).filter(|&g| holdout[g] == 1).collect();
    let too_few = || SplitError::TooFewGroups {
        column: section.group_by.clone().unwrap_or_default(),
        groups: count,
        folds: section.folds,
    };
    if cv.len() < section.folds || cv.len() == count {
        return Err(too_few());
    }
    let cv_totals = totals(&cv);
    let share: Vec<f64> = cv_totals.iter().map(|n| n / section.folds as f64).collect();
    let fold_targets = vec![share; section.folds];
    let fold_of_group = deal(
        cv,
        &class_counts,
        &fold_targets,
        &mut RandomStream::new(seed, "split/fold-groups"),
    );
    let fold_of: Vec<usize> = (groups.iter())
        .map(|&g| {
            if holdout[g] == 0 {
                usize::MAX
            } else {
                fold_of_group[g]
            }
        })
        .collect();
    let test = members(&fold_of, |f| f == usize::MAX);
    if (0..section.folds).any(|fold| !fold_of.contains(&fold)) {
        return Err(too_few());
    }
    Ok(SplitPlan {
        seed,
        test,
        folds: fold_splits(&fold_of, section.folds),
    })
}

/// Assigns each of `groups` to one of the parts `targets` describes (per-class song counts),
/// largest group first, each to the part whose squared distance to its targets it raises
/// least (ties to the lower part). Returns each group's part, `usize::MAX` for groups not dealt.
fn deal(
    mut groups: Vec<usize>,
    class_counts: &[Vec<f64>],
    targets: &[Vec<f64>],
    stream: &mut RandomStream,
) -> Vec<usize> {
    stream.shuffle(&mut groups);
    let size = |g: usize| class_counts[g].iter().sum::<f64>();
    groups.sort_by(|&a, &b| size(b).total_cmp(&size(a)));
    let mut filled = vec![vec![0.0; targets[0].len()]; targets.len()];
    let mut part_of = vec![usize::MAX; class_counts.len()];
    for g in groups {
        let raise = |part: usize| -> f64 {
            (filled[part]
                .iter()
                .zip(&targets[part])
                .zip(&class_counts[g]))
            .map(|((f, t), c)| (f + c - t).powi(2) - (f - t).powi(2))
            .sum()
        };
        let part = (0..targets.len())
            .min_by(|&a, &b| raise(a).total_cmp(&raise(b)))
            .expect("at least one part");
        filled[part]
            .iter_mut()
            .zip(&class_counts[g])
            .for_each(|(f, c)| *f += c);
        part_of[g] = part;
    }
    part_of
}

fn songs_by_class(labels: &[usize], classes: usize) -> Vec<Vec<usize>> {
    let mut by_class = vec![Vec::new(); classes];
    for (song, &label) in labels.iter().enumerate() {
        by_class[label].push(song);
    }
    by_class
}

/// Test songs per class: the total is `round(n * fraction)`, shared out by largest remainder,
/// so every class is within one song of its proportional share.
fn test_quotas(by_class: &[Vec<usize>], fraction: f64) -> Vec<usize> {
    let total: usize = by_class.iter().map(Vec::len).sum();
    let target = (total as f64 * fraction).round() as usize;
    let shares: Vec<f64> = by_class.iter().map(|s| s.len() as f64 * fraction).collect();
    let mut quotas: Vec<usize> = shares.iter().map(|s| s.floor() as usize).collect();
    let mut by_remainder: Vec<usize> = (0..shares.len()).collect();
    // Stable sort: ties go to the lower class index, so quotas never depend on anything else.
    by_remainder.sort_by(|&a, &b| {
        (shares[b] - shares[b].floor()).total_cmp(&(shares[a] - shares[a].floor()))
    });
    let missing = target.saturating_sub(quotas.iter().sum());
    for &class in by_remainder.iter().take(missing) {
        quotas[class] += 1;
    }
    quotas
}

/// Every class with songs must reach every fold; classes without any songs do not count.
fn check_fold_count(
    cv_by_class: &[Vec<usize>],
    test_quotas: &[usize],
    class_names: &[String],
    folds: usize,
) -> Result<(), SplitError> {
    let smallest = cv_by_class
        .iter()
        .enumerate()
        .filter(|(class, songs)| !songs.is_empty() || test_quotas[*class] > 0)
        .min_by_key(|(_, songs)| songs.len());
    match smallest {
        Some((class, songs)) if songs.len() < folds => Err(SplitError::TooManyFolds {
            folds,
            class: class_names[class].clone(),
            available: songs.len(),
        }),
        _ => Ok(()),
    }
}

/// The folds of songs whose fold is `fold_of[song]` (`usize::MAX` for the hold-out).
fn fold_splits(fold_of: &[usize], folds: usize) -> Vec<FoldSplit> {
    (0..folds)
        .map(|index| FoldSplit {
            index,
            train: members(fold_of, |f| f != usize::MAX && f != index),
            valid: members(fold_of, |f| f == index),
        })
        .collect()
}

fn members(fold_of: &[usize], keep: impl Fn(usize) -> bool) -> Vec<usize> {
    (0..fold_of.len()).filter(|&s| keep(fold_of[s])).collect()
}
