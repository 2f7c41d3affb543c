"""One experiment = train (cached) → evaluate on validation and test → record in the registry.

Notebooks describe *what* to run as a list of specs; this module is *how*, written once.
Selection always uses the validation accuracy; the test accuracy is reported, never chosen on.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from . import evaluate, results
from .config import SEED, Profile
from .train import TrainConfig, TrainResult, fit, preprocess

TABLE_COLUMNS = ["params", "epochs", "train_seconds", "val_accuracy", "test_accuracy",
                 "test_ci_low", "test_ci_high", "test_loss"]


@dataclasses.dataclass
class Experiment:
    name: str
    train: TrainResult
    entry: dict  # what the registry holds for this model
    val_probs: np.ndarray
    test_probs: np.ndarray

    @property
    def model(self):
        return self.train.model


def evaluate_model(train: TrainResult, splits: dict, tta_flip: bool = False):
    """Validation and test probabilities of a trained model."""
    arch = train.spec["arch"]
    (x_val, _), (x_test, _) = splits["val"], splits["test"]
    val = evaluate.predict_proba(train.model, preprocess(arch, x_val), tta_flip=tta_flip)
    test = evaluate.predict_proba(train.model, preprocess(arch, x_test), tta_flip=tta_flip)
    return val, test


def registry_entry(family: str, notebook: str, y_val, val_probs, y_test, test_probs, *, params: int,
                   epochs: int, train_seconds: float, n_boot: int, spec: dict | None = None) -> dict:
    test_probs = results.as_stored(test_probs).astype(np.float32)  # record what is published
    test = evaluate.summarize(y_test, test_probs, n_boot=n_boot)
    return {
        "family": family, "notebook": notebook, "params": int(params), "epochs": int(epochs),
        "train_seconds": round(float(train_seconds), 1),
        "val_accuracy": evaluate.accuracy(y_val, val_probs),
        "test_correct": int(np.sum(test_probs.argmax(1) == y_test)), "test_images": int(len(y_test)),
        "test_accuracy": test["accuracy"], "test_accuracy_ci95": test["accuracy_ci95"],
        "test_loss": test["loss"], "test_ece": test["ece"], "spec": spec,
    }


def run_experiment(name: str, arch: str, hparams: dict, cfg: TrainConfig, splits: dict, profile: Profile,
                   notebook: str, family: str, seed: int = SEED, tta_flip: bool = False,
                   record: bool = True, verbose: int = 2, init: TrainResult | None = None) -> Experiment:
    """Train (or load) a model, evaluate it, and record it under ``name`` in the registry.

    ``init``: start from this trained model's weights (see :func:`fmnist_utils.train.fit`)."""
    train = fit(name, arch, hparams, cfg, splits, profile.artifacts_dir, seed=seed, verbose=verbose, init=init)
    val_probs, test_probs = evaluate_model(train, splits, tta_flip=tta_flip)
    spec = {**train.spec, "tta_flip": tta_flip}
    entry = registry_entry(family, notebook, splits["val"][1], val_probs, splits["test"][1], test_probs,
                           params=train.model.count_params(), epochs=train.epochs,
                           train_seconds=train.train_seconds, n_boot=profile.bootstrap_samples, spec=spec)
    if record:
        results.record_model(profile.results_dir, profile.name, name, entry)
        results.save_probs(profile.results_dir, {name: test_probs})
    return Experiment(name, train, entry, val_probs, test_probs)


def comparison_table(experiments) -> pd.DataFrame:
    """One row per experiment: size, cost, validation and test accuracy with its 95% CI."""
    rows = {}
    for exp in experiments:
        e = exp.entry
        rows[exp.name] = {"params": e["params"], "epochs": e["epochs"], "train_seconds": e["train_seconds"],
                          "val_accuracy": e["val_accuracy"], "test_accuracy": e["test_accuracy"],
                          "test_ci_low": e["test_accuracy_ci95"][0], "test_ci_high": e["test_accuracy_ci95"][1],
                          "test_loss": e["test_loss"]}
    return pd.DataFrame.from_dict(rows, orient="index")[TABLE_COLUMNS]


def best_by_validation(experiments) -> Experiment:
    """The experiment with the highest validation accuracy (ties: the first listed)."""
    return max(experiments, key=lambda exp: exp.entry["val_accuracy"])


def learning_curves(experiments) -> pd.DataFrame:
    """All histories in long form (model, epoch, metric, split, value) for seaborn."""
    frames = []
    for exp in experiments:
        h = exp.train.history.melt(id_vars="epoch", var_name="key", value_name="value")
        h["split"] = np.where(h["key"].str.startswith("val_"), "validation", "train")
        h["metric"] = h["key"].str.replace("val_", "", regex=False)
        h["model"] = exp.name
        frames.append(h.drop(columns="key"))
    return pd.concat(frames, ignore_index=True)
