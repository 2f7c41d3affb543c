import dataclasses
import gzip
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from fmnist_utils import config
from fmnist_utils.compute.data import load_fashion_mnist


def _fashion_mnist_installed() -> bool:
    try:
        load_fashion_mnist(allow_download=False)
        return True
    except Exception:
        return False


# Tests that run real quick-profile processes need the data set (make setup installs Debian's package).
needs_fashion_mnist = pytest.mark.skipif(not _fashion_mnist_installed(),
                                         reason="Fashion-MNIST is not installed (make setup installs it)")


@pytest.fixture
def tmp_profile(tmp_path):
    """The quick profile with every output folder moved under a temporary directory."""
    base = config.get_profile("quick")
    return dataclasses.replace(base, figures_dir=tmp_path / "figures", results_dir=tmp_path / "results",
                               report_dir=tmp_path / "report", artifacts_dir=tmp_path / "artifacts",
                               store_dir=tmp_path / "models",
                               notebooks_out_dir=tmp_path / "notebooks", build_dir=tmp_path)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX buffer."""
    header = (0x0800 | array.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path, payload: bytes):
    with gzip.open(path, "wb") as fh:
        fh.write(payload)
    return path


@pytest.fixture
def synthetic_splits():
    """A tiny balanced data set shaped like Fashion-MNIST (uint8 images, labels 0-9)."""
    rng = np.random.default_rng(0)

    def make(n):
        y = np.arange(n) % 10
        x = rng.integers(0, 40, size=(n, 28, 28), dtype=np.uint8)
        for c in range(10):  # a class-dependent bright bar makes the task learnable
            x[y == c, c * 2: c * 2 + 4, :] = 220
        return x, y
    return {"train": make(256), "val": make(100), "test": make(100)}


def noisy_probs(y: np.ndarray, p_right: float, rng, boost: float = 1.0) -> np.ndarray:
    """Random class probabilities whose argmax is the true label for about ``p_right`` of the images."""
    probs = rng.dirichlet(np.ones(10), len(y))
    right = rng.random(len(y)) < p_right
    probs[right, y[right]] += boost
    return probs / probs.sum(1, keepdims=True)
