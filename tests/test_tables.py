import numpy as np
import pytest

from fmnist_utils.present import layout, tables, words


@pytest.mark.parametrize("hparams, expected", [
    ({}, "no augmentation"),
    ({"augment": {"flip": True, "shift": 0.0}}, "random horizontal flips"),
    ({"augment": {"flip": True}}, "random horizontal flips and shifts of up to 10%"),  # the block's default shift
    ({"augment": {"flip": False, "shift": 0.05}}, "shifts of up to 5%"),
    ({"augment": {"flip": True, "shift": 2 / 28, "erasing": 0.5}},
     "random horizontal flips, shifts of up to 2 pixels and random erasing"),
])
def test_augmentation_in_words(hparams, expected):
    assert words.augmentation(hparams) == expected


def test_pct_and_ci():
    assert words.pct(0.93456) == "93.46%"
    assert words.ci({"test_accuracy_ci95": [0.9, 0.91]}) == "90.00–91.00%"


def test_plural():
    assert words.plural(1, "epoch") == "1 epoch"
    assert words.plural(4, "epoch") == "4 epochs"


def test_published_references_name_recorded_models_and_known_metrics():
    refs = tables.references()
    assert set(refs["metric"]) <= {"test", "validation"}
    assert refs["published"].between(0.5, 1).all()
    assert refs["family"].isin(["baseline", "mlp", "cnn", "ensemble"]).all()


def test_gap_says_which_side_in_unsigned_points():
    assert words.gap(0.9345, 0.9409) == "0.64 points below"
    assert words.gap(0.9519, 0.9509) == "0.10 points above"


def test_listing_joins_with_and():
    assert words.listing(["a"]) == "a"
    assert words.listing(["a", "b"]) == "a and b"
    assert words.listing(["a", "b", "c"]) == "a, b and c"


def test_a_table_floats_with_its_caption_and_label_and_escapes_its_cells(monkeypatch):
    import pandas as pd

    shown = []
    monkeypatch.setattr(layout, "show", lambda markdown, latex=None: shown.append(latex))
    frame = pd.DataFrame({"layers": ["conv 3×3", "dense_256"]}, index=["cnn_a", "mlp_b"])
    layout.table(frame, "Every model: 100% of them.", "tab:models", size="scriptsize")
    latex, = shown
    assert latex.startswith("\\begin{table}[htbp]") and "\\scriptsize" in latex
    assert "\\caption{Every model: 100\\% of them.}" in latex and "\\label{tab:models}" in latex
    assert "mlp\\_b" in latex and "dense\\_256" in latex


TRAIN = {"epochs": 30, "batch_size": 128, "learning_rate": 1e-3, "schedule": "plateau", "warmup_epochs": 0,
         "patience": 5, "weight_decay": 0.0}
COSINE = {**TRAIN, "learning_rate": 2e-3, "schedule": "cosine", "warmup_epochs": 1, "patience": None,
          "precision": "mixed_bfloat16"}


def _model(arch, hparams, train, family="cnn", params=1000, epochs=30, **extra):
    return {"family": family, "params": params, "epochs": epochs, "train_seconds": 120.0, "val_accuracy": 0.95,
            "test_accuracy": 0.94, "test_accuracy_ci95": [0.935, 0.945],
            "spec": {"arch": arch, "hparams": hparams, "train": train, "seed": 42, **extra}}


def _summary():
    five = {"blocks": [[32], [64, 64], [128, 128]], "dense_units": 256, "first_bn": False,
            "augment": {"flip": True, "shift": 0.0}}
    models = {
        "mlp_128_relu": _model("mlp", {"hidden_units": [128], "activation": "relu"}, TRAIN, "mlp", 101_770, 12),
        "mlp_128_tanh": _model("mlp", {"hidden_units": [128], "activation": "tanh"}, TRAIN, "mlp", 101_770, 30),
        "cnn_final": _model("vgg_bn", five, COSINE, params=576_842, tta_flip=True),
        "cnn_final_seed2": _model("vgg_bn", five, COSINE, params=576_842, tta_flip=True),
        "cnn_ensemble": {**_model("vgg_bn", five, COSINE, "ensemble", epochs=21), "members": ["cnn_ensemble__hand00"]},
    }
    return {"models": models, "best": {"ensemble": "cnn_ensemble"}}


def test_tables_name_models_readably_and_never_by_id():
    s = _summary()
    table = tables.results_table(s, ["mlp_128_tanh", "cnn_final"], {"mlp_128_tanh": "activations", "cnn_final": "ours"})
    assert list(table.index) == ["MLP 128, tanh", "CNN-5, 30 epochs (ours)"]
    assert table.loc["CNN-5, 30 epochs (ours)", "test acc. (95% CI)"] == "94.00% (93.5–94.5%)"
    assert tables.name(s, "cnn_ensemble__hand00") == "CNN-5, 21 epochs, copy 1"  # the ensemble's schedule
    text = " ".join(map(str, [*table.index, *table.to_numpy().ravel()]))
    assert "_" not in text


def test_architecture_table_lists_each_network_once_mlps_first():
    table = tables.architecture_table(_summary())
    assert list(table.index) == ["MLP 128", "CNN-5"]  # two MLPs of one network share a row; the ensemble has none
    assert table.loc["MLP 128", "layers"] == "dense 128; relu/tanh"
    assert table.loc["CNN-5", "layers"].startswith("conv32, pool, conv64+BN, conv64+BN, pool")
    assert table.loc["CNN-5", "parameters"] == "576,842"


def test_recipes_table_lists_each_recipe_once_with_the_values_its_models_use():
    table = tables.recipes_table(_summary())
    assert list(table.index) == ["Source reports' recipe", "Our CNN recipe"]
    assert table.loc["Source reports' recipe", "epochs"] == "30"  # the most each run may train
    assert table.loc["Our CNN recipe", "schedule"] == "1 warm-up epoch, cosine decay"
    assert table.loc["Our CNN recipe", "also"] == "fixed epochs / flip averaging at test time"  # precision: no recipe
    assert table.loc["Source reports' recipe", "augmentation"] == "none"


def test_reproduction_rows_compare_the_same_metric():
    import pandas as pd

    summary = {"models": {"mlp_256": {"test_accuracy": 0.90, "val_accuracy": 0.92, "epochs": 10},
                          "vote": {"test_accuracy": 0.95, "epochs": 30, "members": ["mlp_256"]}},
               "best": {"ensemble": "vote"}}
    refs = pd.DataFrame([
        {"source": "report 004", "experiment": "x", "metric": "test", "published": 0.89, "ours": "mlp_256",
         "their_epochs": 40, "their_setup": "Adam"},
        {"source": "report 001", "experiment": "y", "metric": "validation", "published": 0.85, "ours": "mlp_256",
         "their_epochs": pd.NA, "their_setup": "plots"},
        {"source": "report 002", "experiment": "z", "metric": "test", "published": 0.9, "ours": "",
         "their_epochs": 30, "their_setup": "BN"},
        {"source": "report 003", "experiment": "e", "metric": "test", "published": 0.94, "ours": "best:ensemble",
         "their_epochs": 100, "their_setup": "15 CNNs"}])
    table = tables.reproduction_rows(summary, refs)
    assert table.loc["004: x", "ours"] == "90.00%" and table.loc["004: x", "diff."] == "+1.00"
    assert table.loc["004: x", "what differs"] == "40 vs 10 epochs; Adam"
    assert table.loc["001: y (val.)", "ours"] == "92.00%"  # validation against validation
    assert "002: z" not in table.index  # nothing of ours to compare with
    assert table.loc["003: e", "ours"] == "95.00%" and table.loc["003: e", "what differs"] == "15 CNNs"


def _step(ingredient, model, change, p, shirt_change=float("nan"), shirt_p=float("nan")):
    return {"ingredient": ingredient, "model": model, "val_accuracy": 0.95, "seconds_per_epoch": 15.4,
            "val_change": change, "val_p": p, "shirt_recall": 0.85, "shirt_change": shirt_change, "shirt_p": shirt_p}


def test_ablation_rows_and_significant_steps_follow_the_tests():
    nan = float("nan")
    ladder = [_step("our recipe", "cnn_recipe", nan, nan), _step("+ more epochs", "cnn_final", 0.0037, 0.03, 0.01, 0.4),
              _step("+ smoothing", "cnn_final_seed2", -0.002, 0.3, -0.03, 0.01)]
    table = tables.ablation_rows({"models": {}, "best": {}}, ladder)
    assert table.loc["our recipe", "change (p)"] == "" and table.loc["our recipe", "model"] == "CNN-2 (ours)"
    assert table.loc["+ more epochs", "change (p)"] == "+0.37 (p = 0.03)"
    assert table.loc["+ smoothing", "Shirt change (p)"] == "-3.00 (p = 0.01)"
    assert [r["model"] for r in tables.significant_steps(ladder)] == ["cnn_final"]


def test_a_figure_whose_text_would_print_below_7_points_is_refused(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from fmnist_utils.present import layout, plots

    fig, ax = plt.subplots(figsize=(plots.WIDTH, 2))
    ax.plot([0, 1], [0, 1])
    plots.save_figure(fig, "wide", tmp_path)
    plt.close(fig)
    assert layout.printed_scale(tmp_path / "wide.pdf", 1.0) > 0.95
    shown = []
    monkeypatch.setattr(layout, "show", lambda markdown, latex=None: shown.append(latex))
    layout.figure(tmp_path, "wide", "A wide figure.", 1.0)
    # Named as the PDF build copies it, never by the checkout's path (which would change the PDF's bytes).
    assert "\\includegraphics[width=1.0\\linewidth]{figures/wide.pdf}" in shown[0] and str(tmp_path) not in shown[0]
    with pytest.raises(ValueError, match="wide at 0.5 of the text width prints its text at"):
        layout.figure(tmp_path, "wide", "A wide figure.", 0.5)


def test_title_block_comes_from_pyproject():
    meta = tables.project_metadata()
    assert meta["authors"] and meta["url"].startswith("https://")


def test_overfitting_table_takes_medians_per_family_and_recipe_from_the_histories():
    ours = {"arch": "vgg_bn", "hparams": {}, "train": {"schedule": "cosine", "epochs": 3}}
    source = {"arch": "mlp", "hparams": {}, "train": {"schedule": "plateau", "epochs": 3, "patience": 2}}
    models = {"a": {"family": "cnn", "spec": ours}, "b": {"family": "mlp", "spec": source},
              "c": {"family": "baseline", "spec": source}}
    histories = {"a": {"accuracy": [0.8, 0.9, 0.95], "val_accuracy": [0.8, 0.9, 0.93], "loss": [0.5, 0.3, 0.2],
                       "val_loss": [0.5, 0.3, 0.25]},
                 "b": {"accuracy": [0.8, 0.86], "val_accuracy": [0.85, 0.88], "loss": [0.5, 0.4],
                       "val_loss": [0.3, 0.35]},
                 "c": {"accuracy": [0.5], "val_accuracy": [0.5], "loss": [1.0], "val_loss": [1.0]}}
    table = tables.overfitting_table({"models": models, "histories": histories})
    assert list(table.index) == ["CNNs, our recipe", "MLPs, source reports' recipe"]  # the baseline is no family
    assert table.loc["CNNs, our recipe", "gap (points)"] == "+2.00"
    assert table.loc["MLPs, source reports' recipe", "gap (points)"] == "-2.00"  # dropout on while training counts
    assert table["val. loss lowest earlier"].tolist() == ["0 of 1", "1 of 1"]


def test_per_class_table_scores_both_models_and_names_the_commonest_mistake():
    y = np.repeat(np.arange(10), 10)
    right = np.eye(10)[y]
    wrong = right.copy()
    wrong[:3] = np.eye(10)[6]  # three T-shirts taken for shirts
    summary = {"best": {"cnn": "cnn", "ensemble": "ens"}}
    table = tables.per_class_table(summary, {"cnn": right, "ens": wrong}, y)
    assert table.loc["T-shirt/top", "CNN R"] == "100.0" and table.loc["T-shirt/top", "ensemble R"] == "70.0"
    assert table.loc["T-shirt/top", "ensemble mistakes it most for"] == "Shirt (3)"


def test_recipe_differences_name_each_side_and_only_what_differs():
    ours = {"arch": "mlp", "hparams": {"augment": {"flip": True}}, "tta_flip": False,
            "train": {"schedule": "cosine", "epochs": 30}}
    theirs = {"arch": "mlp", "hparams": {}, "tta_flip": False, "train": {"schedule": "constant", "epochs": 30}}
    mine, other = words.recipe_differences(theirs, ours)
    assert mine == ["the source reports' recipe", "no augmentation"]
    assert other[0] == "our MLP recipe" and other[1] != "no augmentation" and len(other) == 2
    assert words.recipe_differences(ours, ours) == ([], [])
