"""Every figure, drawn from the results files and the data alone (never training): the notebooks call these right
after recording their results; ``make figures`` calls :func:`redraw`, which skips figures whose step has not run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import results
from ..compute import evaluate
from ..compute.augment import augmentation_block
from ..compute.data import CLASS_NAMES, for_cnn, load_fashion_mnist, prepare_splits
from ..config import Profile
from . import plots
from .names import display_name
from .tables import references  # the source reports' published numbers, in one file


def best_confusion(profile: Profile, family: str):
    summary, probs = results.load_summary(profile.results_dir), results.load_probs(profile.results_dir)
    name = summary["best"][family]
    _, y_test = load_fashion_mnist()[1]
    fig = plots.confusion_heatmap(evaluate.confusion(y_test, probs[name].argmax(1)))
    return plots.save_figure(fig, f"{family}_best_confusion", profile.figures_dir)


GALLERY_PER_KIND, TOP_CLASSES = 6, 3  # the model at work: right and wrong test images, likeliest classes shown


def predictions(profile: Profile):
    """The best CNN at work: ``GALLERY_PER_KIND`` random test images it classifies correctly and as many it gets
    wrong, each with its three most probable classes (from the stored test-set probabilities)."""
    summary, probs = results.load_summary(profile.results_dir), results.load_probs(profile.results_dir)
    p = probs[summary["best"]["cnn"]].astype(np.float32)
    x_test, y_test = load_fashion_mnist()[1]
    right = p.argmax(1) == y_test
    rng = np.random.default_rng(0)
    picks = np.concatenate([rng.choice(np.flatnonzero(right), GALLERY_PER_KIND, replace=False),
                            rng.choice(np.flatnonzero(~right), min(GALLERY_PER_KIND, (~right).sum()), replace=False)])
    return gallery(profile, "cnn_predictions", p, picks, x_test, y_test)


def gallery(profile: Profile, figure: str, probs: np.ndarray, picks: np.ndarray, x_test, y_test):
    top = [[(CLASS_NAMES[c], float(probs[i, c])) for c in np.argsort(-probs[i])[:TOP_CLASSES]] for i in picks]
    fig = plots.top3_gallery(x_test[picks], [CLASS_NAMES[y_test[i]] for i in picks], top)
    return plots.save_figure(fig, figure, profile.figures_dir)


def report_003_targets() -> dict[str, float]:
    refs = references().query("source == 'report 003' and metric == 'test'")
    best = refs.groupby("family")["published"].max()
    return {f"report 003, {what}: {100 * best[family]:.2f}%": best[family]
            for family, what in (("cnn", "best single CNN"), ("ensemble", "ensemble"))}


def ensemble_figures(profile: Profile) -> None:
    """The ensemble's confusion matrix, reliability diagram and most confident mistakes, and test accuracy against
    training minutes for every single CNN and for the ensemble as it grows."""
    summary = results.load_summary(profile.results_dir)
    best_confusion(profile, "ensemble")
    x_test, y_test = load_fashion_mnist()[1]
    probs = results.load_probs(profile.results_dir)[summary["best"]["ensemble"]].astype(np.float32)
    plots.save_figure(plots.reliability_diagram(evaluate.calibration_bins(y_test, probs)), "ensemble_reliability",
                      profile.figures_dir)
    errors = evaluate.most_confident_errors(y_test, probs, n=2 * GALLERY_PER_KIND).index.to_numpy()
    gallery(profile, "ensemble_confident_errors", probs, errors, x_test, y_test)
    growth = pd.DataFrame(summary["extra"]["ensemble_growth"])
    copies = set(summary["models"].get("cnn_ensemble", {}).get("members", []))  # 15 copies of two designs: too many
    singles = pd.DataFrame({display_name(n): {"minutes": m["train_seconds"] / 60, "accuracy": m["test_accuracy"]}
                            for n, m in summary["models"].items()
                            if m["family"] == "cnn" and (n not in copies or m["notebook"] != "05_ensemble")}).T
    plots.save_figure(plots.accuracy_vs_minutes(singles, growth, report_003_targets()), "ensemble_frontier",
                      profile.figures_dir)


def eda(profile: Profile, seed: int) -> list:
    (x, y), _ = load_fashion_mnist()
    return [plots.save_figure(plots.sample_grid(x, y, seed=seed), "eda_sample_grid", profile.figures_dir),
            plots.save_figure(plots.mean_images(x, y), "eda_mean_images", profile.figures_dir)]


def augmented_samples(profile: Profile, augment: dict, seed: int):
    """Eight training images and three random augmentations of each, by the models' augmentation block."""
    sample = for_cnn(prepare_splits(profile, seed)["train"][0][:8])
    block = augmentation_block(**augment, seed=seed)
    views = [np.asarray(block(sample, training=True)) for _ in range(3)]
    labels = ["original"] * 8 + [f"augmented {i + 1}" for i in range(3) for _ in range(8)]
    fig = plots.labelled_images(np.concatenate([sample] + views), labels, cols=8)
    return plots.save_figure(fig, "cnn_augmented_samples", profile.figures_dir)


def long_histories(histories: dict[str, dict]) -> pd.DataFrame:
    """Recorded training histories (model → column → per-epoch values) in long form for seaborn."""
    long = pd.concat([pd.DataFrame(h).melt(id_vars="epoch", var_name="key").assign(model=display_name(name))
                      for name, h in histories.items()], ignore_index=True)
    long["split"] = np.where(long["key"].str.startswith("val_"), "validation", "train")
    long["metric"] = long["key"].str.replace("val_", "", regex=False)
    return long.drop(columns="key")


def learning_curves(profile: Profile, figure: str, names: list[str]):
    histories = results.load_summary(profile.results_dir)["histories"]
    fig = plots.learning_curves(long_histories({n: histories[n] for n in names}))
    return plots.save_figure(fig, figure, profile.figures_dir)


CURVES = "curves:"  # an extra named "curves:<figure>" lists the models of a learning-curve figure
FINAL_CURVES = "final_curves"  # the report's learning curves: the best MLP and the best CNN

# The figure shows the CNN search; the MLP search is in notebook 04's table.
TUNING_AXES = {"cnn": ["width", "dense_units", "dropout", "shift", "erasing", "weight_decay"]}


def tuning_values(profile: Profile, space: str):
    trials = results.load_summary(profile.results_dir)["extra"]["tuning_trials"][space]
    fig = plots.scores_by_value(pd.DataFrame(trials), TUNING_AXES[space])
    return plots.save_figure(fig, f"tuning_{space}_values", profile.figures_dir)


def redraw(profile: Profile) -> None:
    summary = results.load_summary(profile.results_dir)
    extra = summary["extra"]
    if "eda_figures" in extra:
        eda(profile, extra["eda_figures"]["seed"])
    for key, names in extra.items():
        if key.startswith(CURVES):
            learning_curves(profile, key[len(CURVES):], names)
    if "augmented_samples" in extra:
        augmented_samples(profile, extra["augmented_samples"]["augment"], extra["augmented_samples"]["seed"])
    if "cnn" in summary["best"]:
        best_confusion(profile, "cnn")
        predictions(profile)
        learning_curves(profile, FINAL_CURVES, [summary["best"][f] for f in ("mlp", "cnn") if f in summary["best"]])
    if "cnn" in extra.get("tuning_trials", {}):
        tuning_values(profile, "cnn")
    if "ensemble" in summary["best"]:
        ensemble_figures(profile)
