import dataclasses

import numpy as np
import pytest

from fmnist_utils.compute import train
from fmnist_utils.compute.spec import ModelSpec, TrainConfig


def tiny(train_cfg, seed=1, units=16):
    return ModelSpec("mlp", train_cfg, {"hidden_units": [units]}, seed=seed)


def test_fit_trains_once_then_serves_from_cache(tmp_path, synthetic_splits):
    cfg = TrainConfig(epochs=1, batch_size=64, patience=None)
    first = train.fit("tiny", tiny(cfg), synthetic_splits, tmp_path, verbose=0)
    assert not first.from_cache and first.epochs == 1 and first.train_seconds > 0
    assert list(first.history.columns[:1]) == ["epoch"] and "val_accuracy" in first.history
    second = train.fit("tiny", tiny(cfg), synthetic_splits, tmp_path, verbose=0)
    assert second.from_cache and second.key == first.key
    assert second.train_seconds == pytest.approx(first.train_seconds)
    x = train.preprocess("mlp", synthetic_splits["val"][0])
    np.testing.assert_allclose(first.model.predict(x, verbose=0), second.model.predict(x, verbose=0), rtol=1e-5)
    assert not list(tmp_path.rglob("*.tmp*")), "no temporary files may be left behind"


def test_fingerprint_sees_content_and_shape():
    a = np.zeros((4, 2), np.uint8)
    assert train.fingerprint(a) == train.fingerprint(a.copy())
    assert train.fingerprint(a) != train.fingerprint(a.reshape(2, 4))
    b = a.copy()
    b[0, 0] = 1
    assert train.fingerprint(a) != train.fingerprint(b)


def test_cosine_schedule_warms_up_then_decays():
    opt = train.make_optimizer(TrainConfig(epochs=10, learning_rate=1e-2, schedule="cosine",
                                                 warmup_epochs=1), steps_per_epoch=10)
    schedule = opt.learning_rate if callable(opt.learning_rate) else opt._learning_rate
    lrs = [float(schedule(step)) for step in (0, 10, 50, 100)]
    assert lrs[0] < lrs[1] == pytest.approx(1e-2) and lrs[1] > lrs[2] > lrs[3]


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="schedule"):
        train.make_optimizer(TrainConfig(epochs=1, schedule="triangle"), 1)


def test_label_smoothing_loss_is_the_smoothed_crossentropy():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    labels = np.array([0, 2])
    loss = train.make_loss(TrainConfig(epochs=1, label_smoothing=0.3))
    target = np.eye(3)[labels] * 0.7 + 0.1  # 1 - eps on the label, plus eps spread over the 3 classes
    expected = -(target * np.log(probs)).sum(1).mean()
    assert float(loss(labels, probs)) == pytest.approx(expected, rel=1e-5)
    assert train.make_loss(TrainConfig(epochs=1)) == "sparse_categorical_crossentropy"
    with pytest.raises(ValueError, match="label_smoothing"):
        train.make_loss(TrainConfig(epochs=1, label_smoothing=1.5))


def test_a_smoothed_model_saves_and_reloads(tmp_path, synthetic_splits):
    cfg = TrainConfig(epochs=1, batch_size=64, patience=None, label_smoothing=0.1)
    first = train.fit("smooth", tiny(cfg), synthetic_splits, tmp_path, verbose=0)
    again = train.fit("smooth", tiny(cfg), synthetic_splits, tmp_path, verbose=0)
    assert again.from_cache and again.key == first.key


def test_distillation_targets_mix_the_label_and_the_teachers_probabilities():
    teacher = np.full((2, 10), 0.1, np.float32)
    targets = train.distillation_targets(np.array([3, 7]), teacher, 0.5)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    assert targets[0, 3] == pytest.approx(0.55) and targets[0, 0] == pytest.approx(0.05)
    np.testing.assert_array_equal(train.distillation_targets(np.array([3]), teacher[:1], 0.0)[0], np.eye(10)[3])


def test_a_temperature_softens_the_teachers_probabilities_and_keeps_their_order():
    teacher = np.array([[0.001, 0.009, 0.99] + [0.0] * 7])
    hot, soft = (train.distillation_targets(np.array([2]), teacher, 1.0, t)[0] for t in (1.0, 3.0))
    np.testing.assert_allclose([hot.sum(), soft.sum()], 1.0, rtol=1e-6)
    assert soft[2] < hot[2] and soft[1] > hot[1] > hot[0] and soft[1] > soft[0] and soft[3] == 0.0
    assert soft[1] / soft[0] == pytest.approx(9 ** (1 / 3), rel=1e-5)


def test_a_student_trains_on_its_teachers_probabilities_once_and_is_keyed_by_who_taught(tmp_path, synthetic_splits):
    calls = []

    def teacher():
        calls.append(1)
        return np.full((len(synthetic_splits["train"][1]), 10), 0.1, np.float32)

    cfg = TrainConfig(epochs=1, batch_size=64, schedule="constant", patience=None, distill=0.5, teachers=["a", "b"])
    student = train.fit("student", tiny(cfg), synthetic_splits, tmp_path, verbose=0, teacher=teacher)
    again = train.fit("student", tiny(cfg), synthetic_splits, tmp_path, verbose=0, teacher=teacher)
    assert calls == [1] and again.from_cache and "val_accuracy" in student.history
    other = dataclasses.replace(cfg, teachers=("a", "c"))
    assert tiny(other).cache_key("data") != tiny(cfg).cache_key("data") != tiny(TrainConfig(epochs=1)).cache_key("data")
    assert tiny(cfg).to_dict()["train"]["teachers"] == ("a", "b")
    with pytest.raises(ValueError, match="pass their probabilities"):
        train.fit("orphan", tiny(other), synthetic_splits, tmp_path, verbose=0)
    with pytest.raises(ValueError, match="names its teachers"):
        TrainConfig(epochs=1, distill=0.5)
