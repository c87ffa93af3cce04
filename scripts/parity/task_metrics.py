#!/usr/bin/env python3
"""Reference regression and multi-label metrics for tests/task_metrics.rs.

Draws a few prediction sets with a fixed numpy seed and scores them with scikit-learn and
scipy: per-target R^2, RMSE, MAE, Pearson r and CCC (Lin's, population moments, which
neither library has, so numpy computes it); per-tag and averaged ROC-AUC and average
precision (macro over the tags with both classes in the truth, as src/eval/multilabel.rs
documents), and F1 at a threshold. Ties and a tag no song carries are among the cases.
Writes tests/fixtures/metrics/task_reference.json. Run from the repository root:

    python3 scripts/parity/task_metrics.py
"""
import json

import numpy as np
from scipy.stats import pearsonr
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)


def ccc(t, p):
    mt, mp = t.mean(), p.mean()
    cov = ((t - mt) * (p - mp)).mean()
    return 2 * cov / (t.var() + p.var() + (mt - mp) ** 2)


def regression_case(name, truth, predicted):
    targets = []
    for k in range(truth.shape[1]):
        t, p = truth[:, k], predicted[:, k]
        targets.append(
            {
                "r2": r2_score(t, p),
                "rmse": float(np.sqrt(mean_squared_error(t, p))),
                "mae": mean_absolute_error(t, p),
                "pearson": float(pearsonr(t, p)[0]),
                "ccc": float(ccc(t, p)),
            }
        )
    return {
        "name": name,
        "targets": truth.shape[1],
        "truth": truth.ravel().tolist(),
        "predicted": predicted.ravel().tolist(),
        "scores": targets,
    }


def multilabel_case(name, truth, scores, threshold):
    scores = scores.astype(np.float32)
    s64 = scores.astype(np.float64)
    tags = truth.shape[1]
    scorable = [k for k in range(tags) if 0 < truth[:, k].sum() < len(truth)]
    per_tag = []
    for k in range(tags):
        ok = k in scorable
        per_tag.append(
            {
                "roc_auc": roc_auc_score(truth[:, k], s64[:, k]) if ok else None,
                "pr_auc": average_precision_score(truth[:, k], s64[:, k]) if ok else None,
            }
        )
    binary = (s64 >= threshold).astype(int)
    return {
        "name": name,
        "tags": tags,
        "threshold": threshold,
        "truth": truth.ravel().astype(bool).tolist(),
        "scores": scores.ravel().tolist(),
        "per_tag": per_tag,
        "f1_per_tag": f1_score(truth, binary, average=None, zero_division=0).tolist(),
        "roc_auc_macro": roc_auc_score(truth[:, scorable], s64[:, scorable], average="macro"),
        "roc_auc_micro": roc_auc_score(truth, s64, average="micro"),
        "pr_auc_macro": average_precision_score(
            truth[:, scorable], s64[:, scorable], average="macro"
        ),
        "pr_auc_micro": average_precision_score(truth, s64, average="micro"),
        "f1_macro": f1_score(truth, binary, average="macro", zero_division=0),
        "f1_micro": f1_score(truth, binary, average="micro", zero_division=0),
    }


def main():
    rng = np.random.default_rng(20261203)
    cases = {"regression": [], "multilabel": []}

    # Valence and arousal on [-1, 1]: a fair model, then a biased and shrunk one.
    truth = rng.uniform(-1, 1, size=(40, 2))
    cases["regression"].append(
        regression_case("noisy", truth, truth + rng.normal(0, 0.4, size=truth.shape))
    )
    cases["regression"].append(
        regression_case("biased", truth, 0.3 * truth + 0.4 + rng.normal(0, 0.1, truth.shape))
    )
    # Worse than predicting the mean: R^2 below zero.
    cases["regression"].append(
        regression_case("anticorrelated", truth[:, :1], -truth[:, :1] + 0.2)
    )

    # Six tags over 50 songs; scores rounded to 0.1 so that ties are common.
    truth = (rng.uniform(size=(50, 6)) < [0.5, 0.3, 0.1, 0.2, 0.6, 0.0]).astype(int)
    scores = np.clip(0.35 * truth + rng.uniform(0, 0.65, size=truth.shape), 0, 1)
    cases["multilabel"].append(multilabel_case("rounded", truth, np.round(scores, 1), 0.5))
    cases["multilabel"].append(multilabel_case("fine", truth, scores, 0.4))

    with open("tests/fixtures/metrics/task_reference.json", "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
