"""The PDF: execute ``report/report.ipynb`` headless and convert it with nbconvert's LaTeX route and our template,
with a title block from pyproject.toml and dates fixed by the results, so the same results give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from unittest import mock

import nbformat

from .. import atomic, results
from ..compute.data import load_fashion_mnist
from ..config import ROOT, get_profile
from ..present.facts import fill, report_facts
from ..present.layout import LATEX_FIGURES
from ..present.tables import project_metadata
from . import integrity
from .execution import REPORT_NOTEBOOK, execute, relative

REPORT_TEMPLATE_DIR = ROOT / "report" / "template"
REPORT_TITLE = "Fashion-MNIST on a CPU: MLPs, CNNs, Hyperband and an ensemble"


def build_report(profile_name: str) -> Path:
    from nbconvert import PDFExporter
    from traitlets.config import Config

    profile = get_profile(profile_name)
    require_tools()
    integrity.require_readable(profile.results_dir, profile.name)
    integrity.require_consistent(profile.results_dir)
    executed = profile.notebooks_out_dir / "report.ipynb"
    execute(REPORT_NOTEBOOK, executed, profile)
    config = Config()
    config.TemplateExporter.exclude_input = True
    config.TemplateExporter.exclude_input_prompt = True
    config.TemplateExporter.exclude_output_prompt = True
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"notebook-only"}
    config.PDFExporter.bib_command = ["true"]  # the references are a list in the report, not a .bib file
    exporter = PDFExporter(config=config, extra_template_basedirs=[str(REPORT_TEMPLATE_DIR.parent)],
                           template_name=REPORT_TEMPLATE_DIR.name)
    nb = nbformat.read(executed, as_version=4)
    summary = results.load_summary(profile.results_dir, profile.name)
    facts = report_facts(summary, results.load_probs(profile.results_dir), load_fashion_mnist()[1][1], profile)
    for cell in nb.cells:  # the text's {{placeholders}}; the notebook-only introduction shows them unfilled
        if cell.cell_type == "markdown" and "notebook-only" not in cell.metadata.get("tags", []):
            cell.source = fill(cell.source, facts)
    atomic.write_text(executed, nbformat.writes(nb))  # the executed copy reads as the PDF does
    for cell in nb.cells:  # stderr (library notices, warnings) stays in the log and the executed notebook
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    # The title page: authors and the link to the code (pyproject.toml), and the date of the results (their commits are
    # in the results files and `make status`, not in the reader's way).
    meta, created = project_metadata(), dt.datetime.fromisoformat(summary["created"])
    nb.metadata.update(title=REPORT_TITLE, authors=[{"name": a} for a in meta["authors"]], code_url=meta["url"],
                       date=f"{created.day} {created:%B %Y}", created=summary["created"])
    # XeTeX dates the PDF (and derives its ID) from SOURCE_DATE_EPOCH: the results' date, so the same results give the
    # same bytes.
    epoch = str(int(created.timestamp()))
    with mock.patch.dict(os.environ, SOURCE_DATE_EPOCH=epoch, FORCE_SOURCE_DATE="1"):
        # The figures travel with the LaTeX source into nbconvert's build folder, under the name report.figure uses.
        figures = {f"{LATEX_FIGURES}/{f.name}": f.read_bytes() for f in sorted(profile.figures_dir.glob("*.pdf"))}
        pdf, _ = exporter.from_notebook_node(nb, resources={"metadata": {"path": str(executed.parent)},
                                                            "outputs": figures})
    target = profile.report_dir / "report.pdf"
    atomic.write_bytes(target, pdf)
    print(f"report: {relative(target)} ({len(pdf) / 1024:.0f} KiB)")
    return target


# What nbconvert's PDF route runs, and the Debian packages that provide it.
PDF_TOOLS = {"xelatex": "texlive-xetex texlive-fonts-recommended texlive-plain-generic", "pandoc": "pandoc"}


def require_tools() -> None:
    """Stop before any work when a program the PDF needs is missing, naming the packages to install."""
    missing = [tool for tool in PDF_TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(PDF_TOOLS[t] for t in missing)
        raise SystemExit(f"The PDF needs {' and '.join(missing)}, not found on PATH. Install them: "
                         f"sudo apt-get install {packages}   (or run `make setup` as root)")

