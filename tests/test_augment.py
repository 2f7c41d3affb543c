import numpy as np

from fmnist_utils.compute import augment


def _images():
    return np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32)


def test_augmentation_keeps_shape_and_range():
    block = augment.augmentation_block(flip=True, shift=0.1, erasing=0.5, seed=1)
    out = np.asarray(block(_images(), training=True))
    assert out.shape == (8, 28, 28, 1)
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6


def test_augmentation_changes_images_in_training_only():
    x = _images()
    block = augment.augmentation_block(flip=False, shift=0.2, seed=2)
    assert not np.allclose(np.asarray(block(x, training=True)), x)
    np.testing.assert_allclose(np.asarray(block(x, training=False)), x)


def test_shifts_move_whole_pixels_without_blending():
    x = np.zeros((16, 28, 28, 1), np.float32)
    x[:, 10:18, 10:18] = 0.5
    out = np.asarray(augment.augmentation_block(flip=False, shift=2 / 28, seed=4)(x, training=True))
    assert set(np.unique(out)) <= {0.0, 0.5}  # no interpolated grey between the square and the background
    assert (out == 0.5).sum(axis=(1, 2, 3)).tolist() == [64] * 16  # the square moves whole, never cut by the border
    assert not np.array_equal(out, x)


def test_erasing_blanks_a_rectangle_in_training_only():
    x = np.full((16, 28, 28, 1), 0.5, np.float32)
    block = augment.augmentation_block(flip=False, shift=0.0, erasing=1.0, seed=3)
    out = np.asarray(block(x, training=True))
    erased = out == 0.0
    assert erased.any() and not erased.all()
    assert set(np.unique(out)) <= {0.0, 0.5}  # pixels are kept or blanked, nothing else
    for image in erased[..., 0]:  # what is blanked is one axis-aligned rectangle
        rows, cols = np.nonzero(image)
        if rows.size:
            assert image[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    np.testing.assert_array_equal(np.asarray(block(x, training=False)), x)
