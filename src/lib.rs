//! `mer`: a declarative, cached experiment runner for multimodal music emotion recognition.
//!
//! Data flows one way: [`spec`] (what the researcher asked for) -> [`dataset`] (which songs,
//! labels and files) -> [`split`] (hold-out and folds) -> stages -> report. The [`cli`] module
//! is the only place that knows about terminals and exit codes.
#![deny(missing_docs)]

pub mod cli;
pub mod dataset;
pub mod demo;
pub mod modality;
pub mod rng;
pub mod spec;
pub mod split;
