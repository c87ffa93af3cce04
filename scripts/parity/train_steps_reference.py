#!/usr/bin/env python3
"""Step-by-step training reference for tests/model_reference.rs, computed with PyTorch.

Builds small synthetic fold data (numpy, fixed seed), initializes scripts/train_reference.py's
FusionNet with PyTorch's defaults, and trains it with that script's `train_step` and `lr_at`
over fixed epoch orders, with every random augmentation off (mixup, noise, modality dropout,
dropout), so that training is a deterministic function of the initial weights. Label smoothing
and class weights are deterministic and stay on where a case asks for them. Writes, per case:
the settings (spec field names), the data, the initial weights and final weights as mer names
them, the epoch orders and every step's loss. mer, loading the same initial weights and
following the same orders, must reproduce the losses and the final weights to float tolerance.

Usage: train_steps_reference.py OUT.json [--rows N] [--epochs E] [--case NAME ...]
  (defaults: the committed fixture tests/fixtures/model/train_steps.json:
   scripts/parity/train_steps_reference.py tests/fixtures/model/train_steps.json)
PyTorch runs on one thread in float32; the run is deterministic.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from train_reference import (  # noqa: E402
    FusionNet, export_mer_weights, lr_at, train_step,
)

MODALITIES = [("audio", 12), ("lyrics", 20), ("midi", 7)]
CLASSES = 4

BASE_MODEL = {"fusion": "concat", "encoder_layers": 1, "encoder_width": 16, "head_layers": 1,
              "head_width": 8, "dropout": 0.0, "norm": "layer", "activation": "gelu"}
NO_AUGMENT = {"mixup_alpha": 0.0, "label_smoothing": 0.0, "modality_dropout": 0.0,
              "feature_noise": 0.0}
BASE_SCHEDULE = {"lr": 1e-2, "weight_decay": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                 "batch_size": 16, "epochs": 1, "lr_schedule": "cosine-warm-restarts", "t0": 1,
                 "t_mult": 2, "eta_min": 1e-4, "step": "step", "class_weights": False}

# name -> (model changes, augment changes, schedule changes)
CASES = {
    # The default architecture (layer norm, GELU), warm restarts per step.
    "layer-gelu": ({}, {}, {}),
    # Batch norm with ReLU: running statistics (biased and unbiased variance), two hidden
    # layers, and a last batch of one song (normalized with the running statistics). A bias
    # before batch norm has a zero gradient up to rounding, which Adam with a tiny epsilon
    # would blow up into lr-sized steps of rounding noise in either implementation; a larger
    # epsilon keeps the comparison about the arithmetic, not the noise.
    "batch-relu": ({"norm": "batch", "activation": "relu", "encoder_layers": 2},
                   {}, {"step": "epoch", "batch_size": 21, "eps": 1e-3}),
    # The deterministic parts of the recipe: label smoothing and class weights.
    "smoothing-class-weights": ({"norm": "none", "head_layers": 0},
                                {"label_smoothing": 0.1}, {"class_weights": True}),
}


def f32s(values):
    """float32 values as their shortest decimal (half the digits of a double's)."""
    return [float(str(np.float32(v))) for v in np.asarray(values, dtype=np.float32).flatten()]


def shortest(tensors):
    return [{**t, "values": f32s(t["values"])} for t in tensors]


def synthetic_data(rows, rng):
    """Class-dependent features per modality; some songs miss lyrics or MIDI."""
    labels = rng.integers(0, CLASSES, rows)
    # Unbalanced on purpose, so class weights matter.
    labels[: rows // 3] = 0
    modalities = []
    for m, (name, width) in enumerate(MODALITIES):
        centres = rng.normal(0.0, 1.0, (CLASSES, width))
        features = centres[labels] + rng.normal(0.0, 1.5, (rows, width))
        present = np.ones(rows, dtype=bool) if m == 0 else rng.random(rows) > 0.25
        features[~present] = 0.0
        modalities.append({"name": name, "width": width, "present": present.tolist(),
                           "features": f32s(features)})
    order = rng.permutation(rows)
    valid = sorted(order[: rows // 5].tolist())
    train = sorted(order[rows // 5:].tolist())
    return {"classes": CLASSES, "labels": labels.tolist(), "train_rows": train,
            "valid_rows": valid, "modalities": modalities}


def run_case(name, data, epochs, seed):
    model_changes, augment_changes, schedule_changes = CASES[name]
    model = {**BASE_MODEL, **model_changes}
    augment = {**NO_AUGMENT, **augment_changes}
    schedule = {**BASE_SCHEDULE, "epochs": epochs, **schedule_changes}
    rows = len(data["labels"])
    xs = [torch.tensor(m["features"]).reshape(rows, m["width"]) for m in data["modalities"]]
    masks = [torch.tensor(m["present"], dtype=torch.float32) for m in data["modalities"]]
    labels = torch.tensor(data["labels"])
    torch.manual_seed(seed)
    names = [m["name"] for m in data["modalities"]]
    net = FusionNet(names, [x.shape[1] for x in xs], CLASSES, model)
    initial = shortest(export_mer_weights(net, model))
    optimizer = torch.optim.AdamW(
        net.parameters(), lr=schedule["lr"], betas=(schedule["beta1"], schedule["beta2"]),
        eps=schedule["eps"], weight_decay=schedule["weight_decay"],
    )
    smooth = augment["label_smoothing"]
    soft = torch.nn.functional.one_hot(labels, CLASSES).float() * (1 - smooth) + smooth / CLASSES
    train = np.array(data["train_rows"])
    if schedule["class_weights"]:
        counts = torch.bincount(labels[train], minlength=CLASSES).float()
        weights = torch.where(counts > 0, len(train) / (CLASSES * counts.clamp(min=1)),
                              torch.ones(CLASSES))
        soft = soft * weights
    rng = np.random.default_rng(seed)
    orders, losses = [], []
    size = schedule["batch_size"]
    steps = (len(train) + size - 1) // size
    for epoch in range(epochs):
        net.train()
        order = train[rng.permutation(len(train))]
        orders.append(order.tolist())
        for step in range(steps):
            t = epoch + (step / steps if schedule["step"] == "step" else 0.0)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(t, schedule)
            batch = torch.from_numpy(order[step * size:(step + 1) * size])
            losses.append(train_step(net, optimizer, [x[batch] for x in xs],
                                     [m[batch] for m in masks], soft[batch]))
    return {"name": name, "seed": seed,
            "settings": {"model": model, "augment": augment, "schedule": schedule},
            "initial_weights": initial, "orders": orders, "losses": f32s(losses),
            "final_weights": shortest(export_mer_weights(net, model))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=80)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = synthetic_data(args.rows, np.random.default_rng(7))
    cases = [run_case(name, data, args.epochs, seed)
             for seed, name in enumerate(args.case or list(CASES), start=1)]
    fixture = {
        "generated_by": "scripts/parity/train_steps_reference.py",
        "torch": torch.__version__,
        "data": data,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(fixture, f)


if __name__ == "__main__":
    main()
