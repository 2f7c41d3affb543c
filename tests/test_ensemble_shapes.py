"""The report's ensemble facts and table for every shape a run of step 05 can produce: one member, the ensemble of all
members or the subset chosen on validation published, a best member trained by the step itself, a tie on validation."""

import numpy as np
import pytest

from fmnist_utils.compute.ensemble import soft_vote
from fmnist_utils.present import facts, tables
from tests.conftest import noisy_probs

HAND = {"arch": "vgg_bn", "hparams": {}, "seed": 1, "train": {"epochs": 30}}
TUNED = {"arch": "vgg_bn", "hparams": {"width": 24}, "seed": 1, "train": {"epochs": 30}}
SPECS = {"cnn_final": HAND, "cnn_final_seed2": HAND, "cnn_ensemble__hand02": HAND, "cnn_tuned": TUNED,
         "cnn_ensemble__tuned01": TUNED, "cnn_recipe": {**HAND, "train": {"epochs": 18}}}
NEW = ["cnn_ensemble__hand02", "cnn_ensemble__tuned01"]


def _summary(members: list[str], chosen: list[str], published: str, val: dict[str, float], rng):
    """Synthetic results of steps 03 to 05: every candidate has an entry (05's own members too), and the student."""
    y = np.arange(2000) % 10
    models = {m: {"family": "cnn", "notebook": "05_ensemble" if m in NEW else "03_cnn_stages", "val_accuracy": v,
                  "train_seconds": 60.0, "epochs": 3, "test_ece": 0.02, "spec": SPECS[m], "test_accuracy": 0.9,
                  "test_accuracy_ci95": [0.89, 0.91]} for m, v in val.items()}
    models["cnn_student"] = {**models["cnn_final"], "notebook": "05_ensemble",
                             "spec": {**HAND, "train": {"epochs": 30, "distill": 0.5, "teachers": ["cnn_final"]}}}
    probs = {m: noisy_probs(y, 0.9, rng) for m in models}
    for name, ids in (("cnn_ensemble", members), ("cnn_ensemble_chosen", chosen)):
        probs[name] = soft_vote([probs[m] for m in ids])
        models[name] = {"family": "ensemble", "notebook": "05_ensemble", "members": ids, "epochs": 3,
                        "val_accuracy": max(val[m] for m in ids) + 0.001, "test_ece": 0.01,
                        "member_train_seconds": 60.0 * len(ids)}
    by_val = max(members, key=lambda m: val[m])  # the first on a tie, as results.best_of chooses
    by_test = max(members, key=lambda m: np.mean(probs[m].argmax(1) == y))
    extra = {"mcnemar_ensemble_vs_single": {"single": by_val},
             "mcnemar_ensemble_vs_best_member_on_test": {"single": by_test},
             "mcnemar_student_vs_same_design": {"rival": "cnn_final"},
             "ensemble_candidates": members + [m for m in SPECS if m not in members]}
    return {"models": models, "extra": extra, "best": {"ensemble": published}}, probs, y


SHAPES = {
    "one member, trained by the step": (["cnn_ensemble__hand02"], ["cnn_ensemble__hand02"], "cnn_ensemble", {}),
    "all members published": (["cnn_final", "cnn_ensemble__hand02", "cnn_tuned", "cnn_ensemble__tuned01"],
                              ["cnn_final", "cnn_recipe"], "cnn_ensemble", {"cnn_ensemble__hand02": 0.95}),
    "the chosen subset published": (["cnn_final", "cnn_final_seed2", "cnn_tuned"], ["cnn_tuned", "cnn_recipe"],
                                    "cnn_ensemble_chosen", {}),
    "a tie on validation": (["cnn_final", "cnn_final_seed2", "cnn_ensemble__hand02"], ["cnn_final"],
                            "cnn_ensemble", {"cnn_final": 0.93, "cnn_final_seed2": 0.93}),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_ensemble_facts_and_table_hold_for_every_shape(shape):
    members, chosen, published, better = SHAPES[shape]
    val = {m: 0.9 for m in SPECS} | better
    summary, probs, y = _summary(members, chosen, published, val, np.random.default_rng(0))
    table, tests = tables.ensemble_rows(summary, probs, y)
    ensemble = summary["models"][published]["members"]
    other = chosen if published == "cnn_ensemble" else members
    by_val, by_test = (summary["extra"][f"mcnemar_ensemble_vs_{k}"]["single"]
                       for k in ("single", "best_member_on_test"))
    singles = [1] if by_val == by_test else [1, 1]  # one row when one network is both
    assert list(table["members"]) == singles + [1, len(other), len(ensemble), len(ensemble)]
    assert set(tests) == {"by_val", "by_test", "student", "other", "hard"}
    words = facts.ensemble_facts(summary, probs, y) | facts._ensemble(summary)
    assert words["ens_all_size"] == len(members) and words["ens_chosen_size"] == len(chosen)
    assert words["ens_other_candidates"] == len(SPECS) - len(members)
    assert words["ens_published"] == ("the vote of all the members to theirs" if published == "cnn_ensemble"
                                      else "their vote to that of all the members")
    if len(ensemble) == 1:  # the vote of one member is that member: no discordant image
        assert tests["by_val"].only_a_correct == tests["by_val"].only_b_correct == 0


def test_an_ensemble_counts_the_copies_of_each_design_whoever_trained_them():
    summary, *_ = _summary(list(SPECS)[:5], ["cnn_final"], "cnn_ensemble", dict.fromkeys(SPECS, 0.9),
                           np.random.default_rng(0))
    assert facts.design_copies(summary, list(SPECS)[:5]) == "3 copies of CNN-5 and 2 of Tuned CNN"
    assert facts.design_copies(summary, ["cnn_final"]) == "1 copy of CNN-5, 30 epochs (ours)"


def test_residual_candidates_are_counted_apart_and_named_with_how_many_the_selection_kept():
    summary, *_ = _summary(["cnn_final", "cnn_tuned"], ["cnn_final"], "cnn_ensemble", dict.fromkeys(SPECS, 0.9),
                           np.random.default_rng(0))
    summary["models"]["cnn_ensemble_chosen"]["members"] = ["cnn_final", "cnn_ensemble__residual01"]
    residual = {"arch": "residual_bn", "hparams": {}, "seed": 1, "train": {"epochs": 30}}
    for name, acc in (("cnn_ensemble__residual00", 0.941), ("cnn_ensemble__residual01", 0.9433)):
        summary["models"][name] = {**summary["models"]["cnn_final"], "spec": residual, "test_accuracy": acc}
        summary["extra"]["ensemble_candidates"].append(name)
    words = facts._ensemble(summary)
    assert words["ens_other_candidates"] == len(SPECS) - 2
    assert "two copies of a residual network" in words["ens_residual"] and "94.10%–94.33% alone" in words[
        "ens_residual"]
    assert words["ens_chosen_residual"] == ", one of them ResNet-BN"
