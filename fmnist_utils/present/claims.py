"""Comparative words from tests: every "better", "helps" or "not significantly different" in the
report comes from McNemar's exact test on the two models' test-set predictions, never from the
raw difference of two accuracies (run-to-run spread here is about 0.15 points)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..compute.evaluate import accuracy, mcnemar
from .words import in_words, listing

ALPHA = 0.05  # significance level of every comparison in the report


class _Verdict:
    """Words for a test's outcome; the class gives ``a_is_better``, ``a_is_worse`` and ``NO_EFFECT``."""

    def verdict(self, better: str = "more accurate than", worse: str = "less accurate than",
                same: str = "indistinguishable from") -> str:
        """The relation of ``a`` to ``b`` in words chosen by the test (the report says once that "more" and "less
        accurate" mean significantly so)."""
        return better if self.a_is_better else worse if self.a_is_worse else same

    def effect(self) -> str:
        """What changing ``b`` into ``a`` did: 'helped', 'hurt' or no difference."""
        return self.verdict("helped", "hurt", self.NO_EFFECT)


@dataclasses.dataclass(frozen=True)
class Comparison(_Verdict):
    """Model ``a`` against model ``b`` on the same test images."""

    NO_EFFECT = "made no difference"

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
        return self.significant and self.only_a_correct > self.only_b_correct

    @property
    def a_is_worse(self) -> bool:
        return self.significant and self.only_a_correct < self.only_b_correct

    def evidence(self) -> str:
        """The test behind the words: 'p = 0.012; 130 vs 95' (the images only ``a``, only ``b`` gets right)."""
        return f"{format_p(self.p_value)}; {self.only_a_correct} vs {self.only_b_correct}"


@dataclasses.dataclass(frozen=True)
class Replicated(_Verdict):
    """One comparison repeated with several seeds (seed k of ``a`` against seed k of ``b``): a direction is claimed
    only when every seed's test finds it."""

    NO_EFFECT = "made no consistent difference"

    runs: tuple[Comparison, ...]

    @property
    def a_is_better(self) -> bool:
        return all(c.a_is_better for c in self.runs)

    @property
    def a_is_worse(self) -> bool:
        return all(c.a_is_worse for c in self.runs)

    def evidence(self) -> str:
        """The seeds' tests in words: 'in each of three seeds', 'better in one seed, worse in one and no difference in
        one' or 'no difference in any of three seeds'."""
        if self.a_is_better or self.a_is_worse:
            return f"in each of {in_words(len(self.runs))} seeds"
        counts = {"better": sum(c.a_is_better for c in self.runs), "worse": sum(c.a_is_worse for c in self.runs)}
        counts["no difference"] = len(self.runs) - counts["better"] - counts["worse"]
        if counts["no difference"] == len(self.runs):
            return f"no difference in any of {in_words(len(self.runs))} seeds"
        said = [(word, n) for word, n in counts.items() if n]
        return listing([f"{word} in {in_words(n)}" + (" seed" if n == 1 else " seeds") * (k == 0)
                        for k, (word, n) in enumerate(said)])


def choice_in_two_settings(tests: tuple, choice: str, default: str, settings: tuple[str, str]) -> str:
    """What ``choice`` instead of ``default`` did in two settings, tested in each (``tests``: choice vs default):
    one finding when both tests agree ('batch normalisation beat dropout with max and with average pooling'),
    otherwise each setting's effect in turn."""
    first, second = tests
    worst = max(first.p_value, second.p_value)
    evidence = "each p < 0.001" if worst < 0.001 else f"the larger p = {worst:.2g}"
    if first.a_is_better and second.a_is_better:
        return f"{choice} beat {default} {settings[0]} and {settings[1]} ({evidence})"
    if first.a_is_worse and second.a_is_worse:
        return f"{default} beat {choice} {settings[0]} and {settings[1]} ({evidence})"
    return (f"{choice} instead of {default} {first.effect()} {settings[0]} ({first.evidence()}) and "
            f"{second.effect()} {settings[1]} ({second.evidence()})")


def step_effect(change: float, p_value: float) -> str:
    """What one ablation step did to accuracy, in words chosen by its test ("raised", "lowered" or
    "did not change"); ``change`` is the step's accuracy minus the previous step's."""
    if p_value < ALPHA and change:
        return "raised" if change > 0 else "lowered"
    return "did not change"


def format_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}" if p < 0.1 else f"p = {p:.2f}"


def compare(a: str, b: str, probs: dict[str, np.ndarray], y_true: np.ndarray) -> Comparison:
    pred_a, pred_b = np.asarray(probs[a]).argmax(1), np.asarray(probs[b]).argmax(1)
    test = mcnemar(y_true, pred_a, pred_b)
    return Comparison(a, b, accuracy(y_true, pred_a), accuracy(y_true, pred_b), test["only_a_correct"],
                      test["only_b_correct"], test["p_value"])
