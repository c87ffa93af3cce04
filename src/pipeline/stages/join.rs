//! The `extract.<modality>` stage of a modality with several extractors
//! (`extractor = ["spectral", "musicnn"]`): each extractor's artifact joined into the one
//! matrix normalization and the model read, with the same arrays as an extraction.
//!
//! A song has the modality when every extractor gave it features; a song one of them skipped
//! is skipped here, with each extractor's reason. Feature names are prefixed with their
//! extractor (`musicnn.penultimate.3.mean`), so names stay unique and say where they came from.
//! The join is cheap and keyed by its parts' keys: changing one extractor's settings reruns
//! that extractor and the join, not the others.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::cache::{Artifact, StageInputs};
use crate::modality::Modality;
use crate::pipeline::error::PipelineError;
use crate::pipeline::stage_id::StageKind;

use super::extract::stage_name;
use super::extracted::{ExtractView, ExtractedRows, skipped};
use super::protocol::{Artifacts, Stage, StageContext, Upstream};

/// Version of the join's artifact.
const VERSION: u32 = 1;

/// The join of one modality's extractors' artifacts, in the spec's order.
#[derive(Debug, Clone)]
pub(crate) struct JoinExtracts {
    pub(crate) modality: Modality,
    /// Each extractor's name and its extraction stage.
    pub(crate) parts: Vec<(&'static str, Upstream)>,
}

impl Stage for JoinExtracts {
    fn kind(&self) -> StageKind {
        StageKind::new(stage_name(self.modality))
    }

    fn inputs(&self) -> StageInputs {
        let names: Vec<&str> = self.parts.iter().map(|(name, _)| *name).collect();
        let mut inputs = StageInputs::new(stage_name(self.modality), VERSION);
        inputs.config.insert("joined", names.join(","));
        for (_, part) in &self.parts {
            inputs = inputs.upstream(part.instance.clone(), part.key);
        }
        inputs
    }

    fn upstream(&self) -> Vec<usize> {
        self.parts.iter().map(|(_, part)| part.index).collect()
    }

    fn compute(
        &self,
        artifact: &mut Artifact,
        upstream: Artifacts<'_>,
        _: &StageContext<'_>,
    ) -> Result<(), PipelineError> {
        let mut parts = Vec::new();
        for (name, part) in &self.parts {
            let extract = upstream.of(part);
            parts.push((*name, ExtractView::read(extract)?, skipped(extract)?));
        }
        join(&parts).store(artifact, &stage_name(self.modality));
        Ok(())
    }
}

/// One extractor's features and the songs it skipped with their reasons.
type Part<'a> = (&'a str, ExtractView<'a>, (&'a [String], &'a [String]));

/// The rows of the songs every part has, in the first part's order, the parts' features side
/// by side; every other song is skipped with the reasons the parts gave.
fn join(parts: &[Part<'_>]) -> ExtractedRows {
    let rows: Vec<HashMap<&str, usize>> = (parts.iter())
        .map(|(_, view, _)| {
            (view.ids.iter().enumerate())
                .map(|(i, id)| (id.as_str(), i))
                .collect()
        })
        .collect();
    let mut joined = ExtractedRows {
        names: (parts.iter())
            .flat_map(|(name, view, _)| view.names.iter().map(move |n| format!("{name}.{n}")))
            .collect(),
        ..ExtractedRows::default()
    };
    let (_, first, _) = &parts[0];
    for id in first.ids {
        let Some(at) = (rows.iter())
            .map(|r| r.get(id.as_str()).copied())
            .collect::<Option<Vec<usize>>>()
        else {
            continue;
        };
        joined.ids.push(id.clone());
        for ((_, view, _), row) in parts.iter().zip(at) {
            let width = view.names.len();
            joined
                .features
                .extend_from_slice(&view.features[row * width..(row + 1) * width]);
        }
    }
    let kept: HashSet<&str> = joined.ids.iter().map(String::as_str).collect();
    let mut reasons: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, view, (ids, why)) in parts {
        for (id, reason) in ids.iter().zip(*why) {
            reasons
                .entry(id)
                .or_default()
                .push(format!("{name}: {reason}"));
        }
        // A song another part skipped is listed here too, with no reason of this part's.
        for id in view.ids {
            if !kept.contains(id.as_str()) {
                reasons.entry(id).or_default();
            }
        }
    }
    for (id, why) in reasons {
        joined.skipped_ids.push(id.to_string());
        joined.skipped_reasons.push(why.join("; "));
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn songs_every_part_has_are_joined_and_the_rest_skipped_with_reasons() {
        let (a_ids, a_names) = (strings(&["s1", "s2", "s3"]), strings(&["x", "y"]));
        let a_features = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let (b_ids, b_names) = (strings(&["s3", "s1"]), strings(&["z"]));
        let b_features = [30.0, 10.0];
        let b_skipped = (strings(&["s2"]), strings(&["too short"]));
        let none: (Vec<String>, Vec<String>) = (vec![], vec![]);
        let view = |ids, names, features| ExtractView {
            ids,
            names,
            features,
        };
        let parts = [
            (
                "spectral",
                view(&a_ids, &a_names, &a_features),
                (&none.0[..], &none.1[..]),
            ),
            (
                "musicnn",
                view(&b_ids, &b_names, &b_features),
                (&b_skipped.0[..], &b_skipped.1[..]),
            ),
        ];
        let joined = join(&parts);
        assert_eq!(joined.names, ["spectral.x", "spectral.y", "musicnn.z"]);
        assert_eq!(joined.ids, ["s1", "s3"]);
        assert_eq!(joined.features, [1.0, 2.0, 10.0, 5.0, 6.0, 30.0]);
        assert_eq!(joined.skipped_ids, ["s2"]);
        assert_eq!(joined.skipped_reasons, ["musicnn: too short"]);
    }
}
