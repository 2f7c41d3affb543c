"""One experiment = train (cached) → evaluate on validation and test → record in the registry.

Notebooks describe *what* to run as a list of specs; this module is *how*, written once.
Selection always uses the validation accuracy; the test accuracy is reported, never chosen on.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .. import results
from ..config import Profile
from . import evaluate, store
from .data import CLASS_NAMES
from .spec import ModelSpec
from .train import TrainResult, fit, preprocess


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


def evaluate_model(train: TrainResult, splits: dict, variant: str = ""):
    """Validation and test probabilities of a trained model (with its spec's test-time averaging), as the model
    store keeps them (computed once, then read back: see :func:`fmnist_utils.compute.store.predictions`);
    ``variant`` names an evaluation other than the one the model's results entry records."""
    arch, tta_flip = train.spec.arch, train.spec.tta_flip

    def compute():
        return {split: evaluate.predict_proba(train.model, preprocess(arch, splits[split][0]), tta_flip=tta_flip)
                for split in store.SPLITS}
    probs = store.predictions(train.stored, compute, variant)
    return probs["val"], probs["test"]


def registry_entry(family: str, notebook: str, y_val, val_probs, y_test, test_probs, *, params: int,
                   epochs: int, train_seconds: float, n_boot: int, spec: dict | None = None,
                   stored_as: str | None = None) -> dict:
    """A model's results entry; ``stored_as``: its folder in the model store (its cache key)."""
    test_probs = results.as_stored(test_probs).astype(np.float32)  # record what is published
    test = evaluate.summarize(y_test, test_probs, n_boot=n_boot)
    return {
        "family": family, "notebook": notebook, "params": int(params), "epochs": int(epochs),
        "train_seconds": round(float(train_seconds), 1),
        "val_accuracy": evaluate.accuracy(y_val, val_probs),
        "test_correct": int(np.sum(test_probs.argmax(1) == y_test)), "test_images": int(len(y_test)),
        "test_accuracy": test["accuracy"], "test_accuracy_ci95": test["accuracy_ci95"],
        "test_loss": test["loss"], "test_ece": test["ece"], "spec": spec,
        **({"stored_as": stored_as} if stored_as else {}),
    }


@dataclasses.dataclass(frozen=True)
class Study:
    """The fixed context of one notebook's experiments: where they write, what data they see."""

    profile: Profile
    splits: dict
    notebook: str

    def run(self, name: str, spec: ModelSpec, family: str, record: bool = True, verbose: int = 2,
            splits: dict | None = None, params: int | None = None, extra_seconds: float | None = None,
            teacher=None, variant: str = "") -> Experiment:
        """Train (or load) ``spec``, evaluate it, and record it under ``name`` in the registry.

        A side study may train on other ``splits`` than the notebook's (a subset, or features extracted from the
        images) and count ``params`` and ``extra_seconds`` (e.g. extracting those features) beyond its own network's;
        it records in the ``baseline`` family, so that no MLP, CNN or ensemble selection picks it up. ``teacher``: a
        distilled model's (:func:`fmnist_utils.compute.train.fit`). ``variant``: an evaluation of a stored model other
        than the one its recorded entry made (e.g. ``"_no_flip"``), whose predictions the store keeps beside it."""
        splits = splits or self.splits
        train = fit(name, spec, splits, self.profile.artifacts_dir, verbose=verbose, store_dir=self.profile.store_dir,
                    teacher=teacher)
        val_probs, test_probs = evaluate_model(train, splits, variant)
        seconds = train.train_seconds
        if extra_seconds is not None:  # as first measured, so that a machine's speed does not move the results
            seconds += store.remember(train.stored, "extra_seconds", lambda: extra_seconds)
        entry = registry_entry(family, self.notebook, splits["val"][1], val_probs, splits["test"][1], test_probs,
                               params=params or train.model.count_params(), epochs=train.epochs,
                               train_seconds=seconds, n_boot=self.profile.bootstrap_samples,
                               spec=train.spec.to_dict(), stored_as=train.stored and train.stored.name)
        if record:
            results.record_model(self.profile.results_dir, self.profile.name, name, entry,
                                 history=train.history.to_dict("list"))
            results.save_probs(self.profile.results_dir, self.notebook, {name: test_probs})
        return Experiment(name, train, entry, val_probs, test_probs)

    def record_ensemble(self, name: str, members: list[Experiment], trained_here: list[Experiment]) -> dict:
        """Soft-vote ``members`` and record the ensemble (its hard vote too); returns its entry. ``trained_here``: the
        members this notebook trained, whose test probabilities are stored with the ensemble's."""
        from . import ensemble

        member_test = np.stack([m.test_probs for m in members])
        soft_test, soft_val = ensemble.soft_vote(member_test), ensemble.soft_vote([m.val_probs for m in members])
        member_seconds = sum(m.train.train_seconds for m in members)
        (_, y_val), (_, y_test) = self.splits["val"], self.splits["test"]
        entry = registry_entry(
            "ensemble", self.notebook, y_val, soft_val, y_test, soft_test,
            params=sum(m.entry["params"] for m in members), epochs=max(m.train.epochs for m in members),
            train_seconds=member_seconds, n_boot=self.profile.bootstrap_samples,
            spec={"members": len(members), "voting": "soft"})
        member_acc = np.array([m.entry["test_accuracy"] for m in members])
        entry.update(members=[m.name for m in members], member_test_accuracy_mean=float(member_acc.mean()),
                     member_test_accuracy_std=float(member_acc.std()),
                     hard_vote_test_accuracy=evaluate.accuracy(y_test, ensemble.hard_vote(member_test)),
                     member_train_seconds=round(member_seconds, 1))
        results.record_model(self.profile.results_dir, self.profile.name, name, entry)
        results.save_probs(self.profile.results_dir, self.notebook,
                           {name: soft_test, **{m.name: m.test_probs for m in trained_here}})
        return entry


def comparison_table(experiments) -> pd.DataFrame:
    rows = {}
    for exp in experiments:
        e = exp.entry
        rows[exp.name] = {"params": e["params"], "epochs": e["epochs"], "train_seconds": e["train_seconds"],
                          "val_accuracy": e["val_accuracy"], "test_accuracy": e["test_accuracy"],
                          "test_ci_low": e["test_accuracy_ci95"][0], "test_ci_high": e["test_accuracy_ci95"][1],
                          "test_loss": e["test_loss"]}
    return pd.DataFrame.from_dict(rows, orient="index")


SHIRT = CLASS_NAMES.index("Shirt")  # the hardest class; report 003 aimed shifts and rotations at it


def ablation(steps: list[tuple], y_val: np.ndarray) -> pd.DataFrame:
    """A ladder of models, each adding one ingredient: per step, its validation accuracy, the change from
    the model it builds on with McNemar's p-value on the validation set (the models are selected on it, so
    the test set stays out), the same for the recall of the validation shirts, and the seconds one epoch
    costs. A step is ``(ingredient, experiment)``, which builds on the step before, or
    ``(ingredient, experiment, base)`` with the experiment it builds on."""
    shirts = y_val == SHIRT
    rows, previous = [], None

    def shirt_recall(pred) -> float:
        return float(np.mean(pred[shirts] == SHIRT)) if shirts.any() else np.nan

    for ingredient, exp, *base in steps:
        against = base[0] if base else previous
        pred = exp.val_probs.argmax(1)
        row = {"ingredient": ingredient, "model": exp.name, "val_accuracy": exp.entry["val_accuracy"],
               "seconds_per_epoch": exp.entry["train_seconds"] / exp.entry["epochs"],
               "compared_with": "", "val_change": np.nan, "val_p": np.nan,
               "shirt_images": int(shirts.sum()), "shirt_recall": shirt_recall(pred), "shirt_change": np.nan,
               "shirt_p": np.nan}
        if against is not None:
            before = against.val_probs.argmax(1)
            row["compared_with"] = against.name
            row["val_change"] = row["val_accuracy"] - against.entry["val_accuracy"]
            row["val_p"] = evaluate.mcnemar(y_val, before, pred)["p_value"]
            if shirts.any():
                row["shirt_change"] = row["shirt_recall"] - shirt_recall(before)
                row["shirt_p"] = evaluate.mcnemar(y_val[shirts], before[shirts], pred[shirts])["p_value"]
        rows.append(row)
        previous = exp
    return pd.DataFrame(rows).set_index("ingredient")


def best_by_validation(experiments) -> Experiment:
    by_name = {exp.name: exp for exp in experiments}
    return by_name[results.best_of({name: exp.entry for name, exp in by_name.items()})]
