import pytest

from fmnist_utils.compute import bench, models
from fmnist_utils.compute.spec import ModelSpec, TrainConfig

SPEC = ModelSpec("mlp", TrainConfig(epochs=3, batch_size=64, learning_rate=1e-2, schedule="constant", patience=None),
                 {"hidden_units": [16]})


def test_time_to_accuracy_stops_at_the_first_epoch_that_reaches_the_target(synthetic_splits):
    run = bench.time_to_accuracy(SPEC, synthetic_splits, target=0.0)
    assert run["epochs_to_target"] == 1 and len(run["curve"]) == 1, "training stops once the target is reached"
    assert run["seconds_to_target"] == run["curve"][0]["seconds"] > 0
    assert ModelSpec.from_dict({k: run[k] for k in SPEC.to_dict()}) == SPEC, "the result names its spec"


def test_time_to_accuracy_reports_an_unreached_target_as_none(synthetic_splits):
    run = bench.time_to_accuracy(SPEC, synthetic_splits, target=1.01)
    assert run["epochs_to_target"] is None and run["seconds_to_target"] is None
    assert [c["epoch"] for c in run["curve"]] == [1, 2, 3]
    assert [c["seconds"] for c in run["curve"]] == sorted(c["seconds"] for c in run["curve"])


def test_every_candidate_recipe_keeps_report_004s_widths():
    nets = [models.build_model(s.arch, **s.hparams) for s in [bench.BASELINE, *bench.CANDIDATES]]
    conv_filters = [[layer.filters for layer in m.layers if hasattr(layer, "filters")] for m in nets]
    assert all(filters == [16, 32] for filters in conv_filters)
    dense = [[layer.units for layer in m.layers if hasattr(layer, "units")] for m in nets]
    assert all(units == dense[0] for units in dense)


def test_time_to_accuracy_can_watch_the_validation_split(synthetic_splits):
    run = bench.time_to_accuracy(SPEC, synthetic_splits, target=1.01, watch="val")
    assert all(set(c) == {"epoch", "seconds", "val_accuracy"} for c in run["curve"])


VAL_ONLY = {"val": (None, [0] * 6000)}  # select_recipe reads only the validation split's size


def _run(seconds, final):
    return {"seconds_to_target": seconds, "curve": [{"val_accuracy": final}]}


def test_select_recipe_takes_the_fastest_to_the_target_on_validation(monkeypatch):
    runs = {"slow": _run(50.0, 0.95), "fast": _run(40.0, 0.93), "never": _run(None, 0.97)}
    watched = []
    targets = []
    monkeypatch.setattr(bench, "time_to_accuracy",
                        lambda spec, splits, target, watch:
                        targets.append(target) or watched.append(watch) or runs[spec])
    chosen, val_target, all_runs = bench.select_recipe(["slow", "fast", "never"], VAL_ONLY, 0.92)
    assert chosen == "fast" and [r["seconds_to_target"] for r in all_runs] == [50.0, 40.0, None]
    assert val_target == bench.confident_target(0.92, 6000)
    assert watched == ["val"] * 3 * bench.TIMED_RUNS, "the test set plays no part in the choice"
    assert targets == [bench.confident_target(0.92, 6000)] * 3 * bench.TIMED_RUNS


def test_confident_target_lies_above_the_target_by_a_shrinking_margin():
    assert bench.confident_target(0.92, 6000) == pytest.approx(0.92 + 1.645 * (0.92 * 0.08 / 6000) ** 0.5)
    assert 0.925 < bench.confident_target(0.92, 6000) < bench.confident_target(0.92, 1000)
    assert bench.confident_target(0.92, 10 ** 12) == pytest.approx(0.92, abs=1e-6)


def test_select_recipe_falls_back_to_the_best_final_validation_accuracy(monkeypatch):
    runs = {"a": _run(None, 0.90), "b": _run(None, 0.91)}
    monkeypatch.setattr(bench, "time_to_accuracy", lambda spec, splits, target, watch: runs[spec])
    assert bench.select_recipe(["a", "b"], VAL_ONLY, 0.92)[0] == "b"


def test_time_to_accuracy_and_throughput_train_in_the_requested_precision(synthetic_splits, monkeypatch):
    import dataclasses

    import keras

    from fmnist_utils.compute import precision

    built = []
    compile_model = bench.compile_model
    monkeypatch.setattr(bench, "compile_model", lambda model, *a: built.append(model) or compile_model(model, *a))
    monkeypatch.setattr(precision, "resolve", lambda p, *a, **k: p)  # as on a CPU with bfloat16 instructions
    bf16 = SPEC.replace(train=dataclasses.replace(SPEC.train, epochs=1, precision="mixed_bfloat16"))
    bench.time_to_accuracy(bf16, synthetic_splits, target=0.0)
    bench.throughput(SPEC, synthetic_splits, n=256, dtype_policy="mixed_bfloat16")
    bench.throughput(SPEC, synthetic_splits, n=256)
    assert [m.layers[-1].compute_dtype for m in built] == ["float32"] * 3, "the softmax stays in float32"
    assert [m.layers[1].compute_dtype for m in built] == ["bfloat16", "bfloat16", "float32"]
    assert keras.config.dtype_policy().name == "float32", "the global policy is restored"


def test_loop_throughput_measures_three_loops_on_the_same_images(synthetic_splits):
    loop = bench.loop_throughput(SPEC, synthetic_splits, n=256)
    assert loop["images"] == 256 and loop["model"] == "mlp" and loop["precision"] == "float32"
    n_train, n_val = len(synthetic_splits["train"][1]), len(synthetic_splits["val"][1])
    assert loop["validation_images"] == round(256 * n_val / n_train)
    assert all(loop[k] > 0 for k in ("fit_with_validation", "fit", "train_on_batch"))


def test_best_rate_takes_the_fastest_pass():
    import time

    delays = iter([0.05, 0.01, 0.03])
    rate = bench.best_rate(lambda: time.sleep(next(delays)), images=100)
    assert 100 / 0.05 < rate <= 100 / 0.01


def test_fastest_time_to_accuracy_keeps_the_fastest_run_that_reached_the_target(monkeypatch):
    runs = iter([{"seconds_to_target": 50.0, "run": 1}, {"seconds_to_target": None, "run": 2},
                 {"seconds_to_target": 40.0, "run": 3}])
    monkeypatch.setattr(bench, "time_to_accuracy", lambda spec, splits, target, watch: next(runs))
    fastest = bench.fastest_time_to_accuracy("spec", {}, 0.92, runs=3)
    assert fastest["run"] == 3 and fastest["seconds_to_target"] == 40.0
    assert fastest["seconds_to_target_runs"] == [50.0, None, 40.0]


def test_fastest_time_to_accuracy_reports_an_unreached_target_as_none(monkeypatch):
    monkeypatch.setattr(bench, "time_to_accuracy", lambda spec, splits, target, watch: {"seconds_to_target": None})
    assert bench.fastest_time_to_accuracy("spec", {}, 0.92)["seconds_to_target"] is None


def test_the_bench_says_which_flags_precision_and_kernels_its_numbers_depend_on(monkeypatch):
    from fmnist_utils.compute.bench import machine_line

    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.delenv("FMNIST_PRECISION", raising=False)
    assert machine_line("flags\t: fpu avx2 avx512f avx512_bf16") == (
        "CPU flags: avx2 avx512_bf16 avx512f; precision: mixed_bfloat16; kernels: oneDNN on (TensorFlow default "
        "for this CPU)")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    line = machine_line("flags\t: fpu avx2")
    assert line.endswith("precision: float32; kernels: oneDNN on (TF_ENABLE_ONEDNN_OPTS=1)")
