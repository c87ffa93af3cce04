#!/usr/bin/env python3
"""Compressed copies of one synthetic stereo signal for tests/audio_formats.rs, and how
librosa's loader decodes them.

The signal (the Rust test regenerates it with the same formula, and writes the WAV itself) is
1 s of 44.1 kHz stereo: different tones per channel under a 3 Hz tremolo, so that a shifted
decode (an encoder delay left in) shows as a large error. It is quantised to 16 bits here and
written with libsndfile as FLAC, Ogg Vorbis and MP3 (LAME, which records its encoder delay and
padding in the Xing/LAME header) under tests/fixtures/audio/formats/. For each file,
formats.json holds the frame count and every 32nd sample of `librosa.load(path, sr=None,
mono=True)`. Run from the repository root:

    pip install librosa soundfile
    python3 scripts/parity/audio_formats.py
"""
import json
import os

import librosa
import numpy as np
import soundfile as sf

SR = 44100
SECONDS = 1.0
STEP = 32
OUT = os.path.join("tests", "fixtures", "audio", "formats")


def channel(tones, t):
    tremolo = 0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t)
    return tremolo * sum(a * np.sin(2 * np.pi * f * t) for f, a in tones)


def signal():
    """Interleaved int16 stereo, as the Rust test builds it."""
    t = np.arange(int(SR * SECONDS)) / SR
    left = channel([(440.0, 0.4), (1234.0, 0.2)], t)
    right = channel([(660.0, 0.3), (3000.0, 0.1)], t)
    stereo = np.stack([left, right], axis=1)
    return np.round(stereo * 32767.0).astype(np.int16)


def main():
    os.makedirs(OUT, exist_ok=True)
    pcm = signal()
    files = {
        "signal.flac": dict(format="FLAC", subtype="PCM_16"),
        "signal.ogg": dict(format="OGG", subtype="VORBIS"),
        "signal.mp3": dict(format="MP3", subtype="MPEG_LAYER_III"),
    }
    reference = {"sample_rate": SR, "frames": len(pcm), "step": STEP, "files": {}}
    # libsndfile's MP3 encoder garbles 16-bit integer input (correlation ~0.5 with the
    # signal), so the lossy encoders get the same samples as floats.
    as_float = pcm.astype(np.float32) / 32768.0
    for name, kind in files.items():
        path = os.path.join(OUT, name)
        sf.write(path, pcm if kind["format"] == "FLAC" else as_float, SR, **kind)
        y, sr = librosa.load(path, sr=None, mono=True)
        assert sr == SR
        reference["files"][name] = {
            "frames": len(y),
            "librosa_mono": [round(float(v), 7) for v in y[::STEP]],
        }
        print(f"{name}: {os.path.getsize(path)} bytes, librosa decodes {len(y)} frames")
    with open(os.path.join(OUT, "formats.json"), "w") as f:
        json.dump(reference, f)


if __name__ == "__main__":
    main()
