"""The experiment runner: train → evaluate → record, and the ensemble's record keeping."""

import numpy as np
import pytest

from fmnist_utils import results
from fmnist_utils.compute import experiment
from fmnist_utils.compute.spec import ModelSpec, TrainConfig
from fmnist_utils.pipeline import verify

CFG = TrainConfig(epochs=1, batch_size=64, patience=None)


def test_study_records_what_it_trained(tmp_profile, synthetic_splits):
    study = experiment.Study(tmp_profile, synthetic_splits, "02_test")
    spec = ModelSpec("mlp", CFG, {"hidden_units": [16]}, seed=3)
    exp = study.run("m", spec, "mlp", verbose=0)
    summary = results.load_summary(tmp_profile.results_dir, "quick")
    entry = summary["models"]["m"]
    assert ModelSpec.from_dict(entry["spec"]) == spec and entry["notebook"] == "02_test"
    assert entry["val_accuracy"] == exp.entry["val_accuracy"] and entry["epochs"] == 1
    assert summary["histories"]["m"]["val_accuracy"] == list(exp.train.history["val_accuracy"])
    probs = results.load_probs(tmp_profile.results_dir)
    assert verify.check(summary, probs, synthetic_splits["test"][1]) == []
    again = study.run("m", spec, "mlp", verbose=0)
    assert again.train.from_cache and again.entry["test_correct"] == entry["test_correct"]


def test_unrecorded_runs_leave_the_registry_alone(tmp_profile, synthetic_splits):
    study = experiment.Study(tmp_profile, synthetic_splits, "05_test")
    study.run("m", ModelSpec("mlp", CFG, {"hidden_units": [8]}), "mlp", record=False, verbose=0)
    assert not tmp_profile.results_dir.exists() or not any(tmp_profile.results_dir.iterdir())


def test_record_ensemble_soft_votes_and_records_members(tmp_profile, synthetic_splits):
    study = experiment.Study(tmp_profile, synthetic_splits, "05_test")
    earlier = study.run("earlier", ModelSpec("mlp", CFG, {"hidden_units": [16]}), "mlp", verbose=0)
    members = [study.run(f"e__copy{i}", earlier.train.spec.replace(seed=10 + i), "mlp", verbose=0) for i in range(2)]
    entry = study.record_ensemble("e", [earlier, *members], members)
    np.testing.assert_allclose(results.load_probs(tmp_profile.results_dir)["e"],
                               np.mean([m.test_probs for m in [earlier, *members]], axis=0), rtol=1e-3)
    summary = results.load_summary(tmp_profile.results_dir, "quick")
    assert summary["best"]["ensemble"] == "e" and entry["members"] == ["earlier", "e__copy0", "e__copy1"]
    assert entry["train_seconds"] == round(sum(m.train.train_seconds for m in [earlier, *members]), 1)
    assert 0 <= entry["hard_vote_test_accuracy"] <= 1
    # Each model's probabilities are stored once, by the run that recorded it.
    assert set(results.load_probs(tmp_profile.results_dir)) == {"earlier", "e", "e__copy0", "e__copy1"}
    assert verify.check(summary, results.load_probs(tmp_profile.results_dir), synthetic_splits["test"][1]) == []


def test_best_by_validation_uses_the_one_selection_rule():
    def exp(name, val, test):
        return experiment.Experiment(name, None, {"val_accuracy": val, "test_accuracy": test}, None, None)

    exps = [exp("a", 0.90, 0.99), exp("b", 0.92, 0.50), exp("c", 0.92, 0.60)]
    assert experiment.best_by_validation(exps).name == "b", "highest validation, first on a tie, test ignored"


def test_ablation_reports_each_step_against_the_one_before():
    y_val = np.array([0, 1, 2, 3] * 5)
    onehot = np.eye(4)

    def step(name, wrong, seconds):
        pred = y_val.copy()
        pred[:wrong] = (pred[:wrong] + 1) % 4
        return experiment.Experiment(name, None, {"val_accuracy": float(np.mean(pred == y_val)), "epochs": 2,
                                                  "train_seconds": seconds}, onehot[pred], None)

    table = experiment.ablation([("start", step("a", 6, 10.0)), ("more", step("b", 1, 30.0))], y_val)
    assert list(table.index) == ["start", "more"] and list(table["model"]) == ["a", "b"]
    assert np.isnan(table.loc["start", "val_change"]) and np.isnan(table.loc["start", "val_p"])
    assert table.loc["more", "val_change"] == 0.25  # 19/20 - 14/20
    assert table.loc["more", "val_p"] == 0.0625  # 5 discordant images, all won by b: 2 * 0.5**5
    assert table["seconds_per_epoch"].tolist() == [5.0, 15.0]
    assert table["compared_with"].tolist() == ["", "a"]


def test_an_ablation_step_can_build_on_an_earlier_step():
    y_val = np.array([0, 1, 2, 3] * 5)
    onehot = np.eye(4)

    def step(name, wrong):
        pred = y_val.copy()
        pred[:wrong] = (pred[:wrong] + 1) % 4
        return experiment.Experiment(name, None, {"val_accuracy": float(np.mean(pred == y_val)), "epochs": 1,
                                                  "train_seconds": 1.0}, onehot[pred], None)

    a, b, c = step("a", 2), step("b", 6), step("c", 0)
    table = experiment.ablation([("start", a), ("worse", b), ("longer", c, a)], y_val)
    assert table["compared_with"].tolist() == ["", "a", "a"]
    assert table.loc["longer", "val_change"] == pytest.approx(0.1)  # 20/20 - 18/20, against a, not b
    assert table.loc["longer", "val_p"] == 0.5  # 2 discordant images, both won by c


def test_ablation_follows_the_validation_shirts_of_each_step():
    shirt = experiment.SHIRT
    y_val = np.array([shirt] * 4 + [0] * 4)
    onehot = np.eye(10)

    def step(name, wrong_shirts):
        pred = y_val.copy()
        pred[:wrong_shirts] = 0  # shirts taken for T-shirts
        return experiment.Experiment(name, None, {"val_accuracy": float(np.mean(pred == y_val)), "epochs": 1,
                                                  "train_seconds": 1.0}, onehot[pred], None)

    table = experiment.ablation([("start", step("a", 3)), ("more", step("b", 1))], y_val)
    assert table["shirt_images"].tolist() == [4, 4]
    assert table["shirt_recall"].tolist() == [0.25, 0.75]
    assert np.isnan(table.loc["start", "shirt_change"]) and table.loc["more", "shirt_change"] == 0.5
    assert table.loc["more", "shirt_p"] == 0.5  # 2 discordant shirts, both won by b
