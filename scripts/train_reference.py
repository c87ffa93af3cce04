#!/usr/bin/env python3
"""PyTorch reference for mer's fusion model training (src/model), for accuracy and speed.

Reads the folder `benches/train.rs` writes (meta.json plus one little-endian f32 matrix per
fold and modality, already standardized on the fold's training songs), trains the same
architecture with the same recipe and defaults, and prints one JSON line:
{"train_seconds", "mean_fold_f1", "oof_f1", "fold_f1": [...], "best_epochs": [...],
"history": per fold, per epoch [train loss, validation loss, validation macro-F1],
"parity_max_abs_diff"}.

Architecture: per modality [Linear -> LayerNorm|BatchNorm -> GELU|ReLU -> Dropout] x layers;
fusion concat(embedding_m * mask_m ..., masks); head of the same blocks; Linear to classes.
Recipe per batch: label smoothing, Gaussian noise on present features, modality dropout (never
every present modality), mixup (one Beta(a, a) per batch, random partner) of inputs, masks and
targets, optional inverse-frequency class weights, soft-target cross-entropy, AdamW, cosine
annealing with warm restarts per epoch or per step; best epoch by validation macro-F1 (strictly
better), kept as a deep copy; early stopping with patience.

Usage: train_reference.py DIR   (threads: MER_BENCH_THREADS, default 2)
"""

import copy
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def macro_f1(truth, predicted):
    """scikit-learn's f1_score(average="macro"): classes occurring in truth or prediction."""
    scores = []
    for c in sorted(set(truth) | set(predicted)):
        tp = sum(1 for t, p in zip(truth, predicted) if t == c and p == c)
        actual = sum(1 for t in truth if t == c)
        claimed = sum(1 for p in predicted if p == c)
        scores.append(2.0 * tp / (actual + claimed))
    return sum(scores) / max(len(scores), 1)


def block(inputs, width, model):
    layers = [nn.Linear(inputs, width)]
    if model["norm"] == "layer":
        layers.append(nn.LayerNorm(width))
    elif model["norm"] == "batch":
        layers.append(nn.BatchNorm1d(width))
    layers.append(nn.GELU() if model["activation"] == "gelu" else nn.ReLU())
    layers.append(nn.Dropout(model["dropout"]))
    return layers


def mlp(inputs, width, depth, model):
    layers = []
    for i in range(depth):
        layers += block(inputs if i == 0 else width, width, model)
    return nn.Sequential(*layers)


class FusionNet(nn.Module):
    def __init__(self, names, widths, classes, model):
        super().__init__()
        self.modality_names = names
        self.encoders = nn.ModuleList(
            mlp(w, model["encoder_width"], model["encoder_layers"], model) for w in widths
        )
        fused = model["encoder_width"] * len(widths) + len(widths)
        self.head = mlp(fused, model["head_width"], model["head_layers"], model)
        head_out = model["head_width"] if model["head_layers"] > 0 else fused
        self.classifier = nn.Linear(head_out, classes)

    def forward(self, inputs, masks):
        parts = [enc(x) * m[:, None] for enc, x, m in zip(self.encoders, inputs, masks)]
        return self.classifier(self.head(torch.cat(parts + [torch.stack(masks, 1)], 1)))


def batch_norm_eval_if_single(net, rows):
    """mer normalizes a one-row training batch with running statistics (PyTorch refuses)."""
    for module in net.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.train(rows > 1)


def train_step(net, optimizer, bx, bm, bt):
    """One forward, backward and AdamW update on a prepared batch; returns the loss."""
    batch_norm_eval_if_single(net, bt.shape[0])
    logits = net(bx, bm)
    loss = -(torch.log_softmax(logits, 1) * bt).sum(1).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def lr_at(epoch, s):
    if s["lr_schedule"] == "constant":
        return s["lr"]
    t_cur, t_i = epoch, float(s["t0"])
    while t_cur >= t_i:
        t_cur -= t_i
        t_i *= s["t_mult"]
    return s["eta_min"] + (s["lr"] - s["eta_min"]) * (1 + np.cos(np.pi * t_cur / t_i)) / 2


def augment(xs, masks, targets, a, rng):
    """Noise, modality dropout, mixup, in mer's order."""
    rows = targets.shape[0]
    if a["feature_noise"] > 0:
        xs = [x + torch.randn_like(x) * a["feature_noise"] * (m[:, None] > 0) for x, m in zip(xs, masks)]
    p = a["modality_dropout"]
    if p > 0 and len(xs) > 1:
        present = torch.stack(masks, 1) > 0
        drop = torch.rand(present.shape) < p
        drop &= present
        all_dropped = (drop == present).all(1) & (present.sum(1) >= 2)
        for r in torch.nonzero(all_dropped).flatten().tolist():
            keep = torch.nonzero(present[r]).flatten()
            drop[r, keep[torch.randint(len(keep), (1,))]] = False
        drop[present.sum(1) < 2] = False
        masks = [m * (~drop[:, i]).float() for i, m in enumerate(masks)]
        xs = [x * m[:, None] for x, m in zip(xs, masks)]
    if a["mixup_alpha"] > 0 and rows > 1:
        lam = float(rng.beta(a["mixup_alpha"], a["mixup_alpha"]))
        perm = torch.from_numpy(rng.permutation(rows))
        xs = [lam * x + (1 - lam) * x[perm] for x in xs]
        masks = [lam * m + (1 - lam) * m[perm] for m in masks]
        targets = lam * targets + (1 - lam) * targets[perm]
    return xs, masks, targets


def read_fold_inputs(fold, rows, folder):
    """The fold's feature matrices and presence masks, one per modality, as mer wrote them."""
    xs, masks = [], []
    for m in fold["modalities"]:
        data = np.fromfile(os.path.join(folder, m["file"]), dtype="<f4").reshape(rows, m["width"])
        xs.append(torch.from_numpy(data.copy()))
        masks.append(torch.tensor(m["present"], dtype=torch.float32))
    return xs, masks


def train_fold(meta, fold, k, seed, folder):
    settings = meta["settings"]
    model, a, s = settings["model"], settings["augment"], settings["schedule"]
    classes = meta["classes"]
    labels = torch.tensor(meta["labels"])
    rows = len(meta["labels"])
    xs, masks = read_fold_inputs(fold, rows, folder)
    torch.manual_seed(seed * 1000 + k)
    rng = np.random.default_rng(seed * 1000 + k)
    names = [m["name"] for m in fold["modalities"]]
    net = FusionNet(names, [x.shape[1] for x in xs], classes, model)
    optimizer = torch.optim.AdamW(
        net.parameters(), lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"],
        weight_decay=s["weight_decay"],
    )
    train = np.array(fold["train"])
    valid = torch.tensor(fold["valid"])
    smooth = a["label_smoothing"]
    onehot = torch.nn.functional.one_hot(labels, classes).float()
    soft = onehot * (1 - smooth) + smooth / classes
    weights = None
    if s.get("class_weights"):
        counts = torch.bincount(labels[train], minlength=classes).float()
        weights = torch.where(counts > 0, len(train) / (classes * counts.clamp(min=1)), torch.ones(classes))
    best_f1, best_epoch, best_state = -1.0, 0, None
    history = []
    patience = s.get("patience")
    steps = (len(train) + s["batch_size"] - 1) // s["batch_size"]
    for epoch in range(s["epochs"]):
        net.train()
        order = train[rng.permutation(len(train))]
        total = 0.0
        for step in range(steps):
            t = epoch + (step / steps if s["step"] == "step" else 0.0)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(t, s)
            rows_b = torch.from_numpy(order[step * s["batch_size"]:(step + 1) * s["batch_size"]])
            bx = [x[rows_b] for x in xs]
            bm = [m[rows_b] for m in masks]
            bt = soft[rows_b]
            bx, bm, bt = augment(bx, bm, bt, a, rng)
            if weights is not None:
                bt = bt * weights
            total += train_step(net, optimizer, bx, bm, bt) * len(rows_b)
        net.eval()
        with torch.no_grad():
            logits = net([x[valid] for x in xs], [m[valid] for m in masks])
        predicted = logits.argmax(1)
        f1 = macro_f1(labels[valid].tolist(), predicted.tolist())
        valid_loss = float(torch.nn.functional.cross_entropy(logits, labels[valid]))
        history.append([total / len(train), valid_loss, f1])
        if f1 > best_f1:
            best_f1, best_epoch = f1, epoch
            best_state = copy.deepcopy(net.state_dict())
            best_predicted = predicted.tolist()
        if patience is not None and epoch - best_epoch >= patience:
            break
    return best_f1, best_epoch, labels[valid].tolist(), best_predicted, history


def mer_tensors(net, model):
    """(mer's name, module, attribute, transposed) for every tensor mer stores: mer keeps
    Linear weights as (inputs, outputs), PyTorch as (outputs, inputs)."""
    per_block = 4 if model["norm"] in ("layer", "batch") else 3
    out = []

    def blocks(prefix, sequential):
        for i in range(len(sequential) // per_block):
            linear = sequential[i * per_block]
            out.append((f"{prefix}.{i}.linear.weight", linear, "weight", True))
            out.append((f"{prefix}.{i}.linear.bias", linear, "bias", False))
            if per_block == 4:
                norm = sequential[i * per_block + 1]
                out.append((f"{prefix}.{i}.norm.gain", norm, "weight", False))
                out.append((f"{prefix}.{i}.norm.shift", norm, "bias", False))
                if isinstance(norm, nn.BatchNorm1d):
                    out.append((f"{prefix}.{i}.norm.running_mean", norm, "running_mean", False))
                    out.append((f"{prefix}.{i}.norm.running_var", norm, "running_var", False))

    for name, encoder in zip(net.modality_names, net.encoders):
        blocks(f"encoder.{name}", encoder)
    blocks("head", net.head)
    out.append(("classifier.weight", net.classifier, "weight", True))
    out.append(("classifier.bias", net.classifier, "bias", False))
    return out


def load_mer_weights(net, tensors, model):
    """Copies mer's named tensors into `net`."""
    by_name = {t["name"]: torch.tensor(t["values"]).reshape(t["shape"]) for t in tensors}
    with torch.no_grad():
        for name, module, attribute, transposed in mer_tensors(net, model):
            value = by_name[name]
            getattr(module, attribute).copy_(value.T if transposed else value)


def export_mer_weights(net, model):
    """`net`'s tensors as mer names them: [{"name", "shape", "values"}]."""
    tensors = []
    for name, module, attribute, transposed in mer_tensors(net, model):
        value = getattr(module, attribute).detach()
        value = value.T.contiguous() if transposed else value
        tensors.append({"name": name, "shape": list(value.shape),
                        "values": value.flatten().tolist()})
    return tensors


def parity(meta, folder):
    """Largest difference between mer's fold-0 validation probabilities and this network's
    with mer's weights: checks that both compute the same function."""
    settings, fold = meta["settings"], meta["folds"][0]
    rows = len(meta["labels"])
    xs, masks = read_fold_inputs(fold, rows, folder)
    names = [m["name"] for m in fold["modalities"]]
    net = FusionNet(names, [x.shape[1] for x in xs], meta["classes"], settings["model"])
    load_mer_weights(net, meta["parity"]["weights"], settings["model"])
    net.eval()
    valid = torch.tensor(fold["valid"])
    with torch.no_grad():
        probabilities = torch.softmax(net([x[valid] for x in xs], [m[valid] for m in masks]), 1)
    expected = torch.tensor(meta["parity"]["valid_probabilities"]).reshape(probabilities.shape)
    return float((probabilities - expected).abs().max())


def main():
    folder = sys.argv[1]
    torch.set_num_threads(int(os.environ.get("MER_BENCH_THREADS", "2")))
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    started = time.perf_counter()
    results = [train_fold(meta, fold, k, meta["seed"], folder) for k, fold in enumerate(meta["folds"])]
    seconds = time.perf_counter() - started
    truth = [t for r in results for t in r[2]]
    predicted = [p for r in results for p in r[3]]
    print(json.dumps({
        "train_seconds": seconds,
        "mean_fold_f1": sum(r[0] for r in results) / len(results),
        "oof_f1": macro_f1(truth, predicted),
        "fold_f1": [r[0] for r in results],
        "best_epochs": [r[1] for r in results],
        "history": [r[4] for r in results],
        "parity_max_abs_diff": parity(meta, folder) if "parity" in meta else float("nan"),
    }))


if __name__ == "__main__":
    main()
