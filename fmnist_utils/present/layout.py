"""The report's layout: tables and figures shown as LaTeX in the PDF and as Markdown/HTML in Jupyter, numbered and
labelled so the text can refer to them."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from IPython.display import display


def show(markdown: str, latex: str) -> None:
    display({"text/markdown": markdown, "text/latex": latex}, raw=True)


def show_facts(facts: dict[str, str]) -> None:
    """List the text's facts in Jupyter: each ``{{placeholder}}`` with the words the PDF build puts there."""
    rows = "\n".join(f"| `{{{{{k}}}}}` | {v} |" for k, v in facts.items())
    display({"text/markdown": f"| placeholder | text |\n| --- | --- |\n{rows}"}, raw=True)


def latex_escape(text: str) -> str:
    specials = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(specials.get(ch, ch) for ch in str(text))


def table(frame: pd.DataFrame, caption: str, label: str, column_format: str | None = None, size: str = "small") -> None:
    """Show a DataFrame as a real LaTeX table (escaped, booktabs, numbered, labelled ``label``) and as
    HTML in Jupyter. ``size``: a LaTeX font size (``footnotesize`` for wide tables)."""
    frame = frame.rename(index=latex_escape, columns=latex_escape)
    cells = frame.map(lambda v: latex_escape(v) if isinstance(v, str) else v)
    body = cells.to_latex(escape=False, column_format=column_format)
    latex = (f"\\begin{{table}}[htbp]\n\\centering\\{size}\n"
             f"\\caption{{{latex_escape(caption)}}}\\label{{{label}}}\n"
             f"{body}\\end{{table}}\n")
    show(f"**{caption}**\n\n{frame.to_html()}", latex)


LATEX_FIGURES = "figures"  # the folder, next to the LaTeX source, that the PDF build copies the figures into
TEXT_WIDTH_PT = (8.5 - 2 * 0.95) * 72  # letter paper less the template's margins
SMALLEST_FONT_PT = 7.0  # no figure text below this at printed size


def printed_scale(pdf: Path, width: float) -> float:
    """How much a figure PDF is scaled when set at ``width`` × the text width (its MediaBox gives its natural size)."""
    box = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)", Path(pdf).read_bytes())
    return width * TEXT_WIDTH_PT / (float(box[3]) - float(box[1]))


def figure(folder: Path, name: str, caption: str, width: float = 0.9) -> None:
    """Include ``<folder>/<name>.pdf`` (vector) in the PDF, the PNG in Jupyter; numbered and
    labelled ``fig:<name>`` so the text can refer to it with :func:`fig`. A width that would shrink the
    figure's text (drawn at ``plots.FONT``) below 7 pt is an error."""
    from .plots import FONT

    pdf, png = Path(folder) / f"{name}.pdf", Path(folder) / f"{name}.png"
    if not pdf.is_file():
        raise FileNotFoundError(f"{pdf} is missing: rerun the notebook that makes it (make notebooks).")
    smallest = FONT * printed_scale(pdf, width)
    if smallest < SMALLEST_FONT_PT:
        raise ValueError(f"{name} at {width:g} of the text width prints its text at {smallest:.1f} pt (< "
                         f"{SMALLEST_FONT_PT:g}): widen it or draw it smaller.")
    # Named as the PDF build copies it (fmnist_utils.pipeline.pdf): xdvipdfmx's output depends on the path it reads an
    # image from, so a path into the checkout would make the PDF's bytes depend on where the checkout lies.
    latex = (f"\\begin{{figure}}[htbp]\n\\centering\n"
             f"\\includegraphics[width={width}\\linewidth]{{{LATEX_FIGURES}/{pdf.name}}}\n"
             f"\\caption{{{latex_escape(caption)}}}\\label{{fig:{name}}}\n\\end{{figure}}\n")
    show(f"![{caption}]({png.as_posix()})", latex)


def fig(name: str) -> str:
    return f"Figure \\ref{{fig:{name}}}"


def tab(label: str) -> str:
    return f"Table \\ref{{{label}}}"
