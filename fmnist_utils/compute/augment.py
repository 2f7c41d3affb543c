"""Data augmentation as Keras preprocessing layers (active in training only).

Replaces the deprecated ``ImageDataGenerator`` of the source reports: the block sits inside
the model, so augmentation runs on the fly, on any Keras backend, and switches off at inference.
"""

from __future__ import annotations

import keras
from keras import layers

SHIFT = 0.1  # the default largest shift, a fraction of the image size


def augmentation_block(flip: bool = True, shift: float = SHIFT, erasing: float = 0.0,
                       seed: int | None = None) -> keras.Sequential:
    """Random transforms for 28×28×1 images in [0, 1]: ``shift`` a fraction of the image size; ``erasing`` the
    largest probability that a random rectangle of an image is blanked to 0 (random erasing, Zhong et al. 2020; Keras
    draws each image's probability between 0 and it).
    Shifts move whole pixels (nearest, a random crop of a zero-padded image): bilinear sub-pixel shifts blur a
    28-pixel image that test images never are, and cost us 0.6 pt of validation accuracy with 2-pixel shifts and
    erasing (18 epochs, 93.10% vs 93.70%).
    Fashion items are left-right symmetric in meaning, so horizontal flips are label-preserving;
    vertical flips are not (a shoe upside down is not a shoe in this data set).
    """
    steps = []
    if flip:
        steps.append(layers.RandomFlip("horizontal", seed=seed))
    if shift:
        steps.append(layers.RandomTranslation(shift, shift, fill_mode="constant", interpolation="nearest", seed=seed))
    if erasing:
        steps.append(layers.RandomErasing(factor=erasing, fill_value=0.0, value_range=(0, 1), seed=seed))
    return keras.Sequential(steps, name="augment")
