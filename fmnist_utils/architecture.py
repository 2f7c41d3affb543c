"""A model's layers in words, for the report's architecture tables.

Presentation only (not part of the training code's digest): rewording a table never makes a trained
model stale.
"""

from __future__ import annotations

import re

import keras


def describe(model: keras.Model) -> str:
    """A model's layers in one line, e.g. 'flip, conv32 3×3, pool 2, conv64 3×3+BN, pool 2, dense 256+BN,
    dropout 0.3, softmax 10'. ReLU is every hidden layer's activation unless another one is named
    ('dense 128 tanh'); 'linear' marks a hidden layer without any."""
    parts: list[str] = []
    awaiting = None  # index of a hidden Dense layer whose activation follows as its own layer

    def settle():
        nonlocal awaiting
        if awaiting is not None:
            parts[awaiting] += " linear"
        awaiting = None

    for layer in model.layers:
        kind = type(layer).__name__
        act = getattr(getattr(layer, "activation", None), "__name__", None)
        if kind in ("Activation", "ReLU"):
            if awaiting is not None and kind == "Activation" and act != "relu":
                parts[awaiting] += f" {act}"
            awaiting = None
        elif isinstance(layer, keras.Sequential):
            parts.append("+".join(_augmentation_words(layer)))
        elif kind == "Conv2D":
            settle()
            k = layer.kernel_size
            parts.append(f"conv{layer.filters} {k[0]}×{k[1]}{'' if act in ('relu', 'linear') else f' {act}'}")
        elif kind == "BatchNormalization" and parts:
            parts[-1] += "+BN"
        elif kind == "MaxPooling2D":
            parts.append(f"pool {layer.pool_size[0]}")
        elif kind == "GlobalAveragePooling2D":
            parts.append("global avg pool")
        elif kind == "Dropout":
            parts.append(f"dropout {layer.rate:g}")
        elif kind == "Dense":
            settle()
            if act == "softmax":
                parts.append(f"softmax {layer.units}")
            else:
                parts.append(f"dense {layer.units}{'' if act in ('relu', 'linear') else f' {act}'}")
                awaiting = len(parts) - 1 if act == "linear" else None
    settle()
    return ", ".join(_merge_dense_runs(parts))


def _merge_dense_runs(parts: list[str]) -> list[str]:
    """'dense 512, dropout 0.2, dense 256, dropout 0.2' → 'dense 512-256 (dropout 0.2 after each)'."""
    merged, i = [], 0
    while i < len(parts):
        widths, j, rate = [], i, None
        while j < len(parts) and re.fullmatch(r"dense \d+", parts[j]):
            after = parts[j + 1] if j + 1 < len(parts) and parts[j + 1].startswith("dropout") else None
            if widths and after != rate:
                break
            widths.append(parts[j].split()[1])
            rate = after
            j += 2 if after else 1
        if len(widths) > 1:
            merged.append(f"dense {'-'.join(widths)}" + (f" ({rate} after each)" if rate else ""))
            i = j
        else:
            merged.append(parts[i])
            i += 1
    return merged


def _augmentation_words(block: keras.Sequential) -> list[str]:
    words = {"RandomFlip": "flip", "RandomTranslation": "shift", "RandomErasing": "erase", "RandomRotation": "rotate",
             "RandomZoom": "zoom"}
    return [words.get(type(layer).__name__, type(layer).__name__) for layer in block.layers]
