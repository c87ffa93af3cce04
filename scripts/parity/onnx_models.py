"""Tiny ONNX models and reference numbers for `extractor = "onnx"` (tests/onnx_extract.rs).

    pip install onnx onnxruntime librosa soundfile
    python3 scripts/parity/onnx_models.py tests/fixtures/onnx

Writes into the folder:
- `waveform.onnx`: raw 16 kHz audio `[1, samples]` (any length) -> a strided 1-d convolution,
  ReLU, mean over time -> `embedding` `[1, 6]` -> `logits` `[1, 3]`: a stand-in for a
  waveform network such as CNN14, whose input length is not fixed.
- `mel.onnx`: a log-mel patch `[batch, 32 frames, 40 mels]` (symbolic batch, fixed length) ->
  mean over frames, dense, tanh -> `embedding` `[batch, 5]`: a stand-in for an Essentia-style
  model whose patch length is part of the model.
- `mel_reseeded.onnx`: `mel.onnx`'s graph with other weights (a swapped model file).
- `clip.wav`: 2 s of 16-bit audio at 16 kHz (a chirp and a tone), which the test extracts.
- `reference.json`: what `extractor = "onnx"` must give for the clip with each model, computed
  here with librosa's mel spectrogram and onnxruntime, plus each model's output for a fixed
  input tensor (to check inference alone).

Weights come from a seeded generator, so the files are the same on every run.
"""

import json
import os
import sys

import librosa
import numpy as np
import onnx
import onnxruntime
import soundfile
from onnx import TensorProto, helper, numpy_helper

SR = 16000
MEL = {"n_fft": 512, "hop_length": 256, "n_mels": 40, "fmin": 0.0, "fmax": 8000.0}
MEL_FRAMES = 32
WAVE_PATCH_SECONDS, WAVE_HOP_SECONDS = 0.5, 0.25


def tensor(name, array):
    return numpy_helper.from_array(array.astype(np.float32), name)


def waveform_model(rng):
    kernel = rng.normal(0, 0.3, size=(4, 1, 64))
    bias = rng.normal(0, 0.1, size=(4,))
    dense = rng.normal(0, 0.5, size=(4, 6))
    head = rng.normal(0, 0.5, size=(6, 3))
    nodes = [
        helper.make_node("Unsqueeze", ["audio", "axis1"], ["audio3"]),
        helper.make_node("Conv", ["audio3", "kernel", "bias"], ["conv"], strides=[32]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("ReduceMean", ["relu", "axis2"], ["pooled"], keepdims=0),
        helper.make_node("MatMul", ["pooled", "dense"], ["embedding"]),
        helper.make_node("MatMul", ["embedding", "head"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "waveform",
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, "samples"])],
        [
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 6]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3]),
        ],
        [
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
            tensor("kernel", kernel),
            tensor("bias", bias),
            tensor("dense", dense),
            tensor("head", head),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def mel_model(rng):
    dense = rng.normal(0, 0.3, size=(MEL["n_mels"], 5))
    bias = rng.normal(0, 0.1, size=(5,))
    nodes = [
        helper.make_node("ReduceMean", ["mel", "axis1"], ["pooled"], keepdims=0),
        helper.make_node("MatMul", ["pooled", "dense"], ["projected"]),
        helper.make_node("Add", ["projected", "bias"], ["shifted"]),
        helper.make_node("Tanh", ["shifted"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mel",
        [helper.make_tensor_value_info("mel", TensorProto.FLOAT, ["batch", MEL_FRAMES, MEL["n_mels"]])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 5])],
        [
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
            tensor("dense", dense),
            tensor("bias", bias),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def clip():
    t = np.arange(2 * SR, dtype=np.float64) / SR
    f0, f1, d = 300.0, 2400.0, 2.0
    phase = 2 * np.pi * f0 * d / np.log(f1 / f0) * (np.exp(t / d * np.log(f1 / f0)) - 1)
    y = 0.6 * np.sin(phase) + 0.2 * np.sin(2 * np.pi * 1000 * t) * (t > 0.7)
    return np.round(y * 32767).astype(np.int16)


def patches(rows, length, hop):
    return [rows[start : start + length] for start in range(0, len(rows) - length + 1, hop)]


def pooled(outputs):
    stacked = np.stack(outputs).astype(np.float64)
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)
    return [float(v) for pair in zip(mean, std) for v in pair]


def run(session, output, batch):
    return session.run([output], {session.get_inputs()[0].name: batch.astype(np.float32)})[0][0]


def main(folder):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(17)
    models = {"waveform": waveform_model(rng), "mel": mel_model(rng)}
    onnx.save(mel_model(np.random.default_rng(18)), os.path.join(folder, "mel_reseeded.onnx"))
    sessions = {}
    for name, model in models.items():
        onnx.checker.check_model(model)
        path = os.path.join(folder, f"{name}.onnx")
        onnx.save(model, path)
        sessions[name] = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])

    samples = clip()
    soundfile.write(os.path.join(folder, "clip.wav"), samples, SR, subtype="PCM_16")
    y = samples.astype(np.float32) / 32768.0

    wave_length, wave_hop = int(WAVE_PATCH_SECONDS * SR), int(WAVE_HOP_SECONDS * SR)
    wave_outputs = {
        output: [run(sessions["waveform"], output, p[None, :]) for p in patches(y, wave_length, wave_hop)]
        for output in ["embedding", "logits"]
    }
    mel = librosa.feature.melspectrogram(y=y, sr=SR, **MEL).T
    log_mel = np.log10(1 + 10000 * mel.astype(np.float32))
    mel_outputs = [run(sessions["mel"], "embedding", p[None]) for p in patches(log_mel, MEL_FRAMES, MEL_FRAMES)]

    probe_wave = np.sin(np.arange(1000, dtype=np.float64) * 0.01)[None, :]
    probe_mel = np.cos(np.arange(MEL_FRAMES * MEL["n_mels"], dtype=np.float64) * 0.003).reshape(1, MEL_FRAMES, -1)
    reference = {
        "sample_rate": SR,
        "mel": MEL,
        "mel_frames": MEL_FRAMES,
        "wave_patch_seconds": WAVE_PATCH_SECONDS,
        "wave_hop_seconds": WAVE_HOP_SECONDS,
        "waveform_patches": len(wave_outputs["embedding"]),
        "mel_patches": len(mel_outputs),
        "waveform_embedding_mean_std": pooled(wave_outputs["embedding"]),
        "waveform_logits_mean_std": pooled(wave_outputs["logits"]),
        "mel_embedding_mean_std": pooled(mel_outputs),
        "probe_waveform_logits": [float(v) for v in run(sessions["waveform"], "logits", probe_wave)],
        "probe_mel_embedding": [float(v) for v in run(sessions["mel"], "embedding", probe_mel)],
    }
    with open(os.path.join(folder, "reference.json"), "w") as out:
        json.dump(reference, out, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
