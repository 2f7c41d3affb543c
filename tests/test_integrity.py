"""Faults in the results files name their file and the recovery, and the recovery works."""

import json
import subprocess
import sys

import numpy as np
import pytest

from fmnist_utils import results
from fmnist_utils.pipeline import cli, execution, integrity, pdf, staleness


def _step(tmp_profile, step, models, members=(), inputs=True):
    """A finished step's files: one entry per model (an ensemble listing ``members``), one array each."""
    entries = {m: {"family": "cnn", "notebook": step} for m in models}
    if members:
        entries[models[0]] = {**entries[models[0]], "family": "ensemble", "members": list(members)}
    record = {"profile": "quick", "notebook": step, "models": entries, "run": {"seconds": 1.0}}
    if inputs:
        record["inputs"] = {}
    tmp_profile.results_dir.mkdir(parents=True, exist_ok=True)
    results.step_path(tmp_profile.results_dir, step).write_text(json.dumps(record))
    arrays = {m: np.full((4, 10), 0.1, np.float16) for m in [*models, *[m for m in members if "__m" in m]]}
    np.savez_compressed(results.probs_path(tmp_profile.results_dir, step), **arrays)


def test_whole_consistent_steps_have_no_problems(tmp_profile):
    _step(tmp_profile, "03_c", ["cnn_a", "cnn_b"])
    _step(tmp_profile, "05_e", ["cnn_ensemble"], members=["cnn_ensemble__m00", "cnn_a"])
    assert integrity.step_problems(tmp_profile.results_dir, "05_e") == []
    assert integrity.consistency_problems(tmp_profile.results_dir) == []


def test_a_stale_array_a_missing_array_and_clashing_names_are_found(tmp_profile):
    _step(tmp_profile, "03_c", ["cnn_a", "cnn_b"])
    _step(tmp_profile, "05_e", ["cnn_ensemble", "cnn_b"])
    path = results.probs_path(tmp_profile.results_dir, "05_e")
    np.savez_compressed(path, cnn_ensemble=np.zeros((4, 10)), cnn_b=np.zeros((4, 10)),
                        cnn_ensemble__m07=np.zeros((4, 10)))
    problems = integrity.consistency_problems(tmp_profile.results_dir)
    assert any("'cnn_ensemble__m07' belongs to no entry of 05_e.json (stale)" in p for p in problems)
    assert any("model 'cnn_b' recorded by 03_c and 05_e" in p for p in problems)
    assert any("array 'cnn_b' stored by 03_c and 05_e" in p for p in problems)
    np.savez_compressed(results.probs_path(tmp_profile.results_dir, "03_c"), cnn_a=np.zeros((4, 10)))
    assert any("no array for 'cnn_b', which 03_c.json records" in p for p in integrity.consistency_problems(
        tmp_profile.results_dir))


def test_corrupt_json_and_truncated_npz_name_the_file_and_the_fix(tmp_profile):
    _step(tmp_profile, "03_c", ["cnn_a"])
    _step(tmp_profile, "02_m", ["mlp_a"])
    results.step_path(tmp_profile.results_dir, "03_c").write_text('{"models": {')
    npz = results.probs_path(tmp_profile.results_dir, "02_m")
    npz.write_bytes(npz.read_bytes()[:40])
    with pytest.raises(SystemExit) as stop:
        integrity.require_readable(tmp_profile.results_dir, "quick")
    message = str(stop.value)
    assert "03_c.json: not valid JSON" in message and "`make 03_c PROFILE=quick FORCE=1`" in message
    assert "02_m_probs.npz: not a readable .npz archive" in message and "`make 02_m PROFILE=quick FORCE=1`" in message


def test_status_calls_unreadable_or_unfinished_steps_so_and_a_rerun_sets_corrupt_files_aside(tmp_profile, monkeypatch):
    monkeypatch.setattr(staleness, "notebook_names", lambda: ["02_m", "03_c"])
    monkeypatch.setattr(staleness, "input_digests", lambda name, profile: {})
    monkeypatch.setattr(staleness, "unstored", lambda profile, step: [])  # these steps' models need no store
    _step(tmp_profile, "02_m", ["mlp_a"], inputs=False)  # killed before the pipeline recorded its run
    _step(tmp_profile, "03_c", ["cnn_a"])
    assert staleness.step_state("03_c", tmp_profile)[0] == "current"
    results.step_path(tmp_profile.results_dir, "03_c").write_text("not json")
    assert staleness.step_state("03_c", tmp_profile)[0] == "corrupt"
    state, why = staleness.step_state("02_m", tmp_profile)
    assert state == "unfinished" and "no 'inputs' (the step did not finish)" in why[0]
    lines = staleness.status(tmp_profile)
    assert lines[1].startswith("03_c") and "corrupt" in lines[1] and "`make 03_c PROFILE=quick` reruns it" in lines[1]
    moved = integrity.set_aside_step(tmp_profile.results_dir, "03_c")
    assert [p.name.split(".corrupt-")[0] for p in moved] == ["03_c.json", "03_c_probs.npz"]
    assert all(p.exists() for p in moved)  # kept, never deleted
    assert staleness.step_state("03_c", tmp_profile)[0] == "missing"


def test_a_run_killed_without_cleanup_leaves_its_step_interrupted(tmp_profile, monkeypatch):
    monkeypatch.setattr(staleness, "input_digests", lambda name, profile: {})
    monkeypatch.setattr(staleness, "unstored", lambda profile, step: [])  # these steps' models need no store
    _step(tmp_profile, "03_c", ["cnn_a"])
    marker = staleness.RunMarker(tmp_profile, "03_c")
    marker.start()
    assert staleness.step_state("03_c", tmp_profile)[0] == "current"  # the run that wrote it (this process) is alive
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        marker.path.write_text(json.dumps({"pid": sleeper.pid, "started": "today"}))
        assert staleness.step_state("03_c", tmp_profile)[0] == "current"  # another run of it is in progress
    finally:
        sleeper.kill()
        sleeper.wait()
    assert staleness.step_state("03_c", tmp_profile) == ("interrupted", ["a run started today did not finish"])
    marker.finish()
    assert staleness.step_state("03_c", tmp_profile)[0] == "current"


def test_leftovers_of_a_killed_run_are_removed(tmp_profile):
    notebook_tmp = tmp_profile.notebooks_out_dir / ".02_m.ipynb.abc123.tmp.ipynb"
    model_tmp = tmp_profile.artifacts_dir / "models" / ".mlp_a--0123.xyz.tmp"
    notebook_tmp.parent.mkdir(parents=True)
    notebook_tmp.write_text("{}")
    (model_tmp / "model.keras").parent.mkdir(parents=True)
    (model_tmp / "model.keras").write_bytes(b"half")
    kept = tmp_profile.artifacts_dir / "models" / "mlp_a--0123"
    kept.mkdir()
    stored_tmp, predictions_tmp = tmp_profile.store_dir / ".0123.xyz.tmp", tmp_profile.store_dir / "0123" / ".p.tmp"
    predictions_tmp.parent.mkdir(parents=True)
    stored_tmp.mkdir()
    predictions_tmp.write_bytes(b"half")
    removed = execution.remove_leftovers(tmp_profile)
    assert {notebook_tmp, model_tmp, stored_tmp, predictions_tmp} <= set(removed)
    assert not notebook_tmp.exists() and not model_tmp.exists() and kept.exists()
    assert not stored_tmp.exists() and not predictions_tmp.exists() and predictions_tmp.parent.exists()


def test_keras_temporary_folders_left_by_a_killed_save_are_removed(tmp_path):
    import os

    left, fresh, other = tmp_path / "tmpa1b2", tmp_path / "tmpc3d4", tmp_path / "tmpe5f6"
    for folder in (left, fresh):
        (folder / "assets").mkdir(parents=True)
    (other / "assets").mkdir(parents=True)
    (other / "data.bin").write_bytes(b"x")  # not only assets: not Keras' folder
    os.utime(left, (0, 0))
    os.utime(other, (0, 0))
    assert execution.keras_temp_folders(tmp_path) == [left]
    assert not left.exists() and fresh.exists() and other.exists()


def test_a_second_run_of_a_profile_stops_at_once_naming_the_first(tmp_profile):
    first = r"Another run of the quick profile is in progress \(pid \d+: 03_c"
    with cli.one_run_at_a_time(tmp_profile, "03_c"), pytest.raises(SystemExit, match=first), \
            cli.one_run_at_a_time(tmp_profile, "report"):
        pass
    with cli.one_run_at_a_time(tmp_profile, "report"):  # released when the first ended
        pass


def test_missing_pdf_tools_are_named_with_their_debian_packages(monkeypatch):
    monkeypatch.setattr(pdf.shutil, "which", lambda tool: None if tool == "xelatex" else "/usr/bin/" + tool)
    with pytest.raises(SystemExit, match="needs xelatex.*apt-get install texlive-xetex"):
        pdf.require_tools()


def test_an_unreadable_cached_model_is_moved_aside_and_named(tmp_profile):
    models = tmp_profile.artifacts_dir / "models"
    good, bad = models / "cnn_a--111", models / "cnn_b--222"
    for folder in (good, bad):
        folder.mkdir(parents=True)
        (folder / "meta.json").write_text("{}")
    import zipfile
    with zipfile.ZipFile(good / "model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    (bad / "model.keras").write_bytes((good / "model.keras").read_bytes()[:30])  # truncated
    lines = integrity.set_aside_corrupt_models(tmp_profile.artifacts_dir)
    assert len(lines) == 1 and "cnn_b--222" in lines[0] and "it will be retrained" in lines[0]
    assert good.exists() and not bad.exists()
    assert [p.name.split(".")[0] for p in (tmp_profile.artifacts_dir / "corrupt").iterdir()] == ["cnn_b--222"]
    assert list(models.glob("*/meta.json")) == [good / "meta.json"]  # the cache no longer offers it


def test_downstream_steps_depend_on_what_upstream_models_are_not_on_how_long_they_trained():
    a = {"cnn_a": {"val_accuracy": 0.9, "test_correct": 9000, "train_seconds": 60.0}}
    retimed = {"cnn_a": {**a["cnn_a"], "train_seconds": 75.0}}
    retrained = {"cnn_a": {**a["cnn_a"], "test_correct": 9001}}
    assert staleness.model_identities(a) == staleness.model_identities(retimed)
    assert staleness.model_identities(a) != staleness.model_identities(retrained)


def test_the_report_is_not_built_from_results_that_disagree(tmp_profile):
    _step(tmp_profile, "03_c", ["cnn_a"])
    integrity.require_consistent(tmp_profile.results_dir)
    np.savez_compressed(results.probs_path(tmp_profile.results_dir, "03_c"), cnn_a=np.zeros((4, 10)),
                        cnn_old=np.zeros((4, 10)))
    with pytest.raises(SystemExit, match="'cnn_old' belongs to no entry of 03_c.json"):
        integrity.require_consistent(tmp_profile.results_dir)


def test_an_unreadable_upstream_file_is_named_with_its_command_by_status_and_by_the_step(tmp_profile, monkeypatch):
    monkeypatch.setattr(staleness, "upstream_steps", lambda: {"05_ensemble": ("03_cnn_stages",)})
    monkeypatch.setattr(staleness, "notebook_names", lambda: ["03_cnn_stages", "05_ensemble"])
    monkeypatch.setattr(staleness, "input_digests", lambda name, profile: {
        "upstream": results.load_step(profile.results_dir, "03_cnn_stages", profile.name)})
    for step in ("03_cnn_stages", "05_ensemble"):
        results.record_notebook(tmp_profile.results_dir, "quick", step, 1.0, 0, {})
    results.step_path(tmp_profile.results_dir, "03_cnn_stages").write_text('{"broken')
    state, why = staleness.step_state("05_ensemble", tmp_profile)
    assert state == "blocked" and why == [
        f"{results.step_path(tmp_profile.results_dir, '03_cnn_stages')}: not valid JSON (Unterminated string starting "
        "at at line 1); `make 03_cnn_stages PROFILE=quick FORCE=1` rewrites it (the old file is kept aside)"]
    assert "05_ensemble            blocked     " in "\n".join(staleness.status(tmp_profile))
    monkeypatch.setattr(cli, "get_profile", lambda name: tmp_profile)
    with pytest.raises(SystemExit, match=r"05_ensemble: .*03_cnn_stages\.json: not valid JSON.*make 03_cnn_stages"):
        cli.run_notebook("05_ensemble", "quick")
