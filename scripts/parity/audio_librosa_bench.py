#!/usr/bin/env python3
"""Times librosa computing the features of mer's `spectral` audio extractor on the given files,
in as many processes as `MER_BENCH_THREADS` (default: all cores), after one warm-up file.
Called by `cargo bench --bench audio`; prints `librosa_seconds <s>` and `librosa_clips <n>`.

    python3 scripts/parity/audio_librosa_bench.py FILE...
"""
import os
import sys
import time
from multiprocessing import Pool

import librosa
import numpy as np

SR, N_FFT, HOP = 22050, 2048, 512


def features(path):
    y, _ = librosa.load(path, sr=SR, mono=True)
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    mag = np.sqrt(S)
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=S, sr=SR))
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=20)
    out = [
        mfcc,
        librosa.feature.delta(mfcc),
        librosa.feature.chroma_stft(S=S, sr=SR, tuning=0.0),
        librosa.feature.spectral_centroid(S=mag, sr=SR),
        librosa.feature.spectral_bandwidth(S=mag, sr=SR),
        librosa.feature.spectral_rolloff(S=mag, sr=SR),
        librosa.feature.spectral_flatness(S=mag),
        librosa.feature.spectral_contrast(S=mag, sr=SR),
        librosa.feature.zero_crossing_rate(y, hop_length=HOP),
        librosa.feature.rms(y=y, hop_length=HOP),
    ]
    onset = librosa.onset.onset_strength(S=mel_db, sr=SR)
    tempo = librosa.feature.tempo(onset_envelope=onset, sr=SR, hop_length=HOP)
    pooled = [np.concatenate([m.mean(axis=1), m.std(axis=1)]) for m in out]
    return np.concatenate(pooled + [tempo])


def main():
    files = sys.argv[1:]
    if not files:
        sys.exit("usage: audio_librosa_bench.py FILE...")
    threads = int(os.environ.get("MER_BENCH_THREADS", os.cpu_count() or 1))
    features(files[0])  # warm-up: numba JIT, FFT plans
    with Pool(threads, initializer=features, initargs=(files[0],)) as pool:
        start = time.perf_counter()
        pool.map(features, files, chunksize=1)
        elapsed = time.perf_counter() - start
    print(f"librosa_seconds {elapsed:.3f}")
    print(f"librosa_clips {len(files)}")


if __name__ == "__main__":
    main()
