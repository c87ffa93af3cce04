"""Reference outputs of the musicnn networks (tests/fixtures/musicnn_reference.json) on the
generated signal of musicnn_input.py, 7 s long (two 3 s patches), for the Rust port of the
network to be checked against (penultimate layer and tags, within 1e-3 absolute).

The input is musicnn's own pipeline with its float16 cast dropped (it overflows to inf on
loud frames); everything after it is musicnn's TensorFlow graph and checkpoint.

    pip install tensorflow-cpu tf_keras librosa
    pip install --no-deps musicnn==0.1.0      # its pinned numpy<1.17 is obsolete
    TF_USE_LEGACY_KERAS=1 python3 scripts/parity/musicnn_reference.py tests/fixtures/musicnn_reference.json
"""

import json
import sys

import librosa
import numpy as np
from musicnn import configuration as config
from musicnn import extractor

SECONDS = 7


def signal():
    sr = config.SR
    t = np.arange(SECONDS * sr, dtype=np.float64) / sr
    f0, f1, d = 220.0, 1760.0, 4.0
    phase = 2 * np.pi * f0 * d / np.log(f1 / f0) * (np.exp(t / d * np.log(f1 / f0)) - 1)
    return (0.8 * np.sin(phase) + 0.2 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)


def patches(n_frames, overlap):
    """musicnn's batch_data on the generated signal, scaled in float32."""
    y = signal()
    rep = librosa.feature.melspectrogram(
        y=y, sr=config.SR, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE, n_mels=config.N_MELS
    ).T
    rep = np.log10(10000 * rep.astype(np.float32) + 1)
    starts = range(0, rep.shape[0] - n_frames + 1, overlap)
    return np.stack([rep[s : s + n_frames] for s in starts]), rep


def main(out):
    result = {}
    for model in ("MSD_musicnn", "MTT_musicnn"):
        rows = {"taggram": [], "penultimate": [], "max_pool_sum": [], "mean_pool_sum": []}
        # One patch per call: musicnn 0.1.0's extractor() returns the first patch's penultimate
        # (and cnn1-3) layer for every later patch (its loop unpacks `backend_` but appends
        # the stale `penultimate_`), so only single-patch calls give every patch's features.
        for p in range(2):
            def one_patch(_file_name, n_frames, overlap, p=p):
                batch, rep = patches(n_frames, overlap)
                return batch[p : p + 1], rep

            extractor.batch_data = one_patch
            taggram, tags, features = extractor.extractor("generated", model=model, extract_features=True)
            rows["taggram"].append(np.asarray(taggram, dtype=np.float64).reshape(-1).round(7).tolist())
            rows["penultimate"].append(np.asarray(features["penultimate"], dtype=np.float64).reshape(-1).round(7).tolist())
            rows["max_pool_sum"].append(float(np.asarray(features["max_pool"]).sum()))
            rows["mean_pool_sum"].append(float(np.asarray(features["mean_pool"]).sum()))
        result[model] = {"tags": tags, **rows}
    with open(out, "w") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
