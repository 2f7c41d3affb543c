"""Model builders for every architecture in the report, by name: ``build_model(arch, **hparams)`` returns an
*uncompiled* model, so a network is fully described by ``(arch, hparams)``; :mod:`fmnist_utils.compute.train`
compiles it with a run's optimiser and schedule."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
from keras import layers

from . import transfer
from .augment import augmentation_block
from .data import IMAGE_SHAPE, NUM_CLASSES

FLAT_DIM = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
IMAGE_INPUT = (*IMAGE_SHAPE, 1)

# Keras' default moving-average momentum (0.99) needs several hundred steps before inference
# statistics settle: a Hyperband trial of one epoch on a few thousand images then validates at
# chance level (seen: 10% in the first full-profile search). 0.9 settles within ~50 steps.
BN_MOMENTUM = 0.9


def batch_norm_layer():
    return layers.BatchNormalization(momentum=BN_MOMENTUM)


def _maybe_augment(x, augment: dict | None):
    return augmentation_block(**augment)(x) if augment else x


def _classifier(x):
    # float32 whatever the dtype policy: a bfloat16 softmax loses the small probabilities.
    return layers.Dense(NUM_CLASSES, activation="softmax", name="output", dtype="float32")(x)


def linear_baseline() -> keras.Model:
    """Softmax regression on the 784 pixels (report 004's baseline: 7,850 parameters)."""
    inputs = keras.Input((FLAT_DIM,), name="pixels")
    return keras.Model(inputs, _classifier(inputs), name="linear")


def mlp(hidden_units: Sequence[int] = (256,), activation: str | None = "relu", dropout: float = 0.0,
        batch_norm: bool = False, augment: dict | None = None) -> keras.Model:
    """A fully connected network on flat pixels; ``activation=None`` gives a purely linear stack (report 001's "no
    activation" case). With ``batch_norm`` each hidden layer is Dense → BatchNorm → activation (bias dropped:
    BatchNorm's shift replaces it)."""
    inputs = x = keras.Input((FLAT_DIM,), name="pixels")
    if augment:  # as an image, then flat again
        x = _maybe_augment(layers.Reshape(IMAGE_INPUT)(x), augment)
        x = layers.Flatten()(x)
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, use_bias=not batch_norm, name=f"hidden{i + 1}")(x)
        if batch_norm:
            x = batch_norm_layer()(x)
        if activation:
            x = layers.Activation(activation)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, _classifier(x), name="mlp")


def cnn_1conv_mlp() -> keras.Model:
    """Report 004: one 16-filter conv + pool in front of the 256/128/100 MLP (850,038 parameters)."""
    inputs = keras.Input(IMAGE_INPUT, name="image")
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    for units in (256, 128, 100):
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(0.4)(x)
    return keras.Model(inputs, _classifier(x), name="cnn_1conv_mlp")


def cnn_2conv(augment: dict | None = None) -> keras.Model:
    """Report 004: conv16 → pool → conv32 → pool → dense 256 (409,034 parameters)."""
    inputs = keras.Input(IMAGE_INPUT, name="image")
    x = _maybe_augment(inputs, augment)
    for filters in (16, 32):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, _classifier(x), name="cnn_2conv")


def conv_bn(x, filters: int, kernel: int = 3, bn: bool = True):
    """Conv (no bias) → BatchNorm → ReLU: the unit of every BN network here.

    ``bn=False`` gives a plain conv + ReLU (with bias), used for the first layer: on a CPU,
    normalising the full-resolution 28×28 maps costs about as much as all the convolutions
    together, while the first layer (fed [0, 1] pixels) gains little from it.
    """
    if not bn:
        return layers.Conv2D(filters, kernel, padding="same", activation="relu")(x)
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)
    x = batch_norm_layer()(x)
    return layers.ReLU()(x)


def lenet_bn(augment: dict | None = None, dropout: float = 0.3, first_bn: bool = True) -> keras.Model:
    """Report 003's lighter CNN (≈315k parameters) with BatchNorm and dropout, LeNet-5-like: two 5×5 conv+BN+pool
    stages and an 84-unit dense head (≈317k parameters); ``first_bn`` as in :func:`conv_bn`."""
    inputs = keras.Input(IMAGE_INPUT, name="image")
    x = _maybe_augment(inputs, augment)
    for i, filters in enumerate((32, 64)):
        x = conv_bn(x, filters, kernel=5, bn=first_bn or i > 0)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(dropout / 2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(84, use_bias=False)(x)  # LeNet-5's F6 width
    x = batch_norm_layer()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, _classifier(x), name="lenet_bn")


def vgg_bn(blocks: Sequence[Sequence[int]] = ((32, 32), (64, 64), (128,)), dense_units: int = 256,
           dropout: float = 0.3, augment: dict | None = None, first_bn: bool = True) -> keras.Model:
    """A VGG-style BN+dropout CNN: each block is a few conv+BN+ReLU units, then 2×2 max-pool; the default (five conv
    layers in three blocks) is report 003's deeper design. ``first_bn`` as in :func:`conv_bn`."""
    inputs = keras.Input(IMAGE_INPUT, name="image")
    x = _maybe_augment(inputs, augment)
    for b, block in enumerate(blocks):
        for i, filters in enumerate(block):
            x = conv_bn(x, filters, bn=first_bn or b > 0 or i > 0)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(dropout / 2)(x)
    x = layers.Flatten()(x)
    if dense_units:
        x = layers.Dense(dense_units, use_bias=False)(x)
        x = batch_norm_layer()(x)
        x = layers.ReLU()(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, _classifier(x), name="vgg_bn")


def residual_bn(widths: Sequence[int] = (32, 64, 128), dropout: float = 0.3,
                augment: dict | None = None) -> keras.Model:
    """A residual CNN with a global-average-pooling head: another architecture for the ensemble, whose errors
    differ more from CNN-5's than a second seed's do.

    Two convs at full resolution (the first without BatchNorm, see :func:`conv_bn`); then, per further width,
    2×2 max-pool, a conv that widens, and a residual block of two convs (He et al., 2016). Trained with shifts and
    erasing for 30 epochs it took ~2,300 s in bfloat16 on a 2-core AMD EPYC, about twice CNN-5's time.
    """
    inputs = keras.Input(IMAGE_INPUT, name="image")
    x = _maybe_augment(inputs, augment)
    x = conv_bn(conv_bn(x, widths[0], bn=False), widths[0])
    for filters in widths[1:]:
        x = conv_bn(layers.MaxPooling2D(2)(x), filters)
        branch = conv_bn(x, filters)
        branch = batch_norm_layer()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(branch))
        x = layers.ReLU()(layers.Add()([x, branch]))
    x = layers.Dropout(dropout)(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, _classifier(x), name="residual_bn")

# ---- The design studies' networks (notebook 07): each differs from its siblings in one choice only. ----


DESIGN_HIDDEN = 256


def design_mlp(initializer: str = "glorot_uniform"):
    """784 → dense 256, ReLU → softmax 10, the hidden layer initialised by ``initializer``."""
    init = keras.initializers.RandomNormal(stddev=1.0) if initializer == "poor" else initializer
    inputs = keras.Input((FLAT_DIM,), name="pixels")
    x = layers.Dense(DESIGN_HIDDEN, activation="relu", kernel_initializer=init, name="hidden")(inputs)
    return keras.Model(inputs, layers.Dense(NUM_CLASSES, activation="softmax", name="output")(x), name="design_mlp")


def design_cnn(pooling: str = "max", regularizer: str = "dropout"):
    """Two 3×3 conv blocks (32, 64 filters) and a dense layer of 128, each block pooled by ``pooling``
    ("max" or "average"); ``regularizer`` "dropout" (0.25 after each block, 0.5 before the classifier) or
    "batchnorm" (after every convolution and the dense layer, before the ReLU)."""
    pool = {"max": layers.MaxPooling2D, "average": layers.AveragePooling2D}[pooling]
    bn = regularizer == "batchnorm"
    if regularizer not in ("dropout", "batchnorm"):
        raise ValueError(f"Unknown regularizer {regularizer!r}: dropout or batchnorm")

    def unit(x, layer):
        x = layer(x)
        x = batch_norm_layer()(x) if bn else x
        return layers.ReLU()(x)

    inputs = keras.Input(IMAGE_INPUT, name="image")
    x = inputs
    for filters in (32, 64):
        x = pool(2)(unit(x, layers.Conv2D(filters, 3, padding="same", use_bias=not bn)))
        x = x if bn else layers.Dropout(0.25)(x)
    x = unit(layers.Flatten()(x), layers.Dense(128, use_bias=not bn))
    x = x if bn else layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(NUM_CLASSES, activation="softmax", name="output")(x), name="design_cnn")


ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "linear": linear_baseline,
    "mlp": mlp,
    "cnn_1conv_mlp": cnn_1conv_mlp,
    "cnn_2conv": cnn_2conv,
    "lenet_bn": lenet_bn,
    "vgg_bn": vgg_bn,
    "residual_bn": residual_bn,
    "design_mlp": design_mlp,
    "design_cnn": design_cnn,
    "efficientnet_lite0": transfer.network,  # its trained part, fed features extracted once
}

IMAGE_ARCHITECTURES = {"cnn_1conv_mlp", "cnn_2conv", "lenet_bn", "vgg_bn", "residual_bn", "design_cnn"}
FEATURE_ARCHITECTURES = {"efficientnet_lite0"}  # trained on features computed once, not on pixels


def build_model(arch: str, **hparams) -> keras.Model:
    if arch not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**hparams)


def input_kind(arch: str) -> str:
    """``"image"`` (28×28×1), ``"flat"`` (784) or ``"features"`` (as given): which preprocessing a model expects."""
    return "image" if arch in IMAGE_ARCHITECTURES else "features" if arch in FEATURE_ARCHITECTURES else "flat"
