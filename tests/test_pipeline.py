"""Headless execution writes its target atomically and names the failing cell."""

import nbformat
import pytest

from fmnist_utils import pipeline


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "quick"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_execute_injects_the_profile(tmp_path):
    source = _notebook(tmp_path / "ok.ipynb", "print(PROFILE)")
    target = tmp_path / "out" / "ok.ipynb"
    pipeline.execute(source, target, "full")
    outputs = nbformat.read(target, as_version=4).cells[-1].outputs
    assert outputs[0]["text"].strip() == "full"


def test_failed_notebook_leaves_no_target(tmp_path):
    source = _notebook(tmp_path / "bad.ipynb", "x = 1", "raise RuntimeError('boom')")
    target = tmp_path / "out" / "bad.ipynb"
    with pytest.raises(SystemExit, match="bad.ipynb failed in cell .*RuntimeError: boom"):
        pipeline.execute(source, target, "quick")
    assert not target.exists()
    assert list((tmp_path / "out").iterdir()) == []
