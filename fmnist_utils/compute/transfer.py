"""Transfer learning (notebook 06): Fashion-MNIST through EfficientNet-Lite0's ImageNet layers
(:mod:`fmnist_utils.compute.efficientnet`), either a new classifier on its frozen features or its last stage
fine-tuned with one, each trained by :func:`fmnist_utils.compute.train.fit` on features extracted once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import store
from .efficientnet import HEAD, efficientnet_lite0, imagenet_classifier, to_network_input
from .spec import ModelSpec, TrainConfig

# Per profile: input sizes to choose from (on a subset, by validation accuracy within the time budget), the
# subset that chooses, the full run's extraction budget, and the two heads' epochs.
SETTINGS = {
    "quick": {"sizes": (32,), "choose_on": (600, 300), "budget_minutes": 5.0, "head_epochs": 3, "top_epochs": 1},
    "full": {"sizes": (32, 48, 64), "choose_on": (3000, 1500), "budget_minutes": 6.0, "head_epochs": 30,
             "top_epochs": 3},
}
# The first layer of stage 7: stage 7 and the head are fine-tuned (with stage 6 too, one epoch took 250 s here).
TOP_FROM = "block15_expand"


def extract(images: np.ndarray, size: int, cache_dir: Path, batch: int = 256) -> tuple[np.ndarray, np.ndarray, float]:
    """Inputs of the fine-tuned top (float16) and pooled features of uint8 images at ``size`` px, computed once and
    cached under ``cache_dir`` by a digest of the images; returns them and the seconds the extraction took (as
    measured when it ran, also when read back from the cache)."""
    import time

    from .. import atomic
    from .train import fingerprint

    path = Path(cache_dir) / "transfer" / f"lite0-{size}px-{TOP_FROM}-{fingerprint(images)}.npz"
    if path.is_file():
        with np.load(path) as cached:
            return cached["top_input"], cached["features"], float(cached["seconds"])
    import keras

    net, start = imagenet_classifier((size, size, 3), classes=None), time.perf_counter()
    model = keras.Model(net.input, [net.get_layer(TOP_FROM).input, net.output])  # the fine-tuned top's input, features
    chunk = 16 * batch  # resized copies of every image at once would not fit in memory at larger sizes
    parts = [model.predict(to_network_input(images[i:i + chunk], size), verbose=0, batch_size=batch)
             for i in range(0, len(images), chunk)]
    top_input = np.concatenate([p[0] for p in parts]).astype(np.float16)
    features = np.concatenate([p[1] for p in parts]).astype(np.float32)
    seconds = time.perf_counter() - start
    with atomic.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, top_input=top_input, features=features, seconds=seconds)
    return top_input, features, seconds


def spec(trained: str, size: int, epochs: int, learning_rate: float, seed: int) -> ModelSpec:
    return ModelSpec("efficientnet_lite0", TrainConfig(epochs, learning_rate=learning_rate, schedule="constant",
                                                       patience=3),
                     {"pretrained": "ImageNet", "input_size": size, "trained": trained}, seed)


def network(input_size: int, trained: str, pretrained: str = "ImageNet"):
    """The part of the transferred network that trains, fed what :func:`extract` computed once: a new ten-way
    classifier on the pooled features (``"head"``), or on the top of the ImageNet network from ``TOP_FROM`` (ImageNet
    weights, BatchNorm statistics frozen) fed the cached inputs of that top."""
    import keras
    from keras import layers

    if pretrained != "ImageNet" or trained not in ("head", "stage 7 and head"):
        raise ValueError(f"No transfer network {pretrained!r}/{trained!r}: ImageNet, 'head' or 'stage 7 and head'")
    if trained == "head":
        inputs = x = keras.Input((HEAD,), name="features")
    else:
        net = imagenet_classifier((input_size, input_size, 3), classes=None)
        top = keras.Model(net.get_layer(TOP_FROM).input, net.output)
        for layer in top.layers:
            layer.trainable = type(layer).__name__ != "BatchNormalization"
        inputs = keras.Input(top.input.shape[1:], name="top_input")
        x = top(inputs, training=False)
    x = layers.Dropout(0.2)(x)
    name = "lite0_head" if trained == "head" else "lite0_top"
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="output")(x), name=name)


def choose_size(splits: dict, settings: dict, cache_dir: Path, seed: int,
                store_dir: Path | None = None) -> pd.DataFrame:
    """Each candidate input size on a subset: the head's validation accuracy and the projected minutes to
    extract every image at that size. The chosen size is the most accurate whose projection fits the budget."""
    from .train import fit

    n_train, n_val = settings["choose_on"]
    (x_tr, y_tr), (x_val, y_val) = splits["train"], splits["val"]
    x_tr, y_tr, x_val, y_val = x_tr[:n_train], y_tr[:n_train], x_val[:n_val], y_val[:n_val]
    everything = sum(len(splits[k][1]) for k in ("train", "val", "test"))
    rows = {}
    for size in settings["sizes"]:
        _, f_tr, s_tr = extract(x_tr, size, cache_dir)
        _, f_val, s_val = extract(x_val, size, cache_dir)
        trained = fit(f"lite0_size{size}", spec("head", size, settings["head_epochs"], 1e-3, seed),
                      {"train": (f_tr, y_tr), "val": (f_val, y_val)}, cache_dir, store_dir=store_dir)
        accuracy = float(np.mean(trained.model.predict(f_val, verbose=0).argmax(1) == y_val))
        # The first run's measurement decides, on every machine after it: a CPU's speed must not change the size.
        projected = store.remember(trained.stored, "projected_minutes",
                                   lambda: (s_tr + s_val) / (n_train + n_val) * everything / 60)  # noqa: B023
        rows[size] = {"val_accuracy": accuracy, "projected_minutes": projected}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("input_size")
    table["chosen"] = table.index == pick_size(table, settings["budget_minutes"])
    return table


def pick_size(table, budget_minutes: float) -> int:
    """The most accurate size whose projected extraction fits the budget (the smallest if none does)."""
    fits = table[table["projected_minutes"] <= budget_minutes]
    return int(fits["val_accuracy"].idxmax()) if len(fits) else int(table.index.min())


def params() -> int:
    """Parameters of the whole transferred network: EfficientNet-Lite0 without its ImageNet classifier, plus ours."""
    return efficientnet_lite0(classes=None).count_params() + HEAD * 10 + 10
