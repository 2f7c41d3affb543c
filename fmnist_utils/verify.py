"""Recompute every published test accuracy from the stored probabilities.

``python -m fmnist_utils.verify --profile full`` (or ``make verify``) checks that each step's files are
whole, that each probability file holds exactly the arrays its entries reference (no stale array, no
entry without one, no name in two steps: :mod:`fmnist_utils.integrity`), and that each recorded model's
argmax gets exactly the recorded number of test images right: anyone can audit the report's numbers
without retraining. A shipped model (:mod:`fmnist_utils.demo`) must predict its published
probabilities. Counts are integers, so the comparison has no tolerance.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from . import demo, integrity, results
from .config import PROFILE_NAMES, get_profile
from .data import load_fashion_mnist


def check(summary: dict, probs: dict[str, np.ndarray], y_test: np.ndarray) -> list[str]:
    """Problems found (empty when every recorded test accuracy recomputes from ``probs``)."""
    if not summary["models"]:
        return ["no models recorded yet: run the notebooks first (make notebooks)"]
    problems = []
    n = len(y_test)
    for name, entry in sorted(summary["models"].items()):
        if name not in probs:
            problems.append(f"{name}: no probabilities in {results.PROBS}")
            continue
        if probs[name].shape != (n, 10):
            problems.append(f"{name}: probabilities of shape {probs[name].shape}, expected ({n}, 10)")
            continue
        correct, claimed = int(np.sum(probs[name].argmax(1) == y_test)), entry.get("test_correct")
        if correct != claimed or entry["test_accuracy"] != correct / n:
            problems.append(f"{name}: summary says {claimed} of {n} correct ({entry['test_accuracy']:.4%}), "
                            f"probabilities give {correct} ({correct / n:.4%})")
    return problems


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, choices=PROFILE_NAMES, help="default: $FMNIST_PROFILE or quick")
    profile = get_profile(parser.parse_args(argv).profile)
    integrity.require_readable(profile.results_dir, profile.name)
    summary = results.load_summary(profile.results_dir, profile.name)
    probs = results.load_probs(profile.results_dir)
    y_test = load_fashion_mnist()[1][1]
    problems = integrity.consistency_problems(profile.results_dir) + check(summary, probs, y_test)
    problems += demo.shipped_problems(profile, summary, probs, load_fashion_mnist()[1][0])
    for line in problems:
        print("PROBLEM", line)
    models = len(summary["models"])
    wrong = sum(1 for p in problems if p.split(":")[0] in summary["models"])
    print(f"{profile.name}: {models - wrong if models else 0} of {models} models' test accuracies "
          f"recompute exactly from {profile.results_dir / results.PROBS}")
    shipped = demo.shipped_dir(profile) / "best_cnn.keras"
    print(f"shipped model {shipped}: " + ("predicts the published probabilities of the best CNN exactly"
                                          if shipped.is_file() else "none (make ship-model)"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
