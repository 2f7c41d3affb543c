"""``make bench``: images/s of a training epoch (the best MLP; the best CNN in float32 and in
``recipes.CNN_PRECISION``), and the training seconds (median of three runs) until test accuracy first reaches the target
for report 004's CNN recipe and for ours on the same widths: a comparison of recipes, not of capacity. The test set is
only watched to time the milestone; nothing is chosen. Writes ``<results dir>/bench.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import keras
import numpy as np

from .. import atomic, provenance, results
from ..config import PROFILE_NAMES, SEED, get_profile, seed_everything
from . import evaluate, precision, recipes
from .data import prepare_splits
from .models import build_model
from .spec import ModelSpec, TrainConfig
from .train import compile_model, preprocess

BASELINE = ModelSpec("cnn_2conv", TrainConfig(45, learning_rate=1e-3, schedule="constant", patience=None))
OURS = ModelSpec("vgg_bn", TrainConfig(5, batch_size=256, learning_rate=4e-3, schedule="cosine", warmup_epochs=1,
                                       patience=None, precision=recipes.CNN_PRECISION),
                 {"blocks": [[16], [32]], "dense_units": 256, "dropout": 0.15, "first_bn": False,
                  "augment": {"flip": True, "shift": 0.0}}, tta_flip=True)
TARGETS = {"full": 0.92, "quick": 0.70}
RUNS = 3  # per figure, the median: other load on a shared machine slows single runs down


class TimeToAccuracy(keras.callbacks.Callback):
    """Training seconds (evaluation excluded) until accuracy on the watched images first reaches ``target``."""

    def __init__(self, x_watch, y_watch, target: float, tta_flip: bool):
        super().__init__()
        self.x_watch, self.y_watch, self.target, self.tta_flip = x_watch, y_watch, target, tta_flip
        self.seconds, self.curve, self.reached = 0.0, [], None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._start
        acc = evaluate.accuracy(self.y_watch, evaluate.predict_proba(self.model, self.x_watch, tta_flip=self.tta_flip))
        self.curve.append({"epoch": epoch + 1, "seconds": round(self.seconds, 1), "test_accuracy": acc})
        if acc >= self.target and self.reached is None:
            self.reached, self.model.stop_training = self.curve[-1], True


def time_to_accuracy(spec: ModelSpec, splits: dict, target: float) -> dict:
    """Train ``spec`` until test accuracy first reaches ``target`` (None if its epochs run out first)."""
    seed_everything(spec.seed)
    (x, y), (x_test, y_test) = splits["train"], splits["test"]
    with precision.policy(spec.train.precision):
        model = compile_model(build_model(spec.arch, **spec.hparams), spec.train,
                              int(np.ceil(len(y) / spec.train.batch_size)))
        watch = TimeToAccuracy(preprocess(spec.arch, x_test), y_test, target, spec.tta_flip)
        model.fit(preprocess(spec.arch, x), y, epochs=spec.train.epochs, batch_size=spec.train.batch_size,
                  callbacks=[watch], verbose=0)
    reached = watch.reached or {}
    return {**spec.to_dict(), "epochs_to_target": reached.get("epoch"), "seconds_to_target": reached.get("seconds"),
            "curve": watch.curve}


def median_time_to_accuracy(spec: ModelSpec, splits: dict, target: float, runs: int = RUNS) -> dict:
    """:func:`time_to_accuracy` ``runs`` times (one seed: the same accuracies, only the seconds vary): the median
    seconds (None if a run missed the target) and every run's."""
    trials = [time_to_accuracy(spec, splits, target) for _ in range(runs)]
    seconds = [trial["seconds_to_target"] for trial in trials]
    median = None if None in seconds else statistics.median(seconds)
    return {**trials[-1], "seconds_to_target": median, "seconds_to_target_runs": seconds}


def throughput(spec: ModelSpec, splits: dict, policy: str = "float32", n: int = 10_000, runs: int = RUNS) -> float:
    """Images/s of a training epoch over ``n`` images in ``policy``: the median of ``runs``, after a warm-up."""
    seed_everything(SEED)
    x, y = preprocess(spec.arch, splits["train"][0][:n]), splits["train"][1][:n]
    with precision.policy(policy):
        model = compile_model(build_model(spec.arch, **spec.hparams), TrainConfig(1, schedule="constant"), 1)
        model.fit(x[:512], y[:512], verbose=0)  # build and trace
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            model.fit(x, y, batch_size=128, verbose=0)
            seconds.append(time.perf_counter() - start)
    return len(y) / statistics.median(seconds)


def run(profile) -> dict:
    summary = results.load_summary(profile.results_dir, profile.name)
    mlp, cnn = (ModelSpec.from_dict(summary["models"][summary["best"][family]]["spec"]) for family in ("mlp", "cnn"))
    splits, target = prepare_splits(profile, SEED), TARGETS[profile.name]
    fast = precision.resolve(recipes.CNN_PRECISION)
    ours, baseline = (median_time_to_accuracy(spec, splits, target) for spec in (OURS, BASELINE))
    both = ours["seconds_to_target"] and baseline["seconds_to_target"]
    report = {"profile": profile.name, "target_accuracy": target, "hardware": provenance.hardware(),
              "kernels": machine_line(),
              "throughput": {"mlp": summary["best"]["mlp"], "cnn": summary["best"]["cnn"], "cnn_precision": fast,
                             "mlp_images_per_s": throughput(mlp, splits),
                             "cnn_images_per_s": throughput(cnn, splits),
                             "cnn_images_per_s_precision": throughput(cnn, splits, fast)},
              "ours": ours, "baseline": baseline,
              "speedup": baseline["seconds_to_target"] / ours["seconds_to_target"] if both else None}
    atomic.write_json(profile.results_dir / "bench.json", report)
    return report


def machine_line(cpuinfo: str | None = None) -> str:
    """What the numbers depend on: the CPU's vector flags, the precision training uses, TensorFlow's CPU kernels
    (oneDNN, which importing fmnist_utils turns on, unless ``TF_ENABLE_ONEDNN_OPTS=0``)."""
    flags = precision.cpu_flags(cpuinfo) & {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16"}
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").lower() in ("1", "true")
    return (f"CPU flags: {' '.join(sorted(flags)) or 'none of note'}; "
            f"precision: {precision.resolve('mixed_bfloat16', cpuinfo)}; "
            f"kernels: {'oneDNN' if onednn else 'TensorFlow own (TF_ENABLE_ONEDNN_OPTS=0)'}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Throughput and time-to-accuracy benchmark.")
    parser.add_argument("--profile", default=None, choices=PROFILE_NAMES, help="default: $FMNIST_PROFILE or quick")
    print(machine_line())
    r = run(get_profile(parser.parse_args(argv).profile))
    t = r["throughput"]
    print(f"throughput: MLP {t['mlp_images_per_s']:.0f} img/s; CNN {t['cnn_images_per_s']:.0f} img/s in float32, "
          f"{t['cnn_images_per_s_precision']:.0f} img/s in {t['cnn_precision']}")
    for who in ("ours", "baseline"):
        x = r[who]
        print(f"{who:>8}: {x['arch']} reaches {r['target_accuracy']:.0%} test accuracy after "
              f"{x['seconds_to_target']} s of training (median of {x['seconds_to_target_runs']})")
    print(f"speed-up: {r['speedup']:.2f}x" if r["speedup"] else "speed-up: target not reached by both recipes")


if __name__ == "__main__":
    main()
