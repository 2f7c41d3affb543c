"""Headless execution: atomic targets, failures reported by cell with the executed copy kept, logs."""

import nbformat
import numpy as np
import pytest

from fmnist_utils import provenance, results
from fmnist_utils.pipeline import cli, execution, staleness


def _notebook(path, *cells):
    """A parameterised notebook; a cell given as ("md", text) is markdown, any other string code."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "quick"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_markdown_cell(c[1]) if isinstance(c, tuple)
                           else nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_execute_injects_the_profile_and_writes_a_log(tmp_path, tmp_profile):
    source = _notebook(tmp_path / "ok.ipynb", "print('hello from', PROFILE)")
    target = tmp_path / "out" / "ok.ipynb"
    execution.execute(source, target, tmp_profile)
    outputs = nbformat.read(target, as_version=4).cells[-1].outputs
    assert outputs[0]["text"].strip() == "hello from quick"
    assert "hello from quick" in (tmp_profile.logs_dir / "ok.log").read_text()


def test_failed_notebook_is_kept_and_reported_by_cell_and_heading(tmp_path, tmp_profile):
    source = _notebook(tmp_path / "bad.ipynb", ("md", "# Title"), "x = 1", ("md", "## Train the model"),
                       "def train():\n    raise RuntimeError('boom')\ntrain()", "y = 2")
    target = tmp_path / "out" / "bad.ipynb"
    with pytest.raises(execution.NotebookFailed) as failure:
        execution.execute(source, target, tmp_profile)
    message = str(failure.value)
    # Cell 5 of 6 in the source notebook (the injected-parameters cell is not counted).
    assert 'bad.ipynb failed in cell 5 of 6 (under "Train the model"): RuntimeError: boom' in message
    assert "in train()" in message or "train()" in message.split("\n", 1)[1]  # the traceback
    assert "\x1b[" not in message
    kept = tmp_profile.failed_dir / "bad.ipynb"
    assert kept.is_file() and str(kept.relative_to(tmp_path)) in message.replace(str(tmp_path) + "/", "")
    errors = [o for c in nbformat.read(kept, as_version=4).cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and errors[0]["evalue"] == "boom"
    assert "boom" in (tmp_profile.logs_dir / "bad.log").read_text()
    assert not target.exists() and list((tmp_path / "out").iterdir()) == []


def test_unknown_notebook_lists_the_valid_names(capsys):
    with pytest.raises(SystemExit):
        cli.main(["notebook", "99_nope", "--profile", "quick"])
    assert "invalid choice: '99_nope' (choose from '01_eda', '02_mlp_baselines'" in capsys.readouterr().err


def test_unknown_profile_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["notebook", "01_eda", "--profile", "bogus"])
    assert exit_.value.code == 2 and "invalid choice: 'bogus'" in capsys.readouterr().err


def test_staleness_is_decided_by_content_not_file_times(tmp_path, tmp_profile, monkeypatch):
    import json
    import shutil

    from fmnist_utils.config import NOTEBOOKS_DIR, ROOT

    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "fmnist_utils", repo / "fmnist_utils", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "notebooks").mkdir()
    for name in ("03_cnn_stages", "05_ensemble"):
        shutil.copy(NOTEBOOKS_DIR / f"{name}.ipynb", repo / "notebooks")
    monkeypatch.setattr(staleness, "ROOT", repo)
    monkeypatch.setattr(staleness, "PACKAGE", repo / "fmnist_utils")
    monkeypatch.setattr(staleness, "NOTEBOOKS_DIR", repo / "notebooks")
    step, rd = "05_ensemble", tmp_profile.results_dir

    assert staleness.step_state(step, tmp_profile) == ("missing", [])
    results.record_notebook(rd, "quick", step, 1.0, 0)
    assert staleness.step_state(step, tmp_profile)[0] == "unfinished"  # no input digests: not a finished run
    results.record_notebook(rd, "quick", step, 1.0, 0, inputs=staleness.input_digests(step, tmp_profile))
    assert staleness.step_state(step, tmp_profile) == ("current", [])

    # A copy with new file times, a restyled plot and an edited markdown cell change nothing.
    shutil.copy(repo / "fmnist_utils" / "compute" / "train.py", repo / "fmnist_utils" / "compute" / "train.py.bak")
    shutil.move(repo / "fmnist_utils" / "compute" / "train.py.bak", repo / "fmnist_utils" / "compute" / "train.py")
    (repo / "fmnist_utils" / "present" / "plots.py").write_text("# restyled\n")
    nb_path = repo / "notebooks" / f"{step}.ipynb"
    nb = json.loads(nb_path.read_text())
    markdown = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    markdown["source"] = ["# A new title\n"]
    nb_path.write_text(json.dumps(nb))
    assert staleness.step_state(step, tmp_profile) == ("current", [])

    # Code that computes results, the notebook's code, and the upstream step's models each make it stale.
    train_py = repo / "fmnist_utils" / "compute" / "train.py"
    original = train_py.read_text()
    train_py.write_text(original + "\n# a comment is no change\n")
    assert staleness.step_state(step, tmp_profile) == ("current", [])
    train_py.write_text(original + "\nCHANGED = 1\n")
    assert staleness.step_state(step, tmp_profile) == ("stale", ["package"])
    train_py.write_text(original)
    code = next(c for c in nb["cells"]
                if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", []))
    code["source"] = code["source"] + ["\nx = 1\n"]
    nb_path.write_text(json.dumps(nb))
    assert staleness.step_state(step, tmp_profile) == ("stale", ["notebook"])
    code["source"] = code["source"][:-1]
    nb_path.write_text(json.dumps(nb))
    results.record_model(rd, "quick", "c", {"family": "cnn", "notebook": "03_cnn_stages", "val_accuracy": 0.9})
    assert staleness.step_state(step, tmp_profile) == ("stale", ["upstream"])
    lines = staleness.status(tmp_profile)
    assert any("05_ensemble" in line and "stale" in line and "upstream" in line for line in lines)


def _run_step(profile, step, seconds, trained, inputs, models):
    """What run_notebook does around a notebook that records ``models``."""
    previous = staleness.start_afresh(profile, step)
    for name, entry in models.items():
        results.record_model(profile.results_dir, profile.name, name, entry)
    results.save_probs(profile.results_dir, step, {n: np.full((2, 10), 0.1) for n in models})
    if isinstance(trained, int):  # that many cache entries, none of them a recorded model
        trained = {f"/cache/models/other{i}--0123/meta.json" for i in range(trained)}
    staleness.record_run(profile, step, seconds, trained, inputs, previous)
    return results.load_step(profile.results_dir, step)


CPU = provenance.hardware()["cpu"]  # recorded with each cold run: the report names it beside the time


def test_a_training_run_of_other_code_never_stands_for_the_cold_run(tmp_profile):
    step = "05_ensemble"
    old, new = {"notebook": "old"}, {"notebook": "new"}
    a = {"cnn_a": {"family": "cnn", "notebook": step, "val_accuracy": 0.9}}
    _run_step(tmp_profile, step, 1260.0, {"/cache/models/cnn_a--0123/meta.json"}, old, a)
    warm = _run_step(tmp_profile, step, 30.0, 0, old, a)  # a warm rerun of the same code keeps the cold time
    assert warm["run"]["training_run"] == {"seconds": 1260.0, "models_trained": 1, "cpu": CPU}
    b = {"cnn_b": {**a["cnn_a"]}}
    other = _run_step(tmp_profile, step, 800.0, {"/cache/models/cnn_b--4567/meta.json"}, new, b)  # other models
    assert other["run"]["training_run"] == {"seconds": 800.0, "models_trained": 1, "cpu": CPU}
    assert other["inputs"] == new


def test_a_training_run_stands_when_new_code_records_the_same_models(tmp_profile):
    step = "03_cnn_stages"
    entry = {"family": "cnn", "notebook": step, "val_accuracy": 0.95, "spec": {"arch": "vgg_bn"},
             "train_seconds": 4000.0}
    trials = {f"/cache/tuner/t/trial_{i}/trial.json" for i in range(12)}
    _run_step(tmp_profile, step, 4980.0, {"/cache/models/cnn_a--0123/meta.json"} | trials, {"package": "old"},
              {"cnn_a": entry})
    # Other code (a setting another step reads) that records the very same models: the cold time stands.
    same = _run_step(tmp_profile, step, 120.0, 0, {"package": "new"}, {"cnn_a": entry})
    assert same["run"]["training_run"] == {"seconds": 4980.0, "models_trained": 13, "cpu": CPU}
    # Code that changes a model's entry: the cold time measured other models, so it goes; this run took the model
    # from the cache, so a cold run costs this run plus the model's recorded training.
    changed = _run_step(tmp_profile, step, 130.0, 0, {"package": "newer"}, {"cnn_a": {**entry, "val_accuracy": 0.96}})
    assert changed["run"]["training_run"] == {
        "seconds": 4130.0, "models_trained": 1, "cpu": CPU,
        "estimated": "this run's 130 s plus the recorded training of 1 cached models"}


def test_a_resumed_run_records_the_cold_time_of_all_its_models(tmp_profile):
    step = "02_mlp_baselines"
    models = {f"mlp_{k}": {"family": "mlp", "notebook": step, "val_accuracy": 0.9, "train_seconds": 100.0}
              for k in "abc"}
    # Killed after training two models (no finished record); the rerun trains the third and loads two.
    resumed = _run_step(tmp_profile, step, 110.0, {"/cache/models/mlp_c--89ab/meta.json"}, {"n": 1}, models)
    assert resumed["run"]["training_run"]["seconds"] == 310.0
    assert resumed["run"]["training_run"]["models_trained"] == 3
    # A run that trained every model it records is a measured cold run.
    trained = {f"/cache/models/{n}--0000/meta.json" for n in models}
    cold = _run_step(tmp_profile, step, 305.0, trained, {"n": 2}, models)
    assert cold["run"]["training_run"] == {"seconds": 305.0, "models_trained": 3, "cpu": CPU}
    # New code re-executes it from the model store: the entries now say where each model is kept; the cold run stands.
    stored = {n: {**e, "stored_as": f"{n}-key"} for n, e in models.items()}
    from_store = _run_step(tmp_profile, step, 9.0, set(), {"n": 3}, stored)
    assert from_store["run"]["training_run"] == cold["run"]["training_run"]


def test_each_run_writes_the_steps_results_whole(tmp_profile):
    step = "05_ensemble"
    entry = {"family": "cnn", "notebook": step, "val_accuracy": 0.9}
    _run_step(tmp_profile, step, 10.0, 2, {"n": 1}, {"cnn_a": entry, "cnn_b": entry})
    again = _run_step(tmp_profile, step, 10.0, 1, {"n": 2}, {"cnn_a": entry})  # cnn_b is no longer recorded
    assert set(again["models"]) == {"cnn_a"}
    with np.load(results.probs_path(tmp_profile.results_dir, step)) as npz:
        assert npz.files == ["cnn_a"]  # no array left from the earlier run
    assert (tmp_profile.build_dir / "previous" / f"{step}.json").is_file()  # kept, not deleted


def test_a_kernel_killed_from_outside_is_reported_like_a_failing_cell(tmp_path, tmp_profile):
    source = _notebook(tmp_path / "oom.ipynb", "x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(execution.NotebookFailed) as failure:
        execution.execute(source, tmp_path / "out" / "oom.ipynb", tmp_profile)
    message = str(failure.value)
    assert "oom.ipynb: the kernel died — out of memory?" in message
    assert "Rerun `make oom PROFILE=quick` to resume" in message
    assert not (tmp_path / "out" / "oom.ipynb").exists()


def test_a_step_depends_on_the_modules_its_notebook_imports_transitively(tmp_path, monkeypatch):
    package = tmp_path / "fmnist_utils"
    for folder in ("compute", "present"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text("")
    (package / "compute" / "a.py").write_text("from . import b\nfrom ..config import X\n")
    (package / "compute" / "b.py").write_text("def f():\n    from .c import g\n")  # a function-level import counts
    (package / "compute" / "c.py").write_text("import numpy\n")
    (package / "compute" / "new_step_only.py").write_text("from . import a\n")
    (package / "present" / "plots.py").write_text("from ..compute import c\n")  # presenting: followed, not digested
    monkeypatch.setattr(staleness, "PACKAGE", package)
    cells = ["%matplotlib inline\nfrom fmnist_utils.compute import a\nfrom fmnist_utils.present import plots",
             "import fmnist_utils.compute.c as c"]
    assert staleness.step_modules(cells) == ["__init__", "compute.a", "compute.b", "compute.c", "config"]
    assert staleness.step_modules(["from fmnist_utils.compute.new_step_only import x"]) == [
        "__init__", "compute.a", "compute.b", "compute.c", "compute.new_step_only", "config"]


def test_the_presenting_layers_are_folders_of_the_package():
    from fmnist_utils.config import ROOT

    assert all((ROOT / "fmnist_utils" / layer / "__init__.py").is_file() for layer in staleness.PRESENTING)


def test_code_text_ignores_comments_docstrings_and_layout_but_not_code():
    before = 'def f(a, b):\n    """Doc."""\n    return a + b  # sum\n%matplotlib inline\n'
    after = "# restyled\ndef f(a,\n      b):\n    return (a +\n            b)\n"
    assert staleness.code_text(before) == staleness.code_text(after)
    assert staleness.code_text(before) != staleness.code_text(before.replace("a + b", "a - b"))
    assert staleness.code_text('class C:\n    """Only a docstring."""\n') == staleness.code_text("class C:\n    pass\n")


def test_step_dependencies_are_the_makefiles():
    assert staleness.upstream_steps() == {"04_hyperband_tuning": ("03_cnn_stages",),
                                          "05_ensemble": ("03_cnn_stages", "04_hyperband_tuning")}
