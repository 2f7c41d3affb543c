"""Training with a cache: one ``fit`` for every model in the report. A trained model is kept under
``<artifacts>/models/<name>--<key>/`` (``key``: :meth:`~fmnist_utils.compute.spec.ModelSpec.cache_key`), so rerunning
a notebook, or resuming a killed run, retrains nothing that already finished.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from keras import ops

from .. import atomic
from ..config import seed_everything
from . import precision, store
from .data import NUM_CLASSES, for_cnn, for_mlp
from .models import build_model, input_kind
from .spec import ModelSpec, TrainConfig


@dataclasses.dataclass
class TrainResult:
    name: str
    model: object
    history: pd.DataFrame
    train_seconds: float
    epochs: int
    from_cache: bool
    key: str
    spec: ModelSpec  # enough to rebuild and retrain
    stored: Path | None = None  # its folder in the model store, if a store was given


def preprocess(arch: str, x: np.ndarray) -> np.ndarray:
    """Scale uint8 images and shape them the way ``arch`` expects (features pass as they are)."""
    kind = input_kind(arch)
    return for_cnn(x) if kind == "image" else for_mlp(x) if kind == "flat" else x


def fingerprint(*arrays: np.ndarray) -> str:
    """A short digest of array contents, shapes and dtypes (part of the cache key)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int):
    lr = cfg.learning_rate
    if cfg.schedule == "cosine":
        warmup = cfg.warmup_epochs * steps_per_epoch
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=cfg.learning_rate / 10 if warmup else cfg.learning_rate,
            decay_steps=max(1, cfg.epochs * steps_per_epoch - warmup),
            warmup_target=cfg.learning_rate if warmup else None,
            warmup_steps=warmup,
        )
    elif cfg.schedule not in ("constant", "plateau"):
        raise ValueError(f"Unknown schedule {cfg.schedule!r}")
    options = {"weight_decay": cfg.weight_decay} if cfg.weight_decay else {}
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9, nesterov=True, **options)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr, **options)
    if cfg.optimizer != "adam":
        raise ValueError(f"Unknown optimizer {cfg.optimizer!r}; known: adam, sgd, rmsprop")
    return (keras.optimizers.AdamW if cfg.weight_decay else keras.optimizers.Adam)(lr, **options)


def make_callbacks(cfg: TrainConfig) -> list:
    callbacks = []
    if cfg.patience is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_accuracy", patience=cfg.patience, restore_best_weights=True))
    if cfg.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=max(1, (cfg.patience or 6) // 2), min_lr=1e-5))
    return callbacks


@keras.saving.register_keras_serializable(package="fmnist")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Keras' sparse cross-entropy has no ``label_smoothing``: one-hot the labels, then smooth."""

    def __init__(self, label_smoothing: float, name: str = "smoothed_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        onehot = ops.one_hot(ops.reshape(ops.cast(y_true, "int32"), (-1,)), ops.shape(y_pred)[-1])
        return keras.losses.categorical_crossentropy(onehot, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def make_loss(cfg: TrainConfig):
    """Cross-entropy on integer labels, label-smoothed when the recipe asks for it; on probability targets for a
    distilled model (:func:`distillation_targets`)."""
    if cfg.distill:
        if cfg.label_smoothing:
            raise ValueError("A distilled model's targets are already soft: no label smoothing on top")
        return "categorical_crossentropy"
    if not cfg.label_smoothing:
        return "sparse_categorical_crossentropy"
    if not 0 < cfg.label_smoothing < 1:
        raise ValueError(f"label_smoothing must lie in [0, 1), not {cfg.label_smoothing}")
    return SmoothedSparseCrossentropy(cfg.label_smoothing)


def compile_model(model, cfg: TrainConfig, steps_per_epoch: int):
    model.compile(optimizer=make_optimizer(cfg, steps_per_epoch), loss=make_loss(cfg), metrics=["accuracy"])
    return model


def distillation_targets(labels: np.ndarray, teacher_probs: np.ndarray, weight: float,
                         temperature: float = 1.0) -> np.ndarray:
    """A distilled model's targets (Hinton et al., 2015): ``1 - weight`` of the one-hot label plus ``weight`` of the
    teachers' probabilities for the same image at ``temperature`` (on training images they are nearly one-hot; a
    temperature above 1 brings out which wrong classes the teachers find plausible)."""
    onehot = np.eye(NUM_CLASSES, dtype=np.float32)[np.asarray(labels)]
    softened = np.asarray(teacher_probs, np.float64) ** (1 / temperature)
    return (1 - weight) * onehot + weight * (softened / softened.sum(axis=1, keepdims=True)).astype(np.float32)


def fit(name: str, spec: ModelSpec, splits: dict, cache_dir: str | Path, verbose: int = 2,
        store_dir: str | Path | None = None, teacher: Callable[[], np.ndarray] | None = None) -> TrainResult:
    """Train ``spec`` on ``splits["train"]`` (uint8 ``(x, y)`` pairs), validating on ``splits["val"]``, unless the
    training cache or the model store (``store_dir``) holds its key. A distilled spec also needs ``teacher``: the
    teachers' probabilities for the training images, computed only if it trains."""
    (x_tr, y_tr), (x_val, y_val) = splits["train"], splits["val"]
    key = spec.cache_key(fingerprint(x_tr, y_tr, x_val, y_val))
    folder = Path(cache_dir) / "models" / f"{name}--{key}"
    stored = Path(store_dir) / key if store_dir is not None else None  # one folder per key: names may share one
    store.note_use(stored)
    found = load_trained(folder, stored)
    if found:
        model, history, meta = found
        return TrainResult(name, model, history, meta["train_seconds"], meta["epochs"], True, key, spec, stored)

    seed_everything(spec.seed)
    cfg = spec.train
    if cfg.distill:  # probability targets, the validation labels one-hot to match
        if teacher is None:
            raise ValueError(f"{name} is distilled from {len(cfg.teachers)} teachers: pass their probabilities")
        y_tr = distillation_targets(y_tr, teacher(), cfg.distill, cfg.temperature)
        y_val = np.eye(NUM_CLASSES, dtype=np.float32)[y_val]
    with precision.policy(cfg.precision) as resolved:
        model = build_model(spec.arch, **spec.hparams)
        steps = int(np.ceil(len(y_tr) / cfg.batch_size))
        compile_model(model, cfg, steps)
        start = time.perf_counter()
        hist = model.fit(preprocess(spec.arch, x_tr), y_tr, validation_data=(preprocess(spec.arch, x_val), y_val),
                         epochs=cfg.epochs, batch_size=cfg.batch_size, callbacks=make_callbacks(cfg),
                         verbose=verbose)
        seconds = time.perf_counter() - start
    history = pd.DataFrame(hist.history).drop(columns=["learning_rate"], errors="ignore")
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    meta = {"name": name, "key": key, "spec": spec.training_dict(), "train_seconds": seconds,
            "epochs": len(history), "params": int(model.count_params()), "trained_on": trained_on(resolved)}
    keep_trained(folder, stored, model, history, meta)
    return TrainResult(name, model, history, seconds, len(history), False, key, spec, stored)


def trained_on(resolved_precision: str) -> dict:
    """The machine and the precision a model actually trained in (bfloat16 falls back to float32 on some CPUs)."""
    from ..provenance import hardware

    return {"cpu": hardware()["cpu"], "precision": resolved_precision, "keras": keras.__version__}


def load_trained(folder: Path, stored: Path | None):
    """(model, history, meta) from the training cache (``folder``), else from the model store (``stored``); None
    when neither holds it. A cached model the store lacks is stored on the way."""
    if (folder / "meta.json").is_file():
        meta = json.loads((folder / "meta.json").read_text())
        # Cached models only predict or seed a new model's weights: no optimizer state to restore.
        model = keras.models.load_model(folder / "model.keras", compile=False)
        history = pd.read_csv(folder / "history.csv")
        if stored is not None and not store.holds(stored):
            store.save(stored, folder / "model.keras", history, meta)
        return model, history, meta
    return store.load(stored) if store.holds(stored) else None


def keep_trained(folder: Path, stored: Path | None, model, history: pd.DataFrame, meta: dict) -> None:
    """A model that just finished training: into the training cache (a temp folder renamed into place), then into
    the model store."""
    with atomic.atomic_path(folder) as tmp:
        tmp.mkdir()
        model.save(tmp / "model.keras")
        history.to_csv(tmp / "history.csv", index=False)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    if stored is not None:
        store.save(stored, folder / "model.keras", history, meta)
