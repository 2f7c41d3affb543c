import statistics

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


def test_both_recipes_keep_report_004s_widths():
    nets = [models.build_model(s.arch, **s.hparams) for s in (bench.BASELINE, bench.OURS)]
    assert [[layer.filters for layer in m.layers if hasattr(layer, "filters")] for m in nets] == [[16, 32]] * 2
    dense = [[layer.units for layer in m.layers if hasattr(layer, "units")] for m in nets]
    assert dense[0] == dense[1]


@pytest.mark.parametrize("runs, median", [([50.0, 30.0, 40.0], 40.0), ([50.0, None, 40.0], None)])
def test_the_time_to_accuracy_is_the_median_of_three_runs(monkeypatch, runs, median):
    seconds = iter(runs)
    monkeypatch.setattr(bench, "time_to_accuracy", lambda spec, splits, target: {"seconds_to_target": next(seconds)})
    result = bench.median_time_to_accuracy("spec", {}, 0.92)
    assert result["seconds_to_target"] == median and result["seconds_to_target_runs"] == runs
    assert bench.RUNS == 3 and (median is None or median == statistics.median(runs))


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
    assert bench.throughput(SPEC, synthetic_splits, "mixed_bfloat16", n=256) > 0
    bench.throughput(SPEC, synthetic_splits, n=256)
    assert [m.layers[-1].compute_dtype for m in built] == ["float32"] * 3, "the softmax stays in float32"
    assert [m.layers[1].compute_dtype for m in built] == ["bfloat16", "bfloat16", "float32"]
    assert keras.config.dtype_policy().name == "float32", "the global policy is restored"


def test_the_bench_says_which_flags_precision_and_kernels_its_numbers_depend_on(monkeypatch):
    from fmnist_utils.compute.bench import machine_line

    monkeypatch.delenv("FMNIST_PRECISION", raising=False)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert machine_line("flags\t: fpu avx2 avx512f avx512_bf16") == (
        "CPU flags: avx2 avx512_bf16 avx512f; precision: mixed_bfloat16; kernels: oneDNN")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    with pytest.warns(UserWarning):
        line = machine_line("flags\t: fpu avx2")
    assert line.endswith("precision: float32; kernels: TensorFlow own (TF_ENABLE_ONEDNN_OPTS=0)")
