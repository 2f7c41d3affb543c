"""The training recipes the studies share, built from a profile in one place, so that a tuned model is
retrained on exactly the recipe (epochs, schedule, batch, precision) of the hand-designed models it
competes with; only the learning rate the search found is its own."""

from __future__ import annotations

import dataclasses

from ..config import Profile
from .spec import TrainConfig

# bfloat16 matmuls with float32 weights: ~1.35-1.55x the float32 throughput of our CNNs on a CPU with
# AVX512_BF16 (`make bench`); fmnist_utils.compute.precision falls back to float32 on CPUs without it.
CNN_PRECISION = "mixed_bfloat16"


def mlp_standard(profile: Profile) -> TrainConfig:
    """The source reports' MLP recipe: Adam 1e-3, batch 128, plateau decay, early stopping."""
    return TrainConfig(epochs=profile.mlp_epochs, patience=profile.patience)


def cnn_baseline(profile: Profile) -> TrainConfig:
    """Report 004's CNN recipe (as :func:`mlp_standard`), for its ladder of CNNs."""
    return TrainConfig(epochs=profile.cnn_epochs, patience=profile.patience, precision=CNN_PRECISION)


def cnn_recipe(profile: Profile) -> TrainConfig:
    """Our CNN recipe: a fixed budget of epochs, one warm-up epoch then cosine decay from 2e-3."""
    return TrainConfig(epochs=profile.recipe_epochs, batch_size=128, learning_rate=2e-3, schedule="cosine",
                       warmup_epochs=1 if profile.recipe_epochs > 2 else 0, patience=None, precision=CNN_PRECISION)


LABEL_SMOOTHING = 0.1


def longer(recipe: TrainConfig, epochs: int) -> TrainConfig:
    """``recipe`` over ``epochs`` (the warm-up stays; the cosine decay stretches to the new end)."""
    return dataclasses.replace(recipe, epochs=epochs)


def smoothed(recipe: TrainConfig, amount: float = LABEL_SMOOTHING) -> TrainConfig:
    """``recipe`` with label-smoothed targets (the true class gets ``1 - amount + amount / 10``)."""
    return dataclasses.replace(recipe, label_smoothing=amount)


def retrain(recipe: TrainConfig, found: TrainConfig) -> TrainConfig:
    """``recipe`` with the options a search chose in ``found``: learning rate (the peak, for a schedule) and
    weight decay."""
    return dataclasses.replace(recipe, learning_rate=found.learning_rate, weight_decay=found.weight_decay)
