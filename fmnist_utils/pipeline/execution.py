"""Headless notebook execution with papermill: the kernel, the run's log (``build/<profile>/logs/``), a failing cell
named by its heading (its executed copy kept in ``build/<profile>/failed/``), and the leftovers of a killed run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
from jupyter_core.paths import jupyter_runtime_dir

from .. import atomic
from ..config import ROOT, Profile
from . import integrity

REPORT_NOTEBOOK = ROOT / "report" / "report.ipynb"

KERNEL = "python3"  # the kernel of the interpreter running papermill (the project's venv)

# Cells papermill adds: the injected parameters, and the error banner and anchor of a failed run.
PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def headless_kernel_manager(stderr_log):
    """The kernel manager papermill uses: IPC sockets instead of TCP ports (nothing listens on the
    network, so ipykernel has no unencrypted-TCP warning to print), and the kernel process's own
    stderr (C++ runtimes write there directly) goes to the run's log instead of the terminal;
    the cells' stderr still reaches papermill through the kernel."""
    from jupyter_client.manager import AsyncKernelManager

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


def relative(path: Path) -> str:
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def failure_message(executed, source: Path, ename: str, evalue: str, traceback: list[str]) -> str:
    cells = [c for c in executed.cells if not PAPERMILL_TAGS & set(c.metadata.get("tags", []))]
    position = next(i for i, c in enumerate(cells, 1)
                    if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    titles = [line for c in cells[:position - 1] if c.cell_type == "markdown"
              for line in c.source.splitlines() if line.startswith("#")]
    heading = f'"{titles[-1].lstrip("#").strip()}"' if titles else "the top of the notebook"
    trace = ANSI.sub("", "\n".join(traceback)).rstrip()
    return (f"{source.name} failed in cell {position} of {len(cells)} (under {heading}): {ename}: {evalue}\n"
            f"{trace}")


@contextlib.contextmanager
def log_to(path: Path) -> Iterator:
    """Copy every log record of the run (papermill logs each cell's output) into ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
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
    """Execute ``source`` with papermill into ``target`` atomically; return wall seconds."""
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
            dead = type(exc).__name__ == "DeadKernelError"  # killed from outside (out of memory, most often)
            if not (dead or isinstance(exc, pm.PapermillExecutionError)):
                raise
            kept, rerun = profile.failed_dir / source.name, "pdf" if source == REPORT_NOTEBOOK else source.stem
            kept.parent.mkdir(parents=True, exist_ok=True)
            if dead:  # no cell raised, the process is gone
                message, advice = f"{source.name}: the kernel died — out of memory? ({exc})", "to resume"
            else:
                import nbformat

                message = failure_message(nbformat.read(tmp, as_version=4), source, exc.ename, exc.evalue,
                                          exc.traceback)
                logging.getLogger(__name__).error(message)
                advice = "after fixing it"
            if tmp.exists():
                shutil.move(tmp, kept)
            raise NotebookFailed(f"{message}\n" + (f"Executed copy kept in {relative(kept)}; " if kept.exists() else "")
                                 + f"log in {relative(log)}.\nRerun `make {rerun} PROFILE={profile.name}` {advice} "
                                 "(trained models are cached).") from None
    (profile.failed_dir / source.name).unlink(missing_ok=True)  # an earlier failure is now fixed
    return time.perf_counter() - start


def remove_leftovers(profile: Profile) -> list[Path]:
    """What a killed run leaves (a SIGKILL or the out-of-memory killer runs no cleanup): the atomic writers'
    temporary files and folders (``.<name>.<random>.tmp…``) and the connection files and sockets of kernels
    whose process is gone. Called under the profile's lock, so no other run of it is writing them."""
    removed = []
    stored = sorted(p for p in Path(profile.store_dir).glob("*") if p.is_dir() and not p.name.startswith("."))
    for folder in (profile.notebooks_out_dir, profile.results_dir, profile.figures_dir, profile.report_dir,
                   profile.artifacts_dir / "models", profile.store_dir, *stored):  # a store folder's predictions too
        for tmp in Path(folder).glob(".*.tmp*"):
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
    runtime = Path(jupyter_runtime_dir())
    live = " ".join(" ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"]))
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


def keras_temp_folders(tmp_dir: Path | None = None) -> list[Path]:
    """Remove Keras' temporary model folders (``/tmp/tmp*/`` holding only ``assets/``) that a killed save left:
    Keras deletes them when a save or load ends, so one untouched for a minute belongs to a dead process."""
    removed = []
    for folder in Path(tmp_dir or tempfile.gettempdir()).glob("tmp*/"):
        try:
            if ([p.name for p in folder.iterdir()] == ["assets"] and folder.stat().st_uid == os.getuid()
                    and time.time() - folder.stat().st_mtime > 60):
                shutil.rmtree(folder)
                removed.append(folder)
        except OSError:
            continue  # another process's folder, or gone meanwhile
    return removed


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived during a run (a BaseException, like KeyboardInterrupt, so that no
    library's ``except Exception`` swallows it)."""


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
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            child.terminate()
