#!/usr/bin/env python3
"""Reference paired statistics from SciPy for tests/compare_stats.rs.

Builds a few baseline / other score vectors (fixed numpy seed; small exact-Wilcoxon cases,
ties, zero differences, n = 25 for the normal approximation, a textbook paired t-test) and
scores each with scipy.stats.ttest_rel(other, baseline) (with its confidence_interval) and
scipy.stats.wilcoxon(other, baseline) at their defaults. Holm-adjusted p-values are computed
by hand, exactly as statsmodels.stats.multitest.multipletests(method="holm") does (statsmodels
is not required). Writes tests/fixtures/compare/reference.json. Run from the repository root:

    python3 scripts/parity/compare_reference.py
"""
import json
import pathlib

import numpy as np
import scipy
from scipy import stats


def paired_case(name, baseline, other, wilcoxon_method):
    baseline = np.asarray(baseline, dtype=np.float64)
    other = np.asarray(other, dtype=np.float64)
    t = stats.ttest_rel(other, baseline)
    ci = t.confidence_interval(0.95)
    w = stats.wilcoxon(other, baseline)
    return {
        "name": name,
        # Which branch of wilcoxon's method="auto" SciPy takes here, for the reader.
        "wilcoxon_method": wilcoxon_method,
        "baseline": baseline.tolist(),
        "other": other.tolist(),
        "n": len(baseline),
        "mean_difference": float(np.mean(other - baseline)),
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "t_statistic": float(t.statistic),
        "t_p_value": float(t.pvalue),
        "wilcoxon_statistic": float(w.statistic),
        "wilcoxon_p_value": float(w.pvalue),
    }


def holm(p):
    # statsmodels' multipletests(method="holm"): sort, multiply the i-th smallest by (m - i),
    # running maximum, cap at 1, back to input order.
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p)
    m = len(p)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.minimum(adjusted, 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out.tolist()


def main():
    rng = np.random.default_rng(20261124)
    cases = []

    # Small n, continuous scores: no ties, no zeros -> exact null distribution.
    base = rng.uniform(0.4, 0.7, 6)
    cases.append(paired_case("exact_n6", base, base + rng.normal(0.02, 0.03, 6), "exact"))
    base = rng.uniform(0.4, 0.7, 10)
    cases.append(paired_case("exact_n10", base, base + rng.normal(0.01, 0.02, 10), "exact"))
    # Every difference positive: the smallest exact p-value, 2 / 2^n.
    base = rng.uniform(0.4, 0.7, 8)
    cases.append(paired_case("exact_all_positive", base, base + rng.uniform(0.01, 0.05, 8), "exact"))

    # Ties in |difference| with n <= 13 -> SciPy's exact sign-flip permutation test.
    # Scores on a 1/8 grid keep differences exact in binary floating point.
    base = np.array([0.5, 0.625, 0.75, 0.5, 0.375, 0.625, 0.5, 0.75, 0.25])
    diff = np.array([0.125, -0.125, 0.25, 0.125, 0.25, -0.25, 0.375, 0.125, 0.5])
    cases.append(paired_case("ties_n9", base, base + diff, "permutation"))

    # Zero differences (and ties) with n <= 13 -> permutation test, zeros dropped.
    base = np.array([0.5, 0.625, 0.75, 0.5, 0.375, 0.625, 0.5, 0.75, 0.25, 0.5, 0.875])
    diff = np.array([0.0, 0.125, 0.25, 0.0, -0.125, 0.375, 0.5, 0.125, 0.0, 0.25, -0.0625])
    cases.append(paired_case("zeros_n11", base, base + diff, "permutation"))

    # n = 25 with ties and zeros (13 < n <= 50) -> normal approximation, tie-corrected.
    base = np.round(rng.uniform(0.4, 0.7, 25) * 64) / 64
    diff = np.round(rng.normal(0.01, 0.03, 25) * 64) / 64
    cases.append(paired_case("normal_n25_ties_zeros", base, base + diff, "asymptotic"))

    # n = 25 continuous: no ties or zeros and n <= 50 -> still exact.
    base = rng.uniform(0.4, 0.7, 25)
    cases.append(paired_case("exact_n25", base, base + rng.normal(0.01, 0.03, 25), "exact"))

    # n = 60 > 50 -> normal approximation even without ties.
    base = rng.uniform(0.4, 0.7, 60)
    cases.append(paired_case("normal_n60", base, base + rng.normal(0.005, 0.03, 60), "asymptotic"))

    # Textbook: Student's (1908) sleep data (Cushny and Peebles), hours of extra sleep of ten
    # patients under two drugs; the classic paired t = 4.06, p = 0.0028.
    drug_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    drug_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    # One zero difference (patient 5), so wilcoxon takes the permutation branch.
    cases.append(paired_case("student_sleep", drug_1, drug_2, "permutation"))

    holm_cases = []
    for name, p in [
        ("five", [0.01, 0.04, 0.03, 0.005, 0.2]),
        ("ties_and_cap", [0.45, 0.01, 0.5, 0.6, 0.01, 0.02]),
        ("one", [0.04]),
        ("non_monotone_raw", [0.011, 0.012, 0.013, 0.9]),
    ]:
        holm_cases.append({"name": name, "p_values": p, "adjusted": holm(p)})

    out = {
        "generator": "scripts/parity/compare_reference.py",
        "scipy": scipy.__version__,
        "paired": cases,
        "holm": holm_cases,
    }
    path = pathlib.Path("tests/fixtures/compare/reference.json")
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
