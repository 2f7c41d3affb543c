import numpy as np
import pytest

from fmnist_utils.compute import data
from fmnist_utils.compute.data import DataError

from .conftest import idx_bytes, write_gz


def _sha(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()


def test_a_file_that_matches_its_checksum_is_read_past_its_header(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)
    raw = idx_bytes(images)
    out = data.read_idx_file(write_gz(tmp_path / "images.gz", raw), _sha(raw), (2, 28, 28))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)


def test_truncated_data_names_file(tmp_path):
    raw = idx_bytes(np.zeros(10, np.uint8))
    path = write_gz(tmp_path / "train-labels-idx1-ubyte.gz", raw[:-3])
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz.*SHA-256.*truncated"):
        data.read_idx_file(path, _sha(raw), (10,))


def test_bad_checksum_names_file_and_fix(tmp_path):
    path = write_gz(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(10, np.uint8)))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz.*SHA-256") as err:
        data.read_idx_file(path, "0" * 64, (10,))
    assert "apt-get install dataset-fashion-mnist" in str(err.value)


def test_corrupt_gzip_names_file(tmp_path):
    good = tmp_path / "good.gz"
    write_gz(good, idx_bytes(np.zeros(1000, np.uint8)))
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    bad.write_bytes(good.read_bytes()[:40])  # cut mid-stream
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        data.read_idx_file(bad, "0" * 64, (1000,))


def test_missing_file_names_file(tmp_path):
    with pytest.raises(DataError, match="nothere.gz: file not found"):
        data.read_idx_file(tmp_path / "nothere.gz", "0" * 64, (1,))


def test_env_dir_searched_first(tmp_path, monkeypatch):
    for name in data.FILES:
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    assert data.candidate_dirs()[0] == tmp_path
    assert data.find_data_dir() == tmp_path


def test_env_dir_missing_file_is_an_error(tmp_path, monkeypatch):
    for name in list(data.FILES)[:3]:
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(DataError, match=list(data.FILES)[3]):
        data.find_data_dir()


def test_search_order_without_env(monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    assert data.candidate_dirs() == [data.SYSTEM_DATA_DIR, data.KERAS_CACHE_DIR]


def test_no_data_and_no_download_is_clear(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "SYSTEM_DATA_DIR", tmp_path / "a")
    monkeypatch.setattr(data, "KERAS_CACHE_DIR", tmp_path / "b")
    with pytest.raises(DataError, match="dataset-fashion-mnist"):
        data.load_fashion_mnist(allow_download=False)


@pytest.mark.skipif(data.find_data_dir() is None, reason="Fashion-MNIST not installed (make setup)")
def test_loads_the_zalando_arrays():
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10 and np.bincount(y_test).tolist() == [1000] * 10
    assert y_train[0] == 9 and y_test[0] == 9  # both files start with an ankle boot


def _labels(per_class=600):
    return np.repeat(np.arange(10), per_class)


def test_stratified_split_exact_class_counts():
    train_idx, val_idx = data.stratified_split(_labels(), val_size=600, seed=1)
    y = _labels()
    assert np.bincount(y[val_idx]).tolist() == [60] * 10
    assert np.bincount(y[train_idx]).tolist() == [540] * 10


def test_split_is_disjoint_complete_and_repeatable():
    a_train, a_val = data.stratified_split(_labels(), 600, seed=3)
    b_train, b_val = data.stratified_split(_labels(), 600, seed=3)
    assert not set(a_train) & set(a_val)
    assert len(a_train) + len(a_val) == 6000
    np.testing.assert_array_equal(a_val, b_val)


def test_train_subset_is_stratified():
    train_idx, val_idx = data.stratified_split(_labels(), 600, seed=0, train_subset=1000)
    assert np.bincount(_labels()[train_idx]).tolist() == [100] * 10
    assert len(val_idx) == 600


def test_scaling_range_and_shapes():
    x = np.array([[[0, 255], [128, 1]]], dtype=np.uint8).repeat(14, 1).repeat(14, 2)
    scaled = data.scale(x)
    assert scaled.dtype == np.float32 and scaled.min() == 0.0 and scaled.max() == 1.0
    assert data.for_mlp(x).shape == (1, 784)
    assert data.for_cnn(x).shape == (1, 28, 28, 1)


def test_split_table_counts(synthetic_splits):
    table = data.split_table(synthetic_splits)
    assert table.loc["total", "train"] == 256
    assert table.drop("total")["val"].tolist() == [10] * 10
