#!/usr/bin/env bash
# The tests that submit to Slurm (tests/slurm.rs): starts the throwaway single-node cluster
# (scripts/slurm-cluster.sh, which installs Debian's slurm-wlm and munge when missing), then
# runs those tests, which `cargo test` alone leaves out (they are #[ignore]d so that a machine
# without Slurm still passes the rest). Without root or sudo it says so loudly and skips them;
# `make test` calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
  echo "cluster-tests: SKIPPED: starting a Slurm cluster needs root or sudo; the Slurm sweep tests did not run" >&2
  exit 0
fi

scripts/slurm-cluster.sh
cargo test --locked --test slurm -- --ignored
