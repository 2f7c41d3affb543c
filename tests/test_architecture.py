import pytest

from fmnist_utils import models
from fmnist_utils.architecture import describe


@pytest.mark.parametrize("arch, hparams, words", [
    ("linear", {}, "softmax 10"),
    ("mlp", {"hidden_units": [128], "activation": "tanh"}, "dense 128 tanh, softmax 10"),
    ("mlp", {"hidden_units": [128], "activation": None}, "dense 128 linear, softmax 10"),
    ("mlp", {"hidden_units": [512, 256, 64], "dropout": 0.2}, "dense 512-256-64 (dropout 0.2 after each), softmax 10"),
    ("cnn_2conv", {"augment": {"flip": True, "shift": 0.0}},
     "flip, conv16 3×3, pool 2, dropout 0.25, conv32 3×3, pool 2, dropout 0.25, dense 256, dropout 0.5, softmax 10"),
    ("vgg_bn", {"blocks": [[32]], "dense_units": 0, "augment": {"flip": True, "shift": 0.1, "erasing": 0.5}},
     "flip+shift+erase, conv32 3×3+BN, pool 2, dropout 0.15, dropout 0.3, softmax 10"),
    ("vgg_bn", {"blocks": [[32], [64]], "first_bn": False},
     "conv32 3×3, pool 2, dropout 0.15, conv64 3×3+BN, pool 2, dropout 0.15, dense 256+BN, dropout 0.3, softmax 10"),
])
def test_describe_lists_the_layers_in_order(arch, hparams, words):
    assert describe(models.build_model(arch, **hparams)) == words
