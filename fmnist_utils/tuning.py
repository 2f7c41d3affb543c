"""Hyperband search (keras-tuner) over report 003's MLP and CNN spaces.

A *space* maps keras-tuner's ``hp`` to a :class:`~fmnist_utils.spec.ModelSpec` (a one-epoch constant
learning-rate recipe carrying the tuned rate), so the best trial becomes an ordinary model for
:func:`fmnist_utils.train.fit` (cached, rebuildable) once its training recipe is set.
The tuner folder lives under the profile's artifacts and is reopened with ``overwrite=False``:
an interrupted search resumes, and workers of keras-tuner's distributed mode
(``KERASTUNER_TUNER_ID``/``KERASTUNER_ORACLE_IP``/``KERASTUNER_ORACLE_PORT``) share it.

Command line (one chief and N workers, or alone)::

    python -m fmnist_utils.tuning --space cnn --profile full
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings

import pandas as pd

from .config import PROFILE_NAMES, SEED, Profile, get_profile
from .spec import CACHE_VERSION, ModelSpec, TrainConfig
from .train import compile_model, preprocess

MLP_UNITS = [32, 64, 128, 256, 512]
MAX_LAYERS = 6


def mlp_space(hp):
    """2–6 hidden layers of 32–512 units, one dropout rate, learning rate in {1e-2, 1e-3, 1e-4}."""
    n = hp.Int("layers", 2, MAX_LAYERS)
    units = [hp.Choice(f"units_{i}", MLP_UNITS) for i in range(MAX_LAYERS)][:n]
    hparams = {"hidden_units": units, "dropout": hp.Choice("dropout", [0.0, 0.1, 0.2, 0.3])}
    return "mlp", hparams, hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])


def cnn_space(hp):
    """First filters {16, 32}, kernel {3, 5}, first pool {2, 4}, three later blocks of
    {32, 64, 128} filters, dropout 0–0.5, learning rate 1e-4–1e-2 (log scale)."""
    hparams = {
        "filters1": hp.Choice("filters1", [16, 32]),
        "kernel": hp.Choice("kernel", [3, 5]),
        "pool": hp.Choice("pool", [2, 4]),
        "filters": [hp.Choice(f"filters{i}", [32, 64, 128]) for i in (2, 3, 4)],
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1),
    }
    return "tunable_cnn", hparams, hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")


SPACES = {"mlp": mlp_space, "cnn": cnn_space}


def spec_from_hp(space: str, hp) -> ModelSpec:
    arch, hparams, learning_rate = SPACES[space](hp)
    return ModelSpec(arch, TrainConfig(epochs=1, learning_rate=learning_rate, schedule="constant"), hparams=hparams)


def make_hypermodel(space: str):
    import keras_tuner as kt

    from .models import build_model

    class SpaceHyperModel(kt.HyperModel):
        def build(self, hp):
            spec = spec_from_hp(space, hp)
            return compile_model(build_model(spec.arch, **spec.hparams), spec.train, 1)

    return SpaceHyperModel(name=f"{space}_space")


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


def tuner_directory(profile: Profile) -> str:
    return str(profile.artifacts_dir / "tuner")


def make_tuner(space: str, profile: Profile, seed: int = SEED, directory: str | None = None):
    """A Hyperband tuner whose state lives in ``<artifacts>/tuner/<space>-v<CACHE_VERSION>`` (resumable).

    The cache version in the name means a change that invalidates stored models also starts a new search.
    Each finished trial prints one progress line (n of at most N, best so far), tagged with this
    process's ``KERASTUNER_TUNER_ID`` in distributed mode.
    """
    import keras_tuner as kt

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
        make_hypermodel(space), objective="val_accuracy", max_epochs=profile.tuner_max_epochs,
        factor=profile.tuner_factor, hyperband_iterations=profile.tuner_iterations, seed=seed,
        directory=directory or tuner_directory(profile), project_name=f"{space}-v{CACHE_VERSION}",
        overwrite=False)


def search_data(space: str, splits: dict, profile: Profile, seed: int = SEED):
    """The training subset the search uses (its budget), and the full validation split."""
    from .data import stratified_split

    x, y = splits["train"]
    if profile.tuner_subset and profile.tuner_subset < len(y):
        _, keep = stratified_split(y, val_size=profile.tuner_subset, seed=seed)
        x, y = x[keep], y[keep]
    arch = "mlp" if space == "mlp" else "tunable_cnn"
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
    return tuner


def trials_frame(tuner) -> pd.DataFrame:
    """Every trial: its hyper-parameters, Hyperband bracket/round, epochs and best val accuracy."""
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
    # One row for a family of per-layer parameters with the same values (units_0 … units_5).
    merged: dict[str, str] = {}
    for name, values in rows.items():
        family = name.rstrip("0123456789")
        last = next(reversed(merged), None)
        if last and family != name and last.split("…")[0].rstrip("0123456789") == family and merged[last] == values:
            merged[f"{last.split('…')[0]}…{name}"] = merged.pop(last)
        else:
            merged[name] = values
    return pd.DataFrame({"values": merged})
