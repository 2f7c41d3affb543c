"""Figures: each function takes data and returns a matplotlib Figure; ``save_figure`` writes it.

Plotting never trains or evaluates anything, so restyling a figure is cheap.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

if not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")  # headless by default; Jupyter users may set MPLBACKEND themselves

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from . import atomic  # noqa: E402
from .data import CLASS_NAMES  # noqa: E402

DPI = 150
WIDTH = 6.5  # inches: the text width of the report
sns.set_theme(context="paper", style="whitegrid", font_scale=0.95)


# No creation date in PDFs: an unchanged figure rewrites byte-identical, so git shows only real changes.
REPRODUCIBLE_METADATA = {"pdf": {"CreationDate": None}}


def save_figure(fig, name: str, folder: str | Path, formats=("png", "pdf")) -> list[Path]:
    """Write ``fig`` as ``<folder>/<name>.<fmt>`` atomically, at a fixed dpi; return the paths."""
    written = []
    for fmt in formats:
        target = Path(folder) / f"{name}.{fmt}"
        with atomic.atomic_path(target, suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format=fmt, metadata=REPRODUCIBLE_METADATA.get(fmt))
        written.append(target)
    return written


def _image_axes(rows: int, cols: int, cell: float = 0.65):
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell, rows * cell), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes


def sample_grid(x: np.ndarray, y: np.ndarray, per_class: int = 10, seed: int = 0):
    """One row per class, ``per_class`` random examples each, class name on the left."""
    rng = np.random.default_rng(seed)
    fig, axes = _image_axes(len(CLASS_NAMES), per_class)
    for c, name in enumerate(CLASS_NAMES):
        picks = rng.choice(np.flatnonzero(y == c), size=per_class, replace=False)
        for j, i in enumerate(picks):
            axes[c, j].imshow(x[i], cmap="gray_r")
        axes[c, 0].text(-4, 14, name, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.18)
    return fig


def labelled_images(x: np.ndarray, labels: list[str], cols: int = 10):
    """A grid of images with a caption under each (first images, misclassified ones, …)."""
    rows = int(np.ceil(len(x) / cols))
    fig, axes = _image_axes(rows, cols, cell=0.9)
    for k, (img, label) in enumerate(zip(x, labels)):
        ax = axes.flat[k]
        ax.imshow(img.squeeze(), cmap="gray_r")
        ax.set_title(label, fontsize=5.5, pad=2)
    fig.subplots_adjust(wspace=0.1, hspace=0.45)
    return fig


def class_balance(labels_by_split: dict[str, np.ndarray]):
    """Images per class in each split (bar chart)."""
    frame = pd.concat([pd.DataFrame({"split": split, "class": np.asarray(CLASS_NAMES)[y]})
                       for split, y in labels_by_split.items()])
    fig, ax = plt.subplots(figsize=(WIDTH, 2.6))
    sns.countplot(data=frame, x="class", hue="split", order=CLASS_NAMES, ax=ax)
    ax.set(xlabel="", ylabel="images")
    ax.tick_params(axis="x", rotation=30)
    return fig


def mean_images(x: np.ndarray, y: np.ndarray):
    """The pixel-wise mean image of each class."""
    fig, axes = _image_axes(1, len(CLASS_NAMES), cell=WIDTH / len(CLASS_NAMES))
    for c, name in enumerate(CLASS_NAMES):
        axes[0, c].imshow(x[y == c].mean(axis=0), cmap="magma")
        axes[0, c].set_title(name, fontsize=6)
    return fig


def intensity_histogram(x: np.ndarray, y: np.ndarray):
    """Distribution of mean image brightness per class (a cheap look at separability)."""
    frame = pd.DataFrame({"class": np.asarray(CLASS_NAMES)[y], "mean intensity": x.reshape(len(x), -1).mean(1)})
    fig, ax = plt.subplots(figsize=(WIDTH, 2.6))
    sns.boxplot(data=frame, x="class", y="mean intensity", order=CLASS_NAMES, ax=ax, fliersize=1)
    ax.set(xlabel="")
    ax.tick_params(axis="x", rotation=30)
    return fig


def learning_curves(long: pd.DataFrame, col_wrap: int | None = None):
    """Train vs validation loss and accuracy per epoch, one line style per split.

    ``long`` is :func:`fmnist_utils.experiment.learning_curves` output.
    """
    data = long[long["metric"].isin(["loss", "accuracy"])]
    grid = sns.relplot(data=data, x="epoch", y="value", hue="model", style="split", col="metric",
                       kind="line", height=2.6, aspect=1.2, facet_kws={"sharey": False},
                       col_order=["loss", "accuracy"])
    grid.set_titles("{col_name}")
    return grid.figure


def confusion_heatmap(cm: np.ndarray, title: str = ""):
    """Row-normalised confusion matrix (recall on the diagonal), counts annotated."""
    norm = cm / cm.sum(axis=1, keepdims=True)
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    sns.heatmap(norm, annot=cm, fmt="d", cmap="Blues", cbar=False, ax=ax, annot_kws={"fontsize": 6},
                xticklabels=CLASS_NAMES, yticklabels=CLASS_NAMES, vmin=0, vmax=1)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    ax.tick_params(axis="x", rotation=45)
    return fig


def per_class_bars(tables: dict[str, pd.DataFrame], metric: str = "f1"):
    """One bar per class and model for a per-class metric (from ``classification_table``)."""
    frame = pd.concat([t[[metric]].assign(model=name).rename_axis("class").reset_index()
                       for name, t in tables.items()])
    fig, ax = plt.subplots(figsize=(WIDTH, 2.6))
    sns.barplot(data=frame, x="class", y=metric, hue="model", order=CLASS_NAMES, ax=ax)
    ax.set(xlabel="", ylim=(max(0.0, frame[metric].min() - 0.1), 1.0))
    ax.tick_params(axis="x", rotation=30)
    return fig


def reliability_diagram(bins_by_model: dict[str, pd.DataFrame]):
    """Accuracy vs confidence per bin; the diagonal is perfect calibration."""
    fig, ax = plt.subplots(figsize=(3.4, 3.2))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for name, bins in bins_by_model.items():
        b = bins.dropna()
        ax.plot(b["confidence"], b["accuracy"], marker="o", markersize=3, label=name)
    ax.set(xlabel="confidence", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=6)
    return fig


def ensemble_size_curve(by_size: pd.DataFrame):
    """Ensemble accuracy vs number of members (mean ± std over member orders)."""
    fig, ax = plt.subplots(figsize=(WIDTH * 0.6, 2.6))
    ax.plot(by_size["members"], by_size["mean"], marker="o", markersize=3)
    ax.fill_between(by_size["members"], by_size["mean"] - by_size["std"], by_size["mean"] + by_size["std"],
                    alpha=0.25)
    ax.set(xlabel="members", ylabel="test accuracy (soft vote)")
    return fig


def scores_by_value(trials: pd.DataFrame, params: list[str], score: str = "val_accuracy"):
    """Validation accuracy of tuning trials against each hyper-parameter's value."""
    params = [p for p in params if p in trials and trials[p].notna().any()]
    cols = min(3, max(1, len(params)))
    rows = int(np.ceil(len(params) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 2.0 * rows), squeeze=False, sharey=True)
    for ax, p in zip(axes.flat, params):
        sns.stripplot(data=trials, x=p, y=score, ax=ax, size=3, jitter=0.2)
        ax.set(ylabel=score.replace("_", " "))
    for ax in axes.flat[len(params):]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig
