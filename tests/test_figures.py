"""The results-derived figures redraw from the results files alone, byte-identically."""

import numpy as np

from fmnist_utils import results
from fmnist_utils.compute.data import load_fashion_mnist
from fmnist_utils.present import figures, tables
from tests.conftest import needs_fashion_mnist, noisy_probs


@needs_fashion_mnist
def test_redraw_from_results_files_only(tmp_profile):
    y = load_fashion_mnist()[1][1]
    rng = np.random.default_rng(0)
    accuracy = {"cnn_final": 0.9, "cnn_ensemble": 0.92, "cnn_ensemble__m00": 0.9}
    probs = {m: noisy_probs(y, p, rng) for m, p in accuracy.items()}
    results.save_probs(tmp_profile.results_dir, "05_e", probs)
    entry = {"family": "cnn", "notebook": "03_c", "val_accuracy": 0.9, "test_accuracy": 0.9, "train_seconds": 60.0}
    history = {"epoch": [1, 2], "accuracy": [0.8, 0.9], "val_accuracy": [0.8, 0.9], "loss": [0.5, 0.3],
               "val_loss": [0.5, 0.3]}
    results.record_model(tmp_profile.results_dir, "quick", "cnn_final", entry, history)
    results.record_model(tmp_profile.results_dir, "quick", "cnn_ensemble",
                         {**entry, "family": "ensemble", "notebook": "05_e"})
    results.record_extra(tmp_profile.results_dir, "quick", "05_e", "ensemble_growth",
                         {"members": [1, 2], "added": ["cnn_final", "cnn_ensemble__m00"], "train_minutes": [1.0, 1.5],
                          "val_accuracy": [0.9, 0.92], "test_accuracy": [0.9, 0.915]})
    figures.redraw(tmp_profile)
    names = {"cnn_best_confusion", "cnn_predictions", "final_curves", "ensemble_best_confusion", "ensemble_frontier",
             "ensemble_reliability", "ensemble_confident_errors"}
    written = {p.stem for p in tmp_profile.figures_dir.glob("*.pdf")}
    assert written == names
    first = {p.name: p.read_bytes() for p in tmp_profile.figures_dir.iterdir()}
    figures.redraw(tmp_profile)
    assert {p.name: p.read_bytes() for p in tmp_profile.figures_dir.iterdir()} == first


def test_report_003_targets_come_from_the_references_file():
    from fmnist_utils.present import figures

    refs = tables.references().query("source == 'report 003' and metric == 'test'")
    targets = figures.report_003_targets()
    assert sorted(targets.values()) == sorted(refs.groupby("family")["published"].max()[["cnn", "ensemble"]])
    assert all(f"{100 * v:.2f}%" in label for label, v in targets.items())
