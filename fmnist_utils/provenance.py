"""Where a result came from: the code's commit, the machine and the package versions, written into every results
file (:func:`fmnist_utils.results.update_step`) and every stored model's record."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path

from .config import ROOT, get_profile

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
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
    mem_gib = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_gib, "machine": platform.machine(),
            "accelerator": accelerator()}


def accelerator(driver: Path = Path("/proc/driver/nvidia/gpus")) -> str:
    """The NVIDIA GPUs the machine has (what its driver lists), or none: read without loading TensorFlow."""
    names = []
    for info in sorted(driver.glob("*/information")):
        model = [line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if line.startswith("Model")]
        names += model or ["NVIDIA GPU"]
    return ", ".join(names) if names else "none (CPU only)"


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
