import pytest

from fmnist_utils import report


@pytest.mark.parametrize("hparams, words", [
    ({}, "no augmentation"),
    ({"augment": {"flip": True, "shift": 0.0}}, "random horizontal flips"),
    ({"augment": {"flip": True}}, "random horizontal flips and shifts of up to 10%"),  # the block's default shift
    ({"augment": {"flip": False, "shift": 0.05}}, "shifts of up to 5%"),
])
def test_augmentation_in_words(hparams, words):
    assert report.augmentation(hparams) == words


def test_pct_and_ci():
    assert report.pct(0.93456) == "93.46%"
    assert report.ci({"test_accuracy_ci95": [0.9, 0.91]}) == "90.00–91.00%"


def test_plural():
    assert report.plural(1, "epoch") == "1 epoch"
    assert report.plural(4, "epoch") == "4 epochs"


def test_default_shift_matches_the_augmentation_block():
    import inspect

    from fmnist_utils import augment

    default = inspect.signature(augment.augmentation_block).parameters["shift"].default
    assert report.BLOCK_DEFAULT_SHIFT == default
