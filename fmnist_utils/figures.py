"""The report's figures that are functions of the published results alone (test-set probabilities and
recorded summaries), redrawn from the results files without training anything.

Notebooks 03 and 05 call these after recording their results; ``make figures`` (and ``make pdf``)
call :func:`redraw` to restyle them from ``results/<profile>/`` on a fresh clone.

    python -m fmnist_utils.figures --profile full
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from . import evaluate, plots, results
from .config import PROFILE_NAMES, Profile, get_profile
from .data import load_fashion_mnist

UPPER_BODY = ["T-shirt/top", "Pullover", "Coat", "Shirt"]


def _test_set():
    return load_fashion_mnist()[1]


def best_confusion(profile: Profile, family: str) -> None:
    """Confusion matrix of the family's best model (chosen on validation) on the test set."""
    summary, probs = results.load_summary(profile.results_dir), results.load_probs(profile.results_dir)
    name = summary["best"][family]
    _, y_test = _test_set()
    fig = plots.confusion_heatmap(evaluate.confusion(y_test, probs[name].argmax(1)), title=name)
    plots.save_figure(fig, f"{family}_best_confusion", profile.figures_dir)


def error_gallery(profile: Profile, model: str, figure: str, n: int = 24) -> pd.DataFrame:
    """The model's ``n`` most confident test errors, each image titled true → predicted, confidence."""
    probs = results.load_probs(profile.results_dir)[model].astype(np.float32)
    x_test, y_test = _test_set()
    gallery = evaluate.most_confident_errors(y_test, probs, n=n)
    labels = [f"{t}\n→ {p}\n{c:.2f}" for t, p, c in gallery[["true", "predicted", "confidence"]].values]
    plots.save_figure(plots.labelled_images(x_test[gallery.index], labels, cols=8), figure, profile.figures_dir)
    return gallery


def ensemble_figures(profile: Profile) -> None:
    """Accuracy against ensemble size, and the reliability diagram of the ensemble and its best member."""
    summary, probs = results.load_summary(profile.results_dir), results.load_probs(profile.results_dir)
    name = summary["best"]["ensemble"]
    single = summary["extra"]["mcnemar_ensemble_vs_single"]["single"]
    _, y_test = _test_set()
    by_size = pd.DataFrame(summary["extra"]["ensemble_by_size"])
    plots.save_figure(plots.ensemble_size_curve(by_size), "ensemble_size", profile.figures_dir)
    bins = {"best member": evaluate.calibration_bins(y_test, probs[single].astype(np.float32)),
            "ensemble (soft vote)": evaluate.calibration_bins(y_test, probs[name].astype(np.float32))}
    plots.save_figure(plots.reliability_diagram(bins), "ensemble_reliability", profile.figures_dir)
    error_gallery(profile, name, "ensemble_errors")


def redraw(profile: Profile) -> None:
    """Every figure above, from the profile's results files."""
    best_confusion(profile, "cnn")
    ensemble_figures(profile)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, choices=PROFILE_NAMES, help="default: $FMNIST_PROFILE or quick")
    profile = get_profile(parser.parse_args(argv).profile)
    redraw(profile)
    print(f"figures redrawn from {profile.results_dir} into {profile.figures_dir}")


if __name__ == "__main__":
    main()
