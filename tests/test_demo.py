import json

import keras
import numpy as np
import pytest
from PIL import Image

from fmnist_utils import demo, results
from fmnist_utils.spec import ModelSpec

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
    assert done == ["light background inverted", "resized from 30×60"]
    assert image[0, 0] == 0 and image[14, 14] > 150  # light garment, black background, as in Fashion-MNIST
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "small.png")
    assert demo.load_image(tmp_path / "small.png")[1] == []


def test_an_unreadable_image_is_named(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(SystemExit, match=r"broken\.png: not a readable image"):
        demo.load_image(tmp_path / "broken.png")
    with pytest.raises(SystemExit, match="missing.png: not a readable image"):
        demo.load_image(tmp_path / "missing.png")


def test_top_k_is_sorted_and_named():
    probs = np.full(10, 0.05)
    probs[[7, 5]] = 0.4, 0.2
    assert demo.top_k(probs) == [("Sneaker", 0.4), ("Sandal", 0.2), ("T-shirt/top", 0.05)]


def test_only_a_model_that_predicts_the_published_probabilities_passes():
    x = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    model = _tiny_cnn()
    published = demo.test_probabilities(model, SPEC, x)
    assert demo.disagreement(model, SPEC, x, published) is None
    other = published.copy()
    other[0] = other[0][::-1]
    assert "differ from the published" in demo.disagreement(model, SPEC, x, other)


def test_verify_finds_a_shipped_model_that_is_not_the_published_best(tmp_profile, monkeypatch):
    x = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    model = _tiny_cnn()
    probs = {"cnn_a": demo.test_probabilities(model, SPEC, x)}
    summary = {"best": {"cnn": "cnn_a"}, "models": {"cnn_a": {"spec": SPEC.to_dict()}}}
    assert demo.shipped_problems(tmp_profile, summary, probs, x) == []  # nothing shipped: nothing to check
    folder = demo.shipped_dir(tmp_profile)
    folder.mkdir(parents=True)
    model.save(folder / "best_cnn.keras")
    record = {"model": "cnn_a", "name": "A", "test_accuracy": 0.5, "spec": SPEC.to_dict(),
              "test_probabilities_sha256": demo.digest(probs["cnn_a"])}
    (folder / "best_cnn.json").write_text(json.dumps(record))
    assert demo.shipped_problems(tmp_profile, summary, probs, x) == []
    summary["best"]["cnn"], probs["cnn_b"] = "cnn_b", probs["cnn_a"]
    assert "not the published best CNN cnn_b" in demo.shipped_problems(tmp_profile, summary, probs, x)[0]
    summary["best"]["cnn"] = "cnn_a"
    probs["cnn_a"] = results.as_stored(np.roll(probs["cnn_a"], 1, axis=1))
    record["test_probabilities_sha256"] = demo.digest(probs["cnn_a"])
    (folder / "best_cnn.json").write_text(json.dumps(record))
    assert "differ from the published" in demo.shipped_problems(tmp_profile, summary, probs, x)[0]


def test_the_demo_photo_is_a_test_sneaker_the_loader_turns_back(tmp_path):
    y = np.array([0, 7, 7])
    x = np.zeros((3, 28, 28), np.uint8)
    x[1, 10:20, 4:24] = 200  # the first sneaker: a light bar on black
    path = demo.example_photo(x, y, tmp_path / "example.png")
    assert Image.open(path).mode == "RGB" and Image.open(path).size == (308, 224)
    image, done = demo.load_image(path)
    assert done == ["light background inverted", "resized from 308×224"]
    assert image[14, 14] > 150 and image[2, 14] < 40  # the bar light again, the background dark
