"""The design studies' networks and the side studies' training: what each choice changes, and only that."""

import numpy as np
import pytest

from fmnist_utils.compute import design, models, train


def _layer_kinds(model):
    return [type(layer).__name__ for layer in model.layers]


def test_the_mlp_differs_only_in_its_hidden_layers_initialisation():
    he, poor = models.design_mlp("he_normal"), models.design_mlp("poor")
    assert he.count_params() == poor.count_params() == 784 * 256 + 256 + 2570
    assert _layer_kinds(he) == _layer_kinds(poor)
    assert np.std(poor.get_layer("hidden").get_weights()[0]) == pytest.approx(1.0, rel=0.02)
    assert np.std(he.get_layer("hidden").get_weights()[0]) == pytest.approx(np.sqrt(2 / 784), rel=0.15)


@pytest.mark.parametrize("pooling", ["max", "average"])
def test_the_small_cnn_swaps_pooling_and_regulariser_and_nothing_else(pooling):
    dropout, bn = models.design_cnn(pooling, "dropout"), models.design_cnn(pooling, "batchnorm")
    pool = "MaxPooling2D" if pooling == "max" else "AveragePooling2D"
    assert _layer_kinds(dropout).count(pool) == _layer_kinds(bn).count(pool) == 2
    assert _layer_kinds(dropout).count("Dropout") == 3 and "BatchNormalization" not in _layer_kinds(dropout)
    assert _layer_kinds(bn).count("BatchNormalization") == 3 and "Dropout" not in _layer_kinds(bn)
    convs = [(layer.filters, layer.kernel_size)
             for m in (dropout, bn) for layer in m.layers if hasattr(layer, "filters")]
    assert convs == [(32, (3, 3)), (64, (3, 3))] * 2
    with pytest.raises(ValueError, match="dropout or batchnorm"):
        models.design_cnn(pooling, "both")


@pytest.mark.parametrize("name, kind", [("sgd", "SGD"), ("rmsprop", "RMSprop"), ("adam", "Adam")])
def test_optimisers_by_name(name, kind):
    optimizer = train.make_optimizer(design.spec("design_mlp", {}, 1, 0.01, 0, name).train, 1)
    assert type(optimizer).__name__ == kind and float(optimizer.learning_rate) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        train.make_optimizer(design.spec("design_mlp", {}, 1, 0.01, 0, "adagrad").train, 1)


def test_a_design_model_trains_once_then_loads_from_the_cache(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    splits = {"train": (rng.integers(0, 256, (64, 28, 28), np.uint8), rng.integers(0, 10, 64)),
              "val": (rng.integers(0, 256, (32, 28, 28), np.uint8), rng.integers(0, 10, 32))}
    spec = design.spec("design_mlp", {"initializer": "he_normal"}, 1, 1e-3, 0, "sgd")
    first = train.fit("m", spec, splits, tmp_path, verbose=0)
    monkeypatch.setattr(train, "build_model", lambda *a, **k: pytest.fail("retrained"))
    again = train.fit("m", spec, splits, tmp_path, verbose=0)
    assert again.from_cache and again.key == first.key and spec.to_dict()["train"]["optimizer"] == "sgd"
    x_val = train.preprocess("design_mlp", splits["val"][0])
    np.testing.assert_array_equal(first.model.predict(x_val, verbose=0), again.model.predict(x_val, verbose=0))
