"""The numbers and phrases of the report's text: :func:`report_facts` gives each ``{{placeholder}}`` of the Markdown
cells of ``report/report.ipynb`` its words (a percentage, a McNemar verdict, a list of names), and :func:`fill` puts
them in when the PDF is built. Which models form each study is stated here once (:data:`MLP_STUDIES`,
:data:`CNN_STAGES`, :data:`DESIGN`).
"""

from __future__ import annotations

import json
import re

from .. import results
from ..compute.spec import TrainConfig
from . import claims
from .layout import fig, tab
from .names import MEMBER, MEMBER_DESIGNS, description, network
from .tables import (
    bench_facts,
    ensemble_rows,
    ingredient,
    name,
    overfitting_table,
    references,
    seed_copies,
    significant_steps,
    transfer_sizes,
)
from .words import augmentation, ci, gap, in_words, inside_interval, listing, minutes, pct, recipe_differences

MLP_STUDIES = {"report 004's ladder": ["linear", "mlp_256", "mlp_256_128_100_dropout"],
               "report 001's activations": ["mlp_128_relu", "mlp_128_tanh", "mlp_128_sigmoid", "mlp_128_identity"],
               "report 003's depths": ["mlp_small", "mlp_medium", "mlp_large"], "ours": ["mlp_bn_aug_cosine"],
               "Hyperband": ["mlp_tuned"]}
CNN_STAGES = {"1: report 004": ["cnn_1conv_mlp", "cnn_2conv"], "2: flips": ["cnn_2conv_aug"],
              "3: BN designs": ["lenet_bn", "vgg_bn_deep", "cnn_recipe", "cnn_recipe_seed2"],
              "4: ablation": ["cnn_recipe_deeper", "cnn_recipe_harder", "cnn_recipe_smoothed", "cnn_recipe_deep",
                              "cnn_final", "cnn_final_seed2"], "Hyperband": ["cnn_tuned"]}
# Both MLP studies change one thing in one baseline (Glorot init, Adam): it is listed once, as mlp_init_glorot.
DESIGN = {"baseline of both studies": ["mlp_init_glorot"], "initialisation": ["mlp_init_he", "mlp_init_poor"],
          "optimiser": ["mlp_sgd", "mlp_rmsprop"],
          "pooling × regulariser": ["cnn_max_dropout", "cnn_average_dropout", "cnn_max_batchnorm",
                                    "cnn_average_batchnorm"]}
PLACEHOLDER = re.compile(r"\{\{\s*([\w:.-]+)\s*\}\}")
ENSEMBLE_WORDS = ("less accurate than", "more accurate than")


def groups(studies: dict) -> tuple[list[str], dict[str, str]]:
    """The models of a set of studies in order, and the study of each (a results table's first column)."""
    return [i for ids in studies.values() for i in ids], {i: s for s, ids in studies.items() for i in ids}


def design_groups(summary: dict) -> dict[str, str]:
    """The design studies' table groups: each optimiser with the learning rate validation chose for it."""
    models = summary["models"]
    rate = {o: f"{models[f'mlp_{o}']['spec']['train']['learning_rate']:g}" for o in ("sgd", "rmsprop")}
    return {i: (f"{g}, learning rate {rate[i[4:]]}" if g == "optimiser" else g)
            for g, ids in DESIGN.items() for i in ids}


def fill(text: str, facts: dict[str, str]) -> str:
    """``text`` with each ``{{key}}`` replaced by its fact (``{{fig:x}}``, ``{{tab:x}}``: references)."""
    def one(match: re.Match) -> str:
        key = match.group(1)
        if key.startswith("fig:"):
            return fig(key[4:])
        if key.startswith("tab:"):
            return tab(key)
        if key not in facts:
            raise KeyError(f"The report's text uses {{{{{key}}}}}, which fmnist_utils.present.facts.report_facts "
                           "does not give: add it there.")
        return str(facts[key])
    return PLACEHOLDER.sub(one, text)


def report_facts(summary: dict, probs: dict, y_test, profile) -> dict[str, str]:
    """Every placeholder of the report's text, as the words that replace it."""
    def vs(a, b):  # McNemar's test of a against b on the test set
        return claims.compare(a, b, probs, y_test)

    facts = ensemble_facts(summary, probs, y_test)
    for part in (_overview, _mlps, _cnns, _design, _tuning, _ensemble, _transfer, _discussion, _overfitting, _appendix):
        facts.update(part(summary, vs, profile))
    return {k: str(v) for k, v in facts.items()}


def _overview(s, vs, profile):
    m, best, extra = s["models"], s["best"], s["extra"]
    mlp, cnn, ens = (m[best[f]] for f in ("mlp", "cnn", "ensemble"))
    refs, bench = references(), bench_facts(profile.results_dir)
    published = refs[refs["metric"] == "test"].groupby("family")["published"].max()
    sizes, per_class = extra["eda"]["split_sizes"], extra["eda"]["images_per_class"]
    return {
        "cores": s["hardware"]["cores"], "test_images": f"{sizes['test']:,}", "mlp_acc": pct(mlp["test_accuracy"]),
        "cnn_description": description(cnn["spec"]),
        "mlp_ci": ci(mlp), "cnn_epochs": cnn["epochs"], "cnn_minutes": minutes(cnn["train_seconds"]),
        "cnn_acc": pct(cnn["test_accuracy"]), "cnn_ci": ci(cnn), "cnn_vs_mlp": vs(best["cnn"], best["mlp"]).verdict(),
        "cnn_vs_003": gap(cnn["test_accuracy"], published["cnn"]), "ens_size": len(ens["members"]),
        "ens_acc": pct(ens["test_accuracy"]), "ens_vs_003": gap(ens["test_accuracy"], published["ensemble"]),
        "cnn_003_inside": inside_interval(cnn, published["cnn"]),
        "ens_003_inside": inside_interval(ens, published["ensemble"]),
        "total_minutes": f"{sum(r['training_run']['seconds'] for r in s['notebooks'].values()) / 60:.0f}",
        "all_train_images": f"{sizes['train'] + sizes['val']:,}", "train_images": f"{sizes['train']:,}",
        "val_images": f"{sizes['val']:,}", "class_train_images": f"{per_class['train'][0] + per_class['val'][0]:,}",
        "class_test_images": f"{per_class['test'][0]:,}",
        "bf16_speed": ("" if not bench else f", which trains {bench['precision_speedup']:.1f} times as fast as "
                       "float32 on a CPU with bfloat16 instructions (Section 5)" if bench["precision_speedup"] >= 1.1
                       else ", although on the CPU of Section 5 it trains no faster than float32"),
        "tune_max_epochs": extra["tuning"]["mlp"]["max_epochs"],
        "tune_images": f"{extra['tuning']['mlp']['search_images']:,}", "alpha": claims.ALPHA}


def _mlps(s, vs, *_):
    relu = {a: vs("mlp_128_relu", f"mlp_128_{a}") for a in ("tanh", "sigmoid", "identity")}
    source = results.best_of({n: e for n, e in s["models"].items()  # the source reports' MLPs, as we ran them
                              if e["notebook"] == "02_mlp_baselines" and e["family"] == "mlp"
                              and n != "mlp_bn_aug_cosine"})
    deeper, hidden, ours = vs("mlp_large", "mlp_small"), vs("mlp_256", "linear"), vs("mlp_bn_aug_cosine", source)
    return {"hidden_vs_linear": hidden.verdict(), "hidden_evidence": hidden.evidence(),
            "relu_vs_tanh": relu["tanh"].verdict(), "relu_vs_sigmoid": relu["sigmoid"].verdict(),
            "relu_vs_identity": relu["identity"].verdict(), "relu_identity_evidence": relu["identity"].evidence(),
            "deeper_vs_smaller": deeper.verdict(), "deeper_evidence": deeper.evidence(),
            "our_mlp_vs_source": ours.verdict(), "our_mlp_evidence": ours.evidence(),
            "activation_lead": ("The kind of nonlinearity made no significant difference, but having one did: with"
                                if not (relu["tanh"].significant or relu["sigmoid"].significant)
                                and relu["identity"].a_is_better else "With"),
            "mlp_selected": (" and is the one validation selects" if s["best"]["mlp"] == "mlp_bn_aug_cosine"
                             else f"; validation selects the {name(s, s['best']['mlp'])}")}


def _cnns(s, vs, *_):
    m, best, extra = s["models"], s["best"], s["extra"]
    ladder, seeds = extra["recipe_ablation"], extra["recipe_seeds"]
    two_vs_one, flips, two_vs_mlp = vs("cnn_2conv", "cnn_1conv_mlp"), vs("cnn_2conv_aug", "cnn_2conv"), \
        vs("cnn_2conv", best["mlp"])
    stage3 = {i: vs("cnn_recipe", i) for i in ("lenet_bn", "vgg_bn_deep")}
    final_vs_recipe, seed_pair = vs(seeds[0], "cnn_recipe"), vs(*seeds)
    cnn_vs_mlp = vs(best["cnn"], best["mlp"])
    by_effect: dict[str, list[str]] = {}  # "raised" → the steps that raised validation accuracy
    for r in significant_steps(ladder):
        by_effect.setdefault(claims.step_effect(r["val_change"], r["val_p"]), []).append(
            ingredient(r["ingredient"]).removeprefix("+ "))
    moved = [f"{listing(steps)} {effect} {'validation accuracy' if not k else 'it'}"
             for k, (effect, steps) in enumerate(by_effect.items())]
    preferred = results.best_of({name: m[name] for name in seeds})
    return {"two_vs_one": two_vs_one.verdict(), "two_vs_one_evidence": two_vs_one.evidence(),
            "two_vs_mlp": two_vs_mlp.verdict(), "two_vs_mlp_evidence": two_vs_mlp.evidence(),
            "flips_effect": flips.effect(), "flips_evidence": flips.evidence(),
            "cnn2_epochs": m["cnn_recipe"]["epochs"],
            "cnn2_vs_lenet": stage3["lenet_bn"].verdict(),
            "cnn2_vs_cnn5_short": stage3["vgg_bn_deep"].verdict(),
            "cnn2_cnn5_short_evidence": stage3["vgg_bn_deep"].evidence(),
            "cnn2_lenet_evidence": stage3["lenet_bn"].evidence(),
            "ablation_in_short": (listing(moved) + "; no other step changed it") if moved
            else "no step changed it",
            "final_vs_cnn2": final_vs_recipe.verdict(), "final_vs_cnn2_evidence": final_vs_recipe.evidence(),
            "seed1_acc": pct(m[seeds[0]]["test_accuracy"]), "seed2_acc": pct(m[seeds[1]]["test_accuracy"]),
            "seeds_evidence": seed_pair.evidence(), "seed_preferred": ("first", "second")[seeds.index(preferred)],
            "seed_preferred_acc": pct(m[preferred]["test_accuracy"]), "seed_preferred_ci": ci(m[preferred]),
            "cnn_ladder_start": pct(m["cnn_2conv"]["test_accuracy"]),
            "cnn_selected": ("" if best["cnn"] == preferred else
                             " Among all our CNNs, including those trained for the ensemble below, validation selects "
                             f"{name(s, best['cnn'])} ({pct(m[best['cnn']]['test_accuracy'])}), "
                             f"{cnn_vs_mlp.verdict()} the selected MLP ({cnn_vs_mlp.evidence()}); we call it the "
                             "selected CNN.")}


def _design(s, vs, *_):
    m = s["models"]
    # Each comparison of a design choice, and how the text words it: a verdict ("less accurate than") or an effect
    # ("hurt"), with its evidence.
    pairs = {"he": ("mlp_init_he", "mlp_init_glorot", "effect"), "poor": ("mlp_init_poor", "mlp_init_glorot", "effect"),
             "sgd": ("mlp_sgd", "mlp_adam", "verdict"), "rms": ("mlp_rmsprop", "mlp_adam", "verdict")}
    facts = {}
    for key, (a, b, words) in pairs.items():
        c = claims.Replicated(tuple(vs(*pair) for pair in zip(seed_copies(s, a), seed_copies(s, b), strict=True)))
        facts.update({f"{key}_{words}": getattr(c, words)(), f"{key}_evidence": c.evidence()})
    small = m["cnn_max_dropout"]["spec"]
    # The pooling × regulariser tests are worded as findings.
    bn = claims.choice_in_two_settings((vs("cnn_max_batchnorm", "cnn_max_dropout"),
                                        vs("cnn_average_batchnorm", "cnn_average_dropout")), "batch normalisation",
                                       "dropout", ("with max pooling", "with average pooling"))
    pooling = claims.choice_in_two_settings((vs("cnn_max_dropout", "cnn_average_dropout"),
                                             vs("cnn_max_batchnorm", "cnn_average_batchnorm")), "max pooling",
                                            "average pooling", ("with dropout", "with batch normalisation"))
    return {**facts, "bn_finding": bn, "pooling_finding": pooling,
            "init_epochs": m["mlp_init_he"]["spec"]["train"]["epochs"],
            "design_seeds": in_words(len(seed_copies(s, "mlp_init_he"))),
            "small_cnn_epochs": small["train"]["epochs"], "small_cnn_images": f"{s['extra']['cnn_study_images']:,}"}


def trained_with(differences: list[str]) -> str:
    """One side of :func:`recipe_differences` as a phrase: "the source reports' recipe (30 epochs, no
    augmentation)" when the recipes differ, else the list."""
    if len(differences) > 1 and "recipe" in differences[0]:
        return f"{differences[0]} ({', '.join(differences[1:])})"
    return listing(differences)


def _tuning(s, vs, *_):
    tune, models = s["extra"]["tuning"], s["models"]
    th, found = tune["cnn"]["hparams"], tune["cnn"]
    hand = s["extra"]["mcnemar_tuned_vs_hand_designed"]["hand_designed"]
    tuned = {"mlp": vs("mlp_tuned", s["best"]["mlp"]), "cnn": vs("cnn_tuned", hand)}
    searched = {**models["cnn_tuned"]["spec"], "hparams": models[hand]["spec"]["hparams"]}  # augmentation was searched
    differs = {"mlp": recipe_differences(models["mlp_tuned"]["spec"], models[s["best"]["mlp"]]["spec"]),
               "cnn": recipe_differences(searched, models[hand]["spec"])}
    notes = [f"the tuned {f.upper()} trained with {trained_with(mine)}, our {f.upper()} with {trained_with(ours)}"
             for f, (mine, ours) in differs.items() if mine]
    width = th["blocks"][0][0]
    return {"tune_trials": tune["cnn"]["trials"], "tune_cnn_max_epochs": tune["cnn"]["max_epochs"],
            "tune_cnn_images": f"{tune['cnn']['search_images']:,}",
            "tuned_mlp_units": "-".join(map(str, tune["mlp"]["hparams"]["hidden_units"])),
            "tuned_cnn_width": width, "tuned_cnn_dense": th["dense_units"], "tuned_cnn_dropout": f"{th['dropout']:.1f}",
            "tuned_cnn_augment": augmentation(th), "tuned_cnn_lr": f"{found['learning_rate']:.1e}",
            "tuned_cnn_decay": (f"AdamW weight decay {found['weight_decay']:g}" if found["weight_decay"]
                                else "no weight decay"),
            "tuned_mlp_vs_ours": tuned["mlp"].verdict(), "tuned_mlp_evidence": tuned["mlp"].evidence(),
            "tuned_cnn_vs_ours": tuned["cnn"].verdict(), "tuned_cnn_evidence": tuned["cnn"].evidence(),
            "tuned_cnn_params": f"{models['cnn_tuned']['params']:,} parameters instead of {models[hand]['params']:,}",
            "tuned_recipe": (f"; {listing(notes)}, so {'each' if len(notes) > 1 else 'that'} comparison tests the "
                             "search and the recipe together" if notes
                             else " with the recipe of the model it is compared with"),
            "tuned_cnn_recipe": " (retrained with another recipe)" if differs["cnn"][0] else ""}


def _ensemble(s, *_):
    m, extra = s["models"], s["extra"]
    ens, everything, chosen = m[s["best"]["ensemble"]], m["cnn_ensemble"], m["cnn_ensemble_chosen"]
    student = TrainConfig.from_dict(m["cnn_student"]["spec"]["train"])
    residual = [c for c in extra["ensemble_candidates"] if (f := MEMBER.match(c)) and f["design"] == "residual"]
    kept = sum(c in residual for c in chosen["members"])
    accs, shown = sorted(m[c]["test_accuracy"] for c in residual), len(residual) > 1  # a quick run's one: unnamed
    return {"ens_all_size": len(everything["members"]), "ens_designs": design_copies(s, everything["members"]),
            "ens_other_candidates": len(extra["ensemble_candidates"]) - len(everything["members"]) - len(residual),
            "ens_residual": (f", and {in_words(len(residual))} copies of a residual network with global average "
                             f"pooling ({MEMBER_DESIGNS['residual']}, {pct(accs[0])}–{pct(accs[-1])} alone), "
                             f"trained with shifts and erasing to err unlike CNN-5, although these cost CNN-3 "
                             f"accuracy at 18 epochs ({tab('tab:ablation')})" if shown else ""),
            "ens_chosen_residual": (f", {in_words(kept) if kept else 'none'} of them {MEMBER_DESIGNS['residual']}"
                                    if shown else ""),
            "ens_chosen_size": len(chosen["members"]),
            "ens_published": ("the vote of all the members to theirs" if s["best"]["ensemble"] == "cnn_ensemble"
                              else "their vote to that of all the members"),
            "ens_ece": f"{ens['test_ece']:.4f}",
            "member_ece": f"{m[extra['mcnemar_ensemble_vs_single']['single']]['test_ece']:.4f}",
            "student_share": "half" if student.distill == 0.5 else pct(student.distill, 0),
            "student_temperature": f"{student.temperature:g}",
            "student_acc": pct(m["cnn_student"]["test_accuracy"]),
            "student_network": network(m["cnn_student"]["spec"])}


def design_copies(summary: dict, members: list[str]) -> str:
    """'10 copies of CNN-5 and 5 of Tuned CNN': an ensemble's members grouped by their spec but for the seed, each
    group named after the design of the members notebook 05 trained (:data:`fmnist_utils.present.names.MEMBER`)."""
    groups: dict[str, list[str]] = {}
    for member in members:
        spec = {**summary["models"][member]["spec"], "seed": None}
        groups.setdefault(json.dumps(spec, sort_keys=True), []).append(member)

    def design(ids: list[str]) -> str:
        found = [MEMBER.match(i) for i in ids]
        return next((MEMBER_DESIGNS[f["design"]] for f in found if f and f["design"] in MEMBER_DESIGNS),
                    name(summary, ids[0]))
    counted = sorted(((design(ids), len(ids)) for ids in groups.values()), key=lambda d: -d[1])
    return listing([f"{n} {'copies' if n > 1 else 'copy'} of {d}" if k == 0 else f"{n} of {d}"
                    for k, (d, n) in enumerate(counted)])


def _overfitting(s, *_):
    fit = overfitting_table(s)

    def cell(group: str, column: str) -> str:
        return fit.loc[group, column] if group in fit.index else "—"
    mlp, cnn = "MLPs, source reports' recipe", "CNNs, our recipe"
    below = [g.replace(", our", " with our").replace(", source", " with the source") for g in fit.index
             if fit.loc[g, "gap (points)"].startswith("-")]
    return {"fit_mlp_source_gap": cell(mlp, "gap (points)").lstrip("+"),
            "fit_mlp_source_early": cell(mlp, "val. loss lowest earlier"),
            "fit_cnn_ours_gap": cell(cnn, "gap (points)").lstrip("+"),
            "fit_cnn_ours_early": cell(cnn, "val. loss lowest earlier"),
            "fit_below": f"; it even sits below validation accuracy for {listing(below)}" if below else ""}


def _transfer(s, vs, *_):
    m, extra = s["models"], s["extra"]
    size, sizes_tried = transfer_sizes(extra)
    tuning, against_cnn = vs("lite0_finetuned", "lite0_frozen"), vs("lite0_finetuned", s["best"]["cnn"])
    return {"tl_size": size, "tl_sizes_tried": listing([str(x) for x in sizes_tried]),
            "tl_frozen_acc": pct(m["lite0_frozen"]["test_accuracy"]),
            "tl_frozen_minutes": minutes(m["lite0_frozen"]["train_seconds"]),
            "tl_tuned_acc": pct(m["lite0_finetuned"]["test_accuracy"]), "tl_tuned_ci": ci(m["lite0_finetuned"]),
            "tl_vs_frozen": tuning.verdict(), "tl_vs_frozen_evidence": tuning.evidence(),
            "tl_vs_cnn": against_cnn.verdict(), "tl_vs_cnn_evidence": against_cnn.evidence()}


def _discussion(s, vs, profile):
    m, extra = s["models"], s["extra"]
    bench = bench_facts(profile.results_dir)
    upper, shirt = extra["upper_body_confusions"], extra["ensemble_per_class"]["Shirt"]
    gaps = [e["val_accuracy"] - e["test_accuracy"] for e in m.values()]
    return {
        "compute": (f"a {bench['cpu']} trains {network(m[bench['cnn']]['spec']) if bench['cnn'] in m else 'a CNN'} at "
                    f"{bench['images_per_s']:,.0f} images a second in {bench['precision']} "
                    f"({bench['precision_speedup']:.2f} times its float32 speed)" if bench else "the CPU is slow"),
        "bench_speedup": (f" On report 004's two-convolution widths, these ingredients reach {pct(bench['target'], 0)} "
                          f"test accuracy {bench['speedup']:.1f} times sooner than report 004's recipe."
                          if bench and bench["speedup"] else ""),
        "seed_gap": f"{100 * abs(m['cnn_recipe']['test_accuracy'] - m['cnn_recipe_seed2']['test_accuracy']):.2f}",
        "shirt_recall": pct(shirt["recall"], 1), "upper_errors_within": upper["errors_within"],
        "upper_errors_total": upper["errors_total"], "upper_classes": listing(upper["classes"]),
        "val_gap_min": f"{100 * min(gaps):.2f}", "val_gap_max": f"{100 * max(gaps):.2f}"}


def _appendix(s, vs, profile):
    v, hw = s["versions"], s["hardware"]
    record = profile.store_dir / "demo.json"  # written by `make demo`
    demo = json.loads(record.read_text()) if record.is_file() else None
    from .figures import GALLERY_PER_KIND, TOP_CLASSES

    return {"gallery_images": in_words(2 * GALLERY_PER_KIND), "gallery_per_kind": in_words(GALLERY_PER_KIND),
            "gallery_top": in_words(TOP_CLASSES),
            "predict": (". `make predict IMAGE=photo.png` prints the three most probable classes of any picture, "
                        "prepared as Fashion-MNIST's images were (grey, inverted if its background is light, "
                        f"resized to 28×28). {fig('demo_photo')} shows it on a sneaker from the validation split, "
                        "which no network trained on, dressed as a photograph." if demo
                        else "."),
            "memory_gib": f"{hw['memory_gib']:.0f}", "python": v["python"], "tensorflow": v["tensorflow"],
            "keras": v["keras"], "keras_tuner": v["keras_tuner"], "scikit_learn": v["scikit-learn"]}


def ensemble_facts(summary: dict, probs: dict, y_test) -> dict[str, str]:
    """The ensemble's McNemar verdicts (:func:`~fmnist_utils.present.tables.ensemble_rows`; its table shows them)."""
    _, tests = ensemble_rows(summary, probs, y_test)
    extra, models = summary["extra"], summary["models"]
    student = claims.compare("cnn_student", extra["mcnemar_student_vs_same_design"]["rival"], probs, y_test)
    hand = results.best_of({n: e for n, e in models.items()  # notebook 05's hand-designed CNN
                            if e["family"] == "cnn" and e["notebook"] == "03_cnn_stages"})
    by_val, by_test = (extra[f"mcnemar_ensemble_vs_{k}"]["single"] for k in ("single", "best_member_on_test"))
    on_val, on_test = (tests[k].verdict(*ENSEMBLE_WORDS) for k in ("by_val", "by_test"))
    other = tests["other"]
    chosen, everything = models["cnn_ensemble_chosen"], models["cnn_ensemble"]
    minutes_share = chosen["member_train_seconds"] / everything["member_train_seconds"]
    lesson = (f" Voting together, the {in_words(len(chosen['members']))} CNNs chosen on validation are "
              f"{other.verdict(*ENSEMBLE_WORDS)} the full ensemble, {design_copies(summary, everything['members'])} "
              f"({claims.format_p(other.p_value)}; {other.only_b_correct} vs {other.only_a_correct}), at "
              f"{pct(minutes_share, 0)} of their training time."
              if summary["best"]["ensemble"] == "cnn_ensemble_chosen" else "")
    return {**error_overlap(summary, probs, y_test, hand), "ens_vs_best_on_test": on_test, "ens_lesson": lesson,
            "ens_vs_members": (f"{on_val} its member chosen on validation, which is its best on the test set too"
                               if by_val == by_test else f"{on_val} its member chosen on validation and {on_test} its "
                               "member best on the test set itself"),
            "hard_vs_soft": tests["hard"].verdict(), "student_vs_same": student.verdict(),
            "student_evidence": student.evidence()}


def error_overlap(summary: dict, probs: dict, y_test, hand: str) -> dict[str, str]:
    """How much two seeds of the hand-designed CNN, and a residual copy and that CNN, err on the same test images: the
    share of their errors in common (of the mean of their error counts)."""
    def shared(a: str, b: str) -> str:
        wrong_a, wrong_b = (probs[i].argmax(1) != y_test for i in (a, b))
        return pct((wrong_a & wrong_b).sum() / ((wrong_a.sum() + wrong_b.sum()) / 2), 0)

    def same_design(i: str) -> bool:
        return {**summary["models"][i]["spec"], "seed": 0} == {**summary["models"][hand]["spec"], "seed": 0}
    cnns = [i for i, e in summary["models"].items() if e["family"] == "cnn" and i != hand and i in probs]
    seed = next((i for i in cnns if same_design(i)), None)
    residual = next((i for i in cnns if summary["models"][i]["spec"]["arch"] == "residual_bn"), None)
    design = network(summary["models"][hand]["spec"])
    words = f"two copies of {design} share {shared(hand, seed)} of their test errors" if seed else ""
    if seed and residual:
        other = network(summary["models"][residual]["spec"])
        words += f", a copy of {other} and one of {design} {shared(hand, residual)}"
    return {"ens_error_overlap": f"Seeds of one design err together: {words}." if words else ""}
