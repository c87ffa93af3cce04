//! What `mer predict` writes: per seed and song, the model's outputs with the modalities the
//! song had, as CSV (a report's `predictions.csv` columns less the truth) or JSON; and the
//! songs and files it skipped.
//!
//! | task kind        | CSV columns after `seed,model,id`                          | JSON per song |
//! |------------------|-------------------------------------------------------------|---------------|
//! | classification   | `predicted`, `p[<class>]`..., `modalities`                  | `predicted`, `probabilities` |
//! | regression       | `modalities`, `predicted_<target>`... (on the model's [-1, 1] scale, as in the report), `native_<target>`... (on `task.scales`) | `values`, `native` |
//! | multi-label      | `modalities`, `p_<tag>`..., `predicted` (the tags at or above the seed's F1 threshold, joined by `task.tag_separator`) | `probabilities`, `predicted`, `threshold` |

use std::io::Write;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::dataset::targets::from_unit_scale;
use crate::eval::argmax_rows;
use crate::modality::{Modality, ModalityMask};
use crate::results::targets::prediction_prefixes;
use crate::results::{Model, number};
use crate::spec::TaskKind;

/// The file formats predictions are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// The columns of a report's `predictions.csv`, less the truth.
    Csv,
    /// `{"model", "kind", "outputs", "songs": [...], "skipped": [...]}`.
    Json,
}

/// One song's outputs under one seed's model.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictedSong {
    /// The seed of the model.
    pub seed: u64,
    /// The song.
    pub id: String,
    /// The model's modalities the song had.
    pub modalities: ModalityMask,
    /// One value per output: class or tag probabilities, target values.
    pub outputs: Vec<f32>,
}

/// A song, or one modality of it, left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedSong {
    /// The song.
    pub id: String,
    /// The modality whose file could not be read; none when the whole song was left out.
    pub modality: Option<Modality>,
    /// Why.
    pub reason: String,
}

/// How outputs become what a user reads: a class, values on their native scales, tags.
#[derive(Debug, Clone, PartialEq)]
pub enum Readout {
    /// The most probable class.
    Classes,
    /// Each target's native scale `[low, high]` (from `task.scales`), in output order.
    Values(Vec<(f64, f64)>),
    /// Each seed's F1 threshold, and what joins a song's tags.
    Tags {
        /// `(seed, threshold)`.
        thresholds: Vec<(u64, f64)>,
        /// `task.tag_separator`.
        separator: String,
    },
}

/// Everything `mer predict` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// What the model predicts.
    pub kind: TaskKind,
    /// How its outputs read.
    pub readout: Readout,
    /// The classes, targets or tags, in output order.
    pub outputs: Vec<String>,
    /// The model that predicted.
    pub model: Model,
    /// Per seed, each predicted song in input order.
    pub songs: Vec<PredictedSong>,
    /// What was skipped.
    pub skipped: Vec<SkippedSong>,
}

impl Predictions {
    /// Writes the predictions in `format`.
    pub fn write(&self, format: OutputFormat, out: impl Write) -> std::io::Result<()> {
        match format {
            OutputFormat::Csv => self.write_csv(out),
            OutputFormat::Json => self.write_json(out),
        }
    }

    /// A classifier's most probable class.
    fn predicted(&self, song: &PredictedSong) -> Option<&str> {
        let classes = &self.outputs;
        (self.readout == Readout::Classes)
            .then(|| classes[argmax_rows(&song.outputs, classes.len())[0]].as_str())
    }

    /// A regression's values on their native scales.
    fn native(&self, song: &PredictedSong) -> Option<Vec<f64>> {
        let Readout::Values(scales) = &self.readout else {
            return None;
        };
        Some(
            (song.outputs.iter().zip(scales))
                .map(|(&v, &scale)| from_unit_scale(f64::from(v), scale))
                .collect(),
        )
    }

    /// A multi-label song's tags at or above its seed's threshold, and the threshold.
    fn tags(&self, song: &PredictedSong) -> Option<(Vec<&str>, f64)> {
        let Readout::Tags { thresholds, .. } = &self.readout else {
            return None;
        };
        let threshold = (thresholds.iter().find(|(s, _)| *s == song.seed)).map_or(0.5, |&(_, t)| t);
        let tags = (self.outputs.iter().zip(&song.outputs))
            .filter(|&(_, &p)| f64::from(p) >= threshold)
            .map(|(tag, _)| tag.as_str())
            .collect();
        Some((tags, threshold))
    }

    fn write_csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        let mut header: Vec<String> = ["seed", "model", "id"].map(String::from).to_vec();
        let (_, prefix) = prediction_prefixes(self.kind);
        match &self.readout {
            Readout::Classes => {
                header.push("predicted".into());
                header.extend(self.outputs.iter().map(|c| format!("p[{c}]")));
                header.push("modalities".into());
            }
            readout => {
                header.push("modalities".into());
                header.extend(self.outputs.iter().map(|o| format!("{prefix}{o}")));
                match readout {
                    Readout::Values(_) => {
                        header.extend(self.outputs.iter().map(|o| format!("native_{o}")));
                    }
                    _ => header.push("predicted".into()),
                }
            }
        }
        writer.write_record(&header)?;
        for song in &self.songs {
            let mut row = vec![
                song.seed.to_string(),
                self.model.to_string(),
                song.id.clone(),
            ];
            let values = song.outputs.iter().map(|&p| number(f64::from(p)));
            match self.predicted(song) {
                Some(class) => {
                    row.push(class.to_string());
                    row.extend(values);
                    row.push(song.modalities.to_string());
                }
                None => {
                    row.push(song.modalities.to_string());
                    row.extend(values);
                }
            }
            if let Some(native) = self.native(song) {
                row.extend(native.into_iter().map(number));
            }
            if let (Some((tags, _)), Readout::Tags { separator, .. }) =
                (self.tags(song), &self.readout)
            {
                row.push(tags.join(separator));
            }
            writer.write_record(&row)?;
        }
        writer.flush()
    }

    fn write_json(&self, mut out: impl Write) -> std::io::Result<()> {
        let field = match self.kind {
            TaskKind::Regression => "values",
            _ => "probabilities",
        };
        let songs: Vec<Value> = (self.songs.iter())
            .map(|song| {
                let mut entry = Map::new();
                entry.insert("seed".into(), song.seed.into());
                entry.insert("id".into(), song.id.clone().into());
                if let Some(class) = self.predicted(song) {
                    entry.insert("predicted".into(), class.into());
                }
                let by_output = |values: Vec<f64>| -> Value {
                    let map: Map<String, Value> = (self.outputs.iter().cloned())
                        .zip(values.into_iter().map(Value::from))
                        .collect();
                    map.into()
                };
                let values = song.outputs.iter().map(|&v| f64::from(v)).collect();
                entry.insert(field.into(), by_output(values));
                if let Some(native) = self.native(song) {
                    entry.insert("native".into(), by_output(native));
                }
                if let Some((tags, threshold)) = self.tags(song) {
                    entry.insert("predicted".into(), tags.into());
                    entry.insert("threshold".into(), threshold.into());
                }
                let modalities: Vec<&str> = song.modalities.iter().map(Modality::name).collect();
                entry.insert("modalities".into(), modalities.into());
                entry.into()
            })
            .collect();
        let document = serde_json::json!({
            "model": self.model.to_string(),
            "kind": self.kind,
            "outputs": self.outputs,
            "songs": songs,
            "skipped": self.skipped,
        });
        serde_json::to_writer_pretty(&mut out, &document)?;
        writeln!(out)
    }
}
