"""The design choices the brief asks to assess, each on a small network with everything else fixed (notebook 07):
weight initialisation and optimiser on a one-hidden-layer MLP, and report 001's 2×2 study on a small CNN —
average or max pooling, regularised by dropout or by batch normalisation.
"""

from __future__ import annotations

# Initialisers of the MLP's hidden layer: He (made for ReLU), Glorot (Keras' default) and a poor choice,
# weights drawn with standard deviation 1 (activations and gradients grow with the layer's width).
INITIALIZERS = {"He normal": "he_normal", "Glorot uniform": "glorot_uniform", "normal, σ = 1": "poor"}
# Learning rates tried per optimiser, around each one's usual default; validation picks one.
LEARNING_RATES = {"sgd": (0.01, 0.03, 0.1), "rmsprop": (3e-4, 1e-3, 3e-3), "adam": (3e-4, 1e-3, 3e-3)}
# Per profile: the MLP studies' epochs, and the CNN study's training images and epochs (a CPU budget).
SETTINGS = {"quick": {"mlp_epochs": 2, "cnn_images": 1000, "cnn_epochs": 1},
            "full": {"mlp_epochs": 6, "cnn_images": 10000, "cnn_epochs": 6}}
HIDDEN = 256


def mlp(initializer: str = "glorot_uniform"):
    """784 → dense 256, ReLU → softmax 10, the hidden layer initialised by ``initializer``."""
    import keras
    from keras import layers

    init = keras.initializers.RandomNormal(stddev=1.0, seed=0) if initializer == "poor" else initializer
    inputs = keras.Input((784,), name="pixels")
    x = layers.Dense(HIDDEN, activation="relu", kernel_initializer=init, name="hidden")(inputs)
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="output")(x), name="design_mlp")


def small_cnn(pooling: str = "max", regularizer: str = "dropout"):
    """Two 3×3 conv blocks (32, 64 filters) and a dense layer of 128, each block pooled by ``pooling``
    ("max" or "average"); ``regularizer`` "dropout" (0.25 after each block, 0.5 before the classifier) or
    "batchnorm" (after every convolution and the dense layer, before the ReLU)."""
    import keras
    from keras import layers

    from .models import batch_norm_layer  # the project's BatchNorm: statistics that settle within a short run

    pool = {"max": layers.MaxPooling2D, "average": layers.AveragePooling2D}[pooling]
    bn = regularizer == "batchnorm"
    if regularizer not in ("dropout", "batchnorm"):
        raise ValueError(f"Unknown regularizer {regularizer!r}: dropout or batchnorm")

    def unit(x, layer):
        x = layer(x)
        x = batch_norm_layer()(x) if bn else x
        return layers.ReLU()(x)

    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    for filters in (32, 64):
        x = pool(2)(unit(x, layers.Conv2D(filters, 3, padding="same", use_bias=not bn)))
        x = x if bn else layers.Dropout(0.25)(x)
    x = unit(layers.Flatten()(x), layers.Dense(128, use_bias=not bn))
    x = x if bn else layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="output")(x), name="design_cnn")


def spec(arch: str, hparams: dict, epochs: int, learning_rate: float, seed: int, optimizer: str = "adam") -> dict:
    """What determines a design-study model, recorded like the other models' specs (and hashed into its cache
    key: a BatchNorm network names its momentum)."""
    from .models import BN_MOMENTUM

    if hparams.get("regularizer") == "batchnorm":
        hparams = {**hparams, "batch_norm_momentum": BN_MOMENTUM}
    return {"arch": arch, "hparams": hparams, "seed": seed, "tta_flip": False,
            "train": {"epochs": epochs, "batch_size": 128, "learning_rate": learning_rate, "optimizer": optimizer,
                      "schedule": "constant", "warmup_epochs": 0, "patience": 3, "weight_decay": 0.0}}
