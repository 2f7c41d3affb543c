import numpy as np

from fmnist_utils import results
from fmnist_utils.compute import experiment
from fmnist_utils.pipeline import verify


def one_hot_probs(pred):
    return np.eye(10, dtype=np.float16)[pred]


def test_recorded_accuracies_recompute_from_probabilities():
    y = np.arange(100) % 10
    wrong = y.copy()
    wrong[:10] = (wrong[:10] + 1) % 10  # 90% correct
    summary = {"models": {"a": {"test_accuracy": 0.9, "test_correct": 90},
                          "b": {"test_accuracy": 0.99, "test_correct": 99},
                          "c": {"test_accuracy": 1.0, "test_correct": 100},
                          "d": {"test_accuracy": 1.0, "test_correct": 100}}}
    probs = {"a": one_hot_probs(wrong), "b": one_hot_probs(wrong), "d": one_hot_probs(y)[:50]}
    problems = verify.check(summary, probs, y)
    assert [p.split(":")[0] for p in problems] == ["b", "c", "d"]
    assert "99 of 100" in problems[0] and "give 90" in problems[0]


def test_a_single_image_of_disagreement_is_caught():
    y = np.arange(10_000) % 10
    pred = y.copy()
    pred[:500] = (pred[:500] + 1) % 10
    summary = {"models": {"m": {"test_accuracy": 9501 / 10_000, "test_correct": 9501}}}
    assert verify.check(summary, {"m": one_hot_probs(pred)}, y)
    summary["models"]["m"].update(test_accuracy=0.95, test_correct=9500)
    assert verify.check(summary, {"m": one_hot_probs(pred)}, y) == []


def test_recorded_entry_matches_its_float16_probabilities_exactly():
    # Near-ties that float16 rounding flips: the entry must describe the stored (float16) array.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 2000)
    probs = rng.random((2000, 10)).astype(np.float32) * 1e-3
    probs[:, 0] += 0.5
    probs[:, 1] = probs[:, 0] + rng.normal(0, 1e-4, 2000).astype(np.float32)  # ties after rounding
    assert (results.as_stored(probs).argmax(1) != probs.argmax(1)).any()
    entry = experiment.registry_entry("cnn", "nb", y, probs, y, probs, params=1, epochs=1, train_seconds=1,
                                      n_boot=10)
    assert verify.check({"models": {"m": entry}}, {"m": results.as_stored(probs)}, y) == []


def test_empty_registry_is_a_problem():
    assert verify.check({"models": {}}, {}, np.zeros(10, int))
