"""Hyperband search (keras-tuner) over report 003's MLP space and around our own CNN. A *space* maps keras-tuner's
``hp`` to a :class:`~fmnist_utils.compute.spec.ModelSpec` (a one-epoch constant-rate recipe carrying the tuned rate), so
the best trial becomes an ordinary, cached model once its recipe is set. The tuner folder is reopened with
``overwrite=False``: a search resumes, and distributed workers share it (README: Distributed tuning).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import time
import warnings
from pathlib import Path

import pandas as pd

from ..config import PROFILE_NAMES, SEED, Profile, get_profile
from .recipes import CNN_PRECISION
from .spec import CACHE_VERSION, ModelSpec, TrainConfig
from .train import compile_model, preprocess

MLP_UNITS = [32, 64, 128, 256, 512]
MAX_LAYERS = 6


def mlp_space(hp):
    """2–6 hidden layers of 32–512 units, one dropout rate, learning rate in {1e-2, 1e-3, 1e-4}."""
    n = hp.Int("layers", 2, MAX_LAYERS)
    units = [hp.Choice(f"units_{i}", MLP_UNITS) for i in range(MAX_LAYERS)][:n]
    hparams = {"hidden_units": units, "dropout": hp.Choice("dropout", [0.0, 0.1, 0.2, 0.3])}
    return "mlp", hparams, {"learning_rate": hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])}


# Our CNN-5 (notebook 03's best design: conv w | conv 2w ×2 | conv 4w ×2, each block pooled, a dense head), with
# left-right flips as in its recipe; the search decides its width, head, regularisation and learning rate.
CNN_WIDTHS = [16, 24, 32]  # at most CNN-5's cost: the ensemble trains 15 copies of the tuned design


def cnn_space(hp):
    """Our five-conv CNN: width w ∈ {16, 24, 32} (blocks w | 2w, 2w | 4w, 4w), dense head {128, 256, 512}, dropout
    0.1–0.5, shifts {0, 10%}, random erasing {0, 0.25}, AdamW weight decay {0, 0.01, 0.05}, learning rate
    5e-4–5e-3 (log scale)."""
    w = hp.Choice("width", CNN_WIDTHS)
    augment = {"flip": True, "shift": hp.Choice("shift", [0.0, 0.1])}
    erasing = hp.Choice("erasing", [0.0, 0.25])
    if erasing:
        augment["erasing"] = erasing
    hparams = {"augment": augment, "blocks": [[w], [2 * w, 2 * w], [4 * w, 4 * w]],
               "dense_units": hp.Choice("dense_units", [128, 256, 512]),
               "dropout": hp.Float("dropout", 0.1, 0.5, step=0.1), "first_bn": False}
    train = {"weight_decay": hp.Choice("weight_decay", [0.0, 0.01, 0.05]),
             "learning_rate": hp.Float("learning_rate", 5e-4, 5e-3, sampling="log"), "precision": CNN_PRECISION}
    return "vgg_bn", hparams, train


SPACES = {"mlp": mlp_space, "cnn": cnn_space}


def spec_from_hp(space: str, hp) -> ModelSpec:
    """A trial as a one-epoch, constant-rate spec: its architecture and the recipe options it searched."""
    arch, hparams, train = SPACES[space](hp)
    return ModelSpec(arch, TrainConfig(epochs=1, schedule="constant", **train), hparams=hparams)


def hyperband_trials(max_epochs: int, factor: int, iterations: int = 1) -> int:
    """How many trials a full Hyperband search runs (keras-tuner's bracket sizes; min_epochs 1).
    The oracle may stop earlier when a small space runs out of new configurations."""
    brackets, epochs = 0, max_epochs
    while epochs >= 1:
        epochs, brackets = epochs / factor, brackets + 1
    end_size = math.ceil(1 + math.log(max_epochs, factor))
    per_iteration = sum(math.ceil(end_size / (b + 1) * factor ** (b - r))
                        for b in range(brackets) for r in range(b + 1))
    return per_iteration * iterations


def _score(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def make_tuner(space: str, profile: Profile, seed: int = SEED, directory: str | None = None):
    """A Hyperband tuner whose state lives in ``<store>/tuner/<space>-v<CACHE_VERSION>`` (resumable): a change that
    invalidates stored models also starts a new search. Each finished trial prints one progress line."""
    import keras_tuner as kt

    from . import precision
    from .models import build_model

    class SpaceHyperModel(kt.HyperModel):
        def build(self, hp):
            spec = spec_from_hp(space, hp)
            with precision.policy(spec.train.precision):
                model = build_model(spec.arch, **spec.hparams)
            return compile_model(model, spec.train, 1)

    total = hyperband_trials(profile.tuner_max_epochs, profile.tuner_factor, profile.tuner_iterations)
    worker = os.environ.get("KERASTUNER_TUNER_ID")

    class ProgressHyperband(kt.Hyperband):
        finished, best, started = 0, None, time.perf_counter()

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            self.finished += 1
            score = trial.metrics.get_best_value("val_accuracy") if trial.metrics.exists("val_accuracy") else None
            if score is not None and (self.best is None or score > self.best):
                self.best = score
            epochs = trial.hyperparameters.values.get("tuner/epochs")
            print(f"{space} search{f' [{worker}]' if worker else ''}: trial {trial.trial_id} done "
                  f"({self.finished} here, at most {total} in all), {epochs} epochs, "
                  f"val {_score(score)}, best so far {_score(self.best)}, "
                  f"{time.perf_counter() - self.started:.0f} s", flush=True)

    return ProgressHyperband(
        SpaceHyperModel(name=f"{space}_space"), objective="val_accuracy", max_epochs=profile.tuner_max_epochs,
        factor=profile.tuner_factor, hyperband_iterations=profile.tuner_iterations, seed=seed,
        directory=directory or str(profile.store_dir / "tuner"), project_name=f"{space}-v{CACHE_VERSION}",
        overwrite=False)


def search_data(space: str, splits: dict, profile: Profile, seed: int = SEED):
    """The training subset the search uses (its budget), and the full validation split."""
    from .data import stratified_split

    x, y = splits["train"]
    if profile.tuner_subset and profile.tuner_subset < len(y):
        _, keep = stratified_split(y, val_size=profile.tuner_subset, seed=seed)
        x, y = x[keep], y[keep]
    arch = "mlp" if space == "mlp" else "vgg_bn"
    x_val, y_val = splits["val"]
    return (preprocess(arch, x), y), (preprocess(arch, x_val), y_val)


def run_search(space: str, splits: dict, profile: Profile, seed: int = SEED, verbose: int = 0,
               directory: str | None = None):
    """Run (or resume, or just reopen a finished) Hyperband search; returns the tuner."""
    import keras

    tuner = make_tuner(space, profile, seed, directory)
    (x, y), (x_val, y_val) = search_data(space, splits, profile, seed)
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3)
    with warnings.catch_warnings():
        # Hyperband continues a promoted trial from its weights with a fresh optimizer, by design.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        tuner.search(x, y, validation_data=(x_val, y_val), batch_size=128, callbacks=[stop], verbose=verbose)
    # A finished search needs its trials' scores and hyper-parameters, not their weights (Hyperband resumes a promoted
    # trial from them only while the search runs): dropping them keeps the store small. A worker's search may end
    # before the others'.
    if os.environ.get("KERASTUNER_TUNER_ID", "chief") == "chief":
        for weights in Path(tuner.project_dir).glob("trial_*/checkpoint*"):
            weights.unlink()
    return tuner


def trials_frame(tuner) -> pd.DataFrame:
    rows = []
    for trial in tuner.oracle.trials.values():
        values = dict(trial.hyperparameters.values)
        score = trial.metrics.get_best_value("val_accuracy") if trial.metrics.exists("val_accuracy") else None
        rows.append({"trial": trial.trial_id, "status": str(trial.status), "val_accuracy": score,
                     "bracket": values.pop("tuner/bracket", None), "round": values.pop("tuner/round", None),
                     "epochs": values.pop("tuner/epochs", None), **{k: v for k, v in values.items()
                                                                    if not k.startswith("tuner/")}})
    frame = pd.DataFrame(rows)
    return frame.sort_values("val_accuracy", ascending=False, na_position="last").reset_index(drop=True)


def best_specs(space: str, tuner, n: int = 1) -> list[ModelSpec]:
    """The ``n`` best trials as specs (set their training recipe before training them)."""
    return [spec_from_hp(space, hp) for hp in tuner.get_best_hyperparameters(n)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", choices=sorted(SPACES), required=True)
    parser.add_argument("--profile", default=None, choices=PROFILE_NAMES,
                        help="default: $FMNIST_PROFILE or quick")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--directory", default=None,
                        help="the shared tuner folder (default: the profile's artifacts/<profile>/tuner)")
    args = parser.parse_args(argv)
    from .data import prepare_splits

    profile = get_profile(args.profile)
    run_search(args.space, prepare_splits(profile, args.seed), profile, args.seed, verbose=0,
               directory=args.directory)


if __name__ == "__main__":
    main()


def space_table(space: str) -> pd.DataFrame:
    """The search space as the tuner sees it: each hyper-parameter with its values or range,
    read from the space function itself (so the report cannot drift from the code)."""
    import keras_tuner as kt

    hp = kt.HyperParameters()
    spec_from_hp(space, hp)
    rows = {}
    for p in hp.space:
        config = p.get_config()
        if "values" in config:
            values = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in config["values"])
        else:
            step = f", step {config['step']:g}" if config.get("step") else ""
            values = f"{config['min_value']:g} to {config['max_value']:g}{step}"
            if config.get("sampling") == "log":
                values += " (log scale)"
        rows[p.name] = values
    # One row for a run of per-layer parameters with the same values (units_0 … units_5).
    merged = {}
    for (_, values), run in itertools.groupby(rows.items(), key=lambda row: (row[0].rstrip("0123456789"), row[1])):
        names = [name for name, _ in run]
        merged[names[0] if len(names) == 1 else f"{names[0]}…{names[-1]}"] = values
    return pd.DataFrame({"values": merged})
