import json

import keras
import numpy as np
import pytest
from PIL import Image

from fmnist_utils import results
from fmnist_utils.compute.spec import ModelSpec
from fmnist_utils.pipeline import demo

SPEC = ModelSpec.from_dict({"arch": "cnn_1conv_mlp", "hparams": {}, "seed": 1, "tta_flip": True,
                            "train": {"epochs": 1, "learning_rate": 1e-3, "batch_size": 32}})


def _tiny_cnn():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])


def test_a_photo_becomes_a_fashion_mnist_image(tmp_path):
    garment = np.zeros((60, 30), np.uint8)
    garment[10:50, 5:25] = 40  # a dark garment on a white, non-square colour photo
    photo = np.full((60, 30, 3), 250, np.uint8)
    photo[garment > 0] = 40
    Image.fromarray(photo).save(tmp_path / "photo.png")
    image, done = demo.load_image(tmp_path / "photo.png")
    assert image.shape == (28, 28) and image.dtype == np.uint8
    assert done == ["edges trimmed", "resized from 20×40", "light background inverted"]
    assert image[0, 0] == 0 and image[14, 14] > 150  # light garment, black background, as in Fashion-MNIST
    assert image[14, 5] == 0 and image[14, 22] == 0  # 14 px wide after the longer side became 28: centred
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "small.png")
    assert demo.load_image(tmp_path / "small.png")[1] == []


def test_a_missing_file_or_one_that_is_no_image_is_named_in_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(SystemExit, match=r"notes\.txt: not a readable image"):
        demo.load_image(tmp_path / "notes.txt")
    with pytest.raises(SystemExit, match=r"missing\.png: no such file"):
        demo.load_image(tmp_path / "missing.png")


def test_predict_reads_the_best_cnn_from_the_model_store(tmp_profile, tmp_path, monkeypatch):
    import pandas as pd

    from fmnist_utils.compute import store

    monkeypatch.setattr(demo, "display_name", lambda name: f"Model {name}")
    Image.fromarray(np.full((40, 40), 30, np.uint8)).save(tmp_path / "dark.png")
    entry = {"family": "cnn", "notebook": "03_c", "val_accuracy": 0.5, "test_accuracy": 0.25,
             "spec": SPEC.to_dict(), "stored_as": "k1"}
    results.record_model(tmp_profile.results_dir, tmp_profile.name, "cnn_a", entry)
    with pytest.raises(SystemExit, match=r"not in the model store .* `make status PROFILE=quick`"):
        demo.best_cnn(tmp_profile)
    _tiny_cnn().save(tmp_path / "trained.keras")
    store.save(tmp_profile.store_dir / "k1", tmp_path / "trained.keras", pd.DataFrame({"epoch": [1]}), {})
    lines = demo.classify(*demo.best_cnn(tmp_profile), [tmp_path / "dark.png"])
    assert lines[0] == "Model cnn_a (25.00% on the test set)" and lines[1].endswith("dark.png (resized from 40×40)")
    assert len(lines) == 5 and all(line.rstrip().endswith("%") for line in lines[2:])

    # `make demo`: the command, what it printed, and a figure for the report.
    x, y = np.zeros((2, 28, 28), np.uint8), np.array([7, 7])
    monkeypatch.setattr("fmnist_utils.compute.data.prepare_splits", lambda profile, seed: {"val": (x, y)})
    monkeypatch.setattr(demo, "ROOT", tmp_profile.store_dir.parent)
    monkeypatch.chdir(tmp_profile.store_dir.parent)  # make runs in the checkout: the command names paths from there
    recorded = json.loads(demo.record_demo(tmp_profile).read_text())
    assert recorded["command"].startswith("make predict IMAGE=") and recorded["output"][0] == lines[0]
    assert (tmp_profile.figures_dir / f"{demo.DEMO_FIGURE}.pdf").is_file()


def test_top_k_is_sorted_and_named():
    probs = np.full(10, 0.05)
    probs[[7, 5]] = 0.4, 0.2
    assert demo.top_k(probs) == [("Sneaker", 0.4), ("Sandal", 0.2), ("T-shirt/top", 0.05)]


def test_the_demo_photo_is_a_test_sneaker_the_loader_turns_back(tmp_path):
    y = np.array([0, 7, 7])
    x = np.zeros((3, 28, 28), np.uint8)
    x[1, 10:20, 4:24] = 200  # the first sneaker: a light bar on black
    path = demo.example_photo(x, y, tmp_path / "example.png")
    assert Image.open(path).mode == "RGB" and Image.open(path).size == (308, 224)
    image, done = demo.load_image(path)
    assert done == ["edges trimmed", "resized from 166×86", "light background inverted"]
    assert image[14, 14] > 150 and image[2, 14] < 40  # the bar light again, the background dark
