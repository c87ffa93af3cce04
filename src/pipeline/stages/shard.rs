//! Extraction in shards (`[executor] extract_shards = N`): the songs of a per-song extraction
//! split by a stable hash of their id into N shards, each an `extract.<modality>.shard[i]`
//! stage with its own artifact (the extraction's arrays over its songs), and the join that
//! puts them back together.
//!
//! Sharding is how the work is cut, not what it computes: the join writes exactly the
//! arrays the unsharded extraction would (rows in the listed songs' order) and takes the
//! unsharded extraction's key, so everything downstream is shared with unsharded runs, and a
//! run whose joined features are cached resolves none of the shards. A shard's key holds only
//! its own songs' files, so adding songs recomputes only the shards they land in; a crash
//! keeps every finished shard; on Slurm each shard is an array task of its own.

use std::collections::HashMap;

use crate::cache::{Artifact, StageInputs};
use crate::modality::Modality;
use crate::pipeline::error::PipelineError;
use crate::pipeline::stage_id::StageKind;

use super::extracted::{ExtractView, ExtractedRows, skipped};
use super::protocol::{Artifacts, Stage, StageContext, Upstream};

/// The name suffix of a shard's stage: `extract.audio.shard[3]`.
pub(crate) const SHARD: &str = "shard";

/// One of `count` shards of an extraction's songs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) index: usize,
    pub(crate) count: usize,
}

impl Shard {
    /// Whether song `id` falls in this shard.
    pub(crate) fn holds(&self, id: &str) -> bool {
        shard_of(id, self.count) == self.index
    }

    /// The shard's stage kind, e.g. `extract.audio.shard[3]` for the extraction `base`.
    pub(crate) fn kind(&self, base: &StageKind) -> StageKind {
        StageKind::per_fold(format!("{}.{SHARD}", base.name), self.index)
    }

    /// The key of the shard of the extraction keyed by `whole`: its settings, which shard it
    /// is, and its own songs' files only.
    pub(crate) fn inputs(&self, whole: &StageInputs) -> StageInputs {
        let mut inputs = whole.clone();
        inputs.files.retain(|id, _| self.holds(id));
        inputs
            .config
            .insert(SHARD, format!("{}/{}", self.index, self.count));
        inputs
    }
}

/// The shard of `count` that song `id` falls in: the first eight bytes of the id's BLAKE3
/// hash, modulo `count`. Independent of the other songs, of their order and of the platform.
pub(crate) fn shard_of(id: &str, count: usize) -> usize {
    let hash = blake3::hash(id.as_bytes());
    let head: [u8; 8] = hash.as_bytes()[..8].try_into().expect("32-byte hash");
    (u64::from_le_bytes(head) % count as u64) as usize
}

/// The join of an extraction's shards: the arrays of the unsharded extraction, under its key.
#[derive(Debug, Clone)]
pub(crate) struct JoinShards {
    pub(crate) modality: Modality,
    /// The unsharded extraction's kind (`extract.audio`, `extract.audio.musicnn`).
    pub(crate) kind: StageKind,
    /// The unsharded extraction's key inputs, which the join keeps as its own.
    pub(crate) whole: StageInputs,
    /// Every shard's stage, by shard index.
    pub(crate) shards: Vec<Upstream>,
}

impl Stage for JoinShards {
    fn kind(&self) -> StageKind {
        self.kind.clone()
    }

    /// The unsharded extraction's, with no upstream keys: the join is one way of computing
    /// the same artifact, so it must be found (and be usable) under the same key.
    fn inputs(&self) -> StageInputs {
        self.whole.clone()
    }

    fn upstream(&self) -> Vec<usize> {
        self.shards.iter().map(|shard| shard.index).collect()
    }

    fn compute(
        &self,
        artifact: &mut Artifact,
        upstream: Artifacts<'_>,
        cx: &StageContext<'_>,
    ) -> Result<(), PipelineError> {
        let stage = self.kind.to_string();
        let mut views = Vec::new();
        for shard in &self.shards {
            let extract = upstream
                .get(shard)
                .ok_or_else(|| PipelineError::Vanished(stage.clone()))?;
            views.push((ExtractView::read(extract)?, skipped(extract)?));
        }
        let listed = (cx.data.listed.songs.iter())
            .filter(|song| song.file(self.modality).is_some())
            .map(|song| song.id.as_str());
        join_shards(&views, listed, &stage)?.store(artifact, &stage);
        Ok(())
    }
}

/// A shard's features and the songs it skipped with their reasons.
type ShardRows<'a> = (ExtractView<'a>, (&'a [String], &'a [String]));

/// The shards' rows and skipped songs in the order of `listed`, the songs the unsharded
/// extraction would have read: the arrays it would have written.
fn join_shards<'a>(
    shards: &[ShardRows<'_>],
    listed: impl Iterator<Item = &'a str>,
    stage: &str,
) -> Result<ExtractedRows, PipelineError> {
    enum Found {
        Row(usize, usize),
        Skipped(usize, usize),
    }
    let mut found: HashMap<&str, Found> = HashMap::new();
    for (s, (view, (skipped_ids, _))) in shards.iter().enumerate() {
        for (row, id) in view.ids.iter().enumerate() {
            found.insert(id, Found::Row(s, row));
        }
        for (at, id) in skipped_ids.iter().enumerate() {
            found.insert(id, Found::Skipped(s, at));
        }
    }
    let mut rows = ExtractedRows {
        names: shards.first().map_or(Vec::new(), |(v, _)| v.names.to_vec()),
        ..ExtractedRows::default()
    };
    for id in listed {
        match found.get(id) {
            Some(&Found::Row(s, row)) => {
                let view = &shards[s].0;
                let width = view.names.len();
                rows.ids.push(id.to_string());
                rows.features
                    .extend_from_slice(&view.features[row * width..(row + 1) * width]);
            }
            Some(&Found::Skipped(s, at)) => {
                rows.skipped_ids.push(id.to_string());
                rows.skipped_reasons.push(shards[s].1.1[at].clone());
            }
            None => {
                return Err(PipelineError::ShardMissesSong {
                    stage: stage.to_string(),
                    id: id.to_string(),
                });
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_song_stays_in_its_shard_whatever_the_other_songs() {
        let ids: Vec<String> = (0..400).map(|i| format!("song-{i:03}")).collect();
        let counts: Vec<usize> = (0..8)
            .map(|s| ids.iter().filter(|id| shard_of(id, 8) == s).count())
            .collect();
        // Roughly even: 50 expected per shard.
        assert!(counts.iter().all(|&c| (25..=75).contains(&c)), "{counts:?}");
        // Pinned, so that a change of hash (which would move every cached shard's songs)
        // is seen.
        assert_eq!(
            ["001", "002", "003", "a", "b"].map(|id| shard_of(id, 8)),
            [1, 2, 6, 7, 0]
        );
    }

    #[test]
    fn shards_join_in_the_listed_order_with_skipped_songs_in_place() {
        let names = vec!["a".to_string(), "b".to_string()];
        let (ids0, ids1) = (vec!["s3".to_string()], vec!["s1".to_string()]);
        let features0 = [3.0, 30.0];
        let features1 = [1.0, 10.0];
        let skipped0 = (vec!["s2".to_string()], vec!["too short".to_string()]);
        let none: (Vec<String>, Vec<String>) = (vec![], vec![]);
        let view = |ids, features| ExtractView {
            ids,
            names: &names,
            features,
        };
        let shards = [
            (view(&ids0, &features0), (&skipped0.0[..], &skipped0.1[..])),
            (view(&ids1, &features1), (&none.0[..], &none.1[..])),
        ];
        let rows = join_shards(&shards, ["s1", "s2", "s3"].into_iter(), "extract.audio").unwrap();
        assert_eq!(rows.ids, ["s1", "s3"]);
        assert_eq!(rows.features, [1.0, 10.0, 3.0, 30.0]);
        assert_eq!(rows.skipped_ids, ["s2"]);
        assert_eq!(rows.skipped_reasons, ["too short"]);
        let missing = join_shards(&shards, ["s1", "s4"].into_iter(), "extract.audio");
        assert!(missing.unwrap_err().to_string().contains("s4"));
    }
}
