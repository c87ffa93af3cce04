#!/usr/bin/env bash
# The README's first command: build mer, write the synthetic demo dataset if it is not there
# yet, and run the demo experiment end to end.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --quiet
mer=target/release/mer
data=data/demo

if [ ! -f "$data/clusters.txt" ]; then
  "$mer" demo --out "$data"
fi
"$mer" run experiments/demo.toml
