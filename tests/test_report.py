import pytest

from fmnist_utils import report


@pytest.mark.parametrize("hparams, words", [
    ({}, "no augmentation"),
    ({"augment": {"flip": True, "shift": 0.0}}, "random horizontal flips"),
    ({"augment": {"flip": True}}, "random horizontal flips and shifts of up to 10%"),  # the block's default shift
    ({"augment": {"flip": False, "shift": 0.05}}, "shifts of up to 5%"),
    ({"augment": {"flip": True, "shift": 2 / 28, "erasing": 0.5}},
     "random horizontal flips, shifts of up to 2 pixels and random erasing"),
])
def test_augmentation_in_words(hparams, words):
    assert report.augmentation(hparams) == words


def test_pct_and_ci():
    assert report.pct(0.93456) == "93.46%"
    assert report.ci({"test_accuracy_ci95": [0.9, 0.91]}) == "90.00–91.00%"


def test_plural():
    assert report.plural(1, "epoch") == "1 epoch"
    assert report.plural(4, "epoch") == "4 epochs"
    assert report.plural(2, "branch", "branches") == "2 branches" and report.plural(1, "branch", "branches") == "1 branch"


def test_default_shift_matches_the_augmentation_block():
    import inspect

    from fmnist_utils import augment

    default = inspect.signature(augment.augmentation_block).parameters["shift"].default
    assert report.BLOCK_DEFAULT_SHIFT == default


def _entry(train, **spec):
    return {"epochs": 7, "spec": {"arch": "mlp", "hparams": {}, "train": train, **spec}}


def test_recipe_in_words_follows_the_spec():
    plateau = {"epochs": 30, "batch_size": 128, "learning_rate": 1e-3, "schedule": "plateau", "warmup_epochs": 0,
               "patience": 6, "weight_decay": 0.0}
    assert report.recipe(_entry(plateau)) == ("Adam 0.001 (halved on plateau), batch 128; "
                                              "early stop (patience 6), ran 7 of 30")
    cosine = {**plateau, "schedule": "cosine", "warmup_epochs": 1, "patience": None, "learning_rate": 2e-3,
              "epochs": 12, "weight_decay": 1e-4}
    assert report.recipe(_entry(cosine, tta_flip=True, init="abc")) == (
        "AdamW 0.002 (1 warm-up epoch + cosine), batch 128; 12 epochs; starts from the base model's weights; "
        "test-time flip averaging")
    assert report.recipe(_entry({**cosine, "precision": "mixed_bfloat16"})).endswith("12 epochs; bfloat16 mixed precision")
    assert report.recipe(_entry({**cosine, "label_smoothing": 0.1})).endswith("12 epochs; label smoothing 0.1")


def test_reproduction_table_compares_the_same_metric():
    import pandas as pd

    summary = {"models": {"a": {"test_accuracy": 0.90, "val_accuracy": 0.92, "epochs": 10}}}
    refs = pd.DataFrame([
        {"source": "report 004", "experiment": "x", "metric": "test", "published": 0.89, "ours": "a",
         "their_epochs": 40, "their_setup": "Adam"},
        {"source": "report 001", "experiment": "y", "metric": "validation", "published": 0.85, "ours": "a",
         "their_epochs": pd.NA, "their_setup": "plots"},
        {"source": "report 002", "experiment": "z", "metric": "test", "published": 0.9, "ours": "",
         "their_epochs": 30, "their_setup": "BN"}])
    table = report.reproduction_table(summary, refs)
    assert table.loc["004: x", "ours"] == "90.00%" and table.loc["004: x", "diff."] == "+1.00"
    assert table.loc["004: x", "why they differ"] == "40 vs 10 epochs; Adam"
    assert table.loc["001: y (validation)", "ours"] == "92.00%"  # validation against validation
    assert table.loc["002: z", "ours"] == "—" and table.loc["002: z", "diff."] == "—"


def test_an_ensembles_epochs_are_its_members_range():
    models = {"a": {"epochs": 30}, "b": {"epochs": 18}}
    ens = {"epochs": 19, "members": ["new_00", "a", "b"]}  # new_00: trained for the ensemble, 19 epochs
    assert report.member_epochs(ens, models) == "3 members of 18–30 epochs"
    assert report.member_epochs({"epochs": 19, "members": ["new_00", "new_01"]}, models) == "2 members of 19 epochs"
    assert report.member_epochs({"epochs": 1}, models) == "1 epoch"


def test_published_references_name_recorded_models_and_known_metrics():
    refs = report.references()
    assert set(refs["metric"]) <= {"test", "validation"}
    assert refs["published"].between(0.5, 1).all()
    assert refs["family"].isin(["baseline", "mlp", "cnn", "ensemble"]).all()


def test_gap_says_which_side_in_unsigned_points():
    assert report.points(-0.0064) == "0.64 points"
    assert report.gap(0.9345, 0.9409) == "0.64 points below"
    assert report.gap(0.9519, 0.9509) == "0.10 points above"


def test_listing_joins_with_and():
    assert report.listing(["a"]) == "a"
    assert report.listing(["a", "b"]) == "a and b"
    assert report.listing(["a", "b", "c"]) == "a, b and c"


def test_ablation_table_compares_each_step_with_the_model_it_builds_on():
    records = [{"ingredient": "start", "model": "a", "val_accuracy": 0.9, "seconds_per_epoch": 20.0,
                "val_change": float("nan"), "val_p": float("nan")},
               {"ingredient": "+ more", "model": "b", "val_accuracy": 0.9123, "seconds_per_epoch": 21.04,
                "val_change": 0.0123, "val_p": 0.0004},  # older results: no "compared_with", the step before
               {"ingredient": "+ other", "model": "c", "val_accuracy": 0.91, "seconds_per_epoch": 30.0,
                "val_change": 0.01, "val_p": 0.2, "compared_with": "a"}]
    table = report.ablation_table(records)
    assert list(table.index) == ["start", "+ more", "+ other"]
    assert table.loc["start", "change (McNemar)"] == ""
    assert table.loc["start", "builds on"] == ""
    assert table.loc["+ more"].tolist() == ["b", "a", "91.23%", "+1.23 (p < 0.001)", "21.0"]
    assert table.loc["+ other", "builds on"] == "a"


def test_a_long_table_breaks_across_pages_and_a_short_one_floats(monkeypatch):
    import pandas as pd

    shown = []
    monkeypatch.setattr(report, "show", lambda markdown, latex=None: shown.append(latex))
    frame = pd.DataFrame({"layers": ["conv 3×3", "dense_256"]}, index=["cnn_a", "mlp_b"])
    report.table(frame, "Every model: 100% of them.", "tab:models", size="scriptsize", long=True)
    report.table(frame, "Two models.", "tab:two")
    long, short = shown
    assert long.startswith("{\\scriptsize\n\\begin{longtable}") and "\\begin{table}" not in long
    assert "\\caption{Every model: 100\\% of them.}" in long and "\\label{tab:models}" in long
    assert "\\endhead" in long and "mlp\\_b" in long and "dense\\_256" in long  # header repeats; cells escaped
    assert short.startswith("\\begin{table}[htbp]") and "longtable" not in short


def test_model_names_in_a_label_are_set_in_code_type():
    assert report.code_names("a longer schedule for cnn_recipe_deep") == "a longer schedule for `cnn_recipe_deep`"
    assert report.code_names("mlp_256 and cnn_final, then a third conv") == "`mlp_256` and `cnn_final`, then a third conv"
    assert report.code_names("test-time flips") == "test-time flips"


def test_ablation_table_shows_the_shirt_recall_where_it_was_recorded():
    records = [{"ingredient": "start", "model": "a", "val_accuracy": 0.9, "seconds_per_epoch": 20.0,
                "val_change": float("nan"), "val_p": float("nan"), "shirt_recall": 0.8, "shirt_change": float("nan"),
                "shirt_p": float("nan")},
               {"ingredient": "+ more", "model": "b", "val_accuracy": 0.91, "seconds_per_epoch": 20.0,
                "val_change": 0.01, "val_p": 0.2, "shirt_recall": 0.8123, "shirt_change": 0.0123, "shirt_p": 0.03}]
    table = report.ablation_table(records)
    assert table.loc["start", "Shirt recall"] == "80.00%" and table.loc["start", "Shirt change"] == ""
    assert table.loc["+ more", "Shirt change"] == "+1.23 (p = 0.03)"
    assert list(table.columns)[-1] == "s / epoch"
    assert "Shirt recall" not in report.ablation_table([{k: v for k, v in records[0].items()
                                                          if not k.startswith("shirt")}]).columns


def _shirt_step(name, change, p):
    return {"ingredient": f"+ {name}", "shirt_images": 600, "shirt_change": change, "shirt_p": p}


def test_shirt_sentence_names_the_significant_steps_and_sums_up_the_rest():
    first = {"ingredient": "start", "shirt_images": 600, "shirt_change": float("nan"), "shirt_p": float("nan")}
    calm = [first, _shirt_step("a", -0.0183, 0.18), _shirt_step("b", 0.0083, 0.46)]
    assert report.shirt_sentence(calm) == ("On the 600 validation shirts (the class report 003 aimed shifts and rotations "
                                           "at), no step significantly changed recall (from -1.83 to +0.83 points; "
                                           "smallest p = 0.18).")
    moved = report.shirt_sentence(calm + [_shirt_step("c", 0.03, 0.01)])
    assert "c raised recall (+3.00 points, p = 0.01); no other step significantly changed recall" in moved
    assert report.shirt_sentence([{k: v for k, v in first.items() if not k.startswith("shirt")}]) == ""


def _race_run(seconds, runs):
    return {"seconds_to_target": seconds, "seconds_to_target_runs": runs}


def test_race_margin_speaks_only_when_the_two_fastest_are_closer_than_the_timing_noise():
    close = [_race_run(27.2, [32.2, 27.2]), _race_run(27.4, [33.6, 27.4]), _race_run(None, [None, None])]
    assert report.race_margin(close) == ("The two fastest candidates finished 0.2 s apart, less than two timed runs of "
                                         "one schedule differ here (up to 6.2 s): the choice between them is as noisy "
                                         "as the timing.")
    assert report.race_margin([_race_run(20.0, [20.5, 20.0]), _race_run(30.0, [30.0, 31.0])]) == ""
    assert report.race_margin([_race_run(20.0, [20.0]), _race_run(20.1, [20.1])]) == ""  # one run each: no spread known
    assert report.race_margin([_race_run(20.0, [20.0, 25.0])]) == ""


def test_selection_plateau_gives_where_validation_accuracy_stood_and_its_range_after_the_first_members():
    growth = [0.95017, 0.95317, 0.9525, 0.9525, 0.9535, 0.95383, 0.95317]
    assert report.selection_plateau(growth) == ("the soft vote's validation accuracy was 95.32% with 2 members and "
                                                "stayed between 95.25% and 95.38% as 5 more were added")
    assert report.selection_plateau([0.90, 0.92, 0.91], members=2).endswith("as 1 more was added")
    assert report.selection_plateau([0.90, 0.92]) == ""  # nothing added after the first two
