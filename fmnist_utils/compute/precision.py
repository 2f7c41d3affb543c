"""Numeric precision of training: float32, or Keras' ``mixed_bfloat16`` where the hardware runs it fast.

bfloat16 matrix products are fast on CPUs with AVX512_BF16 or AMX and on recent GPUs; elsewhere the
CPU emulates them, many times slower than float32. :func:`resolve` therefore falls back to float32,
with a one-line notice, on a CPU without bfloat16 instructions. The softmax layer always computes in
float32 (see :func:`fmnist_utils.compute.models._classifier`).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

PRECISIONS = ("float32", "mixed_bfloat16")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
PRECISION_ENV = "FMNIST_PRECISION"  # "float32": train everything in float32 (CI runs both paths on any CPU)


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``; none where it cannot be read)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    return {f for line in cpuinfo.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    return bool(cpu_flags(cpuinfo) & set(BF16_CPU_FLAGS))


def has_gpu() -> bool:
    import tensorflow as tf  # the only backend installed (jax, torch are not dependencies)

    return bool(tf.config.list_physical_devices("GPU"))


def resolve(precision: str, cpuinfo: str | None = None, gpu: bool | None = None, quiet: bool = False) -> str:
    """The precision to train in: ``precision`` (or ``$FMNIST_PRECISION`` where set), or float32 (with a notice
    unless ``quiet``) where bfloat16 would be slow."""
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; known: {PRECISIONS}")
    forced = os.environ.get(PRECISION_ENV)
    if forced:
        if forced not in PRECISIONS:
            raise ValueError(f"${PRECISION_ENV}={forced!r}; known: {PRECISIONS}")
        precision = forced
    if precision == "mixed_bfloat16" and not (has_gpu() if gpu is None else gpu) and not cpu_has_bf16(cpuinfo):
        if quiet:
            return "float32"
        warnings.warn("mixed_bfloat16 asked for, but this CPU has no bfloat16 instructions: training in float32 "
                      "(bfloat16 would be emulated, many times slower).", stacklevel=2)  # shown once per caller
        return "float32"
    return precision


@contextlib.contextmanager
def policy(precision: str) -> Iterator[str]:
    """Build (and train) models under Keras' dtype policy for ``precision``; restores the previous one."""
    import keras

    resolved = resolve(precision)
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(resolved)
    try:
        yield resolved
    finally:
        keras.mixed_precision.set_global_policy(previous)
