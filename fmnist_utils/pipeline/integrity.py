"""Are a profile's results files whole and consistent? A step's record is complete when its JSON parses and holds
``models``, ``inputs`` and ``run`` (the pipeline adds the last two when the step's notebook finished).
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import numpy as np

from ..results import probs_path, read_step, rerun, step_names, step_path

REQUIRED_KEYS = ("models", "inputs", "run")


def read_arrays(path: Path) -> tuple[dict[str, tuple] | None, str | None]:
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
        if broken:
            return None, f"{path}: member {broken} is corrupt"
        with np.load(path) as npz:
            return {k: npz[k].shape for k in npz.files}, None
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        return None, f"{path}: not a readable .npz archive ({exc})"


def referenced_arrays(record: dict, all_models: set[str]) -> set[str]:
    """The arrays a step's probability file must hold: its models, and the ensemble members and candidates it
    trained itself (named by its ensembles' ``members`` and its ``ensemble_candidates``)."""
    names = set(record.get("models", {}))
    trained_here = [m for entry in record.get("models", {}).values() for m in entry.get("members", [])]
    trained_here += record.get("extra", {}).get("ensemble_candidates", [])
    return names | {m for m in trained_here if m not in all_models}


def step_problems(results_dir: Path, step: str) -> list[str]:
    record, problem = read_step(results_dir, step)
    if problem:
        return [problem]
    problems = [f"{step_path(results_dir, step)}: no {key!r} (the step did not finish)" for key in REQUIRED_KEYS
                if key not in record]
    npz = probs_path(results_dir, step)
    if npz.exists():
        _, problem = read_arrays(npz)
        problems += [problem] if problem else []
    elif record.get("models"):
        problems.append(f"{npz}: missing, though {step_path(results_dir, step).name} records models")
    return problems


def consistency_problems(results_dir: Path) -> list[str]:
    """Across the readable steps: clashing names, arrays no entry references, entries without an array."""
    records = {s: r for s in step_names(results_dir) for r, p in [read_step(results_dir, s)] if not p}
    owners: dict[str, list[str]] = {}
    for step, record in records.items():
        for model in record.get("models", {}):
            owners.setdefault(model, []).append(step)
    problems = [f"model {m!r} recorded by {' and '.join(s)}: each name belongs to one step" for m, s in owners.items()
                if len(s) > 1]
    array_owners: dict[str, list[str]] = {}
    for step, record in records.items():
        path = probs_path(results_dir, step)
        arrays, unreadable = read_arrays(path) if path.exists() else ({}, None)
        if unreadable:
            continue
        for name in arrays:
            array_owners.setdefault(name, []).append(step)
        wanted = referenced_arrays(record, set(owners))
        problems += [f"{path}: array {a!r} belongs to no entry of {step_path(results_dir, step).name} (stale)"
                     for a in sorted(set(arrays) - wanted)]
        problems += [f"{path}: no array for {m!r}, which {step_path(results_dir, step).name} records"
                     for m in sorted(wanted - set(arrays))]
    problems += [f"array {a!r} stored by {' and '.join(s)}" for a, s in array_owners.items() if len(s) > 1]
    return problems


def require_readable(results_dir: Path, profile_name: str) -> None:
    """Stop with one line per unreadable or incomplete step, naming the file and the command that rewrites it."""
    lines = [f"{problem}\n  fix: {rerun(step, profile_name)} rewrites it (the old file is kept aside)"
             for step in step_names(results_dir) for problem in step_problems(results_dir, step)]
    if lines:
        raise SystemExit("Results files that cannot be used:\n" + "\n".join(lines))


def require_consistent(results_dir: Path) -> None:
    """Stop when the steps' files disagree (a stale array, a missing one, a name in two steps): nothing stale is
    published."""
    problems = consistency_problems(results_dir)
    if problems:
        raise SystemExit("Results files that disagree (`make verify` lists them; rerun the step named):\n"
                         + "\n".join(problems))


def _utc_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def set_aside_step(results_dir: Path, step: str) -> list[Path]:
    """Rename a step's files to ``<name>.corrupt-<UTC time>`` next to them (kept for inspection)."""
    paths = [p for p in (step_path(results_dir, step), probs_path(results_dir, step)) if p.exists()]
    return [p.rename(p.with_name(f"{p.name}.corrupt-{_utc_stamp()}")) for p in paths]


def set_aside_corrupt_models(artifacts_dir: Path) -> list[str]:
    """Move every cached model whose files cannot be read (a truncated ``model.keras``: a killed write, a full
    disk) to ``<artifacts>/corrupt/``, so that the step that needs it trains it again; one line each."""
    models, lines = Path(artifacts_dir) / "models", []
    for meta in sorted(models.glob("*/meta.json")):
        folder, problem = meta.parent, None
        try:
            json.loads(meta.read_text())
            with zipfile.ZipFile(folder / "model.keras") as archive:
                broken = archive.testzip()
            problem = f"member {broken} is corrupt" if broken else None
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            problem = str(exc) or type(exc).__name__
        if problem:
            target = Path(artifacts_dir) / "corrupt" / f"{folder.name}.{_utc_stamp()}"
            target.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(target)
            lines.append(f"cached model {folder} is unreadable ({problem}): moved to {target}; it will be retrained")
    return lines
