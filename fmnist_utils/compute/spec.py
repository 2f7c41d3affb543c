"""One typed object for one idea: :class:`ModelSpec` says everything that determines a trained model
(architecture, hyper-parameters, training recipe, seed) and how it is evaluated
(test-time flip averaging). Its training part hashes to the model's cache key; ``to_dict`` is what the
results files record and ``from_dict`` reads it back, so no caller rebuilds or digs in a dict.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..config import SEED

CACHE_VERSION = 3  # bump when a change to a builder or to training invalidates stored models
# 2: BatchNorm momentum 0.9; 3: augmentation shifts whole pixels (nearest, not bilinear)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The optimisation recipe. ``schedule``: "constant", "plateau" (ReduceLROnPlateau) or
    "cosine" (linear warm-up then cosine decay to zero, a one-cycle-like schedule)."""

    epochs: int
    batch_size: int = 128
    learning_rate: float = 1e-3
    schedule: str = "plateau"
    warmup_epochs: int = 0
    patience: int | None = 5  # early stopping on val accuracy; None trains every epoch
    weight_decay: float = 0.0  # > 0 switches Adam to AdamW
    precision: str = "float32"  # or "mixed_bfloat16" (fmnist_utils.compute.precision; float32 where bf16 is slow)
    label_smoothing: float = 0.0  # the target puts this much mass uniformly on the ten classes
    optimizer: str = "adam"  # AdamW when weight_decay > 0; "sgd" (Nesterov momentum 0.9) or "rmsprop"
    distill: float = 0.0  # > 0: each target is this much the teachers' probabilities, the rest the one-hot label
    temperature: float = 1.0  # the teachers' probabilities softened to p^(1/T), renormalised (Hinton et al., 2015)
    teachers: tuple[str, ...] = ()  # the teachers' cache keys: which models taught (their probabilities are not)

    def __post_init__(self):
        object.__setattr__(self, "teachers", tuple(self.teachers))  # a list when read back from JSON
        if bool(self.distill) != bool(self.teachers):
            raise ValueError("A distilled model names its teachers, and only a distilled one has teachers")

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        # Options added later: at their defaults, left out, so the cache keys of earlier models stay as they were.
        for name in ("precision", "label_smoothing", "optimizer", "distill", "temperature", "teachers"):
            if values[name] == _DEFAULTS[name]:
                del values[name]
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        return cls(**_known(cls, values, "training recipe"))


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    arch: str
    train: TrainConfig
    hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    seed: int = SEED
    tta_flip: bool = False

    def __post_init__(self):
        if not isinstance(self.train, TrainConfig):
            raise TypeError(f"ModelSpec.train must be a TrainConfig, not {type(self.train).__name__}")
        object.__setattr__(self, "hparams", json.loads(json.dumps(dict(self.hparams))))  # a JSON-clean copy

    def training_dict(self) -> dict:
        """What determines the trained weights (not ``tta_flip``, which only changes evaluation)."""
        return {"arch": self.arch, "hparams": self.hparams, "train": self.train.to_dict(), "seed": self.seed}

    def to_dict(self) -> dict:
        return {**self.training_dict(), "tta_flip": self.tta_flip}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModelSpec:
        values = _known(cls, values, "model spec")
        return cls(**{**values, "train": TrainConfig.from_dict(values["train"])})

    def cache_key(self, data_fingerprint: str) -> str:
        payload = json.dumps({"spec": self.training_dict(), "data": data_fingerprint, "v": CACHE_VERSION},
                             sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def replace(self, **changes) -> ModelSpec:
        return dataclasses.replace(self, **changes)


def _known(cls, values: Mapping[str, Any], what: str) -> dict:
    """``values`` if every key is a field of ``cls``; otherwise an error naming the unknown ones."""
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ValueError(f"Unknown {what} option(s) {unknown}; known: {sorted(fields)}")
    return dict(values)
