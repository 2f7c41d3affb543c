"""The model store (README: Model store), ``<store>/<key>/``. Steps read the stored predictions back, so no CPU's
rounding moves a recorded number; a file that does not match its record's SHA-256 is an error naming it, never
silently retrained over.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import atomic
from ..config import ROOT
from ..results import as_stored
from . import precision

MODEL, PREDICTIONS, RECORD = "model.keras", "predictions.npz", "record.json"
SPLITS = ("val", "test")


class StoreCorrupt(ValueError):
    """A stored file that is missing, unreadable or not the file its record names (SHA-256)."""


def of_entry(store_dir: str | Path, entry: dict) -> Path | None:
    return Path(store_dir) / entry["stored_as"] if entry.get("stored_as") else None


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _shown(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def how_to_fix(stored: Path) -> str:
    return (f"`git checkout -- {_shown(stored)}` restores it; to retrain the model instead, delete that folder "
            "and rerun the step that trains it (`make status` names it)")


def holds(stored: Path | None) -> bool:
    return stored is not None and (Path(stored) / RECORD).is_file()


def read_record(stored: Path) -> dict:
    path = Path(stored) / RECORD
    try:
        record = json.loads(path.read_text())
        if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
            raise ValueError("not a store record")
        return record
    except (OSError, ValueError) as exc:
        raise StoreCorrupt(f"{_shown(path)}: unreadable ({exc}); {how_to_fix(stored)}") from None


def problems(stored: Path) -> list[str]:
    """What is wrong with a stored folder: its record, or a file missing or not matching its SHA-256."""
    try:
        record = read_record(stored)
    except StoreCorrupt as exc:
        return [str(exc)]
    found = []
    for file, digest in record["files"].items():
        path = Path(stored) / file
        if not path.is_file():
            found.append(f"{_shown(path)}: missing; {how_to_fix(stored)}")
        elif sha256(path) != digest:
            found.append(f"{_shown(path)}: SHA-256 differs from its record (corrupt or replaced); {how_to_fix(stored)}")
    return found


def require_whole(stored: Path) -> dict:
    """The folder's record, once every file it names is present and matches; :class:`StoreCorrupt` otherwise."""
    found = problems(stored)
    if found:
        raise StoreCorrupt(found[0])
    return read_record(stored)


def load(stored: Path):
    """(model, history, record) of a stored model: its files checked first. A network that computed in bfloat16
    computes in float32 where this machine would emulate bfloat16 (``precision.resolve``): slow with TensorFlow's
    own kernels, and failing with oneDNN on a CPU without AVX512 (measured, ``ONEDNN_MAX_CPU_ISA=AVX2``)."""
    import keras
    import pandas as pd

    record = require_whole(stored)
    model = keras.models.load_model(Path(stored) / MODEL, compile=False)
    if precision.resolve("mixed_bfloat16", quiet=True) == "float32":
        for layer in model._flatten_layers():  # Keras has no public walk over nested layers
            if layer.dtype_policy.compute_dtype == "bfloat16":
                layer.dtype_policy = "float32"
    return model, pd.DataFrame(record["history"]), record


def save(stored: Path, model_file: Path, history, meta: dict) -> None:
    """Store a trained model (``model_file``: its Keras file, optimizer state dropped here) with its record,
    in one rename: a killed write leaves no half folder."""
    import keras

    with atomic.atomic_path(stored) as tmp:
        tmp.mkdir()
        write_model(keras.models.load_model(model_file, compile=False), tmp / MODEL)
        record = {**meta, "history": history.to_dict("list"), "files": {MODEL: sha256(tmp / MODEL)}}
        atomic.write_json(tmp / RECORD, record)


def write_model(model, path: Path) -> None:
    """``model`` as a deflated Keras file, its bfloat16 layers' kernels and biases rounded as their calls round them."""
    import keras

    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)) and layer.compute_dtype == "bfloat16":
            for weight in layer.weights:  # cast to bfloat16 on every call: the same values, low 16 bits zero
                weight.assign(keras.ops.cast(keras.ops.cast(weight.value, "bfloat16"), "float32"))
    plain = path.with_name(f".{path.name}.plain.keras")
    model.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data, item.compress_type = source.read(item), zipfile.ZIP_DEFLATED
            target.writestr(item, data)
    plain.unlink()


def predictions(stored: Path | None, compute: Callable[[], dict], variant: str = "") -> dict[str, np.ndarray]:
    """The model's validation and test probabilities: the stored ones, or ``compute()`` stored now. Either way they
    pass through float16 (what the store keeps), so a first run and any re-execution see the same numbers.
    ``variant`` names an evaluation other than the model's own (``"_no_flip"``), kept beside it as ``val_no_flip``…"""
    path = None if stored is None else Path(stored) / PREDICTIONS
    kept = {}
    if holds(stored) and PREDICTIONS in require_whole(stored)["files"]:
        with np.load(path) as npz:
            kept = dict(npz)
    if all(split + variant in kept for split in SPLITS):
        return {split: kept[split + variant].astype(np.float32) for split in SPLITS}
    probs = {k: as_stored(v) for k, v in compute().items()}
    if holds(stored):
        with atomic.atomic_path(path, suffix=".npz") as tmp:
            np.savez_compressed(tmp, **kept, **{k + variant: v for k, v in probs.items()})
        record = read_record(stored)
        record["files"][PREDICTIONS] = sha256(path)
        atomic.write_json(Path(stored) / RECORD, record)
    return {k: v.astype(np.float32) for k, v in probs.items()}


def remember(stored: Path | None, key: str, measure: Callable[[], float]) -> float:
    """A measurement that goes with a stored model (the seconds its inputs took to prepare, say): taken once, when
    the store first lacks it, and read back ever after, so that no machine's speed moves a recorded number."""
    if not holds(stored):
        return measure()
    record = read_record(stored)
    if key not in record.setdefault("measured", {}):
        record["measured"][key] = measure()
        atomic.write_json(Path(stored) / RECORD, record)
    return record["measured"][key]


USE_LOG = "FMNIST_STORE_USE"  # set by the pipeline: the file where a step's run lists the stored models it used


def note_use(stored: Path | None) -> None:
    """Add a stored model's key to the run's use log (``$FMNIST_STORE_USE``), which the pipeline records in the step's
    results file: what no step uses can then be named (``make status``)."""
    log = os.environ.get(USE_LOG)
    if log and stored is not None:
        with open(log, "a") as out:
            out.write(f"{Path(stored).name}\n")


def stored_folders(store_dir: Path) -> list[Path]:
    return sorted(p.parent for p in Path(store_dir).glob(f"*/{RECORD}"))
