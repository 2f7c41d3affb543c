import numpy as np

from fmnist_utils import verify


def one_hot_probs(pred):
    return np.eye(10, dtype=np.float16)[pred]


def test_recorded_accuracies_recompute_from_probabilities():
    y = np.arange(100) % 10
    wrong = y.copy()
    wrong[:10] = (wrong[:10] + 1) % 10  # 90% correct
    summary = {"models": {"a": {"test_accuracy": 0.9}, "b": {"test_accuracy": 0.99}, "c": {"test_accuracy": 1.0},
                          "d": {"test_accuracy": 1.0}}}
    probs = {"a": one_hot_probs(wrong), "b": one_hot_probs(wrong), "d": one_hot_probs(y)[:50]}
    problems = verify.check(summary, probs, y)
    assert [p.split(":")[0] for p in problems] == ["b", "c", "d"]
    assert "0.9900" in problems[0] and "0.9000" in problems[0]


def test_empty_registry_is_a_problem():
    assert verify.check({"models": {}}, {}, np.zeros(10, int))
