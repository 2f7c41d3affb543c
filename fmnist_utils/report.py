"""Helpers for ``report/report.ipynb``: read the registry, format numbers, emit LaTeX.

Every number the report prints comes from ``summary.json`` through these helpers; nothing is
typed by hand. Outputs carry both LaTeX (for the PDF) and Markdown (for Jupyter).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from IPython.display import display

from .config import ROOT
from .results import load_summary

REFERENCES_CSV = ROOT / "report" / "references.csv"


def pct(x: float, digits: int = 2) -> str:
    """0.93456 → '93.46%'."""
    return f"{100 * x:.{digits}f}%"


def ci(entry: dict, digits: int = 2) -> str:
    lo, hi = entry["test_accuracy_ci95"]
    return f"{100 * lo:.{digits}f}–{100 * hi:.{digits}f}%"


# augment.augmentation_block's default shift (not imported: that would load Keras into the report; a test pins it).
BLOCK_DEFAULT_SHIFT = 0.1


def augmentation(hparams: dict) -> str:
    """A model's ``augment`` hyper-parameter in words, e.g. 'random horizontal flips'."""
    aug = hparams.get("augment")
    if not aug:
        return "no augmentation"
    parts = ["random horizontal flips"] if aug.get("flip", True) else []
    shift = aug.get("shift", BLOCK_DEFAULT_SHIFT)
    if shift:
        parts.append(f"shifts of up to {100 * shift:.0f}%")
    return " and ".join(parts) or "no augmentation"


def plural(count: int, word: str) -> str:
    """(1, 'epoch') → '1 epoch'; (3, 'epoch') → '3 epochs'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def show(markdown: str, latex: str | None = None) -> None:
    """Display text: Markdown in Jupyter, and LaTeX in the PDF when given."""
    bundle = {"text/markdown": markdown}
    if latex is not None:
        bundle["text/latex"] = latex
    display(bundle, raw=True)


def latex_escape(text: str) -> str:
    specials = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(specials.get(ch, ch) for ch in str(text))


def table(frame: pd.DataFrame, caption: str, label: str, column_format: str | None = None,
          index: bool = True) -> None:
    """Show a DataFrame as a real LaTeX table (escaped, booktabs) and as Markdown in Jupyter."""
    frame = frame.copy()
    frame.index = [latex_escape(i) for i in frame.index]
    frame.columns = [latex_escape(c) for c in frame.columns]
    body = frame.map(lambda v: latex_escape(v) if isinstance(v, str) else v).to_latex(
        index=index, escape=False, column_format=column_format)
    latex = (f"\\begin{{table}}[H]\n\\centering\\small\n\\caption{{{latex_escape(caption)}}}\\label{{{label}}}\n"
             f"{body}\\end{{table}}\n")
    show(f"**{caption}**\n\n{frame.to_html()}", latex)


def figure(folder: Path, name: str, caption: str, width: float = 0.9) -> None:
    """Include ``<folder>/<name>.pdf`` (vector) in the PDF, the PNG in Jupyter."""
    pdf, png = Path(folder) / f"{name}.pdf", Path(folder) / f"{name}.png"
    if not pdf.is_file():
        raise FileNotFoundError(f"{pdf} is missing: rerun the notebook that makes it (make notebooks).")
    latex = (f"\\begin{{figure}}[H]\n\\centering\n\\includegraphics[width={width}\\linewidth]{{{pdf.as_posix()}}}\n"
             f"\\caption{{{latex_escape(caption)}}}\n\\end{{figure}}\n")
    show(f"![{caption}]({png.as_posix()})", latex)


def model_rows(summary: dict, names) -> pd.DataFrame:
    """The standard comparison table for the named models, formatted for print."""
    rows = {}
    for name in names:
        m = summary["models"][name]
        rows[name] = {"params": f"{m['params']:,}", "epochs": m["epochs"],
                      "train min": f"{m['train_seconds'] / 60:.1f}", "val acc": pct(m["val_accuracy"]),
                      "test acc": pct(m["test_accuracy"]), "95% CI": ci(m), "test loss": f"{m['test_loss']:.3f}"}
    return pd.DataFrame.from_dict(rows, orient="index")


def models_of(summary: dict, notebook: str) -> list[str]:
    return [n for n, m in summary["models"].items() if m["notebook"] == notebook]


def references() -> pd.DataFrame:
    """Published results of the source reports (reference values, not measured here)."""
    with open(REFERENCES_CSV, newline="") as fh:
        return pd.DataFrame(list(csv.DictReader(fh)))


__all__ = ["pct", "ci", "minutes", "show", "table", "figure", "model_rows", "models_of", "references",
           "load_summary"]
