#!/usr/bin/env bash
# Needs the throwaway cluster (scripts/slurm-cluster.sh), data/demo (make demo) and a release build.
# Sharded against unsharded extraction of the demo, and a Slurm run of experiments/demo.toml
# against a local one (README, On a Slurm cluster, Measured).
set -euo pipefail
cd "$(dirname "$0")/.."
mer=$PWD/target/release/mer
out=${TMPDIR:-/tmp}/mer-measure-slurm; rm -rf $out; mkdir -p $out
only="--only extract.audio --only extract.lyrics --only extract.midi"
for shards in 1 8 1 8; do
  rm -rf $out/c$shards
  /usr/bin/time -f "extract shards=$shards: %e s, %M KB" $mer -q --cache $out/c$shards --reports $out/r run experiments/demo.toml --set executor.extract_shards=$shards $only 2>&1 | tail -1
done
# Cached join: the sharded run reuses the unsharded cache without shards.
/usr/bin/time -f "shards=8 on the unsharded cache, all cached: %e s" $mer -q --cache $out/c1 --reports $out/r run experiments/demo.toml --set executor.extract_shards=8 $only 2>&1 | tail -1
# Local run vs Slurm run of the demo experiment, fresh caches.
/usr/bin/time -f "local mer run: %e s, %M KB" $mer -q --cache $out/local --reports $out/rl run experiments/demo.toml 2>&1 | tail -1
start=$(date +%s.%N)
folder=$($mer -q --cache $out/slurm --reports $out/rs run experiments/demo.toml --executor slurm --set executor.extract_shards=4)
submitted=$(date +%s.%N)
until $mer status "$folder" | grep -q '^report:'; do sleep 0.5; done
done_at=$(date +%s.%N)
$mer status "$folder"
echo "slurm submit: $(echo "$submitted - $start" | bc) s; until the report: $(echo "$done_at - $start" | bc) s"
local_report=$(ls -d $out/rl/demo/*/ | head -1)
slurm_report=$($mer status "$folder" | sed -n 's/^report: //p')
cmp "$local_report/metrics.csv" "$slurm_report/metrics.csv" && echo "metrics.csv identical"
cmp "$local_report/predictions.csv" "$slurm_report/predictions.csv" && echo "predictions.csv identical"
