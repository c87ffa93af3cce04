//! The `split@S` stage: the hold-out test set and the folds of the experiment's songs under
//! seed S, and its artifact.
//!
//! | array    | type, shape     | what                                      |
//! |----------|-----------------|-------------------------------------------|
//! | `ids`    | `strings [songs]` | the experiment's songs, in dataset order  |
//! | `labels` | `i64 [songs]`   | each song's class index                   |
//! | `fold`   | `i64 [songs]`   | each song's fold; -1 hold-out, -2 in no part, -3 trains in every fold (a fixed split's train songs) |

use serde::Serialize;

use crate::cache::{Artifact, KeyEncoder, StageInputs, StageKey};
use crate::dataset::targets::SongTargets;
use crate::dataset::{DatasetLoad, Manifest};
use crate::pipeline::error::PipelineError;
use crate::pipeline::stage_id::StageKind;
use crate::spec::{ExperimentSpec, SplitMethod, SplitSection};
use crate::split::{SplitPlan, fixed_split, song_groups, split_data};

use super::protocol::{Artifacts, Stage, StageContext, key_config};
use super::view::{i64_array, indices_below, sized, strings};

/// The stage's name.
pub(crate) const NAME: &str = "split";
/// Stratified hold-out + k-fold assignment.
pub(crate) const VERSION: u32 = 1;

/// Everything the split reads: its key slice.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SplitParams {
    /// `test_fraction` and `folds`; `rare_classes` (in the key only when `"fail"`) is applied
    /// before the graph is built and reaches the split through `manifest`, but stays in the key
    /// so that keys stay as they were.
    split: SplitSection,
    seed: u64,
    /// [`manifest_digest`] of the songs it splits, which it reads from the dataset.
    manifest: String,
    /// With `split.group_by`: a digest of each song's group, which the dataset's metadata
    /// decides (editing an artist re-splits). Absent otherwise, so keys stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<String>,
    /// With `split.method = "fixed"`: a digest of each song's part, which the dataset's
    /// metadata decides. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    parts: Option<String>,
    /// With a regression or multi-label `[task]`: a digest of every song's targets or tags,
    /// which the dataset's metadata decides and training reads. Absent for a classification.
    #[serde(skip_serializing_if = "Option::is_none")]
    targets: Option<String>,
}

impl SplitParams {
    pub(crate) fn new(spec: &ExperimentSpec, seed: u64, data: &DatasetLoad) -> Self {
        let manifest = &data.manifest;
        let column = spec.split.group_by.as_deref();
        SplitParams {
            split: spec.split.clone(),
            seed,
            manifest: manifest_digest(manifest),
            groups: column.map(|column| groups_digest(manifest, column)),
            parts: (spec.split.method == SplitMethod::Fixed)
                .then(|| parts_digest(manifest, spec.split.fixed_column())),
            targets: targets_digest(&data.targets),
        }
    }
}

/// A digest of each song's group under `split.group_by = column` (a column no song has
/// digests as no groups; the split then fails naming it).
fn groups_digest(manifest: &Manifest, column: &str) -> String {
    let groups = song_groups(manifest, column).unwrap_or_default();
    let mut encoder = KeyEncoder::with_context("mer split groups digest v1");
    encoder.list_len(groups.len());
    for group in groups {
        encoder.u32(group as u32);
    }
    StageKey(encoder.finish()).short()
}

/// A digest of every song's regression targets or tags (in dataset order), `None` for a
/// classification, whose labels the manifest digest already holds.
fn targets_digest(targets: &SongTargets) -> Option<String> {
    let mut encoder = KeyEncoder::with_context("mer split targets digest v1");
    match targets {
        SongTargets::Classes => return None,
        SongTargets::Values { names, values } => {
            encoder.list_len(names.len());
            names.iter().for_each(|n| encoder.str(n));
            encoder.list_len(values.len());
            values.iter().for_each(|v| encoder.u32(v.to_bits()));
        }
        SongTargets::Tags(tags) => {
            encoder.list_len(tags.vocabulary.len());
            tags.vocabulary.iter().for_each(|t| encoder.str(t));
            encoder.list_len(tags.carried.len());
            tags.carried.iter().for_each(|&c| encoder.u32(u32::from(c)));
        }
    }
    Some(StageKey(encoder.finish()).short())
}

/// A digest of each song's part under a fixed split on `column` (a column that does not
/// split digests as no parts; the split then fails saying why).
fn parts_digest(manifest: &Manifest, column: &str) -> String {
    let mut encoder = KeyEncoder::with_context("mer split parts digest v1");
    let fold = fixed_split(manifest, column, 0)
        .map(|plan| song_folds(&plan, manifest.songs.len()))
        .unwrap_or_default();
    encoder.list_len(fold.len());
    for f in fold {
        encoder.int(i128::from(f));
    }
    StageKey(encoder.finish()).short()
}

/// Each song's entry in the `fold` array (see the module doc).
fn song_folds(plan: &SplitPlan, songs: usize) -> Vec<i64> {
    let mut fold = vec![NO_PART; songs];
    for &song in &plan.test {
        fold[song] = TEST;
    }
    for assigned in &plan.folds {
        for &song in &assigned.train {
            if fold[song] == NO_PART {
                fold[song] = ALWAYS_TRAIN;
            }
        }
    }
    for assigned in &plan.folds {
        for &song in &assigned.valid {
            fold[song] = assigned.index as i64;
        }
    }
    fold
}

/// Whether a song whose `fold` entry is `entry` trains fold `fold`: it validates another
/// fold, or trains in every fold.
pub(crate) fn trains_in(entry: i64, fold: usize) -> bool {
    entry == ALWAYS_TRAIN || (entry >= 0 && entry != fold as i64)
}

/// `fold` of a hold-out test song.
const TEST: i64 = -1;
/// `fold` of a song in no part (a fixed split without a value for it).
const NO_PART: i64 = -2;
/// `fold` of a song that trains in every fold and validates in none.
const ALWAYS_TRAIN: i64 = -3;

/// The split of one seed.
#[derive(Debug, Clone)]
pub(crate) struct Split {
    pub(crate) params: SplitParams,
}

impl Stage for Split {
    fn kind(&self) -> StageKind {
        StageKind::new(NAME)
    }

    fn inputs(&self) -> StageInputs {
        StageInputs::new(NAME, VERSION).config(key_config(&self.params))
    }

    fn compute(
        &self,
        artifact: &mut Artifact,
        _: Artifacts<'_>,
        cx: &StageContext<'_>,
    ) -> Result<(), PipelineError> {
        let manifest = &cx.data.manifest;
        let plan = split_data(cx.data, &self.params.split, self.params.seed)?;
        SplitArtifact {
            ids: manifest.songs.iter().map(|s| s.id.clone()).collect(),
            labels: manifest.songs.iter().map(|s| s.label).collect(),
            fold: song_folds(&plan, manifest.songs.len()),
        }
        .write(artifact);
        Ok(())
    }
}

/// A digest of the experiment's songs and labels, in dataset order: what the split reads.
fn manifest_digest(manifest: &Manifest) -> String {
    let mut encoder = KeyEncoder::with_context("mer manifest digest v1");
    encoder.list_len(manifest.songs.len());
    for song in &manifest.songs {
        encoder.str(&song.id);
        encoder.str(&manifest.classes[song.label]);
    }
    StageKey(encoder.finish()).short()
}

const IDS: &str = "ids";
const LABELS: &str = "labels";
const FOLD: &str = "fold";

/// The split artifact (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct SplitArtifact {
    pub(crate) ids: Vec<String>,
    pub(crate) labels: Vec<usize>,
    /// Fold of each song, or [`TEST`], [`NO_PART`], [`ALWAYS_TRAIN`].
    pub(crate) fold: Vec<i64>,
}

impl SplitArtifact {
    fn write(self, artifact: &mut Artifact) {
        let rows = self.ids.len();
        let labels = self.labels.iter().map(|&l| l as i64).collect();
        artifact
            .put_strings(IDS, self.ids)
            .put_i64(LABELS, &[rows], labels)
            .put_i64(FOLD, &[rows], self.fold);
    }

    /// The split's arrays, checked to describe the same songs with labels below `classes`.
    pub(crate) fn read(split: &Artifact, classes: usize) -> Result<Self, PipelineError> {
        let ids = strings(split, IDS)?.to_vec();
        let labels = sized(split, LABELS, i64_array(split, LABELS)?, ids.len())?;
        Ok(SplitArtifact {
            labels: indices_below(split, LABELS, labels, classes)?,
            fold: sized(split, FOLD, i64_array(split, FOLD)?, ids.len())?.to_vec(),
            ids,
        })
    }

    /// Rows whose fold passes `keep`.
    pub(crate) fn rows(&self, keep: impl Fn(i64) -> bool) -> Vec<usize> {
        (0..self.ids.len())
            .filter(|&r| keep(self.fold[r]))
            .collect()
    }

    /// The hold-out test set's rows.
    pub(crate) fn test_rows(&self) -> Vec<usize> {
        self.rows(|f| f == TEST)
    }

    /// The training rows of fold `fold`: every fold but it, never the test set.
    pub(crate) fn training_rows(&self, fold: usize) -> Vec<usize> {
        self.rows(|f| trains_in(f, fold))
    }

    /// The validation rows of fold `fold`.
    pub(crate) fn validation_rows(&self, fold: usize) -> Vec<usize> {
        self.rows(|f| f == fold as i64)
    }
}
