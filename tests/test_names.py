"""Readable names: every published model has one, and descriptions follow the recorded specs."""

import json

import pytest

from fmnist_utils.config import ROOT
from fmnist_utils.present import names


def published_models() -> dict:
    models = {}
    for path in sorted((ROOT / "results" / "full").glob("0*.json")):
        models.update(json.loads(path.read_text())["models"])
    return models


def test_every_published_model_has_a_readable_name_and_a_description():
    models = published_models()
    assert models
    for model_id, entry in models.items():
        assert "_" not in names.display_name(model_id)
        if entry["family"] != "ensemble":  # an ensemble's spec lists its members
            assert names.layers(entry["spec"]) and names.network(entry["spec"])
    assert len({names.display_name(m) for m in models}) == len(models)  # no two models share a name


def test_an_unknown_id_is_an_error_and_ensemble_members_are_named_by_their_network():
    with pytest.raises(KeyError, match="MODEL_NAMES"):
        names.display_name("cnn_brand_new")
    assert names.display_name("cnn_ensemble__tuned03") == "Tuned CNN, copy 4"
    assert names.display_name("cnn_ensemble__hand02", 30) == "CNN-5, 30 epochs, copy 3"
    assert names.display_name("cnn_ensemble__residual00", 30) == "ResNet-BN, copy 1"
    with pytest.raises(KeyError):
        names.display_name("cnn_ensemble__wide00")


@pytest.mark.parametrize("spec, layers, network", [
    ({"arch": "linear"}, "softmax on the 784 pixels", "Linear softmax"),
    ({"arch": "mlp", "hparams": {"hidden_units": [128], "activation": None}}, "dense 128", "MLP 128"),
    ({"arch": "mlp", "hparams": {"hidden_units": [1024, 512], "batch_norm": True, "dropout": 0.3}},
     "dense 1024-512+BN, dropout 0.3", "MLP 1024-512-BN"),
    ({"arch": "vgg_bn", "hparams": {"blocks": [[32], [64]], "first_bn": False}},
     "conv32, pool, conv64+BN, pool, dense 256+BN, dropout 0.3", "CNN-2"),
    ({"arch": "vgg_bn", "hparams": {"blocks": [[24], [48, 48]], "dense_units": 0, "dropout": 0.1}},
     "conv24+BN, pool, conv48+BN, conv48+BN, pool, dropout 0.1", "CNN-3, 24–48 filters"),  # two CNN-3s, two rows
    ({"arch": "lenet_bn", "hparams": {"first_bn": False}},
     "conv32 5×5, pool, conv64 5×5+BN, pool, dense 84+BN, dropout 0.3", "LeNet-BN"),
    ({"arch": "residual_bn", "hparams": {"widths": [16, 32]}},
     "conv16, conv16+BN, pool, conv32+BN, residual block 32, global average pool, dropout 0.3", "ResNet-BN"),
])
def test_layers_and_network_from_the_spec(spec, layers, network):
    assert names.layers(spec) == layers
    assert names.network(spec) == network


def test_layers_match_the_built_networks_parameter_count():
    """The words of the description are the layers the builder makes: same convolutions and dense widths."""
    from fmnist_utils.compute.models import build_model

    spec = {"arch": "vgg_bn", "hparams": {"blocks": [[32], [64, 64]], "dense_units": 128, "first_bn": False}}
    model = build_model(spec["arch"], **spec["hparams"])
    convs = [layer.filters for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert names.layers(spec).count("conv") == len(convs) == 3
    assert "dense 128+BN" in names.layers(spec)
