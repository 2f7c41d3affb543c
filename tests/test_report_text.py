"""Statements of the report that could turn false: a count typed into a caption, a comparison whose direction
words point the wrong way, a table said to list what it does not, one network given two layer counts."""

import ast
import re

import nbformat
import pandas as pd
import pytest

from fmnist_utils import config, results
from fmnist_utils.config import ROOT
from fmnist_utils.present import facts, tables, words
from fmnist_utils.present.names import display_name

REPORT = ROOT / "report" / "report.ipynb"
NUMBER_WORDS = r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)\b"


def _cells(kind: str) -> list[str]:
    return [c.source for c in nbformat.read(REPORT, as_version=4).cells if c.cell_type == kind]


def test_no_caption_states_a_count_typed_by_hand():
    for cell in _cells("code"):
        for call in ast.walk(ast.parse(cell)):
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "figure" and len(call.args) >= 3:
                caption = call.args[2]
                if isinstance(caption, ast.Constant):  # an f-string's numbers come from the code
                    typed = re.sub(r"report \d+", "", caption.value)  # a source report's number is a name
                    assert not re.search(NUMBER_WORDS, typed, re.I), caption.value


def test_a_gap_to_a_source_report_is_said_with_ours_first():
    assert words.gap(0.9477, 0.9509) == "0.32 points below" and words.gap(0.9509, 0.9477) == "0.32 points above"
    text = " ".join(_cells("markdown"))
    uses = re.findall(r"\{\{(\w+_vs_003)\}\}((?:\s+\S+){6})", text)  # what follows: 'report 003's …', theirs
    assert uses and all("report 003" in after for _, after in uses), uses


def test_a_network_has_one_layer_count_in_names_and_references():
    for _, row in tables.references().iterrows():
        theirs = re.search(r"(\d+) (hidden )?layers?", row["experiment"])
        if pd.isna(row["ours"]) or not row["ours"] or row["ours"].startswith(tables.BEST):
            continue
        ours = re.search(r"(\d+) (hidden )?layers?", display_name(row["ours"]))
        if theirs and ours:
            assert theirs.group(0) == ours.group(0), (row["experiment"], display_name(row["ours"]))


@pytest.mark.skipif(not results.step_names(config.get_profile("full").results_dir), reason="no published results")
def test_table_1_lists_the_network_of_every_model_the_studies_show():
    from fmnist_utils.present.names import network

    summary = results.load_summary(config.get_profile("full").results_dir, "full")
    listed = set(tables.architecture_table(summary).index)
    shown = [i for ids in (facts.MLP_STUDIES, facts.CNN_STAGES) for i in facts.groups(ids)[0]] + ["lite0_finetuned"]
    assert {network(summary["models"][i]["spec"]) for i in shown} <= listed
