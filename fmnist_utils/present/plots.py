"""Figures: each function takes data and returns a matplotlib Figure; ``save_figure`` writes it."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import matplotlib

if not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")  # headless by default; Jupyter users may set MPLBACKEND themselves

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import (  # noqa: E402
    FormatStrFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

from .. import atomic  # noqa: E402
from ..compute.data import CLASS_NAMES  # noqa: E402

DPI = 150
WIDTH = 6.5  # inches: the text width of the report; figures are drawn at their printed size
FONT = 7.5  # points: every text of a figure, printed at its natural size, stays at or above 7 pt
sns.set_theme(context="paper", style="whitegrid", rc={"font.size": FONT, "axes.labelsize": FONT,
                                                     "axes.titlesize": FONT, "xtick.labelsize": FONT,
                                                     "ytick.labelsize": FONT, "legend.fontsize": FONT,
                                                     "legend.title_fontsize": FONT})


def percent_axis(axis) -> None:
    """Accuracies are fractions in the results; the reader reads percent."""
    axis.set_major_formatter(PercentFormatter(xmax=1, decimals=None))


# No creation date in PDFs: an unchanged figure rewrites byte-identical, so git shows only real changes.
REPRODUCIBLE_METADATA = {"pdf": {"CreationDate": None}}


def save_figure(fig, name: str, folder: str | Path):
    """Write ``<folder>/<name>.png`` and ``.pdf``; return the figure (a notebook cell shows it)."""
    for fmt in ("png", "pdf"):
        with atomic.atomic_path(Path(folder) / f"{name}.{fmt}", suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format=fmt, metadata=REPRODUCIBLE_METADATA.get(fmt))
    return fig


def _image_axes(rows: int, cols: int, cell: float):
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell, rows * cell), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes


SAMPLES_PER_CLASS = 10  # the data figure: examples drawn of each class


def sample_grid(x: np.ndarray, y: np.ndarray, seed: int):
    """One row per class, ``SAMPLES_PER_CLASS`` random examples each, class name on the left."""
    rng = np.random.default_rng(seed)
    fig, axes = _image_axes(len(CLASS_NAMES), SAMPLES_PER_CLASS, cell=0.32)
    for c, name in enumerate(CLASS_NAMES):
        picks = rng.choice(np.flatnonzero(y == c), size=SAMPLES_PER_CLASS, replace=False)
        for j, i in enumerate(picks):
            axes[c, j].imshow(x[i], cmap="gray_r")
        axes[c, 0].text(-4, 14, name, ha="right", va="center", fontsize=FONT)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.18)
    return fig


def labelled_images(x: np.ndarray, labels: list[str], cols: int):
    """A grid of images with a title above each (augmented views, misclassified ones, …); the row
    spacing grows with the number of title lines so titles never overlap the image above."""
    rows = int(np.ceil(len(x) / cols))
    lines = max(str(label).count("\n") + 1 for label in labels)
    fig, axes = _image_axes(rows, cols, cell=WIDTH / cols)
    for k, (img, label) in enumerate(zip(x, labels, strict=False)):
        ax = axes.flat[k]
        ax.imshow(img.squeeze(), cmap="gray_r")
        ax.set_title(label, fontsize=6, pad=2, linespacing=1.1)
    fig.set_size_inches(WIDTH, rows * (WIDTH / cols) * (1 + 0.15 * lines))
    fig.subplots_adjust(wspace=0.1, hspace=0.05 + 0.15 * lines)
    return fig


def mean_images(x: np.ndarray, y: np.ndarray):
    fig, axes = _image_axes(1, len(CLASS_NAMES), cell=WIDTH / len(CLASS_NAMES))
    for c, name in enumerate(CLASS_NAMES):
        axes[0, c].imshow(x[y == c].mean(axis=0), cmap="magma")
        axes[0, c].set_title(name, fontsize=6)
    return fig


def learning_curves(long: pd.DataFrame):
    """Train (dashed) and validation (solid) loss and accuracy per epoch, one colour per model (``long``:
    :func:`fmnist_utils.present.figures.long_histories`)."""
    data = long[long["metric"].isin(["loss", "accuracy"])]
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 2.4))
    for ax, metric in zip(axes, ["loss", "accuracy"], strict=True):
        sns.lineplot(data=data[data["metric"] == metric], x="epoch", y="value", hue="model", style="split",
                     style_order=["validation", "train"], ax=ax, legend=metric == "accuracy")
        ax.set(ylabel=f"{metric} (cross-entropy)" if metric == "loss" else metric)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))  # whole epochs, ticks that do not collide
    percent_axis(axes[1].yaxis)
    handles, labels = axes[1].get_legend_handles_labels()
    axes[1].get_legend().remove()  # one legend for both panels, below them, outside the data
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, bbox_to_anchor=(0.5, 0))
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def confusion_heatmap(cm: np.ndarray):
    """Row-normalised confusion matrix (recall on the diagonal), counts annotated."""
    norm = cm / cm.sum(axis=1, keepdims=True)
    fig, ax = plt.subplots(figsize=(4.0, 3.3))  # printed at this size: the counts stay ≥ 7 pt
    sns.heatmap(norm, annot=cm, fmt="d", cmap="Blues", cbar=False, ax=ax, annot_kws={"fontsize": FONT},
                xticklabels=CLASS_NAMES, yticklabels=CLASS_NAMES, vmin=0, vmax=1)
    ax.set(xlabel="predicted", ylabel="true")
    ax.tick_params(axis="x", rotation=45)
    return fig


REFERENCE = "reference"  # the gid of a thin horizontal reference line, which labels may cross


def accuracy_vs_minutes(singles: pd.DataFrame, growth: pd.DataFrame, references: dict[str, float]):
    """Test accuracy against training minutes: single models (points, labelled by ``singles.index``)
    and an ensemble as it grows (a line through ``growth``'s train_minutes and test_accuracy).
    ``references``: published accuracies to reach (label → accuracy), drawn as dashed horizontal lines."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
    ax.set_xscale("log")  # the single CNNs crowd the first minutes; the ensemble's line runs on for an hour
    ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())  # a short log axis would label its minor ticks too
    ax.scatter(singles["minutes"], singles["accuracy"], s=14, color="C0", label="single CNN", zorder=4)  # over labels
    ax.plot(growth["train_minutes"], growth["test_accuracy"], color="C3", marker="o", markersize=3,
            label="ensemble, members added in the order chosen on validation")
    for (label, accuracy), style in zip(references.items(), ["--", ":", "-."], strict=False):
        ax.axhline(accuracy, color="0.3", linestyle=style, linewidth=0.9, label=label, gid=REFERENCE)
    ax.set(xlabel="training minutes (log scale)", ylabel="test accuracy")
    percent_axis(ax.yaxis)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)  # off the points
    ranked = singles.sort_values("accuracy", ascending=False)  # the best models get the preferred places
    label_points(ax, ranked["minutes"], ranked["accuracy"], ranked.index, fontsize=FONT)
    return fig


def reliability_diagram(bins: pd.DataFrame):
    """Accuracy against confidence in equal-width confidence bins (``evaluate.calibration_bins``); the diagonal is
    perfect calibration, bars below it are over-confident."""
    fig, ax = plt.subplots(figsize=(3.4, 3.0))
    used = bins[bins["count"] > 0]
    centres, width = (used["lower"] + used["upper"]) / 2, float((bins["upper"] - bins["lower"]).iloc[0])
    ax.bar(centres, used["accuracy"], width=width * 0.9, color="C0", label="accuracy in the bin")
    ax.plot([0, 1], [0, 1], "--", color="0.4", linewidth=1, label="perfect calibration")
    ax.set(xlabel="confidence (top probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1))
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def top3_gallery(images: np.ndarray, true: list[str], top3: list[list[tuple[str, float]]]):
    """Images, six a row, with the model's three most probable classes and their probabilities under each; the
    title is the true class, green when the first guess is right and red when it is wrong."""
    rows = int(np.ceil(len(images) / 6))
    fig, axes = plt.subplots(rows, 6, figsize=(WIDTH, rows * 1.75), squeeze=False)
    for ax, img, label, guesses in zip(axes.flat, images, true, top3, strict=False):
        ax.imshow(img.squeeze(), cmap="gray_r")
        ax.set_xticks([])
        ax.set_yticks([])
        right = guesses[0][0] == label
        ax.set_title(f"true: {label}", fontsize=FONT, color="#1a7f37" if right else "#c62828", pad=2)
        ax.set_xlabel("\n".join(f"{name} {p:.0%}" for name, p in guesses), fontsize=FONT, linespacing=1.1)
    for ax in axes.flat[len(images):]:
        ax.set_axis_off()
    fig.subplots_adjust(left=0.01, right=0.99, top=0.95, bottom=0.15, wspace=0.15, hspace=0.75)
    return fig


# Where a label may sit relative to its point (offset in points, alignment), in order of preference:
# just above or below it, level with it, a little further above or below, then, with a leader line to
# the point, further off where a crowd leaves room.
def _corners(dx: int, dy: int) -> list:
    return [((x, y), "left" if x > 0 else "right", "bottom" if y > 0 else "top") for y in (dy, -dy) for x in (dx, -dx)]


COPY = re.compile(r"(.+), copy (\d+)")  # a display name of one of several copies of a design


_LEADER_BEYOND = 8  # points: a label set further off than this gets a leader line
_LABEL_PLACES = (_corners(3, 2) + [((5, 0), "left", "center"), ((-5, 0), "right", "center")] + _corners(3, 6)
                 + _corners(12, 12) + [((18, 0), "left", "center"), ((-18, 0), "right", "center")]
                 + _corners(20, 22))


def label_points(ax, xs, ys, names, fontsize: float = 6) -> list:
    """Name each point (points within 4 pt of each other share one label, "a; b") with a label that stays inside
    the axes, covers no earlier label, no other point and no line of the axes, and sits nearer its own point
    than any other, at the first of ``_LABEL_PLACES`` that allows it; where none does, at the place with the
    least overlap. The farther places draw a thin leader line to the point, so no label is read as a
    neighbour's. Greedy, in the order given; call it once everything else is drawn on the axes."""
    ax.figure.draw_without_rendering()  # settles the axes' limits: placement is measured in display space
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    points = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    # Each line in its own coordinates (a horizontal line spans the axes: x in axes fractions).
    on_lines = [line.get_transform().transform(np.column_stack([np.interp(t, np.arange(len(x)), x)
                                                                for x in line.get_data()]))
                for line in ax.lines if line.get_gid() != REFERENCE  # a label may cross a reference line
                for t in [np.linspace(0, len(line.get_xdata()) - 1, 50 * len(line.get_xdata()))]]

    def overlap(a, b) -> float:
        return max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))

    def distance(box, xy) -> np.ndarray:
        """Pixels from each point of ``xy`` to the nearest edge of ``box`` (0 inside)."""
        dx = np.maximum.reduce([box.x0 - xy[:, 0], np.zeros(len(xy)), xy[:, 0] - box.x1])
        dy = np.maximum.reduce([box.y0 - xy[:, 1], np.zeros(len(xy)), xy[:, 1] - box.y1])
        return np.hypot(dx, dy)

    def cost(box, obstacles, own, others, leader: bool) -> float:
        """0 for a free place; else label area covered, plus a point's worth per obstacle covered and
        per other point as near the label as its own (unless a leader line says whose it is)."""
        covered = sum(overlap(box, b) for b in placed) + box.width * box.height - overlap(box, inside)
        reach = box.padded(pad)  # a marker is a disc, not a point
        covered += 50.0 * ((obstacles >= reach.p0) & (obstacles <= reach.p1)).all(axis=1).sum()
        if not leader and len(others):
            covered += 50.0 * (distance(box, others) <= distance(box, own[None])[0] + same_place).sum()
        return covered

    # Points about a marker apart share one label ("a, b"): two labels there could not both sit near.
    same_place = 4 * ax.figure.dpi / 72  # 4 points, in pixels
    pad = 2 * ax.figure.dpi / 72  # a small marker's radius, in pixels
    names = [str(n) for n in names]
    design = [m[1] if (m := COPY.fullmatch(n)) else n for n in names]  # copies of one design: one label farther
    groups: list[list[int]] = []
    for k, point in enumerate(points):
        near = [g for g in groups if np.hypot(*(points[g[0]] - point))
                < same_place * (3 if design[g[0]] == design[k] else 1)]
        if near:
            near[0].append(k)
        else:
            groups.append([k])
    xys = list(zip(xs, ys, strict=True))

    placed, texts = [], []
    for group in groups:
        xy, name = xys[group[0]], shared_label([str(names[i]) for i in group])
        others = np.delete(points, group, axis=0)
        obstacles = np.concatenate([others, *on_lines])
        best = None
        for offset, ha, va in _LABEL_PLACES:
            leader = max(map(abs, offset)) > _LEADER_BEYOND
            text = ax.annotate(name, xy, xytext=offset, textcoords="offset points", ha=ha, va=va,
                               fontsize=fontsize, bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none"),
                               arrowprops=dict(arrowstyle="-", color="0.45", linewidth=0.5, shrinkA=1, shrinkB=3)
                               if leader else None)
            box = text.get_window_extent(renderer)
            score = cost(box, obstacles, points[group[0]], others, leader)
            if best is None or score < best[0]:
                if best is not None:
                    best[1].remove()
                best = (score, text, box)
            else:
                text.remove()
            if score == 0:
                break
        placed.append(best[2])
        texts.append(best[1])
    return texts


def shared_label(names: list[str]) -> str:
    """One label for points at one place: 'a; b', or 'ResNet-BN, copies 2, 3' for copies of one design."""
    copies = [COPY.fullmatch(n) for n in names]
    if len(names) > 1 and all(copies) and len({c[1] for c in copies}) == 1:
        return f"{copies[0][1]}, copies {', '.join(sorted((c[2] for c in copies), key=int))}"
    return "; ".join(names)


def scores_by_value(trials: pd.DataFrame, params: list[str]):
    """Validation accuracy of tuning trials against each hyper-parameter's value, coloured by the
    trial's budget (Hyperband's epochs): a 1-epoch trial and a 9-epoch trial are not alike."""
    params = [p for p in params if p in trials and trials[p].notna().any()]
    cols = min(3, max(1, len(params)))
    rows = int(np.ceil(len(params) / cols)) or 1
    trials = trials.copy()
    for p in params:  # floats as the search space wrote them: 0.30000000000000004 → 0.3
        if pd.api.types.is_float_dtype(trials[p]):
            trials[p] = trials[p].map(lambda v: f"{v:.3g}")
    np.random.seed(0)  # seaborn's jitter draws from NumPy's global generator: same data, same figure
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 1.6 * rows), squeeze=False, sharey=True)
    for k, (ax, p) in enumerate(zip(axes.flat, params, strict=False)):
        order = sorted(trials[p].dropna().unique(), key=lambda v: float(v))
        sns.stripplot(data=trials, x=p, y="val_accuracy", ax=ax, size=3, jitter=0.2, order=order, hue="epochs",
                      palette="crest", legend=k == 0)
        ax.set(ylabel="validation accuracy")
        percent_axis(ax.yaxis)
        if len(order) > 6:
            ax.tick_params(axis="x", rotation=90)
    for ax in axes.flat[len(params):]:
        ax.set_axis_off()
    fig.tight_layout()
    if axes.flat[0].get_legend():
        handles, labels = axes.flat[0].get_legend_handles_labels()
        axes.flat[0].get_legend().remove()
        fig.legend(handles, labels, title="trial epochs", loc="upper center", bbox_to_anchor=(0.5, 0.0),
                   ncol=len(labels), frameon=False)
    return fig


def demo_panel(photo: np.ndarray, seen: np.ndarray, printed: list[str]):
    """``make predict`` at work: the picture it was given, the 28×28 image the network sees, and what it printed."""
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(WIDTH, 1.3), gridspec_kw={"width_ratios": [1.2, 0.9, 3.4]})
    a.imshow(photo)
    b.imshow(seen, cmap="gray", vmin=0, vmax=255)
    for ax, title in ((a, "the picture"), (b, "the network's input")):
        ax.set(title=title, xticks=[], yticks=[])
    lines = [part for line in printed for part in textwrap.wrap(line, 50, subsequent_indent="    ") or [""]]
    c.text(0.08, 1, "\n".join(lines), family="monospace", va="top", ha="left", transform=c.transAxes)
    c.set_axis_off()
    fig.tight_layout()
    return fig
