"""Training and recording for the studies outside the model registry's builders (transfer learning, the design
choices): any Keras builder, any of three optimisers, the same cache and the same results files as every model.

Their models are recorded in the ``baseline`` family: the MLP, CNN and ensemble selections (``best`` of a family,
the ensemble's candidates) must not pick up a model trained on features or for a side study.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

OPTIMIZERS = ("adam", "sgd", "rmsprop")


def make_optimizer(name: str, learning_rate: float):
    """Adam; SGD with Nesterov momentum 0.9; or RMSprop — Keras' own, at ``learning_rate``."""
    import keras

    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    raise ValueError(f"Unknown optimizer {name!r}; known: {OPTIMIZERS}")


def fit_cached(name: str, spec: dict, build, x: tuple, y: tuple, cache_dir: Path, store_dir: Path | None = None):
    """Train ``build()`` on ``x[0], y[0]`` (validating on ``x[1], y[1]``) with the spec's optimiser (Adam unless
    it names another) and early stopping on validation accuracy, or load it from the training cache or the model
    store (``store_dir``), keyed by ``spec`` and the data. Returns the model and its meta (spec, seconds, epochs)."""
    import keras
    import pandas as pd

    from ..config import seed_everything
    from . import store
    from .train import fingerprint, keep_trained, load_trained, trained_on

    identity = json.dumps({"spec": spec, "data": fingerprint(*x, *y)}, sort_keys=True)
    key = hashlib.sha256(identity.encode()).hexdigest()[:12]
    folder = Path(cache_dir) / "models" / f"{name}--{key}"
    stored = store.folder(store_dir, key) if store_dir is not None else None
    found = load_trained(folder, stored)
    if found:
        return found[0], found[2]
    seed_everything(spec["seed"])
    train = spec["train"]
    model = build()
    model.compile(optimizer=make_optimizer(train.get("optimizer", "adam"), train["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    hist = model.fit(x[0], y[0], validation_data=(x[1], y[1]), epochs=train["epochs"], batch_size=train["batch_size"],
                     callbacks=[keras.callbacks.EarlyStopping("val_accuracy", patience=train["patience"],
                                                              restore_best_weights=True)], verbose=2)
    history = pd.DataFrame(hist.history)
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    meta = {"name": name, "key": key, "spec": spec, "train_seconds": time.perf_counter() - start,
            "epochs": len(history), "params": int(model.count_params()),
            "trained_on": trained_on(keras.mixed_precision.global_policy().name)}
    keep_trained(folder, stored, model, history, meta)
    return model, meta


def record(study, name: str, model, meta: dict, x_val, x_test, params: int, extra_seconds: float = 0.0) -> dict:
    """Evaluate a model on the validation and test inputs and record it like every model (``extra_seconds``:
    training work outside ``fit``, such as extracting the features it trained on)."""
    from .. import results
    from . import experiment, store

    (_, y_val), (_, y_test) = study.splits["val"], study.splits["test"]
    stored = store.folder(study.profile.store_dir, meta["key"])
    probs = store.predictions(stored, lambda: {"val": model.predict(x_val, verbose=0),
                                               "test": model.predict(x_test, verbose=0)})
    extra_seconds = store.remember(stored, "extra_seconds", lambda: extra_seconds)  # as first measured
    entry = experiment.registry_entry("baseline", study.notebook, y_val, probs["val"], y_test, probs["test"],
                                      params=params, epochs=meta["epochs"],
                                      train_seconds=meta["train_seconds"] + extra_seconds,
                                      n_boot=study.profile.bootstrap_samples, spec=meta["spec"], stored_as=stored.name)
    results.record_model(study.profile.results_dir, study.profile.name, name, entry)
    results.save_probs(study.profile.results_dir, study.notebook, {name: probs["test"]})
    return entry
