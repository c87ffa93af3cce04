#!/usr/bin/env bash
# The README's first command: build mer, write the synthetic demo dataset unless data/demo
# already holds it (its demo-stamp.txt names the same options and generator version; an older
# or different demo dataset is rewritten), and run the demo experiment end to end.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --quiet
mer=target/release/mer
data=data/demo

"$mer" demo --out "$data" --refresh
"$mer" run experiments/demo.toml
