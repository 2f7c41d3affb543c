"""Headless execution: run a notebook with papermill, or build the PDF with nbconvert.

Every output is written to a temporary file and renamed into place, so a failed or interrupted
run never leaves a half-written target for Make to mistake as up to date. Each run logs its cells'
output to ``build/<profile>/logs/<notebook>.log``; a notebook that raises is kept, executed up to
the failing cell, under ``build/<profile>/failed/``.

    python -m fmnist_utils.pipeline notebook 02_mlp_baselines --profile quick
    python -m fmnist_utils.pipeline report --profile full
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from . import atomic, integrity, results
from .config import NOTEBOOKS_DIR, PROFILE_NAMES, ROOT, Profile, get_profile

REPORT_NOTEBOOK = ROOT / "report" / "report.ipynb"
REPORT_TEMPLATE_DIR = ROOT / "report" / "template"
KERNEL = "python3"  # the kernel of the interpreter running papermill (the project's venv)
# Cells papermill adds: the injected parameters, and the error banner and anchor of a failed run.
PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# TensorFlow's start-up notices, printed by its C++ runtime on every import whatever the log level.
STARTUP_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|"
                           r"I\d{4} .*(port\.cc|cpu_feature_guard\.cc)|To enable the following instructions)", re.M)


class DropStartupNoise(logging.Filter):
    """Remove TensorFlow's start-up notices from the logged cell outputs; keep everything else."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str) or not STARTUP_NOISE.search(record.msg):
            return True
        kept = [line for line in record.msg.splitlines() if not STARTUP_NOISE.match(line)]
        record.msg = "\n".join(kept)
        return bool(record.msg.strip())


def headless_kernel_manager(stderr_log):
    """The kernel manager papermill uses: IPC sockets instead of TCP ports (nothing listens on the
    network, so ipykernel has no unencrypted-TCP warning to print), and the kernel process's own
    stderr (C++ runtimes write there directly) goes to the run's log instead of the terminal;
    the cells' stderr still reaches papermill through the kernel."""
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir

    class HeadlessKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            # A socket path of its own: the default ("kernel-ipc" in the working directory) would be
            # shared by two runs at once, or by a run and a kernel still shutting down.
            runtime = Path(jupyter_runtime_dir())
            runtime.mkdir(parents=True, exist_ok=True)
            super().__init__(transport="ipc", ip=str(runtime / f"fmnist-{uuid.uuid4().hex[:12]}-ipc"), **kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw.setdefault("stderr", stderr_log)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return HeadlessKernelManager


class NotebookFailed(Exception):
    """A notebook raised; the message names the notebook, the cell and the exception."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived during a run (a BaseException, like KeyboardInterrupt, so that no
    library's ``except Exception`` swallows it)."""


def notebook_names() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def relative(path: Path) -> str:
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def failure_message(executed, source: Path, ename: str, evalue: str, traceback: list[str]) -> str:
    """Describe the failing cell by its position in ``source`` and the heading above it."""
    cells = [c for c in executed.cells if not PAPERMILL_TAGS & set(c.metadata.get("tags", []))]
    position = next(i for i, c in enumerate(cells, 1)
                    if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    heading = "the top of the notebook"
    for cell in reversed(cells[:position - 1]):
        titles = ([line for line in cell.source.splitlines() if line.startswith("#")]
                  if cell.cell_type == "markdown" else [])
        if titles:
            heading = f'"{titles[-1].lstrip("#").strip()}"'
            break
    trace = ANSI.sub("", "\n".join(traceback)).rstrip()
    return (f"{source.name} failed in cell {position} of {len(cells)} (under {heading}): {ename}: {evalue}\n"
            f"{trace}")


@contextlib.contextmanager
def log_to(path: Path) -> Iterator:
    """Copy every log record of the run (papermill logs each cell's output) into ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    handler.addFilter(DropStartupNoise())
    root = logging.getLogger()
    level = root.level
    root.setLevel(min(level, logging.INFO))
    root.addHandler(handler)
    try:
        yield handler.stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def execute(source: Path, target: Path, profile: Profile) -> float:
    """Execute ``source`` with papermill into ``target`` atomically; return wall seconds.

    On an exception in the notebook, the executed copy is moved to ``profile.failed_dir`` and
    :class:`NotebookFailed` is raised with the cell, its heading and the traceback.
    """
    import papermill as pm

    os.environ["FMNIST_PROFILE"] = profile.name
    start = time.perf_counter()
    log = profile.logs_dir / f"{source.stem}.log"
    with log_to(log) as log_stream, atomic.atomic_path(target, suffix=".ipynb") as tmp:
        try:
            pm.execute_notebook(str(source), str(tmp), parameters={"PROFILE": profile.name},
                                kernel_name=KERNEL, cwd=str(source.parent), progress_bar=False,
                                log_output=True, kernel_manager_class=headless_kernel_manager(log_stream))
        except Exception as exc:
            if _RECEIVED:  # the kernel died because the run was interrupted, not because the notebook failed
                raise Interrupted(_RECEIVED[-1]) from None
            if type(exc).__name__ != "DeadKernelError":
                if not isinstance(exc, pm.PapermillExecutionError):
                    raise
            else:  # killed from outside (out of memory, most often): no cell raised, the process is gone
                kept = profile.failed_dir / source.name
                kept.parent.mkdir(parents=True, exist_ok=True)
                if tmp.exists():
                    shutil.move(tmp, kept)
                raise NotebookFailed(
                    f"{source.name}: the kernel died — out of memory? ({exc})\n"
                    + (f"Executed copy up to the last finished cell kept in {relative(kept)}; "
                       if kept.exists() else "")
                    + f"log in {relative(log)}.\nRerun `make {source.stem} PROFILE={profile.name}` to resume "
                    "(trained models are cached).") from None
            import nbformat

            kept = profile.failed_dir / source.name
            message = failure_message(nbformat.read(tmp, as_version=4), source, exc.ename,
                                      exc.evalue, exc.traceback)
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(tmp, kept)
            logging.getLogger(__name__).error(message)
            rerun = "pdf" if source == REPORT_NOTEBOOK else source.stem
            raise NotebookFailed(f"{message}\nExecuted copy kept in {relative(kept)}; log in {relative(log)}.\n"
                                 f"Rerun `make {rerun} PROFILE={profile.name}` after fixing it "
                                 "(trained models are cached).") from None
    (profile.failed_dir / source.name).unlink(missing_ok=True)  # an earlier failure is now fixed
    return time.perf_counter() - start


# Package modules that only present results: a change to them never makes a step's results stale.
PRESENTATION = {"plots.py", "figures.py", "report.py", "claims.py", "pipeline.py", "verify.py", "bench.py",
                "names.py", "integrity.py"}
# Steps that read another step's results (05 trains copies of the best CNN of 03 and 04).
UPSTREAM = {"05_ensemble": ("03_cnn_stages", "04_hyperband_tuning")}
PACKAGE = ROOT / "fmnist_utils"


def _digest(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def imported_modules(source: str, relative_to_package: bool) -> set[str]:
    """The package modules a piece of Python code imports, anywhere in it (function-level imports too)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            inside = node.level > 0 if relative_to_package else base.split(".")[0] == "fmnist_utils"
            if not inside:
                continue
            sub = base.removeprefix("fmnist_utils").strip(".") if not relative_to_package else base
            found.update([sub.split(".")[0]] if sub else [alias.name for alias in node.names])
        elif isinstance(node, ast.Import) and not relative_to_package:
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("fmnist_utils."))
    return {m for m in found if (PACKAGE / f"{m}.py").is_file()}


def step_modules(code_cells: list[str]) -> list[str]:
    """The modules a step's results depend on: those its notebook imports and, transitively, those they
    import — less the presentation modules (their own imports are followed: a figure helper may load data)."""
    import nbformat  # noqa: F401  (cells arrive as text; nbformat only parsed them)

    todo = set().union(*(imported_modules(_as_python(c), False) for c in code_cells)) if code_cells else set()
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        seen.add(module)
        todo |= imported_modules((PACKAGE / f"{module}.py").read_text(), True) - seen
    seen.add("__init__")
    return sorted(m for m in seen if f"{m}.py" not in PRESENTATION)


def _as_python(cell: str) -> str:
    """A code cell without IPython's magics and shell escapes, which are not Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.splitlines())


def code_text(source: str) -> str:
    """Python code as it runs: without comments, docstrings and layout (``ast.unparse`` of the tree), so that
    rewrapping a line, a comment or a docstring never makes hours of results stale."""
    import ast

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
    """What a step's results depend on, by content (a fresh clone keeps no file times): the notebook's
    code cells, the package modules that compute its results (:func:`step_modules`), and the models of the
    steps it reads."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    package = {f"{m}.py": code_text((PACKAGE / f"{m}.py").read_text()) for m in step_modules(code)}
    upstream = {u: _digest(model_identities(results.load_step(profile.results_dir, u).get("models", {})))
                for u in UPSTREAM.get(name, ())}
    return {"notebook": _digest([code_text(c) for c in code]), "package": _digest(package),
            "upstream": _digest(upstream)}


def step_state(name: str, profile: Profile) -> tuple[str, list[str]]:
    """("current" | "stale" | "missing" | "corrupt" | "unfinished" | "interrupted", and why: the inputs that
    changed, or the problems of its files)."""
    if not results.step_path(profile.results_dir, name).is_file():
        return "missing", []
    problems = integrity.step_problems(profile.results_dir, name, profile.name)
    if any("did not finish" not in p for p in problems):
        return "corrupt", problems
    run = RunMarker(profile, name)
    if run.left_by_dead_run():
        return "interrupted", [f"a run started {run.started()} did not finish"]
    if problems:
        return "unfinished", problems
    recorded = results.load_step(profile.results_dir, name)["inputs"]
    changed = [k for k, v in input_digests(name, profile).items() if recorded.get(k) != v]
    return ("stale" if changed else "current"), changed


def status(profile: Profile) -> list[str]:
    """One line per step: whether its results are current with the code, and if not, why."""
    lines = []
    for name in notebook_names():
        state, why = step_state(name, profile)
        detail = {"stale": f"changed: {', '.join(why)}", "missing": "never run", "current": ""}.get(
            state, "; ".join(why) + f"; `make {name} PROFILE={profile.name}` reruns it")
        lines.append(f"{name:<22} {state:<11} {detail}".rstrip())
    return lines


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
        if not self.path.exists():
            return False
        pid = self._read().get("pid")
        return not (isinstance(pid, int) and Path(f"/proc/{pid}").exists())


def trained_artifacts(artifacts_dir: Path) -> set[str]:
    """Cached models and finished tuner trials: what a run adds tells how much it trained."""
    return {str(p) for pattern in ("models/*/meta.json", "tuner/*/trial_*/trial.json")
            for p in Path(artifacts_dir).glob(pattern)}


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


def record_run(profile: Profile, name: str, seconds: float, trained: int, inputs: dict,
               previous: dict | None = None) -> None:
    """Record a notebook's run in the step's file. The previous run's training run (``previous``: its finished
    record) still measures what a cold run costs when it ran the same inputs, or when this run recorded exactly
    the model entries it did (the cache key of every model hashes all that determines it); otherwise it measured
    other code (more or fewer models, other networks) and this run's time stands on its own."""
    models = results.load_step(profile.results_dir, name).get("models", {})
    cold = (previous or {}).get("run", {}).get("training_run")
    if cold and (previous.get("inputs") == inputs or previous.get("models", {}) == models):
        results.update_step(profile.results_dir, profile.name, name,
                            lambda step: step.setdefault("run", {}).update(training_run=cold))
    results.record_notebook(profile.results_dir, profile.name, name, seconds, trained, inputs)


def run_notebook(name: str, profile_name: str, if_stale: bool = False) -> Path | None:
    """Execute a notebook and record its run time and input digests; with ``if_stale``, only when
    its results are not current with the code (see :func:`step_state`). Each run writes the step's results
    files whole."""
    profile = get_profile(profile_name)
    if name not in notebook_names():
        raise SystemExit(f"No notebook {name!r}; the notebooks are: {', '.join(notebook_names())}")
    state, why = step_state(name, profile)
    if if_stale and state == "current":
        print(f"{name}: results current with the code; not rerun")
        return None
    if state == "corrupt":
        moved = integrity.set_aside_step(profile.results_dir, name)
        print(f"{name}: {why[0]}; moved aside as {', '.join(relative(p) for p in moved)}; the rerun rewrites it")
    source = NOTEBOOKS_DIR / f"{name}.ipynb"
    target = profile.notebooks_out_dir / source.name
    inputs = input_digests(name, profile)
    before = trained_artifacts(profile.artifacts_dir)
    marker = RunMarker(profile, name)
    marker.start()
    previous = start_afresh(profile, name)
    seconds = execute(source, target, profile)
    trained = len(trained_artifacts(profile.artifacts_dir) - before)
    record_run(profile, name, seconds, trained, inputs, previous)
    marker.finish()
    print(f"{name}: executed in {seconds:.0f} s, {trained} models/trials trained -> {relative(target)}")
    return target


def build_report(profile_name: str) -> Path:
    """Execute the report notebook, then convert it to PDF (inputs hidden) with our template."""
    from nbconvert import PDFExporter
    from traitlets.config import Config

    profile = get_profile(profile_name)
    require_tools()
    integrity.require_readable(profile.results_dir, profile.name)
    integrity.require_consistent(profile.results_dir)
    executed = profile.notebooks_out_dir / "report.ipynb"
    execute(REPORT_NOTEBOOK, executed, profile)
    config = Config()
    config.TemplateExporter.exclude_input = True
    config.TemplateExporter.exclude_input_prompt = True
    config.TemplateExporter.exclude_output_prompt = True
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"notebook-only"}
    config.PDFExporter.bib_command = ["true"]  # the references are a list in the report, not a .bib file
    exporter = PDFExporter(config=config, extra_template_basedirs=[str(REPORT_TEMPLATE_DIR.parent)],
                           template_name=REPORT_TEMPLATE_DIR.name)
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:  # stderr (library notices, warnings) stays in the log and the executed notebook
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    nb.metadata.update(title_block(profile))
    with reproducible_pdf_dates(nb.metadata["created"]):
        pdf, _ = exporter.from_notebook_node(nb, resources={"metadata": {"path": str(executed.parent)}})
    target = profile.report_dir / "report.pdf"
    atomic.write_bytes(target, pdf)
    print(f"report: {relative(target)} ({len(pdf) / 1024:.0f} KiB)")
    return target


# What nbconvert's PDF route runs, and the Debian packages that provide it.
PDF_TOOLS = {"xelatex": "texlive-xetex texlive-fonts-recommended texlive-plain-generic", "pandoc": "pandoc"}


def require_tools() -> None:
    """Stop before any work when a program the PDF needs is missing, naming the packages to install."""
    missing = [tool for tool in PDF_TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(PDF_TOOLS[t] for t in missing)
        raise SystemExit(f"The PDF needs {' and '.join(missing)}, not found on PATH. Install them: "
                         f"sudo apt-get install {packages}   (or run `make setup` as root)")


REPORT_TITLE = "Fashion-MNIST on a CPU: MLPs, CNNs, Hyperband and an ensemble"


def title_block(profile: Profile) -> dict:
    """The title page's facts: authors and the link to the code (pyproject.toml), the commit and date of the results."""
    import datetime as dt

    from .report import project_metadata

    meta, summary = project_metadata(), results.load_summary(profile.results_dir, profile.name)
    created = dt.datetime.fromisoformat(summary["created"])
    commits = sorted({c for c in summary["git_commits"].values() if c})
    return {"title": REPORT_TITLE, "authors": [{"name": a} for a in meta["authors"]], "code_url": meta["url"],
            "commit": f"results of commit{'s' if len(commits) > 1 else ''} {' and '.join(commits)}",
            "date": f"{created.day} {created:%B %Y}", "created": summary["created"]}


@contextlib.contextmanager
def reproducible_pdf_dates(created: str) -> Iterator[None]:
    """XeTeX dates the PDF (and derives its ID) from SOURCE_DATE_EPOCH when set: the results' date, so that the
    same results always give the same bytes."""
    import datetime as dt

    saved = {k: os.environ.get(k) for k in ("SOURCE_DATE_EPOCH", "FORCE_SOURCE_DATE")}
    os.environ["SOURCE_DATE_EPOCH"] = str(int(dt.datetime.fromisoformat(created).timestamp()))
    os.environ["FORCE_SOURCE_DATE"] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_RECEIVED: list[str] = []  # signals received: a library may swallow the exception, never this record


def _raise_interrupted(signum, _frame):
    _RECEIVED.append(signal.Signals(signum).name)
    # What the kernel prints while it is torn down (TensorFlow's destructors) is noise, not output;
    # so are the errors of nbclient's pending tasks that find the kernel gone ("Kernel died").
    for name in ("papermill", "asyncio"):
        logging.getLogger(name).disabled = True
    raise Interrupted(_RECEIVED[-1])


@contextlib.contextmanager
def interrupts_as_exceptions() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted`, so every ``finally`` (temp-file removal) runs."""
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def stop_children() -> None:
    """Terminate this process's children (the notebook kernel, which runs in its own session)."""
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                os.kill(int(stat.parent.name), signal.SIGTERM)
        except (OSError, IndexError, ValueError):
            continue


def quiet() -> None:
    """Silence what is noise in a headless run; warnings that matter still print."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the kernel inherits it: no C++ log noise
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # The kernel listens on 127.0.0.1 only, for this process alone.
    warnings.filterwarnings("ignore", message=".*running over TCP without encryption.*")
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # papermill logs each cell's output
    for handler in logging.getLogger().handlers:
        handler.addFilter(DropStartupNoise())
    logging.getLogger("traitlets").setLevel(logging.WARNING)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run the report's notebooks headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tools", help="check that the programs the PDF needs are installed")
    nb = sub.add_parser("notebook", help="execute notebooks/NAME.ipynb")
    nb.add_argument("name", help=f"one of: {', '.join(notebook_names())}")
    nb.add_argument("--if-stale", action="store_true", help="only if its results are not current with the code")
    rep = sub.add_parser("report", help="execute report/report.ipynb and build the PDF")
    st = sub.add_parser("status", help="per step: are its results current with the code?")
    for p in (nb, rep, st):
        p.add_argument("--profile", default=None, choices=PROFILE_NAMES, help="default: $FMNIST_PROFILE or quick")
    args = parser.parse_args(argv)
    if args.command == "tools":
        require_tools()
        return 0
    quiet()
    profile_name = get_profile(args.profile).name
    if args.command == "status":
        print("\n".join(status(get_profile(profile_name))))
        return 0
    what = args.name if args.command == "notebook" else "report"
    if args.command == "notebook" and args.name not in notebook_names():
        raise SystemExit(f"No notebook {args.name!r}; the notebooks are: {', '.join(notebook_names())}")
    try:
        with one_run_at_a_time(get_profile(profile_name), what), interrupts_as_exceptions():
            remove_leftovers(get_profile(profile_name))
            if args.command == "notebook":
                run_notebook(args.name, profile_name, args.if_stale)
            else:
                build_report(profile_name)
    except (Interrupted, KeyboardInterrupt) as exc:
        return interrupted(what, profile_name, exc.args[0] if isinstance(exc, Interrupted) else "SIGINT")
    except NotebookFailed as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1
    except Exception:
        if _RECEIVED:  # a library turned the interruption into another error (a dead kernel, say)
            return interrupted(what, profile_name, _RECEIVED[-1])
        raise
    return 0


@contextlib.contextmanager
def one_run_at_a_time(profile: Profile, what: str) -> Iterator[None]:
    """Hold ``build/<profile>/pipeline.lock`` for the run; a second run of the same profile stops at once and
    names the running one (two runs would train the same models twice and interleave their results files)."""
    import fcntl

    path = profile.build_dir / "pipeline.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise SystemExit(f"Another run of the {profile.name} profile is in progress ({holder}); wait for it "
                             f"to finish (lock: {relative(path)}).") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}: {what}, started {time.strftime('%H:%M:%S')}")
        lock.flush()
        try:
            yield
        finally:
            lock.seek(0)
            lock.truncate()


def remove_leftovers(profile: Profile) -> list[Path]:
    """What a killed run leaves (a SIGKILL or the out-of-memory killer runs no cleanup): the atomic writers'
    temporary files and folders (``.<name>.<random>.tmp…``) and the connection files and sockets of kernels
    whose process is gone. Called under the profile's lock, so no other run of it is writing them."""
    removed = []
    for folder in (profile.notebooks_out_dir, profile.results_dir, profile.figures_dir, profile.report_dir,
                   profile.artifacts_dir / "models"):
        for tmp in Path(folder).glob(".*.tmp*") if Path(folder).is_dir() else []:
            shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
            removed.append(tmp)
    removed += dead_kernel_files() + keras_temp_folders()
    for line in integrity.set_aside_corrupt_models(profile.artifacts_dir):
        print(line)
    if removed:
        print(f"removed {len(removed)} leftovers of an interrupted run: " + ", ".join(relative(p) for p in removed[:4])
              + (" …" if len(removed) > 4 else ""))
    return removed


def dead_kernel_files() -> list[Path]:
    """Connection files (``/tmp/tmp*.json``, or the Jupyter runtime folder's ``kernel-*.json``) and IPC sockets
    (``fmnist-<id>-ipc-<n>``) of this project's kernels that no live process uses."""
    import tempfile

    from jupyter_core.paths import jupyter_runtime_dir

    runtime, live = Path(jupyter_runtime_dir()), " ".join(_command_lines())
    removed, live_sockets = [], set()
    for connection in [*Path(tempfile.gettempdir()).glob("tmp*.json"), *runtime.glob("kernel-*.json")]:
        try:
            ip = json.loads(connection.read_text()).get("ip", "")
        except (OSError, ValueError, AttributeError):
            continue
        if "fmnist-" not in ip:
            continue  # not a kernel of this project
        if str(connection) in live:
            live_sockets.add(Path(ip).name)
            continue
        connection.unlink(missing_ok=True)
        removed.append(connection)
    for socket in runtime.glob("fmnist-*-ipc-*"):
        if socket.name.rsplit("-", 1)[0] not in live_sockets:
            socket.unlink(missing_ok=True)
            removed.append(socket)
    return removed


def keras_temp_folders(tmp_dir: Path | None = None, idle_seconds: float = 60.0) -> list[Path]:
    """Remove Keras' temporary model folders (``/tmp/tmp*/`` holding only ``assets/``) that a killed save left:
    Keras deletes them when a save or load ends, so one untouched for a minute belongs to a dead process."""
    import tempfile

    removed = []
    for folder in Path(tmp_dir or tempfile.gettempdir()).glob("tmp*/"):
        try:
            if ([p.name for p in folder.iterdir()] == ["assets"] and folder.stat().st_uid == os.getuid()
                    and time.time() - folder.stat().st_mtime > idle_seconds):
                shutil.rmtree(folder)
                removed.append(folder)
        except OSError:
            continue  # another process's folder, or gone meanwhile
    return removed


def _command_lines() -> list[str]:
    """Every running process's command line (a process may exit while they are read)."""
    lines = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(path.read_bytes().replace(b"\0", b" ").decode(errors="ignore"))
        except OSError:
            continue
    return lines


def interrupted(what: str, profile_name: str, signame: str) -> int:
    """Stop the kernel, say in one line what was interrupted, and return the shell's exit status."""
    stop_children()
    print(f"\n{what} ({profile_name} profile) interrupted by {signame}; no partial output was kept. "
          f"Rerun `make {what} PROFILE={profile_name}` to resume from the cached models.", file=sys.stderr)
    return 130 if signame == "SIGINT" else 143


if __name__ == "__main__":
    status_code = main()
    if _RECEIVED:
        # Interrupted: the one-line message is the last word. Interpreter teardown would collect
        # nbclient's pending tasks and print their dead-kernel tracebacks after it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status_code)
    sys.exit(status_code)
