#!/usr/bin/env bash
# Needs a release build. Writes each public dataset's stand-in (200 songs of 12 s) and runs its
# shipped experiment (seeds 1 to 3) in a fresh cache: the table under README, Datasets.
set -euo pipefail
cd "$(dirname "$0")/.."
mer=$PWD/target/release/mer
out=${TMPDIR:-/tmp}/mer-measure-layouts; rm -rf "$out"; mkdir -p "$out/data" "$out/experiments"
for layout in 4q merge deam pmemo mtg-jamendo; do
  cp "experiments/demo-$layout.toml" "$out/experiments/"
  /usr/bin/time -f "$layout: writing the stand-in %e s" \
    "$mer" -q demo --layout "$layout" --out "$out/data/demo-$layout" 2>&1 | tail -1
  (cd "$out" && /usr/bin/time -f "$layout: the run %e s, %M KB" \
    "$mer" -q --cache "cache-$layout" --reports reports run "experiments/demo-$layout.toml" 2>&1 | tail -1)
  # The headline metric of each seed's ensemble+tta on the test songs, with their count.
  metrics=$(ls -d "$out/reports/demo-$layout"/*/ | tail -1)metrics.csv
  awk -F, -v layout="$layout" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
    $2 == "ensemble+tta" && $3 == "test" && $4 == "all" {
      m = ("ccc" in col) ? "ccc" : (("roc_auc_macro" in col) ? "roc_auc_macro" : "macro_f1")
      printf "%s: seed %s %s %.2f (%s songs)\n", layout, $1, m, $col[m], $col["songs"] }' "$metrics"
done
