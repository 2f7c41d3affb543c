import numpy as np
import pytest

from fmnist_utils import train


def test_fit_trains_once_then_serves_from_cache(tmp_path, synthetic_splits):
    cfg = train.TrainConfig(epochs=1, batch_size=64, patience=None)
    first = train.fit("tiny", "mlp", {"hidden_units": [16]}, cfg, synthetic_splits, tmp_path, seed=1, verbose=0)
    assert not first.from_cache and first.epochs == 1 and first.train_seconds > 0
    assert list(first.history.columns[:1]) == ["epoch"] and "val_accuracy" in first.history
    second = train.fit("tiny", "mlp", {"hidden_units": [16]}, cfg, synthetic_splits, tmp_path, seed=1, verbose=0)
    assert second.from_cache and second.key == first.key
    assert second.train_seconds == pytest.approx(first.train_seconds)
    x = train.preprocess("mlp", synthetic_splits["val"][0])
    np.testing.assert_allclose(first.model.predict(x, verbose=0), second.model.predict(x, verbose=0), rtol=1e-5)
    assert not list(tmp_path.rglob("*.tmp*")), "no temporary files may be left behind"


def test_cache_key_depends_on_everything_that_matters():
    spec = {"arch": "mlp", "hparams": {"hidden_units": [16]}, "train": {"epochs": 1}, "seed": 1}
    base = train.cache_key(spec, "data0")
    assert train.cache_key(dict(spec), "data0") == base
    assert train.cache_key({**spec, "seed": 2}, "data0") != base
    assert train.cache_key({**spec, "hparams": {"hidden_units": [32]}}, "data0") != base
    assert train.cache_key(spec, "data1") != base


def test_fingerprint_sees_content_and_shape():
    a = np.zeros((4, 2), np.uint8)
    assert train.fingerprint(a) == train.fingerprint(a.copy())
    assert train.fingerprint(a) != train.fingerprint(a.reshape(2, 4))
    b = a.copy(); b[0, 0] = 1
    assert train.fingerprint(a) != train.fingerprint(b)


def test_cosine_schedule_warms_up_then_decays():
    opt = train.make_optimizer(train.TrainConfig(epochs=10, learning_rate=1e-2, schedule="cosine",
                                                 warmup_epochs=1), steps_per_epoch=10)
    schedule = opt.learning_rate if callable(opt.learning_rate) else opt._learning_rate
    lrs = [float(schedule(step)) for step in (0, 10, 50, 100)]
    assert lrs[0] < lrs[1] == pytest.approx(1e-2) and lrs[1] > lrs[2] > lrs[3]


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="schedule"):
        train.make_optimizer(train.TrainConfig(epochs=1, schedule="triangle"), 1)


def test_fit_can_start_from_a_trained_model(tmp_path, synthetic_splits):
    no_training = train.TrainConfig(epochs=1, batch_size=64, learning_rate=0.0, schedule="constant", patience=None)
    hp = {"hidden_units": [16]}
    parent = train.fit("parent", "mlp", hp, train.TrainConfig(epochs=1, batch_size=64, patience=None),
                       synthetic_splits, tmp_path, seed=1, verbose=0)
    child = train.fit("child", "mlp", hp, no_training, synthetic_splits, tmp_path, seed=2, verbose=0, init=parent)
    scratch = train.fit("child", "mlp", hp, no_training, synthetic_splits, tmp_path, seed=2, verbose=0)
    assert child.spec["init"] == parent.key and child.key != scratch.key, "the parent is part of the cache key"
    x = train.preprocess("mlp", synthetic_splits["val"][0])
    # With a zero learning rate the child keeps its parent's weights exactly.
    np.testing.assert_allclose(child.model.predict(x, verbose=0), parent.model.predict(x, verbose=0), rtol=1e-5)
    assert not np.allclose(scratch.model.predict(x, verbose=0), parent.model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="different architecture"):
        train.fit("other", "mlp", {"hidden_units": [8]}, no_training, synthetic_splits, tmp_path, init=parent)
