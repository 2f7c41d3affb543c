import numpy as np
import pytest

from fmnist_utils import provenance, results


def _entry(**kw):
    return {"family": "cnn", "notebook": "03_cnn", "params": 10, "epochs": 1, "train_seconds": 1.0,
            "val_accuracy": 0.9, "test_accuracy": 0.91, "test_accuracy_ci95": [0.9, 0.92], "test_loss": 0.3, **kw}


def test_record_and_read_back(tmp_path):
    results.record_model(tmp_path, "quick", "m1", _entry(), history={"epoch": [1], "val_accuracy": [0.9]})
    results.record_notebook(tmp_path, "quick", "03_cnn", 12.34, trained=3, inputs={"notebook": "abc"})
    summary = results.load_summary(tmp_path, "quick")
    assert summary["profile"] == "quick" and summary["best"] == {"cnn": "m1"}
    assert summary["models"]["m1"]["test_accuracy"] == 0.91 and summary["histories"]["m1"]["epoch"] == [1]
    assert summary["notebooks"]["03_cnn"]["seconds"] == 12.3
    assert results.load_step(tmp_path, "03_cnn")["inputs"] == {"notebook": "abc"}
    assert {"git_commit", "created", "hardware", "versions"} <= set(summary)


def test_each_step_writes_only_its_own_file(tmp_path):
    results.record_model(tmp_path, "quick", "a", _entry(notebook="02_x", family="mlp"))
    before = results.step_path(tmp_path, "02_x").read_bytes()
    results.record_model(tmp_path, "quick", "b", _entry(notebook="03_y"))
    results.record_extra(tmp_path, "quick", "03_y", "note", 1)
    results.save_probs(tmp_path, "03_y", {"b": np.zeros((2, 10))})
    assert results.step_path(tmp_path, "02_x").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["02_x.json", "03_y.json", "03_y_probs.npz"]
    assert set(results.load_summary(tmp_path, "quick")["models"]) == {"a", "b"}


def test_a_model_recorded_by_two_steps_is_an_error(tmp_path):
    results.record_model(tmp_path, "quick", "a", _entry(notebook="02_x"))
    results.record_model(tmp_path, "quick", "a", _entry(notebook="03_y"))
    with pytest.raises(ValueError, match="recorded by 03_y"):
        results.load_summary(tmp_path, "quick")


def test_profiles_never_mix(tmp_path):
    results.record_model(tmp_path, "quick", "m1", _entry())
    with pytest.raises(ValueError, match="profile"):
        results.record_model(tmp_path, "full", "m2", _entry())


def test_bad_family_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="family"):
        results.record_model(tmp_path, "quick", "m1", _entry(family="svm"))


def test_missing_results_explain_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="make notebooks"):
        results.load_summary(tmp_path)


def test_probs_are_float16_and_merged_across_steps(tmp_path):
    p = np.random.default_rng(0).random((5, 10)).astype(np.float32)
    results.save_probs(tmp_path, "02_x", {"a": p})
    results.save_probs(tmp_path, "02_x", {"b": p / 2})
    results.save_probs(tmp_path, "03_y", {"c": p})
    stored = results.load_probs(tmp_path)
    assert sorted(stored) == ["a", "b", "c"] and stored["a"].dtype == np.float16
    np.testing.assert_allclose(stored["a"], p, atol=1e-3)


def test_warm_rerun_keeps_the_training_run_time(tmp_path):
    results.record_notebook(tmp_path, "quick", "02_m", 900.0, trained=11)
    results.record_notebook(tmp_path, "quick", "02_m", 40.0, trained=0)
    entry = results.load_summary(tmp_path, "quick")["notebooks"]["02_m"]
    assert entry["seconds"] == 40.0 and entry["models_trained"] == 0
    assert entry["training_run"] == {"seconds": 900.0, "models_trained": 11, "cpu": provenance.hardware()["cpu"]}


def test_the_best_model_is_chosen_on_validation_accuracy_in_one_place(tmp_path):
    results.record_model(tmp_path, "quick", "old", _entry(val_accuracy=0.90, test_accuracy=0.99))
    results.record_model(tmp_path, "quick", "worse", _entry(notebook="04_t", val_accuracy=0.89, test_accuracy=1.0))
    assert results.load_summary(tmp_path, "quick")["best"]["cnn"] == "old"
    results.record_model(tmp_path, "quick", "better", _entry(notebook="04_t", val_accuracy=0.91, test_accuracy=0.5))
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
    monkeypatch.setattr(provenance, "ROOT", tmp_path)
    monkeypatch.setattr(provenance, "published_outputs", lambda: [tmp_path / "figures"])
    (tmp_path / "figures" / "plot.png").write_bytes(b"new")
    clean = provenance.git_commit()
    assert len(clean) >= 7 and not clean.endswith("+dirty")
    (tmp_path / "code.py").write_text("a = 2\n")
    assert provenance.git_commit() == clean + "+dirty"


def test_the_accelerator_is_what_the_driver_lists(tmp_path):
    assert provenance.accelerator(tmp_path / "none") == "none (CPU only)"
    (tmp_path / "0000:01:00.0").mkdir()
    (tmp_path / "0000:01:00.0" / "information").write_text("Model: \t NVIDIA H100 80GB HBM3\nIRQ: 42\n")
    assert provenance.accelerator(tmp_path) == "NVIDIA H100 80GB HBM3"
