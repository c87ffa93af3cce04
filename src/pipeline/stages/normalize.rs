//! The `normalize[k]@S` stage: each extracted modality's normalization fitted on fold k's
//! training songs and applied to every experiment song, and its artifact, which training and
//! `mer predict` read. For each extracted modality `m`:
//!
//! | array             | type, shape          | what                                                     |
//! |-------------------|----------------------|----------------------------------------------------------|
//! | `m.ids`           | `strings [rows]`     | experiment songs with `m` features: train, valid, test   |
//! | `m.features`      | `f32 [rows, kept]`   | normalized features, rows in `m.ids` order               |
//! | `m.feature_names` | `strings [kept]`     | names of the kept columns                                |
//! | `m.kept`          | `i64 [kept]`         | their indices into the extracted columns                 |
//! | `m.center`        | `f64 [kept]`         | subtracted from each kept column                         |
//! | `m.scale`         | `f64 [kept]`         | then divided by (positive, finite)                       |
//! | `m.method`        | `strings [1]`        | `standard`, `robust`, `minmax`, `l2` (rows to unit length after scaling) or `none` |
//! | `m.idf`           | `f64 [bow]`          | TF-IDF only: idf of each bag-of-words column             |
//! | `m.bow`           | `i64 [bow]`          | TF-IDF only: those columns' indices into the extracted ones |
//!
//! New songs are normalized the same way ([`crate::normalize::Normalizer`]): TF-IDF on the
//! extracted row (bow columns times idf, then that block to unit length), keep `m.kept`,
//! subtract `m.center`, divide by `m.scale`, and for `l2` divide the row by its norm.

use std::collections::HashMap;

use serde::Serialize;

use crate::cache::{Artifact, StageInputs};
use crate::modality::Modality;
use crate::normalize::{Normalizer, Scaler, Tfidf};
use crate::pipeline::error::PipelineError;
use crate::pipeline::stage_id::StageKind;
use crate::spec::{ExperimentSpec, NormalizeSection, Scaling};

use super::extracted::ExtractView;
use super::protocol::{Artifacts, Stage, StageContext, Upstream, key_config};
use super::split::{self, SplitArtifact};
use super::view::{f64_array, i64_array, indices_below, malformed, missing, sized, strings};

/// The stage's name.
pub(crate) const NAME: &str = "normalize";
/// Per-fold TF-IDF and scaling fitted on the fold's training songs, constant features dropped,
/// normalized features stored (1 stored only a mean and standard deviation per feature).
pub(crate) const VERSION: u32 = 2;

/// Everything normalization reads: its key slice.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NormalizeParams {
    normalize: NormalizeSection,
    fold: usize,
}

impl NormalizeParams {
    pub(crate) fn new(spec: &ExperimentSpec, fold: usize) -> Self {
        NormalizeParams {
            normalize: spec.normalize.clone(),
            fold,
        }
    }
}

/// One fold's normalization of every extracted modality.
#[derive(Debug, Clone)]
pub(crate) struct Normalize {
    pub(crate) params: NormalizeParams,
    /// Which songs train fold k.
    pub(crate) split: Upstream,
    /// Each selected modality's extraction.
    pub(crate) extracts: Vec<(Modality, Upstream)>,
}

impl Stage for Normalize {
    fn kind(&self) -> StageKind {
        StageKind::per_fold(NAME, self.params.fold)
    }

    fn inputs(&self) -> StageInputs {
        let mut inputs = StageInputs::new(NAME, VERSION)
            .config(key_config(&self.params))
            .upstream(split::NAME, self.split.key);
        for (_, extract) in &self.extracts {
            inputs = inputs.upstream(extract.instance.clone(), extract.key);
        }
        inputs
    }

    fn upstream(&self) -> Vec<usize> {
        let extracts = self.extracts.iter().map(|(_, e)| e.index);
        std::iter::once(self.split.index).chain(extracts).collect()
    }

    /// Fits fold k's normalization of each extracted modality on the fold's training songs
    /// (split fold neither -1 nor k) and applies it to every experiment song with its features.
    fn compute(
        &self,
        artifact: &mut Artifact,
        upstream: Artifacts<'_>,
        cx: &StageContext<'_>,
    ) -> Result<(), PipelineError> {
        let fold = self.params.fold;
        let split = SplitArtifact::read(upstream.of(&self.split), cx.classes())?;
        let fold_of: HashMap<&str, i64> = split
            .ids
            .iter()
            .map(String::as_str)
            .zip(split.fold.iter().copied())
            .collect();
        for (modality, extract) in &self.extracts {
            let settings = &self.params.normalize;
            let tfidf = *modality == Modality::Lyrics && settings.tfidf;
            let extract = upstream.of(extract);
            let fitted =
                normalize_modality(extract, &fold_of, fold, settings.scaling(*modality), tfidf)?;
            if fitted.names.is_empty() {
                return Err(PipelineError::NoVaryingFeature {
                    modality: *modality,
                    fold,
                    training_songs: fitted.training_songs,
                });
            }
            fitted.write(artifact, *modality);
        }
        Ok(())
    }
}

/// One modality's normalized features and fitted parameters.
struct NormalizedModality {
    /// Training songs of the fold the normalizer was fitted on.
    training_songs: usize,
    ids: Vec<String>,
    names: Vec<String>,
    features: Vec<f32>,
    normalizer: Normalizer,
}

/// The array `array` of `modality` in the artifact, e.g. `audio.features`.
fn array_name(modality: Modality, array: &str) -> String {
    format!("{}.{array}", modality.name())
}

const IDS: &str = "ids";
const FEATURES: &str = "features";

impl NormalizedModality {
    fn write(self, artifact: &mut Artifact, modality: Modality) {
        let name = |array: &str| array_name(modality, array);
        let kept = self.normalizer.scaler.kept.len();
        artifact.put_strings(&name(IDS), self.ids.clone()).put_f32(
            &name(FEATURES),
            &[self.ids.len(), kept],
            self.features,
        );
        FittedNormalization {
            modality,
            normalizer: self.normalizer,
            names: self.names,
        }
        .write(artifact);
    }
}

/// One modality's normalization as fitted on a fold's training songs: what `mer predict`
/// applies to new songs, stored in the normalize artifact and in model bundles alike.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FittedNormalization {
    pub(crate) modality: Modality,
    pub(crate) normalizer: Normalizer,
    /// The kept columns' names, in `normalizer.scaler.kept` order.
    pub(crate) names: Vec<String>,
}

const KEPT: &str = "kept";

impl FittedNormalization {
    /// Writes the parameters (every array of the module doc but `ids` and `features`).
    pub(crate) fn write(&self, artifact: &mut Artifact) {
        let name = |array: &str| array_name(self.modality, array);
        let scaler = &self.normalizer.scaler;
        let kept = scaler.kept.len();
        // The spec's spelling (`minmax`), so a reader can match it against `normalize.method`.
        let method = serde_json::to_value(scaler.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        artifact
            .put_strings(&name("feature_names"), self.names.clone())
            .put_i64(&name(KEPT), &[kept], indices(&scaler.kept))
            .put_f64(&name("center"), &[kept], scaler.center.clone())
            .put_f64(&name("scale"), &[kept], scaler.scale.clone())
            .put_strings(&name("method"), vec![method]);
        if let Some(tfidf) = &self.normalizer.tfidf {
            let bow = tfidf.columns.len();
            artifact
                .put_f64(&name("idf"), &[bow], tfidf.idf.clone())
                .put_i64(&name("bow"), &[bow], indices(&tfidf.columns));
        }
    }

    /// Every modality's fitted normalization in `artifact`, in [`Modality::ALL`] order.
    pub(crate) fn read_all(artifact: &Artifact) -> Result<Vec<Self>, PipelineError> {
        Modality::ALL
            .into_iter()
            .filter(|&m| artifact.array(&array_name(m, KEPT)).is_some())
            .map(|m| Self::read(artifact, m))
            .collect()
    }

    fn read(artifact: &Artifact, modality: Modality) -> Result<Self, PipelineError> {
        let name = |array: &str| array_name(modality, array);
        let columns = |array: &str, len: Option<usize>| -> Result<Vec<usize>, PipelineError> {
            let values = i64_array(artifact, &name(array))?;
            let values = match len {
                Some(len) => sized(artifact, &name(array), values, len)?,
                None => values,
            };
            indices_below(artifact, &name(array), values, usize::MAX)
        };
        let kept = columns(KEPT, None)?;
        let floats = |array: &str, len: usize| -> Result<Vec<f64>, PipelineError> {
            Ok(sized(
                artifact,
                &name(array),
                f64_array(artifact, &name(array))?,
                len,
            )?
            .to_vec())
        };
        let method_name = &sized(
            artifact,
            &name("method"),
            strings(artifact, &name("method"))?,
            1,
        )?[0];
        let method: Scaling = serde_json::from_value(serde_json::Value::String(
            method_name.clone(),
        ))
        .map_err(|_| {
            malformed(
                artifact,
                format!("array `{}`: unknown method `{method_name}`", name("method")),
            )
        })?;
        let tfidf = match artifact.array(&name("bow")) {
            None => None,
            Some(_) => {
                let bow = columns("bow", None)?;
                let idf = floats("idf", bow.len())?;
                Some(Tfidf { columns: bow, idf })
            }
        };
        let names = strings(artifact, &name("feature_names"))?;
        Ok(FittedNormalization {
            modality,
            names: sized(artifact, &name("feature_names"), names, kept.len())?.to_vec(),
            normalizer: Normalizer {
                tfidf,
                scaler: Scaler {
                    method,
                    center: floats("center", kept.len())?,
                    scale: floats("scale", kept.len())?,
                    kept,
                },
            },
        })
    }
}

fn indices(columns: &[usize]) -> Vec<i64> {
    columns.iter().map(|&j| j as i64).collect()
}

/// Fits on the training songs of `fold` among `extract`'s rows, transforms every experiment
/// song's row (songs the split does not know, left out of the experiment, are dropped).
fn normalize_modality(
    extract: &Artifact,
    fold_of: &HashMap<&str, i64>,
    fold: usize,
    method: Scaling,
    tfidf: bool,
) -> Result<NormalizedModality, PipelineError> {
    let ExtractView {
        ids,
        names,
        features: values,
    } = ExtractView::read(extract)?;
    let width = names.len();
    let rows: Vec<(&str, &[f32])> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| fold_of.contains_key(id.as_str()))
        .map(|(i, id)| (id.as_str(), &values[i * width..(i + 1) * width]))
        .collect();
    let training: Vec<&[f32]> = rows
        .iter()
        .filter(|(id, _)| fold_of.get(id).is_some_and(|&f| split::trains_in(f, fold)))
        .map(|(_, row)| *row)
        .collect();
    let stage = &extract.meta.stage;
    let bow: Vec<usize> = (0..width)
        .filter(|&j| is_term_frequency(&names[j]))
        .collect();
    let bow = (tfidf && !bow.is_empty()).then_some(bow);
    let normalizer = Normalizer::fit(method, bow, &training, width);
    let features = rows
        .iter()
        .flat_map(|(_, row)| normalizer.transform(row))
        .collect();
    tracing::debug!(
        "normalize[{fold}]: {stage}: {} of {width} features kept, fitted on {} songs",
        normalizer.scaler.kept.len(),
        training.len()
    );
    Ok(NormalizedModality {
        training_songs: training.len(),
        ids: rows.iter().map(|(id, _)| id.to_string()).collect(),
        names: normalizer
            .scaler
            .kept
            .iter()
            .map(|&j| names[j].clone())
            .collect(),
        features,
        normalizer,
    })
}

/// One modality's normalized features as training and evaluation read them.
pub(crate) struct NormalizedView<'a> {
    pub(crate) modality: Modality,
    pub(crate) ids: &'a [String],
    /// Features per song.
    pub(crate) width: usize,
    /// `ids.len() x width`, row-major.
    pub(crate) features: &'a [f32],
}

impl<'a> NormalizedView<'a> {
    /// The normalized modalities of a normalize artifact, in [`Modality::ALL`] order.
    pub(crate) fn read_all(normalize: &'a Artifact) -> Result<Vec<Self>, PipelineError> {
        let mut views = Vec::new();
        for modality in Modality::ALL {
            let Some(ids) = normalize
                .array(&array_name(modality, IDS))
                .and_then(|a| a.as_str())
            else {
                continue;
            };
            let features_name = array_name(modality, FEATURES);
            let array = normalize
                .array(&features_name)
                .ok_or_else(|| missing(normalize, &features_name))?;
            let &[rows, width] = array.shape.as_slice() else {
                return Err(malformed(
                    normalize,
                    format!(
                        "array `{features_name}` has shape {:?}, not [songs, features]",
                        array.shape
                    ),
                ));
            };
            let features = array
                .as_f32()
                .ok_or_else(|| missing(normalize, &features_name))?;
            if rows != ids.len() || width == 0 {
                return Err(malformed(
                    normalize,
                    format!(
                        "array `{features_name}` has shape {:?} for {} songs",
                        array.shape,
                        ids.len()
                    ),
                ));
            }
            views.push(NormalizedView {
                modality,
                ids,
                width,
                features,
            });
        }
        Ok(views)
    }
}

/// Whether a feature is a hashed bag-of-words term frequency (`bow_17`, or
/// `hashed-bow.bow_17` when joined with another lyrics extractor's features), which
/// `tfidf` reweights.
fn is_term_frequency(name: &str) -> bool {
    let own = name.strip_prefix("hashed-bow.").unwrap_or(name);
    own.starts_with("bow_")
}
