import re

import nbformat
import numpy as np
import pytest

from fmnist_utils import config, results
from fmnist_utils.config import ROOT
from fmnist_utils.present import facts, words
from tests.conftest import needs_fashion_mnist

REPORT = ROOT / "report" / "report.ipynb"


def _text_cells():
    nb = nbformat.read(REPORT, as_version=4)
    return [c.source for c in nb.cells
            if c.cell_type == "markdown" and "notebook-only" not in c.metadata.get("tags", [])]


def test_fill_puts_in_facts_and_references_and_names_a_missing_fact():
    text = "The CNN reaches {{cnn_acc}} ({{ fig:curves }}, {{tab:cnn}})."
    assert facts.fill(text, {"cnn_acc": "94.29%"}) == \
        "The CNN reaches 94.29% (Figure \\ref{fig:curves}, Table \\ref{tab:cnn})."
    with pytest.raises(KeyError, match=r"\{\{mlp_acc\}\}"):
        facts.fill("{{mlp_acc}}", {})
    assert facts.fill("a {single} brace stays", {}) == "a {single} brace stays"


def test_groups_list_each_study_once_in_order():
    ids, group = facts.groups({"a": ["m1", "m2"], "b": ["m3"]})
    assert ids == ["m1", "m2", "m3"] and group == {"m1": "a", "m2": "a", "m3": "b"}


def test_the_facts_the_notebook_lists_stay_out_of_the_pdf():
    nb = nbformat.read(REPORT, as_version=4)
    listing = [c for c in nb.cells if c.cell_type == "code" and "show_facts" in c.source]
    assert len(listing) == 1 and "notebook-only" in listing[0].metadata.get("tags", [])


def test_the_report_notebook_only_lays_out():
    nb = nbformat.read(REPORT, as_version=4)
    code = [[line for line in c.source.splitlines() if line.strip()] for c in nb.cells if c.cell_type == "code"]
    assert sum(map(len, code)) <= 150 and max(map(len, code)) <= 15
    assert not any("keras" in line or "claims" in line for cell in code for line in cell)
    assert all("{{" not in line for cell in code[2:] for line in cell)  # the prose lives in Markdown cells


@needs_fashion_mnist
def test_every_placeholder_of_the_text_has_a_fact_from_the_published_results():
    from fmnist_utils.compute.data import load_fashion_mnist

    profile = config.get_profile("full")
    summary = results.load_summary(profile.results_dir, profile.name)
    given = facts.report_facts(summary, results.load_probs(profile.results_dir), load_fashion_mnist()[1][1], profile)
    used = {m.group(1) for text in _text_cells() for m in facts.PLACEHOLDER.finditer(text)}
    assert used - {k for k in used if k.startswith(("fig:", "tab:"))} <= set(given)
    unused = set(given) - used
    assert not unused, f"facts no sentence uses: {sorted(unused)}"
    for text in _text_cells():
        assert "{{" not in facts.fill(text, given)
    assert given["cnn_acc"] == words.pct(summary["models"][summary["best"]["cnn"]]["test_accuracy"])
    assert not [k for k, v in given.items() if re.search(r"\bnan\b|\bNone\b", v)]
    assert np.isclose(float(given["total_minutes"]),
                      sum(r["training_run"]["seconds"] for r in summary["notebooks"].values()) / 60, atol=0.5)


def test_a_recipe_difference_reads_as_the_recipe_then_what_it_sets():
    assert facts.trained_with(["the source reports' recipe", "30 epochs", "no augmentation"]) == (
        "the source reports' recipe (30 epochs, no augmentation)")
    assert facts.trained_with(["30 epochs", "no augmentation"]) == "30 epochs and no augmentation"
