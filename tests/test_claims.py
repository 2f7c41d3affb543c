"""The report's comparative words follow McNemar's test, in both directions and when it is silent."""

import numpy as np
import pytest

from fmnist_utils.present import claims


def _probs(pred):
    return np.eye(10, dtype=np.float16)[pred]


def _pair(n=2000, only_a=0, only_b=0):
    """Labels and two models' predictions with the given numbers of discordant images."""
    y = np.arange(n) % 10
    a, b = y.copy(), y.copy()
    wrong = (y + 1) % 10
    b[:only_a] = wrong[:only_a]  # a right, b wrong
    a[only_a:only_a + only_b] = wrong[only_a:only_a + only_b]  # b right, a wrong
    return y, {"a": _probs(a), "b": _probs(b)}


def test_a_clear_gain_is_called_significant():
    y, probs = _pair(only_a=80, only_b=30)
    c = claims.compare("a", "b", probs, y)
    assert (c.only_a_correct, c.only_b_correct) == (80, 30)
    assert c.significant and c.a_is_better and not c.a_is_worse
    assert c.verdict() == "more accurate than" and c.effect() == "helped"
    assert c.evidence().startswith("p < 0.001; 80 vs 30")


def test_a_clear_loss_is_called_significant_the_other_way():
    y, probs = _pair(only_a=30, only_b=80)
    c = claims.compare("a", "b", probs, y)
    assert c.a_is_worse and c.verdict() == "less accurate than" and c.effect() == "hurt"


def test_a_small_difference_is_not_a_gain():
    # 51 vs 41: the published ensemble-vs-member split, p = 0.35.
    y, probs = _pair(only_a=51, only_b=41)
    c = claims.compare("a", "b", probs, y)
    assert not c.significant and c.p_value == pytest.approx(0.35, abs=0.01)
    assert c.verdict() == "indistinguishable from" and c.effect() == "made no difference"
    assert c.accuracy_a > c.accuracy_b  # higher, but not better


def test_identical_predictions_give_p_one():
    y, probs = _pair()
    c = claims.compare("a", "b", probs, y)
    assert c.p_value == 1.0 and not c.significant


@pytest.mark.parametrize("p, text", [(0.0004, "p < 0.001"), (0.012, "p = 0.012"), (0.35, "p = 0.35")])
def test_p_values_are_printed_to_their_precision(p, text):
    assert claims.format_p(p) == text


def test_step_effect_words_come_from_the_test():
    assert claims.step_effect(0.004, 0.01) == "raised"
    assert claims.step_effect(-0.004, 0.01) == "lowered"
    assert claims.step_effect(0.004, 0.2) == claims.step_effect(0.0, 1.0) == "did not change"


def test_a_choice_tested_in_two_settings_is_one_finding_only_when_both_tests_agree():
    gain = claims.Comparison("bn", "dropout", 0.9, 0.8, 300, 100, 1e-6)
    tie = claims.Comparison("bn", "dropout", 0.9, 0.9, 100, 95, 0.8)
    loss = claims.Comparison("bn", "dropout", 0.8, 0.9, 100, 300, 1e-6)
    settings = ("with max pooling", "with average pooling")
    assert claims.choice_in_two_settings((gain, gain), "BN", "dropout", settings).startswith(
        "BN beat dropout with max pooling and with average pooling (each p < 0.001)")
    weaker = claims.Comparison("bn", "dropout", 0.9, 0.8, 300, 250, 0.03)
    assert claims.choice_in_two_settings((gain, weaker), "BN", "dropout", settings).endswith("(the larger p = 0.03)")
    assert claims.choice_in_two_settings((loss, loss), "BN", "dropout", settings).startswith("dropout beat BN")
    assert claims.choice_in_two_settings((gain, tie), "BN", "dropout", settings) == (
        "BN instead of dropout helped with max pooling (p < 0.001; 300 vs 100) and made no difference with average "
        "pooling (p = 0.80; 100 vs 95)")


def test_a_direction_over_seeds_is_claimed_only_when_every_seeds_test_finds_it():
    better = claims.Comparison("a", "b", 0.9, 0.8, 300, 100, 1e-6)
    worse = claims.Comparison("a", "b", 0.8, 0.9, 100, 300, 1e-6)
    tie = claims.Comparison("a", "b", 0.9, 0.9, 100, 95, 0.8)
    assert claims.Replicated((better, better, better)).effect() == "helped"
    assert claims.Replicated((better,) * 3).evidence() == "in each of three seeds"
    mixed = claims.Replicated((better, worse, tie))
    assert mixed.effect() == "made no consistent difference" and mixed.verdict() == "indistinguishable from"
    assert mixed.evidence() == "better in one seed, worse in one and no difference in one"
    assert claims.Replicated((worse, worse, tie)).verdict() == "indistinguishable from"
    assert claims.Replicated((tie,) * 3).evidence() == "no difference in any of three seeds"
    assert claims.Replicated((worse,) * 2).verdict() == "less accurate than"
