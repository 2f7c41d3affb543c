"""The design studies' networks and the side studies' training: what each choice changes, and only that."""

import numpy as np
import pytest

from fmnist_utils.compute import design, side_studies


def _layer_kinds(model):
    return [type(layer).__name__ for layer in model.layers]


def test_the_mlp_differs_only_in_its_hidden_layers_initialisation():
    he, poor = design.mlp("he_normal"), design.mlp("poor")
    assert he.count_params() == poor.count_params() == 784 * 256 + 256 + 2570
    assert _layer_kinds(he) == _layer_kinds(poor)
    assert np.std(poor.get_layer("hidden").get_weights()[0]) == pytest.approx(1.0, rel=0.02)
    assert np.std(he.get_layer("hidden").get_weights()[0]) == pytest.approx(np.sqrt(2 / 784), rel=0.15)


@pytest.mark.parametrize("pooling", ["max", "average"])
def test_the_small_cnn_swaps_pooling_and_regulariser_and_nothing_else(pooling):
    dropout, bn = design.small_cnn(pooling, "dropout"), design.small_cnn(pooling, "batchnorm")
    pool = "MaxPooling2D" if pooling == "max" else "AveragePooling2D"
    assert _layer_kinds(dropout).count(pool) == _layer_kinds(bn).count(pool) == 2
    assert _layer_kinds(dropout).count("Dropout") == 3 and "BatchNormalization" not in _layer_kinds(dropout)
    assert _layer_kinds(bn).count("BatchNormalization") == 3 and "Dropout" not in _layer_kinds(bn)
    convs = [(layer.filters, layer.kernel_size)
             for m in (dropout, bn) for layer in m.layers if hasattr(layer, "filters")]
    assert convs == [(32, (3, 3)), (64, (3, 3))] * 2
    with pytest.raises(ValueError, match="dropout or batchnorm"):
        design.small_cnn(pooling, "both")


@pytest.mark.parametrize("name, kind", [("sgd", "SGD"), ("rmsprop", "RMSprop"), ("adam", "Adam")])
def test_optimisers_by_name(name, kind):
    optimizer = side_studies.make_optimizer(name, 0.01)
    assert type(optimizer).__name__ == kind and float(optimizer.learning_rate) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        side_studies.make_optimizer("adagrad", 0.01)


def test_a_side_study_model_is_trained_once_then_loaded_from_the_cache(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.random((64, 784)).astype("float32"), rng.random((32, 784)).astype("float32"))
    y = (rng.integers(0, 10, 64), rng.integers(0, 10, 32))
    spec = design.spec("design_mlp", {"initializer": "he_normal"}, 1, 1e-3, 0, "sgd")
    first, meta = side_studies.fit_cached("m", spec, lambda: design.mlp("he_normal"), x, y, tmp_path)
    again, meta_again = side_studies.fit_cached("m", spec, lambda: pytest.fail("retrained"), x, y, tmp_path)
    assert meta_again == meta and meta["spec"]["train"]["optimizer"] == "sgd"
    np.testing.assert_array_equal(first.predict(x[1], verbose=0), again.predict(x[1], verbose=0))
