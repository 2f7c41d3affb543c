"""Helpers for ``report/report.ipynb``: read the registry, format numbers, emit LaTeX.

Every number the report prints comes from ``summary.json`` through these helpers; nothing is
typed by hand. Outputs carry both LaTeX (for the PDF) and Markdown (for Jupyter).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from IPython.display import display

from .config import ROOT
from .data import IMAGE_SHAPE
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
        pixels = shift * IMAGE_SHAPE[1]  # a fraction of the image width
        parts.append(f"shifts of up to {pixels:.0f} pixels" if abs(pixels - round(pixels)) < 1e-6
                     else f"shifts of up to {100 * shift:.0f}%")
    if aug.get("erasing"):
        parts.append("random erasing")
    return listing(parts) if parts else "no augmentation"


def plural(count: int, word: str, many: str | None = None) -> str:
    """(1, 'epoch') → '1 epoch'; (3, 'epoch') → '3 epochs'; (2, 'branch', 'branches') → '2 branches'."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def listing(items) -> str:
    """['a'] → 'a'; ['a', 'b'] → 'a and b'; ['a', 'b', 'c'] → 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def code_names(text: str) -> str:
    """Model names (``cnn_…``, ``mlp_…``) in a label set in code type, as the prose sets them."""
    return re.sub(r"\b((?:cnn|mlp)_\w+)", r"`\1`", text)


def points(difference: float) -> str:
    """An accuracy difference as unsigned percentage points: -0.0064 → '0.64 points'."""
    return f"{100 * abs(difference):.2f} points"


def gap(ours: float, theirs: float) -> str:
    """Our accuracy set against a published one: '0.64 points below' / '0.10 points above'. A plain
    difference, not a test: the source reports' predictions are not available."""
    return f"{points(ours - theirs)} {'below' if ours < theirs else 'above'}"


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
          index: bool = True, size: str = "small", long: bool = False) -> None:
    """Show a DataFrame as a real LaTeX table (escaped, booktabs, numbered, labelled ``label``) and as
    HTML in Jupyter. ``size``: a LaTeX font size (``footnotesize`` for wide tables). ``long``: a longtable,
    which continues on the next page instead of running off the bottom of one (for tables that may
    outgrow a page as models are added)."""
    frame = frame.copy()
    frame.index = [latex_escape(i) for i in frame.index]
    frame.columns = [latex_escape(c) for c in frame.columns]
    cells = frame.map(lambda v: latex_escape(v) if isinstance(v, str) else v)
    if long:
        body = cells.to_latex(index=index, escape=False, column_format=column_format, longtable=True,
                              caption=latex_escape(caption), label=label)
        latex = f"{{\\{size}\n{body}}}\n"
    else:
        body = cells.to_latex(index=index, escape=False, column_format=column_format)
        latex = (f"\\begin{{table}}[htbp]\n\\centering\\{size}\n\\caption{{{latex_escape(caption)}}}\\label{{{label}}}\n"
                 f"{body}\\end{{table}}\n")
    show(f"**{caption}**\n\n{frame.to_html()}", latex)


def figure(folder: Path, name: str, caption: str, width: float = 0.9) -> None:
    """Include ``<folder>/<name>.pdf`` (vector) in the PDF, the PNG in Jupyter; numbered and
    labelled ``fig:<name>`` so the text can refer to it with :func:`fig`."""
    pdf, png = Path(folder) / f"{name}.pdf", Path(folder) / f"{name}.png"
    if not pdf.is_file():
        raise FileNotFoundError(f"{pdf} is missing: rerun the notebook that makes it (make notebooks).")
    latex = (f"\\begin{{figure}}[htbp]\n\\centering\n\\includegraphics[width={width}\\linewidth]{{{pdf.as_posix()}}}\n"
             f"\\caption{{{latex_escape(caption)}}}\\label{{fig:{name}}}\n\\end{{figure}}\n")
    show(f"![{caption}]({png.as_posix()})", latex)


def fig(name: str) -> str:
    """A reference to a figure in running text ('Figure 3' in the PDF)."""
    return f"Figure \\ref{{fig:{name}}}"


def tab(label: str) -> str:
    """A reference to a table in running text ('Table 2' in the PDF)."""
    return f"Table \\ref{{{label}}}"


def model_rows(summary: dict, names) -> pd.DataFrame:
    """The standard comparison table for the named models, in the order given, formatted for print.
    ``val − test``: how far the validation accuracy that selected the model overstates its test accuracy."""
    rows = {}
    for name in names:
        m = summary["models"][name]
        rows[name] = {"params": f"{m['params']:,}", "epochs": m["epochs"],
                      "train min": f"{m['train_seconds'] / 60:.1f}", "val acc": pct(m["val_accuracy"]),
                      "test acc": pct(m["test_accuracy"]), "95% CI": ci(m),
                      "val − test": f"{100 * (m['val_accuracy'] - m['test_accuracy']):+.2f}",
                      "test loss": f"{m['test_loss']:.3f}"}
    return pd.DataFrame.from_dict(rows, orient="index")


def recipe(entry: dict) -> str:
    """A model's training recipe in words, from its recorded spec."""
    spec, m = entry["spec"], entry
    train = spec["train"]
    optimizer = "AdamW" if train.get("weight_decay") else "Adam"
    schedule = {"plateau": "halved on plateau", "constant": "constant",
                "cosine": (f"{plural(train['warmup_epochs'], 'warm-up epoch')} + cosine"
                           if train.get("warmup_epochs") else "cosine")}[train["schedule"]]
    stop = (f"early stop (patience {train['patience']}), ran {m['epochs']} of {train['epochs']}"
            if train.get("patience") is not None else f"{plural(train['epochs'], 'epoch')}")
    words = [f"{optimizer} {train['learning_rate']:.2g} ({schedule}), batch {train['batch_size']}", stop]
    if train.get("label_smoothing"):
        words.append(f"label smoothing {train['label_smoothing']:g}")
    if train.get("precision", "float32") != "float32":
        words.append(f"{train['precision'].replace('mixed_', '')} mixed precision")
    if spec.get("init"):
        words.append("starts from the base model's weights")
    if spec.get("tta_flip"):
        words.append("test-time flip averaging")
    return "; ".join(words)


def shirt_columns(record: dict, first: bool) -> dict:
    """An ablation step's recall of the validation shirts and its change, with McNemar's test on them
    (nothing for results recorded before the ladder followed the shirts)."""
    from .claims import format_p

    if "shirt_recall" not in record:
        return {}
    change = "" if first else f"{100 * record['shirt_change']:+.2f} ({format_p(record['shirt_p'])})"
    return {"Shirt recall": pct(record["shirt_recall"]), "Shirt change": change}


def shirt_sentence(records: list[dict]) -> str:
    """What the ablation's steps did to the recall of the validation shirts, in words chosen by their tests:
    the steps that changed it significantly by name, the others summed up ("" for results without shirts)."""
    from .claims import format_p, step_effect

    steps = [r for r in records if not pd.isna(r.get("shirt_p", float("nan")))]
    if not steps:
        return ""
    unchanged = step_effect(0.0, 1.0)
    moved = [r for r in steps if step_effect(r["shirt_change"], r["shirt_p"]) != unchanged]
    rest = [r for r in steps if r not in moved]
    parts = [f"{code_names(r['ingredient'].removeprefix('+ '))} {step_effect(r['shirt_change'], r['shirt_p'])} recall "
             f"({100 * r['shirt_change']:+.2f} points, {format_p(r['shirt_p'])})" for r in moved]
    if rest:
        changes = [100 * r["shirt_change"] for r in rest]
        parts.append(f"{'no other' if moved else 'no'} step significantly changed recall (from {min(changes):+.2f} to "
                     f"{max(changes):+.2f} points; smallest p = {min(r['shirt_p'] for r in rest):.2f})")
    return (f"On the {records[0]['shirt_images']:,} validation shirts (the class report 003 aimed shifts and "
            f"rotations at), {'; '.join(parts)}.")


def race_margin(selection: list[dict]) -> str:
    """``make bench``'s race on validation: a sentence when its two fastest candidates finished closer together
    than two timed runs of one candidate differ (the choice between them is then timing noise), else ""."""
    times = sorted(r["seconds_to_target"] for r in selection if r["seconds_to_target"] is not None)
    runs = [[t for t in r.get("seconds_to_target_runs", []) if t is not None] for r in selection]
    spread = max((max(t) - min(t) for t in runs if len(t) > 1), default=0.0)
    if len(times) < 2 or times[1] - times[0] >= spread:
        return ""
    return (f"The two fastest candidates finished {times[1] - times[0]:.1f} s apart, less than two timed runs of one "
            f"schedule differ here (up to {spread:.1f} s): the choice between them is as noisy as the timing.")


def selection_plateau(val_accuracy: list[float], members: int = 2) -> str:
    """The ensemble's validation accuracy along its order of selection once ``members`` were chosen: where it stood
    and the range it stayed in as the rest were added; "" when no member came after those."""
    if len(val_accuracy) <= members:
        return ""
    rest = list(val_accuracy)[members - 1:]
    more = len(rest) - 1
    return (f"the soft vote's validation accuracy was {pct(rest[0])} with {plural(members, 'member')} and stayed "
            f"between {pct(min(rest))} and {pct(max(rest))} as {more} more {'was' if more == 1 else 'were'} added")


def ablation_table(records: list[dict]) -> pd.DataFrame:
    """The recipe ladder of notebook 03 as printed: each step against the model it builds on, on validation."""
    from .claims import format_p

    rows, before = {}, None
    for r in records:
        first = pd.isna(r["val_p"])
        rows[r["ingredient"]] = {"model": r["model"], "builds on": r.get("compared_with") or before or "",
                                 "val. accuracy": pct(r["val_accuracy"]),
                                 "change (McNemar)": "" if first else f"{100 * r['val_change']:+.2f} ({format_p(r['val_p'])})",
                                 **shirt_columns(r, first),
                                 "s / epoch": f"{r['seconds_per_epoch']:.1f}"}
        before = r["model"]
    return pd.DataFrame.from_dict(rows, orient="index")


def references() -> pd.DataFrame:
    """Published results of the source reports (reference values, not measured here), one row per
    experiment: its metric, the published value, and our model that reproduces it (if any)."""
    frame = pd.read_csv(REFERENCES_CSV, dtype={"ours": str, "their_epochs": "Int64"})
    return frame.fillna({"ours": ""})


def member_epochs(entry: dict, models: dict) -> str:
    """A model's epochs in words; for an ensemble, its members' range (a member not in ``models`` was
    trained for the ensemble, for the ensemble's own epochs)."""
    if "members" not in entry:
        return plural(entry["epochs"], "epoch")
    epochs = sorted({models.get(m, entry)["epochs"] for m in entry["members"]})
    span = f"{epochs[0]}" if len(epochs) == 1 else f"{epochs[0]}–{epochs[-1]}"
    return f"{len(entry['members'])} members of {span} epochs"


def reproduction_table(summary: dict, refs: pd.DataFrame) -> pd.DataFrame:
    """Every published number of the source reports next to ours for the same experiment and metric
    (report 001 published validation accuracies: those rows compare validation), the difference in
    points, and what differs (epochs and setup)."""
    rows = {}
    for _, r in refs.iterrows():
        ours = summary["models"].get(r["ours"]) if r["ours"] else None
        key = "test_accuracy" if r["metric"] == "test" else "val_accuracy"
        mine = ours[key] if ours else None
        metric = "" if r["metric"] == "test" else f" ({r['metric']})"
        epochs = (f"{r['their_epochs']} vs {ours['epochs']} epochs; " if ours and pd.notna(r["their_epochs"])
                  else f"ours {member_epochs(ours, summary['models'])}; " if ours else "")
        rows[f"{r['source'].split()[-1]}: {r['experiment']}{metric}"] = {
            "theirs": pct(r["published"]), "ours": pct(mine) if ours else "—", "our model": r["ours"] or "—",
            "diff.": f"{100 * (mine - r['published']):+.2f}" if ours else "—",
            "why they differ": f"{epochs}{r['their_setup']}"}
    return pd.DataFrame.from_dict(rows, orient="index")


__all__ = ["pct", "ci", "listing", "points", "gap", "plural", "minutes", "augmentation", "show", "table", "figure", "fig",
           "tab", "model_rows", "recipe", "ablation_table", "shirt_sentence", "race_margin", "selection_plateau", "references", "member_epochs", "reproduction_table",
           "load_summary"]
