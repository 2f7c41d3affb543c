"""The design choices the brief asks to assess, each on a small network with everything else fixed (notebook 07):
weight initialisation and optimiser on a one-hidden-layer MLP, and report 001's 2×2 study on a small CNN —
average or max pooling, regularised by dropout or by batch normalisation (the networks:
:func:`fmnist_utils.compute.models.design_mlp` and :func:`~fmnist_utils.compute.models.design_cnn`).
"""

from __future__ import annotations

from .spec import ModelSpec, TrainConfig

# Initialisers of the MLP's hidden layer: He (made for ReLU), Glorot (Keras' default) and a poor choice,
# weights drawn with standard deviation 1 (activations and gradients grow with the layer's width).
INITIALIZERS = {"He normal": "he_normal", "Glorot uniform": "glorot_uniform", "normal, σ = 1": "poor"}
# Learning rates tried per optimiser, around each one's usual default; validation picks one.
LEARNING_RATES = {"sgd": (0.01, 0.03, 0.1), "rmsprop": (3e-4, 1e-3, 3e-3), "adam": (3e-4, 1e-3, 3e-3)}
# Per profile: the MLP studies' most epochs (early stopping ends most runs once validation stops improving) and
# seeds, and the CNN study's training images and epochs (a CPU budget).
SETTINGS = {"quick": {"mlp_epochs": 2, "mlp_seeds": 2, "cnn_images": 1000, "cnn_epochs": 1},
            "full": {"mlp_epochs": 20, "mlp_seeds": 3, "cnn_images": 10000, "cnn_epochs": 6}}


def spec(arch: str, hparams: dict, epochs: int, learning_rate: float, seed: int, optimizer: str = "adam") -> ModelSpec:
    """A design-study model: a constant learning rate, early stopping after 3 epochs without progress."""
    return ModelSpec(arch, TrainConfig(epochs, learning_rate=learning_rate, schedule="constant", patience=3,
                                       optimizer=optimizer), hparams, seed)


def copy_name(name: str, copy: int) -> str:
    """The name of a study model's ``copy``-th seed: ``name`` itself for the first, then ``name_seed2``, …"""
    return name if copy == 1 else f"{name}_seed{copy}"


def seed_copies(name: str, seed: int, copies: int) -> dict[str, int]:
    """``copies`` runs of one study model, by name: the first with ``seed``, each further one with the next seed."""
    return {copy_name(name, k): seed + k - 1 for k in range(1, copies + 1)}
