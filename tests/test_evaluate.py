import numpy as np
import pytest
from scipy import stats

from fmnist_utils.compute import evaluate


def test_bootstrap_ci_covers_true_accuracy():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 5000)
    pred = np.where(rng.random(5000) < 0.9, y, (y + 1) % 10)  # ~90% correct
    lo, hi = evaluate.bootstrap_ci(y, pred, n_boot=1000, seed=1)
    acc = np.mean(pred == y)
    assert lo < acc < hi
    assert 0.01 < hi - lo < 0.03  # ≈ 2·1.96·sqrt(.9·.1/5000) = 0.0166


def test_bootstrap_ci_of_perfect_predictions_is_a_point():
    y = np.arange(100) % 10
    assert evaluate.bootstrap_ci(y, y, n_boot=200) == (1.0, 1.0)


def test_mcnemar_on_a_known_table():
    # A right / B wrong on 10 images, A wrong / B right on 2, both right on 88.
    y = np.zeros(100, int)
    a, b = np.zeros(100, int), np.zeros(100, int)
    b[:10] = 1          # only A correct
    a[10:12] = 1        # only B correct
    result = evaluate.mcnemar(y, a, b)
    assert result["only_a_correct"] == 10 and result["only_b_correct"] == 2
    assert result["p_value"] == pytest.approx(stats.binomtest(10, 12, 0.5).pvalue)
    assert result["p_value"] == pytest.approx(0.03857, abs=1e-4)


def test_mcnemar_identical_classifiers():
    y = np.arange(20) % 3
    assert evaluate.mcnemar(y, y, y)["p_value"] == 1.0


def test_ece_on_a_known_example():
    # 10 images, every prediction made with confidence 0.8, six of them right: ECE = |0.6 - 0.8|.
    probs = np.full((10, 2), 0.2)
    probs[:, 0] = 0.8
    y = np.array([0] * 6 + [1] * 4)
    assert evaluate.expected_calibration_error(y, probs) == pytest.approx(0.2)


def test_ece_is_zero_when_confidence_matches_accuracy():
    probs = np.tile([1.0, 0.0], (8, 1))
    assert evaluate.expected_calibration_error(np.zeros(8, int), probs) == pytest.approx(0.0)


def test_log_loss_and_accuracy():
    probs = np.array([[0.5, 0.5], [0.9, 0.1]])
    y = np.array([1, 0])
    assert evaluate.accuracy(y, probs) == 0.5  # argmax ties go to class 0
    assert evaluate.log_loss(y, probs) == pytest.approx(-(np.log(0.5) + np.log(0.9)) / 2)


def test_classification_table_and_confusion():
    y = np.repeat(np.arange(10), 10)
    pred = y.copy()
    pred[:5] = 6  # five T-shirts called Shirt
    table = evaluate.classification_table(y, pred)
    assert list(table.index)[6] == "Shirt" and table["support"].tolist() == [10] * 10
    assert table.loc["T-shirt/top", "recall"] == pytest.approx(0.5)
    assert evaluate.confusion(y, pred)[0, 6] == 5


def test_most_confident_errors_are_sorted():
    y = np.array([0, 0, 0, 1])
    probs = np.array([[0.1, 0.9], [0.4, 0.6], [0.9, 0.1], [0.3, 0.7]])
    errors = evaluate.most_confident_errors(y, probs, n=5)
    assert errors.index.tolist() == [0, 1]
    assert errors["confidence"].is_monotonic_decreasing


def test_equally_confident_errors_keep_the_image_order():
    y = np.zeros(40, dtype=int)
    probs = np.tile([0.2, 0.8], (40, 1))  # 40 errors, all equally confident
    probs[7] = [0.1, 0.9]
    assert evaluate.most_confident_errors(y, probs, n=40).index.tolist() == [7] + [i for i in range(40) if i != 7]


def test_confusions_among_upper_body_classes():
    y = np.repeat(np.arange(10), 10)
    pred = y.copy()
    pred[60:63] = 0   # three Shirts called T-shirt/top (inside the group)
    pred[10] = 3      # one Trouser called Dress (outside)
    out = evaluate.confusions_among(y, pred, ["T-shirt/top", "Shirt"])
    assert out["errors_total"] == 4 and out["errors_within"] == 3
    assert out["matrix"] == [[10, 0], [3, 7]]


def test_flip_averaging_mirrors_flattened_images_as_it_mirrors_images():
    class LeftHalfBrightness:  # a "model" whose output depends on which side of the garment is bright
        def predict(self, x, batch_size, verbose):
            left = x.reshape(len(x), 28, 28)[:, :, :14].mean(axis=(1, 2))
            return np.stack([left, 1 - left], axis=1)

    images = np.random.default_rng(0).random((5, 28, 28, 1)).astype(np.float32)
    as_images = evaluate.predict_proba(LeftHalfBrightness(), images, tta_flip=True)
    flattened = evaluate.predict_proba(LeftHalfBrightness(), images.reshape(5, 784), tta_flip=True)
    np.testing.assert_allclose(flattened, as_images)
    assert not np.allclose(as_images, evaluate.predict_proba(LeftHalfBrightness(), images))
    with pytest.raises(ValueError, match="Test-time flip averaging needs images"):
        evaluate.predict_proba(LeftHalfBrightness(), images[:, :, :, 0], tta_flip=True)
