"""Comparative words from tests: every "better", "helps" or "not significantly different" in the
report comes from McNemar's exact test on the two models' test-set predictions, never from the
raw difference of two accuracies (run-to-run spread here is about 0.15 points)."""

from __future__ import annotations

import dataclasses

import numpy as np

from .evaluate import ECE_BINS, accuracy, mcnemar

ALPHA = 0.05  # significance level of every comparison in the report


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Model ``a`` against model ``b`` on the same test images."""

    a: str
    b: str
    accuracy_a: float
    accuracy_b: float
    only_a_correct: int  # images only ``a`` classifies correctly
    only_b_correct: int
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    @property
    def a_is_better(self) -> bool:
        """``a`` is significantly more accurate than ``b``."""
        return self.significant and self.only_a_correct > self.only_b_correct

    @property
    def a_is_worse(self) -> bool:
        return self.significant and self.only_a_correct < self.only_b_correct

    @property
    def difference_points(self) -> float:
        return 100 * (self.accuracy_a - self.accuracy_b)

    def verdict(self, better: str = "significantly more accurate than", worse: str = "significantly less accurate than",
                same: str = "not significantly different from") -> str:
        """The relation of ``a`` to ``b`` in words chosen by the test."""
        return better if self.a_is_better else worse if self.a_is_worse else same

    def effect(self) -> str:
        """What changing ``b`` into ``a`` did: 'helped', 'hurt' or 'made no significant difference'."""
        return self.verdict("helped", "hurt", "made no significant difference")

    def evidence(self) -> str:
        """The test behind the words: 'McNemar p = 0.012; 130 vs 95 images'."""
        return f"McNemar {format_p(self.p_value)}; {self.only_a_correct} vs {self.only_b_correct} images"


def step_effect(change: float, p_value: float) -> str:
    """What one ablation step did to accuracy, in words chosen by its test ("raised", "lowered" or
    "did not significantly change"); ``change`` is the step's accuracy minus the previous step's."""
    if p_value < ALPHA and change:
        return "raised" if change > 0 else "lowered"
    return "did not significantly change"


def format_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}" if p < 0.1 else f"p = {p:.2f}"


def compare(a: str, b: str, probs: dict[str, np.ndarray], y_true: np.ndarray) -> Comparison:
    """McNemar's exact test of ``a`` against ``b`` from their stored test probabilities."""
    pred_a, pred_b = np.asarray(probs[a]).argmax(1), np.asarray(probs[b]).argmax(1)
    test = mcnemar(y_true, pred_a, pred_b)
    return Comparison(a, b, accuracy(y_true, pred_a), accuracy(y_true, pred_b), test["only_a_correct"],
                      test["only_b_correct"], test["p_value"])


def ece_difference(y_true: np.ndarray, probs_a: np.ndarray, probs_b: np.ndarray, n_boot: int = 1000,
                   n_bins: int = ECE_BINS, seed: int = 0) -> dict:
    """ECE(a) − ECE(b) with a paired percentile-bootstrap 95% CI over test images: ``a`` is better
    calibrated only when the whole interval lies below zero."""
    conf_a, ok_a = _confidence(probs_a, y_true)
    conf_b, ok_b = _confidence(probs_b, y_true)
    diff = _ece(conf_a, ok_a, n_bins) - _ece(conf_b, ok_b, n_bins)
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, len(y_true), len(y_true))
        boots[i] = _ece(conf_a[idx], ok_a[idx], n_bins) - _ece(conf_b[idx], ok_b[idx], n_bins)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    verdict = "better" if hi < 0 else "worse" if lo > 0 else "not significantly different"
    return {"difference": float(diff), "ci95": [float(lo), float(hi)], "verdict": verdict}


def _confidence(probs, y_true):
    probs = np.asarray(probs, dtype=np.float64)
    return probs.max(1), probs.argmax(1) == y_true


def _ece(conf, correct, n_bins):
    """Expected calibration error over equal-width bins (as :func:`evaluate.expected_calibration_error`)."""
    edges = np.linspace(0, 1, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    gap = np.abs(np.bincount(which, correct, n_bins) - np.bincount(which, conf, n_bins))
    return float(gap.sum() / len(conf)) if count.sum() else 0.0
