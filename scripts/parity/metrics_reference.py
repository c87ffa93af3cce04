#!/usr/bin/env python3
"""Reference classification metrics from scikit-learn for tests/eval_metrics.rs.

Draws a few labelled probability matrices with a fixed numpy seed (including a class never
predicted and a class absent from the truth), scores them with scikit-learn (and numpy for
the expected calibration error, which scikit-learn lacks), and writes inputs and outputs to
tests/fixtures/metrics/reference.json. Run from the repository root:

    python3 scripts/parity/metrics_reference.py
"""
import json
import warnings

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
)

BINS = 15


def ece(y, p):
    top = p.max(axis=1)
    pred = p.argmax(axis=1)
    bins = np.clip(np.ceil(top * BINS).astype(int), 1, BINS) - 1
    total = 0.0
    for b in range(BINS):
        m = bins == b
        if m.any():
            total += abs((pred[m] == y[m]).sum() - top[m].sum()) / len(y)
    return total


def case(name, y, p, classes):
    p = p.astype(np.float32)
    pred = p.argmax(axis=1)
    labels = list(range(classes))
    prec, rec, f1, support = precision_recall_fscore_support(
        y, pred, labels=labels, zero_division=0
    )
    return {
        "name": name,
        "classes": classes,
        "truth": y.tolist(),
        "probabilities": p.ravel().tolist(),
        "accuracy": accuracy_score(y, pred),
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        # labels=None: the classes present in truth or predictions.
        "macro_f1": f1_score(y, pred, average="macro", zero_division=0),
        "weighted_f1": f1_score(y, pred, average="weighted", zero_division=0),
        "log_loss": log_loss(y, p.astype(np.float64), labels=labels),
        "brier": brier_score_loss(y, p.astype(np.float64), labels=labels, scale_by_half=False),
        "ece": ece(y, p.astype(np.float64)),
        "precision": prec.tolist(),
        "recall": rec.tolist(),
        "f1": f1.tolist(),
        "support": support.tolist(),
    }


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    # float32 rows sum to 1 only within 1e-7; scikit-learn warns about it, harmlessly.
    warnings.simplefilter("ignore", UserWarning)
    rng = np.random.default_rng(20261124)
    cases = []
    # A model somewhat better than chance on 5 classes.
    y = rng.integers(0, 5, 60)
    z = rng.normal(size=(60, 5))
    z[np.arange(60), y] += 1.0
    cases.append(case("five_classes", y, softmax(z), 5))
    # Class 3 never predicted: its logit is pushed down everywhere.
    y = rng.integers(0, 4, 40)
    z = rng.normal(size=(40, 4))
    z[np.arange(40), y] += 1.5
    z[:, 3] -= 10.0
    cases.append(case("class_never_predicted", y, softmax(z), 4))
    # Class 2 absent from the truth but sometimes predicted.
    y = rng.choice([0, 1, 3], 30)
    z = rng.normal(size=(30, 4))
    z[np.arange(30), y] += 0.8
    cases.append(case("class_absent_from_truth", y, softmax(z), 4))
    with open("tests/fixtures/metrics/reference.json", "w") as f:
        json.dump({"generator": "scripts/parity/metrics_reference.py", "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
