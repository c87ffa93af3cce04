//! The `extract.<modality>` stage: features of one modality for every listed song with a
//! file (or, for precomputed features, a row), whatever modalities are selected, so runs that
//! select different modalities share it; its key (the extractor's settings and every input
//! file by content) and its artifact.
//!
//! Its artifact's arrays are [`super::extracted`]'s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache::{Artifact, ConfigSlice, FileHasher, KeyEncoder, StageInputs, StageKey};
use crate::dataset::Manifest;
use crate::features::precomputed::FeatureTable;
use crate::features::{Extractor, FeatureError, FeatureSource};
use crate::modality::Modality;
use crate::pipeline::error::PipelineError;
use crate::pipeline::stage_id::StageKind;
use crate::spec::{ExperimentSpec, ModalitySections, OnError, PrecomputedSection};

use super::extracted::{ExtractedRows, UNKNOWN_IDS};
use super::protocol::{Artifacts, Stage, StageContext, section};
use super::shard::Shard;

/// The stage's name, before its modality.
pub(crate) const NAME: &str = "extract";
/// Per-song extraction in parallel, skipped songs recorded (1 was the file-size placeholder
/// for every modality); the extractor's own version enters the key separately.
pub(crate) const VERSION: u32 = 2;

/// The name of `modality`'s extraction stage, e.g. `extract.audio`: the stage whose artifact
/// the rest of the run reads.
pub(crate) fn stage_name(modality: Modality) -> String {
    format!("{NAME}.{}", modality.name())
}

/// The source a stage extracts: the modality's only one, or its extractor `part`.
fn source_of(
    modalities: &ModalitySections,
    modality: Modality,
    part: Option<Part>,
) -> FeatureSource<'_> {
    modalities.sources(modality)[part.map_or(0, |p| p.position)]
}

/// One extractor of a modality that has several (`extractor = ["spectral", "musicnn"]`): its
/// position in the list and its name, which names its stage (`extract.audio.musicnn`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part {
    pub(crate) position: usize,
    pub(crate) name: &'static str,
}

/// The extraction of one modality, or of one of its extractors. Its key is built with it,
/// from the same spec sections its compute reads, because it hashes the input files.
#[derive(Debug, Clone)]
pub(crate) struct Extract {
    pub(crate) modality: Modality,
    /// Which extractor, when the modality has several; its features are joined afterwards.
    part: Option<Part>,
    /// Which shard of the songs, when the extraction is split ([`super::shard`]).
    shard: Option<Shard>,
    /// What it reads of the spec: its modality's section (through [`FeatureSource`]).
    modalities: ModalitySections,
    inputs: StageInputs,
}

impl Extract {
    /// The extraction of `modality` (or of its extractor `part`) over the `listed` songs,
    /// hashing input files through `hasher`.
    pub(crate) fn new(
        spec: &ExperimentSpec,
        listed: &Manifest,
        modality: Modality,
        part: Option<Part>,
        hasher: &mut FileHasher,
    ) -> Result<Self, PipelineError> {
        Ok(Extract {
            modality,
            part,
            shard: None,
            modalities: spec.modalities.clone(),
            inputs: extract_inputs(spec, listed, modality, part, hasher)?,
        })
    }

    /// This extraction as `count` shards, when it reads songs one by one and `count` > 1; a
    /// precomputed matrix is read whole.
    pub(crate) fn shards(&self, count: usize) -> Option<Vec<Extract>> {
        let per_song = matches!(
            source_of(&self.modalities, self.modality, self.part),
            FeatureSource::Extractor(_)
        );
        (per_song && count > 1).then(|| {
            (0..count)
                .map(|index| {
                    let shard = Shard { index, count };
                    Extract {
                        shard: Some(shard),
                        inputs: shard.inputs(&self.inputs),
                        ..self.clone()
                    }
                })
                .collect()
        })
    }

    /// The stage kind of the whole extraction, sharded or not.
    fn whole_kind(&self) -> StageKind {
        match self.part {
            None => StageKind::new(stage_name(self.modality)),
            Some(part) => StageKind::new(format!("{}.{}", stage_name(self.modality), part.name)),
        }
    }
}

impl Stage for Extract {
    /// `extract.audio`, or `extract.audio.musicnn` for one of several extractors; a shard
    /// adds `.shard[i]`.
    fn kind(&self) -> StageKind {
        match self.shard {
            None => self.whole_kind(),
            Some(shard) => shard.kind(&self.whole_kind()),
        }
    }

    fn inputs(&self) -> StageInputs {
        self.inputs.clone()
    }

    fn compute(
        &self,
        artifact: &mut Artifact,
        _: Artifacts<'_>,
        cx: &StageContext<'_>,
    ) -> Result<(), PipelineError> {
        let stage = self.kind().to_string();
        let source = source_of(&self.modalities, self.modality, self.part);
        let extracted = match source {
            FeatureSource::Extractor(extractor) => {
                extract_per_song(extractor, cx, (self.modality, self.shard), &stage)
            }
            FeatureSource::Precomputed(table) => {
                let extracted = extract_precomputed(table, cx, self.modality)?;
                artifact.put_strings(UNKNOWN_IDS, extracted.unknown_ids.clone());
                extracted
            }
        };
        let on_error = self.modalities.on_error(self.modality);
        store_features(artifact, on_error, (self.modality, &stage), extracted)
    }
}

/// One song's id, the file its features come from, and the features or why there are none.
type SongFeatures<'a> = (&'a str, PathBuf, Result<Vec<f32>, FeatureError>);

/// Features of each song, or why it has none, before `on_error` decides.
struct Extracted<'a> {
    names: Vec<String>,
    songs: Vec<SongFeatures<'a>>,
    unknown_ids: Vec<String>,
}

/// Runs `extractor` on every listed song (of `shard`, if given) with a media file, in
/// parallel.
fn extract_per_song<'a>(
    extractor: Extractor<'_>,
    cx: &StageContext<'a>,
    (modality, shard): (Modality, Option<Shard>),
    stage: &str,
) -> Extracted<'a> {
    let songs: Vec<(&str, &Path)> = (cx.data.listed.songs.iter())
        .filter(|song| shard.is_none_or(|shard| shard.holds(&song.id)))
        .filter_map(|song| Some((song.id.as_str(), song.file(modality)?)))
        .collect();
    cx.observer.songs_started(stage, songs.len());
    Extracted {
        names: extractor.feature_names(),
        songs: songs
            .par_iter()
            .map(|(id, path)| {
                let features = extractor.extract(path);
                cx.observer.song_done(stage);
                (*id, path.to_path_buf(), features)
            })
            .collect(),
        unknown_ids: Vec::new(),
    }
}

/// Reads the matrix once and matches its rows to the listed songs that have `modality` (a
/// media file or a row): no row and non-finite rows are per-song failures; ids the dataset
/// does not list are reported and returned.
fn extract_precomputed<'a>(
    section: &PrecomputedSection,
    cx: &StageContext<'a>,
    modality: Modality,
) -> Result<Extracted<'a>, PipelineError> {
    let table = FeatureTable::read(section, modality)
        .map_err(|source| PipelineError::Precomputed { modality, source })?;
    let listed = &cx.data.listed.songs;
    let unknown_ids = table.unknown_ids(listed.iter().map(|s| s.id.as_str()));
    if !unknown_ids.is_empty() {
        let examples: Vec<&str> = unknown_ids.iter().take(5).map(String::as_str).collect();
        tracing::warn!(
            "extract.{modality}: {} of {} rows of {} belong to no listed song (e.g. {}); they are left out",
            unknown_ids.len(),
            table.ids.len(),
            table.path.display(),
            examples.join(", ")
        );
    }
    let songs = listed
        .iter()
        .filter(|song| song.present().contains(modality))
        .map(|song| {
            let row = table.row(&song.id).map(<[f32]>::to_vec);
            (
                song.id.as_str(),
                table.path.clone(),
                row.map_err(Into::into),
            )
        })
        .collect();
    Ok(Extracted {
        names: table.names.clone(),
        songs,
        unknown_ids,
    })
}

/// Stores the features, names and skipped songs, applying the modality's `on_error`.
fn store_features(
    artifact: &mut Artifact,
    on_error: OnError,
    (modality, stage): (Modality, &str),
    extracted: Extracted<'_>,
) -> Result<(), PipelineError> {
    let Extracted { names, songs, .. } = extracted;
    let mut rows = ExtractedRows {
        names,
        ..ExtractedRows::default()
    };
    for (id, path, result) in songs {
        match result {
            Ok(vector) => {
                debug_assert_eq!(vector.len(), rows.names.len());
                rows.ids.push(id.to_string());
                rows.features.extend(vector);
            }
            Err(err) if on_error == OnError::Fail => {
                return Err(PipelineError::Extraction {
                    modality,
                    id: id.to_string(),
                    path,
                    reason: err.to_string(),
                });
            }
            Err(err) => {
                tracing::warn!("{modality} of song {id} skipped: {err}");
                rows.skipped_ids.push(id.to_string());
                rows.skipped_reasons.push(err.to_string());
            }
        }
    }
    rows.store(artifact, stage);
    Ok(())
}

/// The key of one extractor's features: the same whether it is the modality's only
/// extractor or one of several, so a run that joins it with another shares its artifact.
fn extract_inputs(
    spec: &ExperimentSpec,
    listed: &Manifest,
    modality: Modality,
    part: Option<Part>,
    hasher: &mut FileHasher,
) -> Result<StageInputs, PipelineError> {
    match source_of(&spec.modalities, modality, part) {
        FeatureSource::Extractor(extractor) => {
            let table = match part {
                None => format!("modalities.{modality}"),
                Some(part) => format!("modalities.{modality}.{}", part.name),
            };
            per_song_inputs(spec, listed, (modality, &table), extractor, hasher)
        }
        FeatureSource::Precomputed(table) => {
            precomputed_inputs(spec, listed, modality, table, hasher)
        }
    }
}

/// A per-song extractor's key: its config and every song's media file, by content.
fn per_song_inputs(
    spec: &ExperimentSpec,
    listed: &Manifest,
    (modality, table): (Modality, &str),
    extractor: Extractor<'_>,
    hasher: &mut FileHasher,
) -> Result<StageInputs, PipelineError> {
    let songs: Vec<(&str, std::path::PathBuf)> = listed
        .songs
        .iter()
        .filter_map(|song| Some((song.id.as_str(), song.file(modality)?.to_path_buf())))
        .collect();
    let paths: Vec<std::path::PathBuf> = songs.iter().map(|(_, p)| p.clone()).collect();
    let hashes = hasher.hash_files(&paths)?;
    let prefix = format!("modalities.{modality}");
    let mut config = extractor.key_config(&prefix);
    config.extend(source_config(
        spec,
        modality,
        FeatureSource::Extractor(extractor),
    ));
    let key_files = extractor
        .key_files()
        .map_err(|source| PipelineError::KeyFile {
            table: table.to_string(),
            source,
        })?;
    for file in key_files {
        // The file's content, not its path: editing it re-extracts, moving it does not.
        let hash = hasher.hash_file(&file.path)?;
        config.insert(format!("{prefix}.{}", file.key), format!("blake3:{hash}"));
    }
    let mut inputs = StageInputs::new(stage_name(modality), VERSION).config(config);
    let files: BTreeMap<String, _> = songs
        .iter()
        .zip(hashes)
        .map(|((id, _), hash)| (id.to_string(), hash))
        .collect();
    inputs.files = files;
    Ok(inputs)
}

/// A precomputed matrix's key: the matrix and ids files by content (editing one re-extracts,
/// moving it does not), how they are read, and which songs the rows are matched against.
/// The songs' media files are not read, so their content stays out; the per-modality audio
/// settings (`n_mels`, ...) do not apply and stay out too.
fn precomputed_inputs(
    spec: &ExperimentSpec,
    listed: &Manifest,
    modality: Modality,
    table: &crate::spec::PrecomputedSection,
    hasher: &mut FileHasher,
) -> Result<StageInputs, PipelineError> {
    let prefix = format!("modalities.{modality}");
    let mut config = section(&format!("{prefix}.precomputed"), table);
    config.extend(source_config(
        spec,
        modality,
        FeatureSource::Precomputed(table),
    ));
    let hash = hasher.hash_file(&table.path)?;
    config.insert(
        format!("{prefix}.precomputed.path"),
        format!("blake3:{hash}"),
    );
    if let Some(ids) = &table.ids {
        let hash = hasher.hash_file(ids)?;
        config.insert(
            format!("{prefix}.precomputed.ids"),
            format!("blake3:{hash}"),
        );
    }
    config.insert("listed_songs", listed_songs_digest(listed, modality));
    Ok(StageInputs::new(stage_name(modality), VERSION).config(config))
}

/// The key path of the extractor's own version: present in the key of every extraction and
/// of nothing else.
pub(crate) const EXTRACTOR_VERSION: &str = "extractor_version";

/// What every feature source's key holds besides its own settings: which extractor and
/// version, and the modality's `on_error`.
fn source_config(
    spec: &ExperimentSpec,
    modality: Modality,
    source: FeatureSource<'_>,
) -> ConfigSlice {
    let prefix = format!("modalities.{modality}");
    let mut config = section(
        &format!("{prefix}.on_error"),
        &spec.modalities.on_error(modality),
    );
    config.insert(format!("{prefix}.extractor"), source.name());
    config.insert(EXTRACTOR_VERSION, u64::from(source.version()));
    config
}

/// A digest of the listed song ids and which of them have a media file for `modality`: what
/// a precomputed matrix's rows are matched against (unknown ids, songs without a row).
fn listed_songs_digest(listed: &Manifest, modality: Modality) -> String {
    let mut encoder = KeyEncoder::with_context("mer listed songs digest v1");
    encoder.list_len(listed.songs.len());
    for song in &listed.songs {
        encoder.str(&song.id);
        encoder.u32(u32::from(song.file(modality).is_some()));
    }
    StageKey(encoder.finish()).short()
}
