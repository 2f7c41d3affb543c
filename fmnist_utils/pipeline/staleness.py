"""Whether a step's results are current with the code, decided by content (a fresh clone keeps no file times),
and each run's record: its input digests, and the time a cold run of it takes.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import numpy as np

from .. import atomic, provenance, results
from ..compute import store
from ..config import NOTEBOOKS_DIR, ROOT, Profile
from . import integrity

# The package's layers (fmnist_utils/<folder>/): a change to a module in these only presents results, so it never
# makes a step's results stale. Modules at the root and in compute/ compute them.
PRESENTING = ("present", "pipeline")

MAKEFILE = ROOT / "Makefile"


def upstream_steps() -> dict[str, tuple[str, ...]]:
    """The steps each step reads the results of, as the Makefile declares them once (``05_ensemble: 03_… 04_…``)."""
    rules = re.findall(r"^(\d\d_\w+):((?:[ \t]+\d\d_\w+)+)[ \t]*$", MAKEFILE.read_text(), re.M)
    return {step: tuple(needs.split()) for step, needs in rules}


PACKAGE = ROOT / "fmnist_utils"


def notebook_names() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def _digest(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def module_file(module: str) -> Path:
    """The file of a package module named below ``fmnist_utils`` (``compute.train``)."""
    return PACKAGE / f"{module.replace('.', '/')}.py"


def imported_modules(source: str, module: str | None = None) -> set[str]:
    """The package modules (``compute.train``) a piece of Python code imports, anywhere in it (function-level
    imports too). ``module``: the module the code is, which relative imports start from (None: a notebook's code)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level and module is not None:
                package = module.split(".")[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            elif not node.level and (node.module or "").split(".")[0] == "fmnist_utils":
                base = node.module.removeprefix("fmnist_utils").strip(".")
            else:
                continue
            found.update(f"{base}.{alias.name}".strip(".") for alias in node.names)
            found.add(base)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("fmnist_utils.") for a in node.names if a.name.startswith("fmnist_utils."))
    return {m for m in found if m and module_file(m).is_file()}


def step_modules(code_cells: list[str]) -> list[str]:
    """The modules a step's results depend on: those its notebook imports and, transitively, those they
    import — less the presenting layers (their own imports are followed: a figure helper may load data)."""
    todo = set().union(*(imported_modules(_as_python(c)) for c in code_cells)) if code_cells else set()
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        seen.add(module)
        todo |= imported_modules(module_file(module).read_text(), module) - seen
    seen.add("__init__")
    return sorted(m for m in seen if m.split(".")[0] not in PRESENTING)


def _as_python(cell: str) -> str:
    """A code cell without IPython's magics and shell escapes, which are not Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.splitlines())


def code_text(source: str) -> str:
    """Python code as it runs: without comments, docstrings and layout (``ast.unparse`` of the tree), so that
    rewrapping a line, a comment or a docstring never makes hours of results stale."""
    tree = ast.parse(_as_python(source))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def model_identities(models: dict) -> dict:
    """What identifies the models a downstream step reads: everything recorded but the seconds their training
    took (a retrain that reproduces a model must not make its readers stale)."""
    return {name: {k: v for k, v in entry.items() if k != "train_seconds"} for name, entry in models.items()}


def input_digests(name: str, profile: Profile) -> dict:
    """What a step's results depend on: its notebook's code cells, the package modules that compute its results
    (:func:`step_modules`), and the models of the steps it reads."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    package = {f"{m.replace('.', '/')}.py": code_text(module_file(m).read_text()) for m in step_modules(code)}
    upstream = {u: _digest(model_identities(results.load_step(profile.results_dir, u, profile.name).get("models", {})))
                for u in upstream_steps().get(name, ())}
    return {"notebook": _digest([code_text(c) for c in code]), "package": _digest(package),
            "upstream": _digest(upstream)}


def step_state(name: str, profile: Profile) -> tuple[str, list[str]]:
    """("current" | "stale" | "unstored" | "missing" | "corrupt" | "unfinished" | "interrupted" | "blocked", and why:
    the inputs that changed, the recorded models the store lacks, or the problems of its files or an upstream's)."""
    if not results.step_path(profile.results_dir, name).is_file():
        return "missing", []
    problems = integrity.step_problems(profile.results_dir, name)
    if any("did not finish" not in p for p in problems):
        return "corrupt", problems
    run = RunMarker(profile, name)
    if run.left_by_dead_run():
        return "interrupted", [f"a run started {run.started()} did not finish"]
    if problems:
        return "unfinished", problems
    recorded = results.load_step(profile.results_dir, name)["inputs"]
    try:
        digests = input_digests(name, profile)
    except results.UnreadableResults as exc:  # an upstream step's file
        return "blocked", [str(exc)]
    changed = [k for k, v in digests.items() if recorded.get(k) != v]
    if changed:
        return "stale", changed
    lacking = unstored(profile, name)
    return ("unstored", [f"the model store lacks {', '.join(lacking)}"]) if lacking else ("current", [])


def status(profile: Profile) -> list[str]:
    """One line per step: whether its results are current with the code and the model store, and if not, why; then
    each stored model with a damaged file, and the stored models no step uses."""
    lines = []
    for name in notebook_names():
        state, why = step_state(name, profile)
        fix = f"; `make {name} PROFILE={profile.name}` {'trains exactly those' if state == 'unstored' else 'reruns it'}"
        detail = {"stale": f"changed: {', '.join(why)}", "missing": "never run", "current": "",
                  "blocked": "; ".join(why)}.get(state, "; ".join(why) + fix)
        lines.append(f"{name:<22} {state:<11} {detail}".rstrip())
    return lines + store_status(profile) + unused_stored(profile)


@contextlib.contextmanager
def store_use_log(profile: Profile, name: str) -> Iterator[Callable[[], list[str]]]:
    """While a step runs, its kernel lists the stored models it uses (:func:`fmnist_utils.compute.store.note_use`) in
    a file; yields a function that reads the list."""
    log = profile.build_dir / "store-use" / f"{name}.txt"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    with mock.patch.dict(os.environ, {store.USE_LOG: str(log)}):
        yield lambda: log.read_text().split() if log.is_file() else []


def unused_stored(profile: Profile) -> list[str]:
    """Stored models that no step's last run used (its results file lists them: ``stored_models``): leftovers of an
    older spec, or a retrain whose step has not been republished yet."""
    used = set()
    for step in results.step_names(profile.results_dir):
        record, _ = results.read_step(profile.results_dir, step)
        used |= set((record or {}).get("stored_models", []))
        used |= {e["stored_as"] for e in (record or {}).get("models", {}).values() if e.get("stored_as")}
    unused = [f for f in store.stored_folders(profile.store_dir) if f.name not in used]
    if not unused:
        return []
    size = sum(p.stat().st_size for f in unused for p in f.iterdir()) / 1e6

    def named(folder: Path) -> str:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            return f"{folder.name} ({json.loads((folder / store.RECORD).read_text()).get('name')})"
        return folder.name
    names = [named(f) for f in unused]
    return [f"model store: {len(unused)} stored models ({size:.1f} MB) that no step's results use: "
            f"{', '.join(names)}; a step not yet republished, or leftovers (`git rm -r <folder>` removes one)"]


def unstored(profile: Profile, step: str) -> list[str]:
    """The models a step recorded that the model store does not hold (a rerun trains exactly those)."""
    record, _ = results.read_step(profile.results_dir, step)
    return sorted(name for name, entry in (record or {}).get("models", {}).items()
                  if entry.get("family") != "ensemble" and not store.holds(store.of_entry(profile.store_dir, entry)))


def store_status(profile: Profile) -> list[str]:
    """The stored models with a damaged file (never retrained over: the fix is named)."""
    return [f"model store: {problem}" for step in results.step_names(profile.results_dir)
            for entry in (results.read_step(profile.results_dir, step)[0] or {}).get("models", {}).values()
            if store.holds(stored := store.of_entry(profile.store_dir, entry)) for problem in store.problems(stored)]


class RunMarker:
    """``build/<profile>/running/<step>.json``, written when a step's notebook starts and removed when its run
    is recorded: one left behind by a process that is gone means the step was killed (SIGKILL, out of memory)
    or failed, and its results may hold a half-updated mixture, so it is not current."""

    def __init__(self, profile: Profile, name: str):
        self.path = profile.build_dir / "running" / f"{name}.json"

    def start(self) -> None:
        atomic.write_json(self.path, {"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S")})

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def started(self) -> str:
        return self._read().get("started", "earlier")

    def left_by_dead_run(self) -> bool:
        pid = self._read().get("pid")
        return self.path.exists() and not (isinstance(pid, int) and Path(f"/proc/{pid}").exists())


def trained_artifacts(profile: Profile) -> set[str]:
    """Cached models and finished tuner trials: what a run adds tells how much it trained."""
    return {str(p) for folder, pattern in ((profile.artifacts_dir, "models/*/meta.json"),
                                           (profile.store_dir, "tuner/*/trial_*/trial.json"))
            for p in Path(folder).glob(pattern)}


def start_afresh(profile: Profile, name: str) -> dict | None:
    """Move a step's results files to ``build/<profile>/previous/`` so that its run writes them whole (nothing an
    earlier run recorded survives unless this run records it again); return the last finished record, which
    :func:`record_run` needs. The files of an unfinished run go there as ``*.unfinished``, never over a finished one."""
    kept = profile.build_dir / "previous"
    kept.mkdir(parents=True, exist_ok=True)
    current, problem = integrity.read_step(profile.results_dir, name)
    finished = current is not None and problem is None and "run" in current
    for path in (results.step_path(profile.results_dir, name), results.probs_path(profile.results_dir, name)):
        if path.exists():
            os.replace(path, kept / (path.name if finished else f"{path.name}.unfinished"))
    last, problem = integrity.read_step(kept, name)
    return last if problem is None else None


RUN_METADATA = ("created", "git_commit", "hardware", "versions", "run", "inputs")  # where and when, not what


def keep_previous_if_unchanged(profile: Profile, name: str) -> bool:
    """After a run: when the step recorded exactly what its previous finished run did (the same entries, histories
    and extras, the same probability arrays: models read back from the model store), put the previous files back,
    with only the new input digests. Their metadata still say where and when the numbers were computed, and a
    re-execution leaves the files as they were (``git status`` clean)."""
    kept = profile.build_dir / "previous"
    paths = {"json": results.step_path(profile.results_dir, name), "npz": results.probs_path(profile.results_dir, name)}
    old_paths = {k: kept / p.name for k, p in paths.items()}
    old, problem = integrity.read_step(kept, name)
    new, new_problem = integrity.read_step(profile.results_dir, name)
    if problem or new_problem or "run" not in old:
        return False
    if any(old.get(k) != new.get(k) for k in set(old) | set(new) if k not in RUN_METADATA):
        return False
    if old_paths["npz"].exists() != paths["npz"].exists() or (
            paths["npz"].exists() and not _same_arrays(old_paths["npz"], paths["npz"])):
        return False
    if paths["npz"].exists():
        atomic.write_bytes(paths["npz"], old_paths["npz"].read_bytes())
    if old.get("inputs") == new.get("inputs"):
        atomic.write_bytes(paths["json"], old_paths["json"].read_bytes())
    else:
        atomic.write_json(paths["json"], {**old, "inputs": new["inputs"]})
    return True


def _same_arrays(a: Path, b: Path) -> bool:
    with np.load(a) as x, np.load(b) as y:
        return sorted(x.files) == sorted(y.files) and all(np.array_equal(x[k], y[k]) for k in x.files)


def _unplaced(models: dict) -> dict:
    """Model entries less where their model is kept: moving a model into the store does not retrain it."""
    return {name: {k: v for k, v in entry.items() if k != "stored_as"} for name, entry in models.items()}


def record_run(profile: Profile, name: str, seconds: float, trained: set[str], inputs: dict,
               previous: dict | None = None, stored: list[str] | None = None) -> None:
    """Record a notebook's run in the step's file, with what a cold run of it costs (``training_run``).

    ``trained``: the cache entries (:func:`trained_artifacts`) this run added. A run that trained every model it
    records measured a cold run. Otherwise the previous run's cold time (``previous``: its finished record) still
    stands when it ran the same inputs, or recorded exactly the same model entries (the cache key of every model
    hashes all that determines it). Failing both, the cold time is estimated: this run's time plus the recorded
    training time of each model it took from the cache (tuner trials taken from the cache are not counted)."""
    models = results.load_step(profile.results_dir, name).get("models", {})
    trained_keys = {Path(p).parent.name.split("--")[-1] for p in trained if p.endswith("meta.json")}
    trained_names = {Path(p).parent.name.split("--")[0] for p in trained if p.endswith("meta.json")}
    from_cache = {n: e for n, e in models.items() if e.get("family") != "ensemble" and n not in trained_names
                  and e.get("stored_as") not in trained_keys}  # a model may be recorded under another name
    cold = (previous or {}).get("run", {}).get("training_run")
    if not (cold and (previous.get("inputs") == inputs or _unplaced(previous.get("models", {})) == _unplaced(models))):
        cold = None if not from_cache else {
            "seconds": round(seconds + sum(e.get("train_seconds", 0.0) for e in from_cache.values()), 1),
            "models_trained": len(trained) + len(from_cache), "cpu": provenance.hardware()["cpu"],
            "estimated": f"this run's {seconds:.0f} s plus the recorded training of {len(from_cache)} cached models"}
    if cold:
        results.update_step(profile.results_dir, profile.name, name,
                            lambda step: step.setdefault("run", {}).update(training_run=cold))
    results.record_notebook(profile.results_dir, profile.name, name, seconds, len(trained), inputs, stored)
