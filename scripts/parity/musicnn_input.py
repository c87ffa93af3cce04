"""Reference numbers for the musicnn input (tests/fixtures/musicnn_input.json): the log-mel
patches `musicnn/extractor.py` computes, with its float16 cast dropped (it overflows to inf on
loud frames; the scaling is done in float32, as mer does).

    pip install librosa
    python3 scripts/parity/musicnn_input.py tests/fixtures/musicnn_input.json

The signal is generated here and in the test alike: 4 s at 16 kHz of a 220 -> 1760 Hz
exponential chirp plus a 3 kHz tone, loud enough that musicnn's float16 cast would overflow.
"""

import json
import sys

import librosa
import numpy as np

SR, FFT_HOP, FFT_SIZE, N_MELS = 16000, 256, 512, 96


def signal():
    t = np.arange(4 * SR, dtype=np.float64) / SR
    f0, f1, d = 220.0, 1760.0, 4.0
    phase = 2 * np.pi * f0 * d / np.log(f1 / f0) * (np.exp(t / d * np.log(f1 / f0)) - 1)
    return (0.8 * np.sin(phase) + 0.2 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)


def main(out):
    y = signal()
    mel = librosa.feature.melspectrogram(y=y, sr=SR, hop_length=FFT_HOP, n_fft=FFT_SIZE, n_mels=N_MELS).T
    rep = np.log10(10000 * mel.astype(np.float32) + 1)
    n_frames = librosa.time_to_frames(3, sr=SR, n_fft=FFT_SIZE, hop_length=FFT_HOP) + 1
    overflows = bool(np.isinf(10000 * mel.astype(np.float16)).any())
    patch = rep[:n_frames]
    json.dump(
        {
            "frames": int(rep.shape[0]),
            "patch_frames": int(n_frames),
            "float16_would_overflow": overflows,
            "frame_sums": [float(x) for x in rep.sum(axis=1)],
            "patch_row_40": [float(x) for x in patch[40]],
            "patch_column_10": [float(x) for x in patch[:, 10]],
        },
        open(out, "w"),
        indent=1,
    )


if __name__ == "__main__":
    main(sys.argv[1])
