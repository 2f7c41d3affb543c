"""Checks of the project's files: pins agree, notebooks are clean and parameterised."""

import json
import re

import nbformat
import pytest
import yaml

from fmnist_utils.config import NOTEBOOKS_DIR, ROOT

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_the_lock_pins_every_dependency_and_environment_yml_installs_it():
    import tomllib

    from packaging.requirements import Requirement

    lock = {Requirement(line.split(" ")[0]).name.lower().replace("_", "-"): line.split("==")[1].split()[0]
            for line in (ROOT / "requirements.lock").read_text().splitlines() if re.match(r"^[A-Za-z0-9]", line)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    for requirement in declared:
        if requirement.marker is None or requirement.marker.evaluate():
            name = requirement.name.lower()
            assert name in lock and requirement.specifier.contains(lock[name]), requirement
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-r requirements.lock" in pip_section
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert re.search(r"Python (\d+\.\d+)", (ROOT / "requirements.lock").read_text()).group(1) == python[7:]


def test_the_numbered_notebooks_are_the_makefiles_steps_in_order():
    assert [p.name[:3] for p in NOTEBOOKS] == [f"{i:02d}_" for i in range(1, len(NOTEBOOKS) + 1)]
    steps = re.search(r"^NOTEBOOKS := (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    assert steps == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS + [ROOT / "report" / "report.ipynb"], ids=lambda p: p.name)
def test_notebook_is_clean_and_parameterised(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip outputs"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and "PROFILE" in "".join(params[0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")


@pytest.mark.parametrize("path", NOTEBOOKS + [ROOT / "report" / "report.ipynb"], ids=lambda p: p.name)
def test_notebook_is_valid_nbformat_with_unique_cell_ids(path):
    """nbformat 4.5 requires a cell id; a cell added by a script without one makes every reader warn."""
    nb = json.loads(path.read_text())
    ids = [c.get("id") for c in nb["cells"]]  # before validating: nbformat fills missing ids in place
    assert None not in ids, f"cells {[i for i, v in enumerate(ids) if v is None]} have no id"
    assert len(set(ids)) == len(ids), "cell ids repeat"
    nbformat.validate(nb)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_imports_first(path):
    """The Setup cell (first code cell after the parameters) holds every import, at its top."""
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    setup = "".join(code[1]["source"]).splitlines()
    imports = [i for i, line in enumerate(setup) if line.startswith(("import ", "from "))]
    assert imports, "Setup imports the package"
    assert all(not line.strip() or line.startswith(("import ", "from ")) for line in setup[:imports[-1] + 1])
    later = "".join("".join(c["source"]) for c in code[2:])
    assert not any(line.startswith(("import ", "from ")) for line in later.splitlines()), "imports belong in Setup"


def test_readme_results_table_is_the_published_results():
    from fmnist_utils import results
    from fmnist_utils.config import ROOT, get_profile
    from fmnist_utils.present import tables

    summary = results.load_summary(get_profile("full").results_dir, "full")
    assert tables.readme_results(summary, tables.references()) in (ROOT / "README.md").read_text()


def test_readme_is_a_map_not_a_diary():
    from fmnist_utils.config import ROOT

    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    assert not re.search(r"\bcommit [0-9a-f]{7}\b", readme)  # history belongs to git log


def test_citation_agrees_with_pyproject_and_the_report_title():
    from fmnist_utils.pipeline import pdf
    from fmnist_utils.present import tables

    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    meta = tables.project_metadata()
    assert [a["name"] for a in citation["authors"]] == meta["authors"]
    assert citation["repository-code"] == meta["url"] and citation["title"] == pdf.REPORT_TITLE


def test_every_step_has_a_title_for_the_reports_time_table():
    from fmnist_utils.present.tables import STEP_TITLES

    assert set(STEP_TITLES) == {p.stem for p in NOTEBOOKS}


def test_the_published_demo_is_the_published_best_cnn():
    from fmnist_utils import results
    from fmnist_utils.config import get_profile
    from fmnist_utils.present.names import display_name

    full = get_profile("full")
    demo = full.store_dir / "demo.json"
    if not demo.is_file():
        pytest.skip("no demo recorded yet (make demo)")
    best = results.load_summary(full.results_dir, "full")["best"]["cnn"]
    assert json.loads(demo.read_text())["output"][0].startswith(display_name(best) + " ("), "rerun make demo"
