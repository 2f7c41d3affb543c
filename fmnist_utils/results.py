"""The results files: per step ``NN_name.json`` (metrics, specs, histories, extras, run times, input digests) and
``NN_name_probs.npz`` (float16 test probabilities), each written only by its step, atomically. Readers use
:func:`load_summary`, which merges them and picks each family's best model in one place.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import numpy as np

from . import atomic
from .config import get_profile
from .provenance import git_commit, hardware, versions

PROBS_SUFFIX = "_probs.npz"
PROBS = f"<notebook>{PROBS_SUFFIX}"  # how the report and verify name the probability files
FAMILIES = ("baseline", "mlp", "cnn", "ensemble")


def step_path(results_dir: str | Path, notebook: str) -> Path:
    return Path(results_dir) / f"{notebook}.json"


class UnreadableResults(ValueError):
    """A results file that cannot be read; its message names the file and the command that rewrites it."""


def rerun(step: str, profile_name: str) -> str:
    return f"`make {step} PROFILE={profile_name} FORCE=1`"


def profile_of(results_dir: str | Path) -> str:
    """The profile whose results live in ``results_dir`` (for the commands an error message names)."""
    return "full" if Path(results_dir).resolve() == get_profile("full").results_dir.resolve() else "quick"


def read_step(results_dir: str | Path, notebook: str) -> tuple[dict | None, str | None]:
    """The step's JSON record, or None and what is wrong with its file: the one reader of the format."""
    path = step_path(results_dir, notebook)
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{path}: unreadable ({exc})"
    except json.JSONDecodeError as exc:
        return None, f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})"
    if not isinstance(record, dict):
        return None, f"{path}: not a results record (a JSON {type(record).__name__})"
    return record, None


def load_step(results_dir: str | Path, notebook: str, profile_name: str | None = None) -> dict:
    """One step's results (an empty record if the step has not run); :class:`UnreadableResults` if its file
    cannot be read, whichever step reads it."""
    path = step_path(results_dir, notebook)
    if not path.is_file():
        return {"profile": profile_name, "notebook": notebook, "models": {}, "histories": {}, "extra": {}}
    step, problem = read_step(results_dir, notebook)
    if problem:
        raise UnreadableResults(f"{problem}; {rerun(notebook, profile_name or profile_of(results_dir))} "
                                "rewrites it (the old file is kept aside)")
    if profile_name is not None and step.get("profile") != profile_name:
        raise ValueError(f"{path} holds profile {step.get('profile')!r}, not {profile_name!r}.")
    return step


def step_names(results_dir: str | Path) -> list[str]:
    return sorted(p.stem for p in Path(results_dir).glob("[0-9][0-9]_*.json"))


def update_step(results_dir: str | Path, profile_name: str, notebook: str, change) -> dict:
    """Apply ``change(step)`` (mutating in place) to one step's file and write it back atomically."""
    step = load_step(results_dir, notebook, profile_name)
    change(step)
    step.update(profile=profile_name, notebook=notebook, git_commit=git_commit(), hardware=hardware(),
                versions=versions(), created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    atomic.write_json(step_path(results_dir, notebook), step)
    return step


def record_model(results_dir, profile_name: str, name: str, entry: dict, history: dict | None = None) -> dict:
    """Insert or replace one model's entry (family, notebook, params, epochs, accuracies, spec, …) in its
    notebook's file, with its per-epoch training history (column → values) when given."""
    if entry.get("family") not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {entry.get('family')!r}")

    def change(step):
        step["models"][name] = entry
        if history is not None:
            step.setdefault("histories", {})[name] = history
    return update_step(results_dir, profile_name, entry["notebook"], change)


def record_extra(results_dir, profile_name: str, notebook: str, key: str, value) -> dict:
    """Store a notebook-level result (a tuning summary, a McNemar test, …) in the notebook's file."""
    return update_step(results_dir, profile_name, notebook, lambda s: s["extra"].__setitem__(key, value))


def record_notebook(results_dir, profile_name: str, notebook: str, seconds: float, trained: int,
                    inputs: dict | None = None, stored: list[str] | None = None) -> dict:
    """Record a notebook's wall time, the digest of its inputs and the model store's keys it used (``stored``).
    ``seconds`` is the latest run (short with a warm cache); ``training_run`` keeps the run that trained the most
    models, i.e. what a cold run costs."""
    def change(step):
        entry = step.setdefault("run", {})
        entry["seconds"] = round(seconds, 1)
        entry["models_trained"] = trained
        best = entry.get("training_run")
        if best is None or (trained and trained >= (best["models_trained"] or 0)):
            entry["training_run"] = {"seconds": round(seconds, 1), "models_trained": trained, "cpu": hardware()["cpu"]}
        if inputs is not None:
            step["inputs"] = inputs
        if stored is not None:
            step["stored_models"] = sorted(set(stored))
    return update_step(results_dir, profile_name, notebook, change)


def best_of(models: dict) -> str:
    """The model with the highest *validation* accuracy (the first recorded on a tie): the project's
    one selection rule. The test accuracy never enters it."""
    return max(models, key=lambda name: models[name]["val_accuracy"])


def load_summary(results_dir: str | Path, profile_name: str | None = None) -> dict:
    """All steps merged: models, histories, extras and run times of every notebook, the best model of
    each family, and the metadata of the most recent step."""
    names = step_names(results_dir)
    if not names and profile_name is None:
        raise FileNotFoundError(f"{results_dir}: no results yet; run the notebooks first (make notebooks).")
    summary = {"profile": profile_name, "models": {}, "histories": {}, "extra": {}, "notebooks": {}}
    latest = None
    for name in names:
        step = load_step(results_dir, name, profile_name)
        summary["profile"] = step["profile"]
        for key in ("models", "histories", "extra"):
            clash = set(summary[key]) & set(step.get(key, {}))
            if clash:
                raise ValueError(f"{sorted(clash)} recorded by {name} and by an earlier step in {results_dir}")
            summary[key].update(step.get(key, {}))
        if "run" in step:
            summary["notebooks"][name] = step["run"]
        if latest is None or step.get("created", "") >= latest.get("created", ""):
            latest = step
    for key in ("git_commit", "hardware", "versions", "created"):
        summary[key] = (latest or {}).get(key)
    models = summary["models"]
    summary["best"] = {family: best_of({name: e for name, e in models.items() if e["family"] == family})
                       for family in dict.fromkeys(e["family"] for e in models.values())}
    return summary


def probs_path(results_dir: str | Path, notebook: str) -> Path:
    return Path(results_dir) / f"{notebook}{PROBS_SUFFIX}"


def load_probs(results_dir: str | Path) -> dict[str, np.ndarray]:
    probs = {}
    for path in sorted(Path(results_dir).glob(f"[0-9][0-9]_*{PROBS_SUFFIX}")):
        with np.load(path) as npz:
            probs.update(npz)
    return probs


def as_stored(probs: np.ndarray) -> np.ndarray:
    """Probabilities exactly as the probability files keep them (float16). Every recorded test metric is
    computed from this, so the published files reproduce each number exactly (``make verify``)."""
    return np.asarray(probs, dtype=np.float16)


def save_probs(results_dir: str | Path, notebook: str, new: dict[str, np.ndarray]) -> None:
    path = probs_path(results_dir, notebook)
    probs = {}
    if path.is_file():
        with np.load(path) as npz:
            probs = dict(npz)
    probs.update({k: as_stored(v) for k, v in new.items()})
    if not probs:
        return
    with atomic.atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **probs)
