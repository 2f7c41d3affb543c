"""The pipeline's command line: run a step's notebook when its results are not current, report each step's
state, build the PDF; one run per profile at a time, and an interruption stops the kernel and says how to resume.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..config import NOTEBOOKS_DIR, PROFILE_NAMES, Profile, get_profile
from ..results import UnreadableResults
from . import integrity, staleness
from .execution import (
    _RECEIVED,
    Interrupted,
    NotebookFailed,
    execute,
    interrupts_as_exceptions,
    relative,
    remove_leftovers,
    stop_children,
)


def run_notebook(name: str, profile_name: str, if_stale: bool = False) -> Path | None:
    """Execute a step's notebook (with ``if_stale``, only when its results are not current) and record its run."""
    profile = get_profile(profile_name)
    state, why = staleness.step_state(name, profile)
    if if_stale and state == "current":
        print(f"{name}: results current with the code; not rerun")
        return None
    if state == "blocked":  # an upstream step's file: its own command rewrites it
        raise SystemExit(f"{name}: {why[0]}")
    if state == "corrupt":
        moved = integrity.set_aside_step(profile.results_dir, name)
        print(f"{name}: {why[0]}; moved aside as {', '.join(relative(p) for p in moved)}; the rerun rewrites it")
    source = NOTEBOOKS_DIR / f"{name}.ipynb"
    target = profile.notebooks_out_dir / source.name
    inputs = staleness.input_digests(name, profile)
    before = staleness.trained_artifacts(profile)
    marker = staleness.RunMarker(profile, name)
    marker.start()
    previous = staleness.start_afresh(profile, name)
    with staleness.store_use_log(profile, name) as used:
        seconds = execute(source, target, profile)
    trained = staleness.trained_artifacts(profile) - before
    staleness.record_run(profile, name, seconds, trained, inputs, previous, used())
    if staleness.keep_previous_if_unchanged(profile, name):
        print(f"{name}: the same results as its previous run: its files are kept as they were")
    marker.finish()
    print(f"{name}: executed in {seconds:.0f} s, {len(trained)} models/trials trained -> {relative(target)}")
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run the report's notebooks headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tools", help="check that the programs the PDF needs are installed")
    nb = sub.add_parser("notebook", help="execute notebooks/NAME.ipynb")
    nb.add_argument("name", choices=staleness.notebook_names())
    nb.add_argument("--if-stale", action="store_true", help="only if its results are not current with the code")
    rep = sub.add_parser("report", help="execute report/report.ipynb and build the PDF")
    st = sub.add_parser("status", help="per step: are its results current with the code?")
    fig = sub.add_parser("figures", help="redraw every figure from the results files and the data (no training)")
    for p in (nb, rep, st, fig):
        p.add_argument("--profile", default=None, choices=PROFILE_NAMES, help="default: $FMNIST_PROFILE or quick")
    args = parser.parse_args(argv)
    if args.command == "tools":
        from .pdf import require_tools  # the PDF's modules load TensorFlow: not for `status` or `tools`

        require_tools()
        return 0
    # Silence what is noise in a headless run (the kernel listens on 127.0.0.1 only, for this process alone);
    # warnings that matter still print.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    warnings.filterwarnings("ignore", message=".*running over TCP without encryption.*")
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # papermill logs each cell's output
    logging.getLogger("traitlets").setLevel(logging.WARNING)
    profile = get_profile(args.profile)
    if args.command == "status":
        try:
            print("\n".join(staleness.status(profile)))
        except UnreadableResults as exc:
            raise SystemExit(str(exc)) from None
        return 0
    if args.command == "figures":
        from ..present.figures import redraw

        integrity.require_readable(profile.results_dir, profile.name)
        redraw(profile)
        print(f"figures redrawn from {profile.results_dir} into {profile.figures_dir}")
        return 0
    what = args.name if args.command == "notebook" else "report"
    try:
        with one_run_at_a_time(profile, what), interrupts_as_exceptions():
            remove_leftovers(profile)
            if args.command == "notebook":
                run_notebook(args.name, profile.name, args.if_stale)
            else:
                from .pdf import build_report

                build_report(profile.name)
    except (Interrupted, KeyboardInterrupt) as exc:
        return interrupted(what, profile.name, exc.args[0] if isinstance(exc, Interrupted) else "SIGINT")
    except NotebookFailed as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1
    except Exception:
        if _RECEIVED:  # a library turned the interruption into another error (a dead kernel, say)
            return interrupted(what, profile.name, _RECEIVED[-1])
        raise
    return 0


@contextlib.contextmanager
def one_run_at_a_time(profile: Profile, what: str) -> Iterator[None]:
    """Hold ``build/<profile>/pipeline.lock`` for the run; a second run of the same profile stops at once and
    names the running one (two runs would train the same models twice and interleave their results files)."""
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


def interrupted(what: str, profile_name: str, signame: str) -> int:
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
