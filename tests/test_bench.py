from fmnist_utils import bench, models
from fmnist_utils.spec import ModelSpec, TrainConfig

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


def test_the_two_recipes_share_report_004s_widths():
    ours = models.build_model(bench.OURS.arch, **bench.OURS.hparams)
    baseline = models.build_model(bench.BASELINE.arch, **bench.BASELINE.hparams)
    conv_filters = [[layer.filters for layer in m.layers if hasattr(layer, "filters")] for m in (ours, baseline)]
    assert conv_filters[0] == conv_filters[1] == [16, 32]


def test_time_to_accuracy_and_throughput_train_in_the_requested_precision(synthetic_splits, monkeypatch):
    import dataclasses

    import keras

    from fmnist_utils import precision

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
