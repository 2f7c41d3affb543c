"""Ensembles of classifiers given their probability arrays (members × images × classes)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd

from .evaluate import accuracy, log_loss
from .spec import ModelSpec

SIZE_ORDERS = 20  # random member orders behind the accuracy-vs-ensemble-size curve
# A distilled student's targets: this much the ensemble's probabilities, the rest the label (Hinton et al., 2015),
# the probabilities softened at this temperature.
DISTILL, TEMPERATURE = 0.5, 3.0


def soft_vote(member_probs: np.ndarray) -> np.ndarray:
    return np.asarray(member_probs, dtype=np.float64).mean(axis=0)


def hard_vote(member_probs: np.ndarray) -> np.ndarray:
    """Majority of the members' predicted labels; ties go to the tied class with the highest
    summed probability (deterministic, and the soft vote's choice among the tied)."""
    member_probs = np.asarray(member_probs)
    n_classes = member_probs.shape[-1]
    votes = np.eye(n_classes)[member_probs.argmax(axis=-1)].sum(axis=0)  # images × classes
    tie_break = member_probs.sum(axis=0) / (len(member_probs) * n_classes + 1)  # < 1 vote
    return (votes + tie_break * (votes == votes.max(axis=1, keepdims=True))).argmax(axis=1)


def accuracy_by_size(member_probs: np.ndarray, y_true: np.ndarray, n_orders: int = SIZE_ORDERS,
                     seed: int = 0) -> pd.DataFrame:
    """Soft-vote accuracy of the first k members, k = 1…M, over ``n_orders`` random member orders."""
    member_probs = np.asarray(member_probs, dtype=np.float64)
    m = len(member_probs)
    rng = np.random.default_rng(seed)
    accs = np.empty((n_orders, m))
    for o in range(n_orders):
        order = rng.permutation(m)
        running = np.cumsum(member_probs[order], axis=0)
        accs[o] = [accuracy(y_true, running[k]) for k in range(m)]
    return pd.DataFrame({"members": np.arange(1, m + 1), "mean": accs.mean(0), "std": accs.std(0),
                         "min": accs.min(0), "max": accs.max(0)})


def member_plan(designs: dict[str, tuple[ModelSpec, int]], recorded: dict[str, dict], prefix: str,
                first_seed: int) -> list[tuple[str, ModelSpec, bool]]:
    """The members: for each design ``name: (spec, n)``, ``n`` copies of ``spec`` that differ only in their seed.

    Copies an earlier step recorded (``recorded``: name → results entry; the same spec but the seed) count first,
    in the order recorded; the rest are new, named ``<prefix>__<design><k>`` with the seeds from ``first_seed`` on
    that no copy holds yet. Returns ``(name, spec, new)`` per member, design by design."""
    plan = []
    for design, (spec, n) in designs.items():
        earlier = [(name, ModelSpec.from_dict(entry["spec"])) for name, entry in recorded.items()
                   if "spec" in entry and entry.get("family") == "cnn"]
        same = [(name, s) for name, s in earlier if s.replace(seed=spec.seed) == spec][:n]
        seeds = {s.seed for _, s in same}
        fresh = (seed for seed in itertools.count(first_seed) if seed not in seeds)
        plan += [(name, s, False) for name, s in same]
        plan += [(f"{prefix}__{design}{k:02d}", spec.replace(seed=next(fresh)), True) for k in range(len(same), n)]
    return plan


def greedy_selection(member_probs, y_true: np.ndarray) -> list[int]:
    """Forward selection of ensemble members (Caruana et al., 2004), without replacement: start from the
    member with the lowest log-loss, then add the member that most lowers the soft vote's log-loss, and
    stop when no member lowers it. Call it with *validation* probabilities. Returns member indices in
    the order chosen. Log-loss rather than accuracy: it is smooth, so it does not stall on ties."""
    member_probs = np.asarray(member_probs, dtype=np.float64)
    chosen, total, best = [], np.zeros_like(member_probs[0]), np.inf
    while len(chosen) < len(member_probs):
        candidates = [i for i in range(len(member_probs)) if i not in chosen]
        losses = [log_loss(y_true, (total + member_probs[i]) / (len(chosen) + 1)) for i in candidates]
        if not candidates or min(losses) >= best:
            break
        best = min(losses)
        chosen.append(candidates[int(np.argmin(losses))])
        total += member_probs[chosen[-1]]
    return chosen


def growth(val_probs, test_probs, y_val: np.ndarray, y_test: np.ndarray) -> pd.DataFrame:
    """Soft-vote validation and test accuracy of the first k members, k = 1…M, in the given order
    (e.g. the order :func:`greedy_selection` chose them)."""
    val_sums, test_sums = (np.cumsum(np.asarray(p, np.float64), axis=0) for p in (val_probs, test_probs))
    return pd.DataFrame({"members": np.arange(1, len(val_sums) + 1),
                         "val_accuracy": [accuracy(y_val, s) for s in val_sums],
                         "test_accuracy": [accuracy(y_test, s) for s in test_sums]})


def teach(members, images: np.ndarray) -> np.ndarray:
    """The soft vote of trained members (:class:`fmnist_utils.compute.experiment.Experiment`) on uint8 ``images``,
    each evaluated as its spec says (test-time flips): a distilled student's teacher, so flipped copies of an image
    get the same targets."""
    from .evaluate import predict_proba
    from .train import preprocess

    return soft_vote([predict_proba(m.model, preprocess(m.train.spec.arch, images), tta_flip=m.train.spec.tta_flip)
                      for m in members])


def student_spec(design: ModelSpec, members, seed: int) -> ModelSpec:
    """A student of ``design``'s network and recipe, distilled from ``members`` (named by their cache keys)."""
    teachers = tuple(m.train.key for m in members)
    train = dataclasses.replace(design.train, distill=DISTILL, temperature=TEMPERATURE, teachers=teachers)
    return design.replace(seed=seed, train=train)
