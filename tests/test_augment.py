import numpy as np

from fmnist_utils import augment


def _images():
    return np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32)


def test_augmentation_keeps_shape_and_range():
    block = augment.augmentation_block(flip=True, shift=0.1, rotation=0.05, zoom=0.1, seed=1)
    out = np.asarray(block(_images(), training=True))
    assert out.shape == (8, 28, 28, 1)
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6


def test_augmentation_changes_images_in_training_only():
    x = _images()
    block = augment.augmentation_block(flip=False, shift=0.2, seed=2)
    assert not np.allclose(np.asarray(block(x, training=True)), x)
    np.testing.assert_allclose(np.asarray(block(x, training=False)), x)


def test_flip_is_an_involution():
    x = _images()
    np.testing.assert_array_equal(augment.flip_horizontal(augment.flip_horizontal(x)), x)
    np.testing.assert_array_equal(augment.flip_horizontal(x)[:, :, 0], x[:, :, -1])
