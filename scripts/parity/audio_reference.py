#!/usr/bin/env python3
"""Reference frame features from librosa for tests/audio_parity.rs.

Generates synthetic signals (the Rust test regenerates them with the same formulas, so no
audio is committed), writes them as WAV to a temp dir, loads them back with librosa at their
native rate, and stores a few frames/bands of each librosa feature as JSON under
tests/fixtures/audio/. Run from the repository root:

    pip install librosa soundfile
    python3 scripts/parity/audio_reference.py

Chroma uses tuning=0.0 because mer skips tuning estimation.
"""
import json
import math
import os
import tempfile

import librosa
import numpy as np
import soundfile as sf

SR = 22050
N_FFT = 2048
HOP = 512
FRAMES = [3, 10, 30, 64, 100]
OUT = os.path.join("tests", "fixtures", "audio")


def lcg_noise(n, seed=12345):
    """Uniform noise in [-0.5, 0.5) from a 32-bit LCG (same in Rust)."""
    state = seed
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        state = (state * 1664525 + 1013904223) % (1 << 32)
        out[i] = state / float(1 << 32) - 0.5
    return out


def tone(freqs, seconds, amp):
    t = np.arange(int(SR * seconds)) / SR
    return sum(amp * np.sin(2 * np.pi * f * t) for f in freqs)


def click_track(lag_frames, seconds):
    """A 10 ms 1 kHz burst every lag_frames * HOP samples."""
    n = int(SR * seconds)
    y = np.zeros(n)
    period = lag_frames * HOP
    k = np.arange(int(0.01 * SR))
    burst = 0.9 * np.exp(-k / 40.0) * np.sin(2 * np.pi * 1000.0 * k / SR)
    for start in range(0, n - len(k), period):
        y[start : start + len(k)] += burst
    return y


def midi_hz(m):
    return 440.0 * 2 ** ((m - 69) / 12)


def scale(midis, note_seconds):
    return np.concatenate([tone([midi_hz(m)], note_seconds, 0.4) for m in midis])


def chirp(seconds, f0, f1):
    t = np.arange(int(SR * seconds)) / SR
    return 0.5 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * seconds)))


SIGNALS = {
    "sine": lambda: tone([440.0], 3.0, 0.5),
    "chirp": lambda: chirp(3.0, 100.0, 8000.0),
    "clicks_lag20": lambda: click_track(20, 12.0),
    "clicks_lag27": lambda: click_track(27, 12.0),
    # Root doubled an octave below: a bare C-E-G of pure sines reads as E minor to
    # Krumhansl-Schmuckler (librosa's chroma weights the higher E and G more).
    "c_major_triad": lambda: tone([midi_hz(m) for m in (48, 60, 64, 67)], 3.0, 0.2),
    "a_minor_scale": lambda: scale([57, 59, 60, 62, 64, 65, 67, 69, 57, 64, 57], 0.4),
    "noise": lambda: lcg_noise(int(SR * 3.0)),
}


def pick(m):
    """Selected frames (columns) of a (bands, frames) array, as frame-major lists."""
    return {str(t): m[:, t].astype(float).tolist() for t in FRAMES if t < m.shape[1]}


def features(y):
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=S, sr=SR))
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=20)
    chroma = librosa.feature.chroma_stft(S=S, sr=SR, tuning=0.0)
    mag = np.sqrt(S)
    onset = librosa.onset.onset_strength(y=y, sr=SR, hop_length=HOP)
    return {
        "n_frames": int(S.shape[1]),
        "frames": FRAMES,
        "mel_db": pick(mel_db),
        "mel_db_range": float(mel_db.max() - mel_db.min()),
        "mfcc": pick(mfcc),
        "mfcc_range": float(mfcc.max() - mfcc.min()),
        "mfcc_delta": pick(librosa.feature.delta(mfcc)),
        "chroma": pick(chroma),
        "chroma_mean": chroma.mean(axis=1).tolist(),
        "centroid": librosa.feature.spectral_centroid(S=mag, sr=SR)[0].tolist(),
        "bandwidth": librosa.feature.spectral_bandwidth(S=mag, sr=SR)[0].tolist(),
        "rolloff": librosa.feature.spectral_rolloff(S=mag, sr=SR)[0].tolist(),
        "flatness": librosa.feature.spectral_flatness(S=mag)[0].tolist(),
        "contrast": pick(librosa.feature.spectral_contrast(S=mag, sr=SR)),
        "zcr": librosa.feature.zero_crossing_rate(y, hop_length=HOP)[0].tolist(),
        "rms": librosa.feature.rms(y=y, hop_length=HOP)[0].tolist(),
        "onset": onset.tolist(),
        "tempo": float(librosa.feature.tempo(onset_envelope=onset, sr=SR, hop_length=HOP)[0]),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in SIGNALS.items():
            path = os.path.join(tmp, name + ".wav")
            sf.write(path, make().astype(np.float32), SR, subtype="FLOAT")
            y, sr = librosa.load(path, sr=None)
            assert sr == SR
            ref = features(y)
            ref["signal"] = name
            ref["librosa"] = librosa.__version__
            with open(os.path.join(OUT, name + ".json"), "w") as f:
                json.dump(ref, f, separators=(",", ":"))
    fb = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=128)
    rows = [0, 5, 60, 127]
    chroma_fb = librosa.filters.chroma(sr=SR, n_fft=N_FFT, tuning=0.0)
    with open(os.path.join(OUT, "filters.json"), "w") as f:
        json.dump(
            {
                "mel_rows": {str(r): fb[r].astype(float).tolist() for r in rows},
                # Every 8th bin's column of the chroma filterbank (12 x 1025 would be 300 KB).
                "chroma_cols": {
                    str(b): chroma_fb[:, b].astype(float).tolist() for b in range(0, 1025, 8)
                },
            },
            f,
            separators=(",", ":"),
        )


if __name__ == "__main__":
    main()
