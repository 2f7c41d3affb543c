import numpy as np
import pytest

from fmnist_utils.compute import models


@pytest.mark.parametrize("arch, hparams, expected", [
    ("linear", {}, 7_850),                                   # report 004: baseline
    ("mlp", {"hidden_units": [256]}, 203_530),               # + 1 hidden layer
    ("mlp", {"hidden_units": [256, 128, 100], "dropout": 0.4}, 247_766),
    ("cnn_1conv_mlp", {}, 850_038),                          # 1 conv + best MLP
    ("cnn_2conv", {}, 409_034),                              # 2 conv + 1 hidden
])
def test_report_004_parameter_counts(arch, hparams, expected):
    assert models.build_model(arch, **hparams).count_params() == expected


def test_lenet_bn_is_near_report_003_size():
    assert 300_000 < models.build_model("lenet_bn").count_params() < 330_000


def test_mlp_with_augmentation_takes_flat_input():
    model = models.build_model("mlp", hidden_units=[32], batch_norm=True, augment={"flip": True, "shift": 0.1})
    assert model.input_shape == (None, 784)
    assert model.predict(np.zeros((3, 784), np.float32), verbose=0).shape == (3, 10)


def test_identity_activation_mlp_is_linear():
    model = models.build_model("mlp", hidden_units=[16], activation=None)
    assert [layer.name for layer in model.layers][-2:] == ["hidden1", "output"]
    assert not any(layer.__class__.__name__ == "Activation" for layer in model.layers)


def test_unknown_architecture_is_rejected():
    with pytest.raises(ValueError, match="Unknown architecture"):
        models.build_model("resnet152")


def test_input_kind():
    assert models.input_kind("mlp") == "flat" and models.input_kind("linear") == "flat"
    assert models.input_kind("vgg_bn") == "image" and models.input_kind("design_cnn") == "image"
    assert models.input_kind("efficientnet_lite0") == "features"


def test_batchnorm_settles_fast_enough_for_short_trials():
    model = models.build_model("vgg_bn", blocks=[[8], [8]], dense_units=8)
    bn = [layer for layer in model.layers if layer.__class__.__name__ == "BatchNormalization"]
    assert bn and all(layer.momentum == models.BN_MOMENTUM <= 0.9 for layer in bn)


@pytest.mark.parametrize("arch, hparams", [("lenet_bn", {}), ("vgg_bn", {"blocks": [[32], [64]]})])
def test_first_bn_false_leaves_only_the_first_conv_unnormalised(arch, hparams):
    def conv_then_bn(model):  # for each conv: is the next layer a BatchNormalization?
        names = [layer.__class__.__name__ for layer in model.layers]
        return [names[i + 1] == "BatchNormalization" for i, n in enumerate(names) if n == "Conv2D"]

    assert all(conv_then_bn(models.build_model(arch, **hparams)))
    assert conv_then_bn(models.build_model(arch, first_bn=False, **hparams)) == [False, True]


def test_residual_bn_adds_each_block_to_its_input_and_averages_the_last_maps():
    model = models.build_model("residual_bn", widths=[8, 16, 32])
    adds = [layer for layer in model.layers if layer.__class__.__name__ == "Add"]
    assert [add.output.shape[-1] for add in adds] == [16, 32]  # one residual block per width after the first
    assert any(layer.__class__.__name__ == "GlobalAveragePooling2D" for layer in model.layers)
    assert model.predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0).shape == (2, 10)
