"""Recompute every published test accuracy from the stored probabilities.

``python -m fmnist_utils.verify --profile full`` (or ``make verify``) checks that each model in
``summary.json`` has its test-set probabilities in ``test_probs.npz`` and that their argmax gives
the recorded accuracy: anyone can audit the report's numbers without retraining.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from . import results
from .config import get_profile
from .data import load_fashion_mnist

# Probabilities are stored as float16: rounding can flip the argmax of a near-tie, so allow a few images.
TOLERANCE_IMAGES = 3


def check(summary: dict, probs: dict[str, np.ndarray], y_test: np.ndarray) -> list[str]:
    """Problems found (empty when every recorded test accuracy recomputes from ``probs``)."""
    if not summary["models"]:
        return ["no models recorded yet: run the notebooks first (make notebooks)"]
    problems = []
    for name, entry in sorted(summary["models"].items()):
        if name not in probs:
            problems.append(f"{name}: no probabilities in {results.PROBS}")
            continue
        if probs[name].shape != (len(y_test), 10):
            problems.append(f"{name}: probabilities of shape {probs[name].shape}, expected ({len(y_test)}, 10)")
            continue
        recomputed = float(np.mean(probs[name].argmax(1) == y_test))
        if abs(recomputed - entry["test_accuracy"]) * len(y_test) > TOLERANCE_IMAGES:
            problems.append(f"{name}: summary says {entry['test_accuracy']:.4f}, probabilities give {recomputed:.4f}")
    return problems


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="quick or full")
    profile = get_profile(parser.parse_args(argv).profile)
    summary = results.load_summary(profile.results_dir, profile.name)
    probs = results.load_probs(profile.results_dir)
    y_test = load_fashion_mnist()[1][1]
    problems = check(summary, probs, y_test)
    for line in problems:
        print("PROBLEM", line)
    models = len(summary["models"])
    print(f"{profile.name}: {models - len(problems) if models else 0} of {models} models' test accuracies "
          f"recompute from {profile.results_dir / results.PROBS}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
