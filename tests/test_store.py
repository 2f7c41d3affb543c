"""The model store: a hit trains nothing, a killed retrain resumes from it, a damaged file is named (never trained
over), `make status` names what it lacks, and a re-execution that reproduces a step keeps its files."""

import os
import re
import shutil

import numpy as np
import pytest

from fmnist_utils import results
from fmnist_utils.compute import store, train
from fmnist_utils.compute.experiment import evaluate_model
from fmnist_utils.compute.spec import ModelSpec, TrainConfig
from fmnist_utils.pipeline import staleness


def _spec(seed: int = 1) -> ModelSpec:
    return ModelSpec("mlp", TrainConfig(epochs=1, batch_size=64, patience=None), {"hidden_units": [8]}, seed=seed)


def _no_training(monkeypatch):
    built = []
    monkeypatch.setattr(train, "build_model", lambda *a, **k: built.append(a) or pytest.fail("trained"))
    return built


def test_a_store_hit_trains_nothing_and_predicts_what_was_stored(tmp_path, synthetic_splits, monkeypatch):
    first = train.fit("m", _spec(), synthetic_splits, tmp_path / "cache", verbose=0, store_dir=tmp_path / "store")
    probs = evaluate_model(first, synthetic_splits)
    assert sorted(p.name for p in first.stored.iterdir()) == [store.MODEL, store.PREDICTIONS, store.RECORD]
    assert store.read_record(first.stored)["trained_on"]["precision"] == "float32"
    shutil.rmtree(tmp_path / "cache")  # a fresh clone: no training cache, only the store
    _no_training(monkeypatch)
    again = train.fit("m", _spec(), synthetic_splits, tmp_path / "cache", verbose=0, store_dir=tmp_path / "store")
    assert again.from_cache and again.train_seconds == first.train_seconds
    for a, b in zip(probs, evaluate_model(again, synthetic_splits), strict=True):
        assert np.array_equal(a, b)


def test_another_evaluation_of_a_stored_model_is_kept_beside_its_own(tmp_path, synthetic_splits):
    """The ablation's run without test-time flips reads the stored network, not the flipped predictions."""
    trained = train.fit("m", _spec(), synthetic_splits, tmp_path / "cache", verbose=0, store_dir=tmp_path / "store")
    own = store.predictions(trained.stored, lambda: {"val": np.full((2, 10), 0.1), "test": np.full((3, 10), 0.1)})
    other = {"val": np.eye(10)[:2], "test": np.eye(10)[:3]}
    assert np.array_equal(store.predictions(trained.stored, lambda: other, "_no_flip")["test"], other["test"])
    assert np.array_equal(store.predictions(trained.stored, dict, "_no_flip")["val"], other["val"])  # not recomputed
    assert np.array_equal(store.predictions(trained.stored, dict)["test"], own["test"])
    store.require_whole(trained.stored)  # the record names the rewritten file's SHA-256


def test_a_measurement_kept_with_a_stored_model_is_taken_once(tmp_path, synthetic_splits):
    assert store.remember(None, "seconds", lambda: 3.0) == 3.0  # no store: measured every time
    stored = train.fit("m", _spec(), synthetic_splits, tmp_path / "cache", verbose=0,
                       store_dir=tmp_path / "store").stored
    assert store.remember(stored, "seconds", lambda: 3.0) == 3.0
    assert store.remember(stored, "seconds", lambda: pytest.fail("measured again")) == 3.0
    assert store.problems(stored) == [], "the record's own files still check"


def test_a_killed_retrain_resumes_with_the_models_it_stored(tmp_path, synthetic_splits, monkeypatch):
    for seed in (1, 2):  # k = 2 models finished before the kill; the cache went with the machine
        train.fit(f"m{seed}", _spec(seed), synthetic_splits, tmp_path / "cache", verbose=0, store_dir=tmp_path / "s")
    shutil.rmtree(tmp_path / "cache")
    built, real = [], train.build_model
    monkeypatch.setattr(train, "build_model", lambda *a, **k: built.append(a) or real(*a, **k))
    done = [train.fit(f"m{seed}", _spec(seed), synthetic_splits, tmp_path / "cache", verbose=0,
                      store_dir=tmp_path / "s") for seed in (1, 2, 3)]
    assert [d.from_cache for d in done] == [True, True, False] and len(built) == 1
    assert len(store.stored_folders(tmp_path / "s")) == 3


def test_a_damaged_stored_file_is_named_and_never_trained_over(tmp_path, synthetic_splits, monkeypatch):
    first = train.fit("m", _spec(), synthetic_splits, tmp_path / "cache", verbose=0, store_dir=tmp_path / "store")
    shutil.rmtree(tmp_path / "cache")
    model_file = first.stored / store.MODEL
    model_file.write_bytes(model_file.read_bytes()[:-10])
    _no_training(monkeypatch)
    with pytest.raises(store.StoreCorrupt, match=r"model\.keras: SHA-256 differs .* `git checkout -- "):
        train.fit("m", _spec(), synthetic_splits, tmp_path / "cache", verbose=0, store_dir=tmp_path / "store")
    assert model_file.exists()


def test_a_step_whose_models_the_store_lacks_is_not_current_and_a_damaged_file_is_named(tmp_profile, synthetic_splits,
                                                                                         monkeypatch):
    stored = train.fit("m", _spec(), synthetic_splits, tmp_profile.artifacts_dir, verbose=0,
                       store_dir=tmp_profile.store_dir).stored
    for name, where in (("m", stored.name), ("lost", "0123"), ("old", None)):
        entry = {"family": "cnn", "notebook": "03_c", "val_accuracy": 0.5, "stored_as": where}
        results.record_model(tmp_profile.results_dir, "quick", name, {k: v for k, v in entry.items() if v})
    results.save_probs(tmp_profile.results_dir, "03_c", {n: np.full((2, 10), 0.1) for n in ("m", "lost", "old")})
    results.record_notebook(tmp_profile.results_dir, "quick", "03_c", 1.0, 0, inputs={"code": "same"})
    monkeypatch.setattr(staleness, "input_digests", lambda name, profile: {"code": "same"})
    monkeypatch.setattr(staleness, "notebook_names", lambda: ["03_c"])
    assert staleness.step_state("03_c", tmp_profile) == ("unstored", ["the model store lacks lost, old"])
    assert staleness.status(tmp_profile)[0] == (
        "03_c                   unstored    the model store lacks lost, old; `make 03_c PROFILE=quick` trains exactly "
        "those")
    assert staleness.store_status(tmp_profile) == []
    (stored / store.RECORD).write_text("{")
    assert "record.json: unreadable" in staleness.store_status(tmp_profile)[0]


def test_status_names_the_stored_models_no_steps_run_used(tmp_profile, synthetic_splits):
    with staleness.store_use_log(tmp_profile, "03_c") as used:
        kept = train.fit("kept", _spec(), synthetic_splits, tmp_profile.artifacts_dir, verbose=0,
                         store_dir=tmp_profile.store_dir).stored  # used without being recorded: a selection's loser
        left = train.fit("left", _spec(seed=2), synthetic_splits, tmp_profile.artifacts_dir, verbose=0,
                         store_dir=tmp_profile.store_dir).stored
        assert used() == [kept.name, left.name]
    assert store.USE_LOG not in os.environ, "the log ends with the run"
    results.record_model(tmp_profile.results_dir, "quick", "m", {"family": "cnn", "notebook": "03_c"})
    results.record_notebook(tmp_profile.results_dir, "quick", "03_c", 1.0, 2, {}, [kept.name])
    [line] = staleness.unused_stored(tmp_profile)
    assert line.startswith("model store: 1 stored models (") and f"{left.name} (left)" in line
    results.record_notebook(tmp_profile.results_dir, "quick", "03_c", 1.0, 0, {}, [kept.name, left.name])
    assert staleness.unused_stored(tmp_profile) == []


def test_a_run_that_reproduces_its_previous_one_keeps_its_files(tmp_profile):
    entry = {"family": "cnn", "notebook": "03_c", "val_accuracy": 0.5}
    results.record_model(tmp_profile.results_dir, "quick", "m", entry)
    results.save_probs(tmp_profile.results_dir, "03_c", {"m": np.eye(10)})
    results.record_notebook(tmp_profile.results_dir, "quick", "03_c", 10.0, 1, {"notebook": "a"})
    before = {p.name: p.read_bytes() for p in tmp_profile.results_dir.iterdir()}
    staleness.start_afresh(tmp_profile, "03_c")  # a re-execution: the same entries, another time and commit
    results.record_model(tmp_profile.results_dir, "quick", "m", entry)
    results.save_probs(tmp_profile.results_dir, "03_c", {"m": np.eye(10)})
    results.record_notebook(tmp_profile.results_dir, "quick", "03_c", 2.0, 0, {"notebook": "a"})
    assert staleness.keep_previous_if_unchanged(tmp_profile, "03_c")
    assert {p.name: p.read_bytes() for p in tmp_profile.results_dir.iterdir()} == before
    staleness.start_afresh(tmp_profile, "03_c")  # new code (other inputs), the same numbers: only inputs change
    results.record_model(tmp_profile.results_dir, "quick", "m", entry)
    results.save_probs(tmp_profile.results_dir, "03_c", {"m": np.eye(10)})
    results.record_notebook(tmp_profile.results_dir, "quick", "03_c", 2.0, 0, {"notebook": "b"})
    assert staleness.keep_previous_if_unchanged(tmp_profile, "03_c")
    assert results.load_step(tmp_profile.results_dir, "03_c")["inputs"] == {"notebook": "b"}
    staleness.start_afresh(tmp_profile, "03_c")  # another number: the new files stand
    results.record_model(tmp_profile.results_dir, "quick", "m", {**entry, "val_accuracy": 0.6})
    results.save_probs(tmp_profile.results_dir, "03_c", {"m": np.eye(10)})
    results.record_notebook(tmp_profile.results_dir, "quick", "03_c", 2.0, 0, {"notebook": "b"})
    assert not staleness.keep_previous_if_unchanged(tmp_profile, "03_c")


def test_verify_runs_each_stored_network_against_its_stored_predictions(tmp_profile, synthetic_splits):
    import io

    from fmnist_utils.pipeline import verify

    trained = train.fit("m", _spec(), synthetic_splits, tmp_profile.artifacts_dir, verbose=0,
                        store_dir=tmp_profile.store_dir)
    evaluate_model(trained, synthetic_splits)
    entry = {"family": "mlp", "spec": _spec().to_dict(), "stored_as": trained.stored.name}
    summary = {"models": {"m": entry, "old": {"family": "mlp", "spec": _spec().to_dict()}}}
    x_test = synthetic_splits["test"][0]
    assert verify.store_problems(tmp_profile, summary, x_test) == ([], {"m": 0}, ["old"])
    kept = store.predictions(trained.stored, dict)
    buffer = io.BytesIO()  # another model's predictions, recorded as this one's (SHA-256 updated to match)
    np.savez_compressed(buffer, val=kept["val"], test=np.roll(kept["test"], 1, axis=1).astype(np.float16))
    (trained.stored / store.PREDICTIONS).write_bytes(buffer.getvalue())
    record = store.read_record(trained.stored)
    record["files"][store.PREDICTIONS] = store.sha256(trained.stored / store.PREDICTIONS)
    (trained.stored / store.RECORD).write_text(__import__("json").dumps(record))
    problems, _, _ = verify.store_problems(tmp_profile, summary, x_test)
    assert len(problems) == 1 and re.search(r"changes \d\d+ test predictions", problems[0])


def test_a_bfloat16_network_is_stored_at_half_size_and_computes_in_float32_without_bf16(tmp_path, synthetic_splits,
                                                                                        monkeypatch):
    from fmnist_utils.compute import precision

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda cpuinfo=None: True)
    spec = ModelSpec("vgg_bn", TrainConfig(epochs=1, batch_size=64, patience=None, precision="mixed_bfloat16"),
                     {"blocks": [[8], [16]], "dense_units": 32})
    trained = train.fit("m", spec, synthetic_splits, tmp_path / "cache", verbose=0, store_dir=tmp_path / "store")
    as_trained = evaluate_model(trained, synthetic_splits)[1]  # the in-memory model's test predictions
    stored, _, _ = store.load(trained.stored)
    x_test = train.preprocess("vgg_bn", synthetic_splits["test"][0])
    assert np.array_equal(results.as_stored(stored.predict(x_test, verbose=0)), results.as_stored(as_trained))
    cached = tmp_path / "cache" / "models" / f"m--{trained.key}" / "model.keras"  # with optimizer state, not deflated
    assert (trained.stored / store.MODEL).stat().st_size < 0.4 * cached.stat().st_size
    # Where bfloat16 would be emulated (or fail, under oneDNN without AVX512), the same weights compute in float32.
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda cpuinfo=None: False)
    monkeypatch.setattr(precision, "has_gpu", lambda: False)
    in_float32, _, _ = store.load(trained.stored)
    assert {layer.compute_dtype for layer in in_float32._flatten_layers()} == {"float32"}
    assert np.array_equal(in_float32.predict(x_test, verbose=0).argmax(1), as_trained.argmax(1))
