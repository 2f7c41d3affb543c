import numpy as np
import pytest

from fmnist_utils import results


def _entry(**kw):
    return {"family": "cnn", "notebook": "03", "params": 10, "epochs": 1, "train_seconds": 1.0,
            "val_accuracy": 0.9, "test_accuracy": 0.91, "test_accuracy_ci95": [0.9, 0.92], "test_loss": 0.3, **kw}


def test_record_and_read_back(tmp_path):
    results.record_model(tmp_path, "quick", "m1", _entry())
    results.record_best(tmp_path, "quick", "cnn", "m1")
    results.record_notebook(tmp_path, "quick", "03_cnn_stages", 12.34, trained=3)
    summary = results.load_summary(tmp_path, "quick")
    assert summary["profile"] == "quick" and summary["best"] == {"cnn": "m1"}
    assert summary["models"]["m1"]["test_accuracy"] == 0.91
    assert summary["notebooks"]["03_cnn_stages"]["seconds"] == 12.3
    assert {"git_commit", "created", "hardware", "versions"} <= set(summary)


def test_profiles_never_mix(tmp_path):
    results.record_model(tmp_path, "quick", "m1", _entry())
    with pytest.raises(ValueError, match="profile"):
        results.record_model(tmp_path, "full", "m2", _entry())


def test_bad_family_and_unknown_best_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="family"):
        results.record_model(tmp_path, "quick", "m1", _entry(family="svm"))
    with pytest.raises(KeyError):
        results.record_best(tmp_path, "quick", "cnn", "missing")


def test_missing_summary_explains_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="make notebooks"):
        results.load_summary(tmp_path)


def test_probs_are_float16_and_merged(tmp_path):
    p = np.random.default_rng(0).random((5, 10)).astype(np.float32)
    results.save_probs(tmp_path, {"a": p})
    results.save_probs(tmp_path, {"b": p / 2})
    stored = results.load_probs(tmp_path)
    assert sorted(stored) == ["a", "b"] and stored["a"].dtype == np.float16
    np.testing.assert_allclose(stored["a"], p, atol=1e-3)


def test_warm_rerun_keeps_the_training_run_time(tmp_path):
    results.record_notebook(tmp_path, "quick", "02", 900.0, trained=11)
    results.record_notebook(tmp_path, "quick", "02", 40.0, trained=0)
    entry = results.load_summary(tmp_path, "quick")["notebooks"]["02"]
    assert entry["seconds"] == 40.0 and entry["models_trained"] == 0
    assert entry["training_run"] == {"seconds": 900.0, "models_trained": 11}


def test_promotion_uses_validation_accuracy(tmp_path):
    results.record_model(tmp_path, "quick", "old", _entry(val_accuracy=0.90, test_accuracy=0.99))
    results.record_best(tmp_path, "quick", "cnn", "old")
    results.record_model(tmp_path, "quick", "worse", _entry(val_accuracy=0.89, test_accuracy=1.0))
    assert not results.promote_if_better(tmp_path, "quick", "cnn", "worse")
    results.record_model(tmp_path, "quick", "better", _entry(val_accuracy=0.91, test_accuracy=0.5))
    assert results.promote_if_better(tmp_path, "quick", "cnn", "better")
    assert results.load_summary(tmp_path, "quick")["best"]["cnn"] == "better"


def test_git_commit_is_dirty_for_code_changes_but_not_for_the_runs_own_outputs(tmp_path, monkeypatch):
    import subprocess

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "figures").mkdir()
    (tmp_path / "code.py").write_text("a = 1\n")
    (tmp_path / "figures" / "plot.png").write_bytes(b"old")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "init")
    monkeypatch.setattr(results, "ROOT", tmp_path)
    monkeypatch.setattr(results, "published_outputs", lambda: [tmp_path / "figures"])
    (tmp_path / "figures" / "plot.png").write_bytes(b"new")
    clean = results.git_commit()
    assert len(clean) >= 7 and not clean.endswith("+dirty")
    (tmp_path / "code.py").write_text("a = 2\n")
    assert results.git_commit() == clean + "+dirty"
