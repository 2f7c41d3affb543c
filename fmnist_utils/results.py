"""The results registry: ``<results dir>/summary.json`` and ``test_probs.npz``.

The report reads only these files. Every write is a read-modify-write of the whole file,
replaced atomically, so an interrupted notebook never leaves a half-written registry.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

from . import atomic
from .config import ROOT, get_profile

SUMMARY = "summary.json"
PROBS = "test_probs.npz"
FAMILIES = ("baseline", "mlp", "cnn", "ensemble")
VERSIONED_PACKAGES = ("tensorflow", "keras", "keras_tuner", "numpy", "pandas", "scikit-learn",
                      "seaborn", "matplotlib", "papermill", "nbconvert")


def published_outputs() -> list[Path]:
    """What a full run rewrites in the tracked tree: its figures, results and PDF."""
    full = get_profile("full")
    return [full.figures_dir, full.results_dir, full.report_dir / "report.pdf"]


def git_commit() -> str:
    """The code's commit, ``+dirty`` when tracked files other than the run's own outputs differ
    from it (a rerun rewrites the published results; that does not make the code dirty)."""
    exclude = [f":(exclude){p.relative_to(ROOT).as_posix()}" for p in published_outputs()]
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *exclude],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_gib, "machine": platform.machine(),
            "accelerator": "none (CPU only)"}


def versions() -> dict:
    from importlib import metadata

    found = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        for dist in (name, name.replace("_", "-"), f"{name}-cpu"):
            try:
                found[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return found


def empty_summary(profile_name: str) -> dict:
    return {"profile": profile_name, "notebooks": {}, "models": {}, "best": {}, "extra": {}}


def load_summary(results_dir: str | Path, profile_name: str | None = None) -> dict:
    """The registry as a dict (an empty one if none was written yet)."""
    path = Path(results_dir) / SUMMARY
    if not path.is_file():
        if profile_name is None:
            raise FileNotFoundError(f"{path}: no results yet; run the notebooks first (make notebooks).")
        return empty_summary(profile_name)
    summary = json.loads(path.read_text())
    if profile_name is not None and summary.get("profile") != profile_name:
        raise ValueError(f"{path} holds profile {summary.get('profile')!r}, not {profile_name!r}.")
    return summary


def update_summary(results_dir: str | Path, profile_name: str, change) -> dict:
    """Apply ``change(summary)`` (mutating in place) and write the registry back atomically."""
    summary = load_summary(results_dir, profile_name)
    change(summary)
    summary.update(profile=profile_name, git_commit=git_commit(), hardware=hardware(), versions=versions(),
                   created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    atomic.write_json(Path(results_dir) / SUMMARY, summary)
    return summary


def record_model(results_dir, profile_name: str, name: str, entry: dict) -> dict:
    """Insert or replace one model's entry (family, notebook, params, epochs, accuracies, …)."""
    if entry.get("family") not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {entry.get('family')!r}")
    return update_summary(results_dir, profile_name, lambda s: s["models"].__setitem__(name, entry))


def record_best(results_dir, profile_name: str, family: str, name: str) -> dict:
    def change(summary):
        if name not in summary["models"]:
            raise KeyError(f"{name!r} is not a recorded model")
        summary["best"][family] = name
    return update_summary(results_dir, profile_name, change)


def promote_if_better(results_dir, profile_name: str, family: str, name: str) -> bool:
    """Make ``name`` the best of its family if its *validation* accuracy beats the incumbent's."""
    promoted = []

    def change(summary):
        incumbent = summary["best"].get(family)
        val = summary["models"][name]["val_accuracy"]
        if incumbent is None or val > summary["models"][incumbent]["val_accuracy"]:
            summary["best"][family] = name
            promoted.append(name)
    update_summary(results_dir, profile_name, change)
    return bool(promoted)


def record_extra(results_dir, profile_name: str, key: str, value) -> dict:
    """Store a notebook-level result (a tuning summary, a McNemar test, …) under ``extra``."""
    return update_summary(results_dir, profile_name, lambda s: s["extra"].__setitem__(key, value))


def record_notebook(results_dir, profile_name: str, notebook: str, seconds: float, trained: int) -> dict:
    """Record a notebook's wall time. ``seconds`` is the latest run (short with a warm cache);
    ``training_run`` keeps the run that trained the most models, i.e. what a cold run costs."""
    def change(summary):
        entry = summary["notebooks"].setdefault(notebook, {})
        if "seconds" in entry and "training_run" not in entry:  # recorded before runs were told apart
            entry["training_run"] = {"seconds": entry["seconds"], "models_trained": None}
        entry["seconds"] = round(seconds, 1)
        entry["models_trained"] = trained
        best = entry.get("training_run")
        if best is None or (trained and trained >= (best["models_trained"] or 0)):
            entry["training_run"] = {"seconds": round(seconds, 1), "models_trained": trained}
    return update_summary(results_dir, profile_name, change)


def load_probs(results_dir: str | Path) -> dict[str, np.ndarray]:
    path = Path(results_dir) / PROBS
    if not path.is_file():
        return {}
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def as_stored(probs: np.ndarray) -> np.ndarray:
    """Probabilities exactly as ``test_probs.npz`` keeps them (float16). Every recorded test metric is
    computed from this, so the published file reproduces each number exactly (``make verify``)."""
    return np.asarray(probs, dtype=np.float16)


def save_probs(results_dir: str | Path, new: dict[str, np.ndarray]) -> None:
    """Add or replace test-set probability arrays (stored as float16) by model name."""
    probs = load_probs(results_dir)
    probs.update({k: as_stored(v) for k, v in new.items()})
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **probs)
    atomic.write_bytes(Path(results_dir) / PROBS, buffer.getvalue())
