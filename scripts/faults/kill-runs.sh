#!/usr/bin/env bash
# Kills `mer run` with SIGKILL at random moments, TRIES times, on a small demo project, and
# tallies what each kill left: a whole report, a hidden partial folder, or nothing; then checks
# that a rerun finishes with the metrics of an uninterrupted run and that no folder under a
# report's name is incomplete (`mer compare` reads every one).
#   scripts/faults/kill-runs.sh [MER_BINARY] [TRIES]     (default target/debug/mer, 10)
set -euo pipefail
mer=$(realpath "${1:-target/debug/mer}")
tries=${2:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$mer" -q demo --out data --songs 40 --seconds 2 --seed 11
cat > exp.toml <<'SPEC'
seed = 4
[dataset]
layout = "mirex-like"
root = "data"
[modalities.audio]
n_mels = 32
[modalities.lyrics]
hash_dims = 256
[modalities.midi]
[split]
folds = 2
[schedule]
epochs = 3
[eval]
bootstrap = 20
tta_passes = 2
SPEC
# The uninterrupted reference, in its own cache and reports.
"$mer" -q --cache ref-cache --reports ref-reports run exp.toml
reference=$(ls -d ref-reports/exp/*/)
start=$(date +%s%N)
"$mer" -q --cache timing-cache --reports timing-reports run exp.toml
cold_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "cold run: ${cold_ms} ms; killing at random moments in [0, ${cold_ms}] ms"
whole=0; partial=0; none=0
for try in $(seq 1 "$tries"); do
  rm -rf cache reports
  delay_ms=$(( RANDOM % (cold_ms + 1) ))
  "$mer" -q run exp.toml & pid=$!
  sleep "$(printf '0.%03d' "$delay_ms")" 2>/dev/null || sleep 0
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  shown=$(find reports -mindepth 2 -maxdepth 2 -type d ! -name '.*' 2>/dev/null | wc -l)
  hidden=$(find reports -mindepth 2 -maxdepth 2 -type d -name '.*' 2>/dev/null | wc -l)
  if [ "$shown" -gt 0 ]; then whole=$((whole + 1)); elif [ "$hidden" -gt 0 ]; then partial=$((partial + 1)); else none=$((none + 1)); fi
  for folder in $(find reports -mindepth 2 -maxdepth 2 -type d ! -name '.*' 2>/dev/null); do
    "$mer" -q compare "$folder" "$reference" --out "cmp-$try" >/dev/null || { echo "try $try: $folder is not whole"; exit 1; }
  done
  "$mer" -q run exp.toml
  report=$(find reports -mindepth 2 -maxdepth 2 -type d ! -name '.*' | sort | tail -1)
  cmp -s "$report/metrics.csv" "$reference/metrics.csv" || { echo "try $try (killed at ${delay_ms} ms): metrics differ"; exit 1; }
  echo "try $try: killed at ${delay_ms} ms; whole folders ${shown}, hidden partial ${hidden}; rerun metrics identical"
done
echo "$tries kills: $whole left a whole report, $partial only a hidden partial folder, $none no folder; every rerun matched the uninterrupted metrics"
