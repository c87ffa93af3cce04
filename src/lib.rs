//! `mer`: a declarative, cached experiment runner for multimodal music emotion recognition.
//!
//! Data flows one way: [`spec`] (what the researcher asked for) -> [`dataset`] (which songs,
//! labels and files) -> [`pipeline`] (the stage graph, run against the [`cache`]): its stages
//! call [`features`] (extraction), [`split`], [`normalize`], [`model`] (training) and [`eval`]
//! (metrics, ensembles) -> [`report`] (the run's folder). [`results`] is the vocabulary they
//! share: the run record, the names of splits, models and metrics, the rows of the report's
//! CSV files. [`experiment`] strings one run together end to end; [`sweep`] runs the members
//! of a spec's `[sweep]` side by side and links their reports. The [`cli`] module is the only
//! place that knows about terminals and exit codes; [`demo`] writes the synthetic dataset;
//! [`compare`] reads report folders back and sets runs against a baseline with paired
//! statistics.
#![deny(missing_docs)]

pub mod cache;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod compare;
pub mod dataset;
pub mod demo;
pub mod eval;
pub mod experiment;
pub mod features;
pub mod modality;
pub mod model;
pub mod models;
pub mod normalize;
pub mod pipeline;
pub mod predict;
pub mod report;
pub mod results;
pub mod rng;
pub mod spec;
pub mod split;
pub mod sweep;
pub mod text;
pub mod text_table;
