# The two commands of the README's quick start, plus the checks CI and reviewers run.
.PHONY: setup demo test lint

setup:
	@scripts/setup.sh

# Writes the synthetic demo dataset unless data/demo is up to date (its stamp), then runs
# the demo experiment end to end.
demo: setup
	@scripts/demo.sh

# The whole test suite (what CI runs): every test, then the ones that read pretrained weights,
# after fetching them (scripts/model-tests.sh), then the ones that submit to Slurm, on a
# throwaway single-node cluster (scripts/cluster-tests.sh).
test: setup
	cargo test --locked
	@scripts/model-tests.sh
	@scripts/cluster-tests.sh

lint:
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings
