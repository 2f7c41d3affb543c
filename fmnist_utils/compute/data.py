"""Fashion-MNIST: find the files, verify and read them, split, scale and shape.

Loading never trusts a file: each decompressed IDX file must have the SHA-256 of the original Zalando release.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR_ENV = "FMNIST_DATA_DIR"
SYSTEM_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_CACHE_DIR = Path("~/.keras/datasets/fashion-mnist").expanduser()

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SHAPE = (28, 28)

# name -> (shape, SHA-256 of the *decompressed* file)
FILES = {
    "train-images-idx3-ubyte.gz": ((60000, 28, 28), "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train-labels-idx1-ubyte.gz": ((60000,), "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "t10k-images-idx3-ubyte.gz": ((10000, 28, 28), "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "t10k-labels-idx1-ubyte.gz": ((10000,), "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}

FIX_HINT = (
    "Fix: install the data with `sudo apt-get install dataset-fashion-mnist` "
    f"(files land in {SYSTEM_DATA_DIR}), or point ${DATA_DIR_ENV} at a folder holding the four "
    "original *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist."
)


class DataError(RuntimeError):
    """A data file is missing, truncated or corrupt; the message names the file and the fix."""


def read_idx_file(path: str | os.PathLike, expected_sha256: str, shape: tuple[int, ...]) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes whose decompressed SHA-256 must be ``expected_sha256``: a file that
    matches the original release also has its magic number, dimensions and length, so only the data (the last
    ``prod(shape)`` bytes, after the header) is read."""
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found. {FIX_HINT}") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot decompress ({exc}); the file is truncated or corrupt. {FIX_HINT}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha256:
        raise DataError(f"{path}: SHA-256 checksum mismatch (got {digest[:12]}…, expected {expected_sha256[:12]}…); "
                        f"the file is corrupt, truncated or not the Zalando release. {FIX_HINT}")
    return np.frombuffer(raw, dtype=np.uint8, offset=len(raw) - int(np.prod(shape))).reshape(shape).copy()


def candidate_dirs() -> list[Path]:
    env = os.environ.get(DATA_DIR_ENV)
    return ([Path(env).expanduser()] if env else []) + [SYSTEM_DATA_DIR, KERAS_CACHE_DIR]


def find_data_dir() -> Path | None:
    """The first candidate folder that holds all four files (or ``None``). A folder named by ``$FMNIST_DATA_DIR``
    is trusted: if it lacks a file, that is an error rather than a silent fall-through to another copy."""
    for i, folder in enumerate(candidate_dirs()):
        present = [name for name in FILES if (folder / name).is_file()]
        if len(present) == len(FILES):
            return folder
        if i == 0 and os.environ.get(DATA_DIR_ENV):
            missing = sorted(set(FILES) - set(present))
            raise DataError(f"{folder / missing[0]}: file not found (${DATA_DIR_ENV}={folder} lacks "
                            f"{', '.join(missing)}). {FIX_HINT}")
    return None


def _download_with_keras() -> Path:
    """Last resort for machines with internet: Keras' downloader fills its cache folder."""
    import keras

    try:
        keras.datasets.fashion_mnist.load_data()
    except Exception as exc:  # no network, proxy, ...
        tried = ", ".join(str(d) for d in candidate_dirs())
        raise DataError(f"Fashion-MNIST not found in {tried}, and Keras' download failed ({exc}). {FIX_HINT}") from exc
    return KERAS_CACHE_DIR


def load_fashion_mnist(data_dir: str | os.PathLike | None = None, *, allow_download: bool = True):
    """``((x_train, y_train), (x_test, y_test))`` as uint8 arrays, like Keras' loader."""
    folder = Path(data_dir) if data_dir is not None else find_data_dir()
    if folder is None:
        if not allow_download:
            raise DataError(f"Fashion-MNIST not found in {', '.join(map(str, candidate_dirs()))}. {FIX_HINT}")
        folder = _download_with_keras()
    arrays = {name: read_idx_file(folder / name, sha, shape) for name, (shape, sha) in FILES.items()}
    return ((arrays["train-images-idx3-ubyte.gz"], arrays["train-labels-idx1-ubyte.gz"]),
            (arrays["t10k-images-idx3-ubyte.gz"], arrays["t10k-labels-idx1-ubyte.gz"]))


def stratified_split(y: np.ndarray, val_size: int = 6000, seed: int = 42,
                     train_subset: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train_idx, val_idx)``: a class-stratified hold-out of ``val_size`` images; ``train_subset``
    (quick runs) keeps a stratified subset of the remaining training images."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    train_idx, val_idx = train_test_split(idx, test_size=val_size, stratify=y, random_state=seed)
    if train_subset is not None and train_subset < len(train_idx):
        train_idx, _ = train_test_split(train_idx, train_size=train_subset, stratify=y[train_idx],
                                        random_state=seed)
    return np.sort(train_idx), np.sort(val_idx)


def scale(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32) / 255.0


def for_mlp(x: np.ndarray) -> np.ndarray:
    return scale(x).reshape(len(x), -1)


def for_cnn(x: np.ndarray) -> np.ndarray:
    return scale(x).reshape(len(x), *IMAGE_SHAPE, 1)


def prepare_splits(profile, seed: int = 42) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The profile's train/val split of the 60k images plus the untouched 10k test set (uint8)."""
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    train_idx, val_idx = stratified_split(y_train, profile.val_size, seed, profile.train_subset)
    return {
        "train": (x_train[train_idx], y_train[train_idx]),
        "val": (x_train[val_idx], y_train[val_idx]),
        "test": (x_test, y_test),
    }


def split_table(splits: dict) -> pd.DataFrame:
    """Images per class (rows) in each split (columns), with a total row."""
    table = pd.DataFrame({name: np.bincount(y, minlength=NUM_CLASSES) for name, (_, y) in splits.items()},
                         index=list(CLASS_NAMES))
    table.loc["total"] = table.sum()
    return table


def pixel_statistics(x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Per-class mean and standard deviation of pixel intensity (0–255) and ink fraction."""
    flat = x.reshape(len(x), -1).astype(np.float64)
    rows = {name: {"mean": flat[y == c].mean(), "std": flat[y == c].std(),
                   "ink_fraction": (flat[y == c] > 0).mean()} for c, name in enumerate(CLASS_NAMES)}
    rows["all"] = {"mean": flat.mean(), "std": flat.std(), "ink_fraction": (flat > 0).mean()}
    return pd.DataFrame.from_dict(rows, orient="index")
