#!/usr/bin/env python3
"""Reference losses and gradients for the regression and multi-label objectives
(src/model/objective.rs).

Fixed logits and targets (a batch of 5 songs, 3 outputs) are scored with PyTorch:
MSELoss, BCEWithLogitsLoss with and without pos_weight, and the CCC loss
(1 - mean over outputs of Lin's CCC with population moments) written with torch ops; each
loss's gradient with respect to the logits comes from autograd, in float64. Writes
tests/fixtures/model/objectives.json. Run from the repository root:

    python3 scripts/parity/objectives.py
"""
import json

import torch

LOGITS = [
    [0.3, -1.2, 2.0],
    [-0.7, 0.4, -0.1],
    [1.5, 0.0, -2.2],
    [0.05, 0.9, 0.6],
    [-1.1, -0.3, 1.1],
]
VALUES = [
    [0.5, -0.9, 0.8],
    [-0.2, 0.1, -0.4],
    [0.9, 0.3, -0.7],
    [0.0, 0.6, 0.2],
    [-0.8, -0.5, 0.95],
]
# Mixed and smoothed rows are fractional, so the targets are not only 0 and 1.
TAGS = [
    [1.0, 0.0, 1.0],
    [0.0, 0.0, 1.0],
    [1.0, 0.3, 0.0],
    [0.0, 1.0, 0.05],
    [0.95, 0.0, 0.0],
]
POS_WEIGHT = [2.5, 4.0, 0.5]


def ccc_loss(p, t):
    mp, mt = p.mean(0), t.mean(0)
    vp, vt = p.var(0, unbiased=False), t.var(0, unbiased=False)
    cov = ((p - mp) * (t - mt)).mean(0)
    return 1 - (2 * cov / (vp + vt + (mp - mt) ** 2)).mean()


def case(name, loss_fn, targets):
    z = torch.tensor(LOGITS, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(targets, dtype=torch.float64)
    loss = loss_fn(z, t)
    loss.backward()
    return {"name": name, "targets": targets, "loss": loss.item(), "gradient": z.grad.flatten().tolist()}


def main():
    weight = torch.tensor(POS_WEIGHT, dtype=torch.float64)
    cases = [
        case("mse", torch.nn.MSELoss(), VALUES),
        case("ccc", ccc_loss, VALUES),
        case("bce", torch.nn.BCEWithLogitsLoss(), TAGS),
        case("bce_pos_weight", torch.nn.BCEWithLogitsLoss(pos_weight=weight), TAGS),
    ]
    out = {
        "torch": torch.__version__,
        "width": 3,
        "logits": LOGITS,
        "pos_weight": POS_WEIGHT,
        "cases": cases,
    }
    with open("tests/fixtures/model/objectives.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
