"""The report's tables and the facts behind them, from the merged results files
(:func:`fmnist_utils.results.load_summary`): ``report/report.ipynb`` lays them out (:mod:`.layout`) and the text's
placeholders read them (:mod:`.facts`). Models appear under their readable names (:mod:`.names`), never by id.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..compute.data import CLASS_NAMES
from ..compute.design import copy_name
from ..compute.ensemble import hard_vote
from ..compute.evaluate import classification_table, confusion
from ..compute.tuning import space_table
from ..config import ROOT
from ..results import load_step
from .claims import compare, format_p, step_effect
from .names import display_name, layers, network, recipe_name
from .words import augmentation, ci, pct, plural

REFERENCES_CSV = ROOT / "report" / "references.csv"


def references() -> pd.DataFrame:
    """Published results of the source reports (reference values, not measured here), one row per
    experiment: its metric, the published value, and our model that reproduces it (if any)."""
    frame = pd.read_csv(REFERENCES_CSV, dtype={"ours": str, "their_epochs": "Int64"})
    return frame.fillna({"ours": ""})


def project_metadata() -> dict:
    """The report's authors and the link to its code: pyproject.toml's [project] authors and urls, one setting."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {"authors": [a["name"] for a in project.get("authors", [])],
            "url": project.get("urls", {}).get("Repository", "")}


def name(summary: dict, model_id: str) -> str:
    ensemble = summary["models"].get(summary.get("best", {}).get("ensemble"), {})
    return display_name(model_id, ensemble.get("epochs"))


def results_table(summary: dict, ids, group: dict | None = None, seeds: bool = False) -> pd.DataFrame:
    """The standard results table: one row per model, by readable name, in the order given; ``group``
    (id → label) adds a first column saying which study a row belongs to, ``seeds`` a last one with the test
    accuracy's mean ± standard deviation over the model's seeds, where it has several."""
    rows = {}
    for model_id in ids:
        m = summary["models"][model_id]
        rows[name(summary, model_id)] = {
            **({"study": group[model_id]} if group else {}), "parameters": f"{m['params']:,}",
            "epochs": m["epochs"], "train min": f"{m['train_seconds'] / 60:.1f}",
            "val. acc.": pct(m["val_accuracy"]), "test acc. (95% CI)": f"{pct(m['test_accuracy'])} ({ci(m, 1)})",
            **({"test, seeds": seed_spread(summary, model_id)} if seeds else {})}
    return pd.DataFrame.from_dict(rows, orient="index")


def seed_copies(summary: dict, model_id: str) -> list[str]:
    """A study model and its further seeds' copies (:func:`fmnist_utils.compute.design.copy_name`) in the results."""
    copies = [model_id]
    while copy_name(model_id, len(copies) + 1) in summary["models"]:
        copies.append(copy_name(model_id, len(copies) + 1))
    return copies


def seed_spread(summary: dict, model_id: str) -> str:
    """'87.35 ± 0.12 (3)': the test accuracy's mean ± standard deviation (%) over a model's seeds; '' with one seed."""
    accs = [summary["models"][i]["test_accuracy"] for i in seed_copies(summary, model_id)]
    return f"{100 * np.mean(accs):.2f} ± {100 * np.std(accs, ddof=1):.2f} ({len(accs)})" if len(accs) > 1 else ""


def architecture_table(summary: dict) -> pd.DataFrame:
    """Every network of the report once, MLPs first, by parameters within a family: its layers and size.
    Models that differ only in training or in their hidden activation share a row."""
    rows = {}
    by_family_then_size = lambda m: (m["spec"]["arch"] not in ("linear", "mlp"), m["params"])  # noqa: E731
    for m in sorted((m for m in summary["models"].values() if m["family"] != "ensemble"), key=by_family_then_size):
        if m["spec"]["arch"].startswith("design_"):
            continue  # the design studies' networks are described where they are shown
        spec = m["spec"]
        row = rows.setdefault(network(spec), {"layers": layers(spec),
                                              "parameters": f"{m['params']:,}",
                                              "activations": set()})
        row["activations"].add(spec["hparams"].get("activation", "relu") if spec["arch"] == "mlp" else "relu")
    for row in rows.values():
        acts = row.pop("activations")
        if len(acts) > 1:
            row["layers"] += "; " + "/".join(sorted(a or "no activation" for a in acts))
    return pd.DataFrame.from_dict(rows, orient="index")


SIDE_STUDIES = ("Transfer from ImageNet", "Design studies")  # their training is described where they are shown


def recipes_table(summary: dict) -> pd.DataFrame:
    """The training recipes of the networks trained from scratch, each listed once with the values its models
    use (transfer learning, which trains a classifier on a pretrained network, is described where it is shown)."""
    rows: dict[str, dict[str, set]] = {}
    for m in summary["models"].values():
        if m["family"] == "ensemble" or recipe_name(m["spec"]) in SIDE_STUDIES:
            continue
        spec, train = m["spec"], m["spec"]["train"]
        optimizer = (f"Adam {train['learning_rate']:.2g}" if not train.get("weight_decay")
                     else f"AdamW {train['learning_rate']:.2g}, decay {train['weight_decay']:g}")
        schedule = (f"{plural(train['warmup_epochs'], 'warm-up epoch')}, cosine decay" if train["schedule"] == "cosine"
                    and train.get("warmup_epochs") else "cosine decay" if train["schedule"] == "cosine"
                    else "halved on plateau" if train["schedule"] == "plateau" else "constant")
        extras = ["early stopping" if train.get("patience") is not None else "fixed epochs"]
        extras += ["flip averaging at test time"] if spec.get("tta_flip") else []
        extras += [f"label smoothing {train['label_smoothing']:g}"] if train.get("label_smoothing") else []
        aug = augmentation(spec["hparams"])
        values = {"optimiser, learning rate": [optimizer], "schedule": [schedule],
                  "epochs": [str(train["epochs"])], "batch": [str(train["batch_size"])],
                  "augmentation": ["none"] if aug == "no augmentation" else aug.replace(" and ", ", ").split(", "),
                  "also": extras}
        row = rows.setdefault(recipe_name(spec), {k: set() for k in values})
        for k, v in values.items():
            row[k].update(v)
    ordered = {k: v for k, v in sorted(rows.items(), key=lambda kv: ("Source" not in kv[0], "MLP" not in kv[0]))}
    return pd.DataFrame.from_dict({r: {k: " / ".join(sorted(v, key=_natural)) or "none" for k, v in cols.items()}
                                   for r, cols in ordered.items()}, orient="index")


def _natural(text: str):
    """Sort '6' before '18' and '0.001' before '0.002': numbers by value, words alphabetically."""
    try:
        return (0, float(text.split()[-1]), text)
    except ValueError:
        return (1, 0.0, text)


def ingredient(step: str) -> str:
    """An ablation step in words: '+ a longer schedule for cnn_recipe_deep' → '+ a longer schedule for CNN-5'."""
    words, _, model_id = step.rpartition(" for ")
    return f"{words} for {display_name(model_id).split(',')[0]}" if words else step


def ablation_rows(summary: dict, records: list[dict]) -> pd.DataFrame:
    """Notebook 03's recipe ladder for a reader: each step's change on the validation images, tested."""
    rows = {}
    for r in records:
        first = pd.isna(r["val_p"])
        change = "" if first else f"{100 * r['val_change']:+.2f} ({format_p(r['val_p'])})"
        shirt = "" if first or pd.isna(r.get("shirt_p", float("nan"))) else \
            f"{100 * r['shirt_change']:+.2f} ({format_p(r['shirt_p'])})"
        rows[ingredient(r["ingredient"])] = {
            "model": name(summary, r["model"]),
            "compared with": name(summary, r["compared_with"]) if r.get("compared_with") else "",
            "val. acc.": pct(r["val_accuracy"]), "change (p)": change,
            "Shirt recall": pct(r["shirt_recall"], 1) if "shirt_recall" in r else "", "Shirt change (p)": shirt,
            "s/epoch": f"{r['seconds_per_epoch']:.0f}"}
    return pd.DataFrame.from_dict(rows, orient="index")


BEST = "best:"  # in references.csv's "ours": the model the results chose, e.g. "best:ensemble" (the published one)


def reproduction_rows(summary: dict, refs: pd.DataFrame) -> pd.DataFrame:
    """Every published number of the source reports that we reproduced next to ours for the same experiment (report
    001 published validation accuracies: those rows compare validation) and what differs."""
    rows = {}
    for _, r in refs[refs["ours"] != ""].iterrows():
        ours_id = summary["best"][r["ours"][len(BEST):]] if r["ours"].startswith(BEST) else r["ours"]
        ours = summary["models"].get(ours_id)
        mine = ours["test_accuracy" if r["metric"] == "test" else "val_accuracy"] if ours else None
        metric = "" if r["metric"] == "test" else " (val.)"
        rows[f"{r['source'].split()[-1]}: {r['experiment']}{metric}"] = {
            "theirs": pct(r["published"]), "ours": pct(mine) if ours else "—",
            "diff.": f"{100 * (mine - r['published']):+.2f}" if ours else "—",
            "what differs": (f"{r['their_epochs']} vs {ours['epochs']} epochs; " if ours and pd.notna(r["their_epochs"])
                             and "members" not in ours else "") + r["their_setup"]}
    return pd.DataFrame.from_dict(rows, orient="index")


STEP_TITLES = {"01_eda": "Data", "02_mlp_baselines": "MLPs", "03_cnn_stages": "CNNs",
               "04_hyperband_tuning": "Hyperband", "05_ensemble": "Ensemble", "06_transfer_learning": "Transfer",
               "07_design_choices": "Design"}


def step_minutes(summary: dict, results_dir: Path) -> pd.DataFrame:
    """Each step's measured time (its latest run that trained every model it records; ``*``: estimated) and the CPU it
    ran on (where that run recorded none, the CPU of the step's latest run)."""
    def cpu(step: str, cold: dict) -> str:
        return cold.get("cpu") or load_step(results_dir, step).get("hardware", {}).get("cpu", "")
    rows = {STEP_TITLES[step]: {"minutes": f"{run['training_run']['seconds'] / 60:.1f}"
                                           + ("*" if run["training_run"].get("estimated") else ""),
                                     "models trained": run["training_run"]["models_trained"],
                                     "CPU": cpu(step, run["training_run"])}
            for step, run in sorted(summary["notebooks"].items())}
    return pd.DataFrame.from_dict(rows, orient="index")


def ensemble_rows(summary: dict, probs: dict, y_test) -> tuple[pd.DataFrame, dict]:
    """The published ensemble against single networks (the member chosen on validation, the member best on the test
    set: one row when they are one network; the distilled student), against the other ensemble of notebook 05 and
    against a majority vote of its own members: members, training minutes, accuracies and McNemar's test of each
    row against the published soft vote. Returns the table and the comparisons by row."""
    models, extra = summary["models"], summary["extra"]
    ens_id = summary["best"]["ensemble"]
    other_id = next(i for i in ("cnn_ensemble", "cnn_ensemble_chosen") if i != ens_id)
    ens, other = models[ens_id], models[other_id]
    by_val, by_test = (extra[f"mcnemar_ensemble_vs_{k}"]["single"] for k in ("single", "best_member_on_test"))
    hard = np.eye(probs[ens_id].shape[1])[hard_vote(np.stack([probs[m] for m in ens["members"]]))]
    votes = {"by_val": probs[by_val], "by_test": probs[by_test], "student": probs["cnn_student"],
             "other": probs[other_id], "soft": probs[ens_id], "hard": hard}
    comparisons = {k: compare(k, "soft", votes, y_test) for k in votes if k != "soft"}

    def ensemble_label(entry: dict, entry_id: str) -> str:
        chosen = " chosen on validation" if entry_id == "cnn_ensemble_chosen" else ", all members"
        return f"soft vote of {len(entry['members'])} CNNs{chosen}"

    # Each row: its comparison's key, the networks trained for it, and its results entry.
    singles = ({f"member chosen on validation and best on test ({name(summary, by_val)})": ("by_val", [by_val], by_val)}
               if by_val == by_test else
               {f"member chosen on validation ({name(summary, by_val)})": ("by_val", [by_val], by_val),
                f"member best on test ({name(summary, by_test)})": ("by_test", [by_test], by_test)})
    rows = {**singles,
            name(summary, "cnn_student"): ("student", ["cnn_student"], "cnn_student"),
            ensemble_label(other, other_id): ("other", other["members"], other_id),
            f"{ensemble_label(ens, ens_id)} (reported)": ("soft", ens["members"], ens_id),
            f"majority vote of the same {len(ens['members'])}": ("hard", ens["members"], None)}
    table = {}
    for label, (key, trained, entry_id) in rows.items():
        c = comparisons.get(key)
        minutes = sum(models[i]["train_seconds"] for i in trained) / 60
        table[label] = {"members": len(trained), "train min": f"{minutes:.0f}",
                        "val. acc.": pct(models[entry_id]["val_accuracy"]) if entry_id else "—",
                        "test acc.": pct(float(np.mean(np.asarray(votes[key]).argmax(1) == y_test))),
                        "vs. the ensemble": f"{c.only_a_correct} vs {c.only_b_correct}, "
                        f"{format_p(c.p_value)}" if c else ""}
    return pd.DataFrame.from_dict(table, orient="index"), comparisons


def overfitting_table(summary: dict) -> pd.DataFrame:
    """Per family and recipe, from the recorded training histories (medians over the models): the last epoch's
    training and validation accuracy and loss, and how many models reached their lowest validation loss before
    their last epoch. Training accuracy is measured with dropout and augmentation on."""
    groups: dict[str, list] = {}
    for model, h in summary["histories"].items():
        entry = summary["models"].get(model, {})
        if entry.get("family") not in ("mlp", "cnn") or not h.get("val_loss"):
            continue
        recipe = "our recipe" if recipe_name(entry["spec"]).startswith("Our") else "source reports' recipe"
        group = f"{entry['family'].upper()}s, {recipe}"
        groups.setdefault(group, []).append(
            {"train acc.": h["accuracy"][-1], "val. acc.": h["val_accuracy"][-1], "train loss": h["loss"][-1],
             "val. loss": h["val_loss"][-1], "early": int(np.argmin(h["val_loss"])) + 1 < len(h["val_loss"])})
    rows = {}
    for group, runs in sorted(groups.items()):
        frame = pd.DataFrame(runs)
        med = frame.median(numeric_only=True)
        rows[group] = {"models": len(frame), "train acc.": pct(med["train acc."]), "val. acc.": pct(med["val. acc."]),
                       "gap (points)": f"{100 * (med['train acc.'] - med['val. acc.']):+.2f}",
                       "train loss": f"{med['train loss']:.3f}", "val. loss": f"{med['val. loss']:.3f}",
                       "val. loss lowest earlier": f"{int(frame['early'].sum())} of {len(frame)}"}
    return pd.DataFrame.from_dict(rows, orient="index")


def per_class_table(summary: dict, probs: dict, y_test) -> pd.DataFrame:
    """Precision, recall and F1 per class (%) of the best single CNN and of the ensemble, and the class the
    ensemble most often takes each one for, with how many test images."""
    columns = {}
    for label, model in (("CNN", summary["best"]["cnn"]), ("ensemble", summary["best"]["ensemble"])):
        scores = classification_table(y_test, probs[model].argmax(1))
        for metric, short in (("precision", "P"), ("recall", "R"), ("f1", "F1")):
            columns[f"{label} {short}"] = [f"{100 * v:.1f}" for v in scores[metric]]
    errors = confusion(y_test, probs[summary["best"]["ensemble"]].argmax(1))
    np.fill_diagonal(errors, 0)
    columns["ensemble mistakes it most for"] = [f"{CLASS_NAMES[row.argmax()]} ({row.max()})" for row in errors]
    return pd.DataFrame(columns, index=list(CLASS_NAMES))


def tuning_space_table() -> pd.DataFrame:
    """Both Hyperband search spaces in one table, read from the space functions themselves."""
    frames = {space.upper(): space_table(space)["values"] for space in ("mlp", "cnn")}
    rows = {f"{space}: {param.replace('_', ' ')}": values
            for space, frame in frames.items() for param, values in frame.items()}
    return pd.DataFrame({"values": rows})


def bench_facts(results_dir: Path) -> dict | None:
    """``make bench``'s measurements in the words the report uses (None before a benchmark ran)."""
    path = Path(results_dir) / "bench.json"
    if not path.is_file():
        return None
    bench = json.loads(path.read_text())
    tp = bench["throughput"]
    fast = tp.get("cnn_images_per_s_precision", tp["cnn_images_per_s"])
    return {"images_per_s": fast, "precision": tp.get("cnn_precision", "float32").replace("mixed_", ""),
            "precision_speedup": fast / tp["cnn_images_per_s"], "target": bench["target_accuracy"],
            "speedup": bench.get("speedup"), "cnn": tp.get("cnn"),
            "cpu": f"{bench['hardware']['cores']}-core "  # 'Intel(R) Xeon(R) Processor' → '2-core Intel Xeon'
                   + " ".join(w for w in bench["hardware"]["cpu"].replace("(R)", "").split() if w != "Processor")}


def significant_steps(records: list[dict]) -> list[dict]:
    """The ablation steps whose change on the validation images is significant by McNemar's test."""
    unchanged = step_effect(0.0, 1.0)
    return [r for r in records[1:] if not pd.isna(r["val_p"]) and step_effect(r["val_change"], r["val_p"]) != unchanged]


def readme_results(summary: dict, refs: pd.DataFrame) -> str:
    """The README's results table (Markdown), from the results files: ``tests/test_project.py`` checks that the
    README holds exactly this, so its numbers cannot drift from the published results."""
    models, best = summary["models"], summary["best"]
    published = refs[(refs["source"] == "report 003") & (refs["metric"] == "test")].groupby("family")["published"].max()
    lines = ["| test set (10,000 images) | ours | report 003 |", "| --- | --- | --- |"]
    for family, what in (("mlp", "MLP chosen on validation"), ("cnn", "single CNN chosen on validation"),
                         ("ensemble", "ensemble")):
        m = models[best[family]]
        chosen = " chosen on validation" if best[family] == "cnn_ensemble_chosen" else ""
        label = (f"{what}: soft vote of {len(m['members'])} CNNs{chosen}" if "members" in m
                 else f"{what}: {name(summary, best[family])}")
        lines.append(f"| {label} | {pct(m['test_accuracy'])} (95% CI {ci(m)}) | {pct(published[family])} |")
    teachers = len(models["cnn_student"]["spec"]["train"]["teachers"]) if "cnn_student" in models else 0
    for model, what in (("cnn_student", f"distilled from the {teachers} members"),
                        ("lite0_finetuned", "transfer from ImageNet")):
        if model in models and model != best["cnn"]:
            m = models[model]
            lines.append(f"| {what}: {name(summary, model)} | {pct(m['test_accuracy'])} (95% CI {ci(m)}) | — |")
    return "\n".join(lines)


def transfer_sizes(extra: dict) -> tuple[int, list[int]]:
    tried = pd.DataFrame(extra["transfer_sizes"])
    return int(tried.loc[tried["chosen"], "input_size"].iloc[0]), [int(s) for s in tried["input_size"]]
