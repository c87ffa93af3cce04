"""sentence-transformers on the given lyrics files, for `cargo bench --bench minilm` to compare
against: each file's lines grouped as mer groups them (minilm_reference.groups), every group
embedded (batches of 32, all-MiniLM-L6-v2 with its pooling and normalization), and each song's
vector the normalized mean of its groups'. Prints `st_seconds S` (wall time for all files,
reading included) and `st_load_seconds S` (loading the model, once).

Threads: MER_BENCH_THREADS (default 2) for torch.

    python3 scripts/parity/minilm_st_bench.py MODEL_DIR FILE...
"""

import os
import sys
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

sys.path.insert(0, os.path.dirname(__file__))
from minilm_reference import groups  # noqa: E402


def main(model_dir, files):
    torch.set_num_threads(int(os.environ.get("MER_BENCH_THREADS", "2")))
    start = time.perf_counter()
    model = SentenceTransformer(model_dir, device="cpu")
    loaded = time.perf_counter()
    for path in files:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        texts = groups(text.splitlines(), model.tokenizer)
        if texts:
            mean = model.encode(texts, batch_size=32, convert_to_numpy=True).mean(axis=0)
            assert np.isfinite(mean / np.linalg.norm(mean)).all()
    done = time.perf_counter()
    print(f"st_load_seconds {loaded - start:.3f}")
    print(f"st_seconds {done - loaded:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
