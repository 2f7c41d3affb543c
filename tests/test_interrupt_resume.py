"""A quick notebook run killed mid-training leaves no temporary file, says so in one line, and a
rerun trains only the models that were missing."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fmnist_utils.config import ROOT
from tests.conftest import needs_fashion_mnist


def _run(build_dir, **popen):
    env = {**os.environ, "FMNIST_BUILD_DIR": str(build_dir)}
    return subprocess.Popen([sys.executable, "-m", "fmnist_utils.pipeline.cli", "notebook", "02_mlp_baselines",
                             "--profile", "quick"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


@needs_fashion_mnist
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_notebook_resumes_from_the_cache(tmp_path, signum):
    models = tmp_path / "quick" / "artifacts" / "models"
    run = _run(tmp_path)
    deadline = time.monotonic() + 300
    while len(list(models.glob("*/meta.json"))) < 2:  # mid-training: some models cached, not all
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.2)
    run.send_signal(signum)
    out, err = run.communicate(timeout=60)
    assert run.returncode == (130 if signum == signal.SIGINT else 143), err
    last = err.strip().splitlines()[-1]
    assert re.match(rf"02_mlp_baselines \(quick profile\) interrupted by {signal.Signals(signum).name}; .*resume", last)
    assert "Traceback" not in err and "ZMQError" not in err
    leftovers = [p for p in tmp_path.rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    assert not (tmp_path / "quick" / "notebooks" / "02_mlp_baselines.ipynb").exists()
    time.sleep(2)  # the kernel was told to stop: it must not add models after the interrupt
    cached = {p.parent.name for p in models.glob("*/meta.json")}

    rerun = _run(tmp_path)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    total = {p.parent.name for p in models.glob("*/meta.json")}
    trained = int(re.search(r"(\d+) models/trials trained", out).group(1))
    assert cached < total and trained == len(total - cached)


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return kids


@needs_fashion_mnist
def test_a_run_killed_without_warning_is_seen_as_interrupted_cleaned_up_and_resumed(tmp_path):
    """SIGKILL (or the out-of-memory killer) runs no cleanup: status must not call the step current, and the
    next run removes what the killed one left and trains only the missing models."""
    env = {**os.environ, "FMNIST_BUILD_DIR": str(tmp_path)}
    models = tmp_path / "quick" / "artifacts" / "models"
    run = _run(tmp_path)
    deadline = time.monotonic() + 300
    while len(list(models.glob("*/meta.json"))) < 2:
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.2)
    kernels = _children(run.pid)
    args = [Path(f"/proc/{k}/cmdline").read_bytes().split(b"\0") for k in kernels]
    connection = [a[a.index(b"-f") + 1] for a in args if b"-f" in a]  # ipykernel_launcher -f <connection file>
    for pid in [run.pid, *kernels]:
        os.kill(pid, signal.SIGKILL)
    run.communicate(timeout=60)
    time.sleep(1)
    cached = {p.parent.name for p in models.glob("*/meta.json")}
    status = subprocess.run([sys.executable, "-m", "fmnist_utils.pipeline.cli", "status", "--profile", "quick"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    line = next(x for x in status.stdout.splitlines() if x.startswith("02_mlp_baselines"))
    assert "interrupted" in line and "reruns it" in line

    rerun = _run(tmp_path)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    total = {p.parent.name for p in models.glob("*/meta.json")}
    assert cached < total and int(re.search(r"(\d+) models/trials trained", out).group(1)) == len(total - cached)
    assert [p for p in tmp_path.rglob("*") if ".tmp" in p.name] == []
    assert connection and not any(Path(c.decode()).exists() for c in connection)  # the dead kernel's file
    status = subprocess.run([sys.executable, "-m", "fmnist_utils.pipeline.cli", "status", "--profile", "quick"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "interrupted" not in status.stdout
