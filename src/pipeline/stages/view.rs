//! Reading artifact arrays with typed errors: each stage's artifact view reads its arrays
//! through these, so a missing or wrongly sized array is [`PipelineError::MissingArray`] or
//! [`PipelineError::MalformedArtifact`] naming the array, never a panic.

use crate::cache::Artifact;

use crate::pipeline::error::PipelineError;

pub(crate) fn strings<'a>(
    artifact: &'a Artifact,
    name: &str,
) -> Result<&'a [String], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_str())
        .ok_or_else(|| missing(artifact, name))
}

pub(crate) fn i64_array<'a>(
    artifact: &'a Artifact,
    name: &str,
) -> Result<&'a [i64], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_i64())
        .ok_or_else(|| missing(artifact, name))
}

pub(crate) fn f32_array<'a>(
    artifact: &'a Artifact,
    name: &str,
) -> Result<&'a [f32], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_f32())
        .ok_or_else(|| missing(artifact, name))
}

pub(crate) fn f64_array<'a>(
    artifact: &'a Artifact,
    name: &str,
) -> Result<&'a [f64], PipelineError> {
    artifact
        .array(name)
        .and_then(|a| a.as_f64())
        .ok_or_else(|| missing(artifact, name))
}

/// `values` (the array `name` of `artifact`) if there are `expected` of them.
pub(crate) fn sized<'a, T>(
    artifact: &Artifact,
    name: &str,
    values: &'a [T],
    expected: usize,
) -> Result<&'a [T], PipelineError> {
    if values.len() == expected {
        Ok(values)
    } else {
        Err(malformed(
            artifact,
            format!(
                "array `{name}` has {} values where {expected} were expected",
                values.len()
            ),
        ))
    }
}

/// Class indices, epochs, ...: every value of array `name` as an index below `bound`.
pub(crate) fn indices_below(
    artifact: &Artifact,
    name: &str,
    values: &[i64],
    bound: usize,
) -> Result<Vec<usize>, PipelineError> {
    values
        .iter()
        .map(|&v| usize::try_from(v).ok().filter(|&i| i < bound))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            malformed(
                artifact,
                format!("array `{name}` has a value outside 0..{bound}"),
            )
        })
}

/// The single value of a one-value array, e.g. `best_epoch` of a fold.
pub(crate) fn first<T: Copy>(
    artifact: &Artifact,
    name: &str,
    values: &[T],
) -> Result<T, PipelineError> {
    sized(artifact, name, values, 1).map(|v| v[0])
}

pub(crate) fn malformed(artifact: &Artifact, problem: String) -> PipelineError {
    PipelineError::MalformedArtifact {
        stage: artifact.meta.stage.clone(),
        key: artifact.meta.key.short(),
        problem,
    }
}

pub(crate) fn missing(artifact: &Artifact, array: &str) -> PipelineError {
    PipelineError::MissingArray {
        stage: artifact.meta.stage.clone(),
        key: artifact.meta.key.short(),
        array: array.to_string(),
    }
}
