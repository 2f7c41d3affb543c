"""The report's ensemble facts and table for every shape a run of step 05 can produce: one member, a best member
trained by the step itself, no new member chosen, a tie on validation."""

import numpy as np
import pytest

from fmnist_utils.compute.ensemble import soft_vote
from fmnist_utils.present import facts, tables
from tests.conftest import noisy_probs

NEW, OLD = ["cnn_ensemble__m00", "cnn_ensemble__m01"], ["cnn_final", "cnn_final_seed2", "cnn_recipe"]


def _summary(members: list[str], val: dict[str, float], rng):
    """Synthetic results of steps 03 and 05: every candidate has an entry (05's own members too)."""
    y = np.arange(2000) % 10
    models = {m: {"family": "cnn", "notebook": "05_ensemble" if m in NEW else "03_cnn_stages", "val_accuracy": v,
                  "train_seconds": 60.0, "epochs": 3, "test_ece": 0.02} for m, v in val.items()}
    probs = {m: noisy_probs(y, 0.9, rng) for m in models}
    probs["cnn_ensemble"] = soft_vote([probs[m] for m in members])
    models["cnn_ensemble"] = {"family": "ensemble", "notebook": "05_ensemble", "members": members, "epochs": 3,
                              "val_accuracy": max(val[m] for m in members) + 0.001, "test_ece": 0.01,
                              "member_train_seconds": 60.0 * len(members)}
    single = max(members, key=lambda m: val[m])  # the first on a tie, as results.best_of chooses
    without = [m for m in members if m not in NEW] or OLD[:1]
    extra = {"mcnemar_ensemble_vs_single": {"single": single},
             "ensemble_without_new_members": {"members": without, "val_accuracy": 0.9},
             "ensemble_candidates": NEW + OLD}
    return {"models": models, "extra": extra, "best": {"ensemble": "cnn_ensemble"}}, probs, y


SHAPES = {
    "one member, trained by the step": (["cnn_ensemble__m00"], {}),
    "best member trained by the step": (["cnn_ensemble__m01", "cnn_final", "cnn_recipe"], {"cnn_ensemble__m01": 0.95}),
    "no new member chosen": (["cnn_final", "cnn_final_seed2"], {}),
    "a tie on validation": (["cnn_final", "cnn_final_seed2", "cnn_ensemble__m00"],
                            {"cnn_final": 0.93, "cnn_final_seed2": 0.93}),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_ensemble_facts_and_table_hold_for_every_shape(shape):
    members, better = SHAPES[shape]
    val = {m: 0.9 for m in NEW + OLD} | better
    summary, probs, y = _summary(members, val, np.random.default_rng(0))
    table, tests = tables.ensemble_rows(summary, probs, y)
    assert list(table["members"]) == [1, len(summary["extra"]["ensemble_without_new_members"]["members"]),
                                      len(members), len(members)]
    words = facts.ensemble_facts(summary, probs, y) | facts._ensemble(summary)
    assert words["ens_new_seeds"] == "2 new seeds" and words["ens_old_candidates"] == 3  # candidates, chosen or not
    assert set(tests) == {"single", "without", "hard"}
    if len(members) == 1:  # the vote of one member is that member: no discordant image
        assert tests["single"].only_a_correct == tests["single"].only_b_correct == 0
