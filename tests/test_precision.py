"""mixed_bfloat16 where the hardware runs it fast, float32 with a notice elsewhere; softmax in float32."""

import numpy as np
import pytest

from fmnist_utils.compute import models, precision, train
from fmnist_utils.compute.spec import ModelSpec, TrainConfig

WITH_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n"
WITHOUT = "processor\t: 0\nflags\t\t: fpu sse2 avx2\n"


def test_bf16_is_used_only_where_the_cpu_has_it(capsys):
    assert precision.resolve("mixed_bfloat16", WITH_BF16, gpu=False) == "mixed_bfloat16"
    assert precision.resolve("float32", WITHOUT, gpu=False) == "float32"
    assert capsys.readouterr().out == ""
    with pytest.warns(UserWarning, match="training in float32"):
        assert precision.resolve("mixed_bfloat16", WITHOUT, gpu=False) == "float32"
    assert precision.resolve("mixed_bfloat16", WITHOUT, gpu=True) == "mixed_bfloat16"


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="'float16'"):
        precision.resolve("float16")


def test_policy_is_restored_and_softmax_stays_float32(monkeypatch):
    import keras

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda cpuinfo=None: True)
    with precision.policy("mixed_bfloat16") as used:
        model = models.build_model("mlp", hidden_units=[8])
    assert used == "mixed_bfloat16" and keras.mixed_precision.global_policy().name == "float32"
    assert model.layers[1].compute_dtype == "bfloat16" and model.get_layer("output").compute_dtype == "float32"
    assert model.predict(np.zeros((2, 784), np.float32), verbose=0).dtype == np.float32


def test_float32_recipes_keep_their_cache_keys_and_bf16_ones_get_new_ones():
    cfg = TrainConfig(epochs=3)
    assert "precision" not in cfg.to_dict()
    bf16 = TrainConfig(epochs=3, precision="mixed_bfloat16")
    assert ModelSpec("mlp", bf16).cache_key("d") != ModelSpec("mlp", cfg).cache_key("d")
    assert TrainConfig.from_dict(bf16.to_dict()) == bf16 and TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_fit_trains_in_bf16(tmp_path, synthetic_splits, monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda cpuinfo=None: True)
    spec = ModelSpec("mlp", TrainConfig(epochs=1, batch_size=64, patience=None, precision="mixed_bfloat16"),
                     {"hidden_units": [16]})
    result = train.fit("bf16", spec, synthetic_splits, tmp_path, verbose=0)
    assert result.model.layers[1].compute_dtype == "bfloat16"
    again = train.fit("bf16", spec, synthetic_splits, tmp_path, verbose=0)
    x = train.preprocess("mlp", synthetic_splits["val"][0])
    assert again.from_cache
    np.testing.assert_allclose(again.model.predict(x, verbose=0), result.model.predict(x, verbose=0), rtol=1e-5)


def test_importing_the_package_turns_onednn_on_unless_the_user_chose():
    import os
    import subprocess
    import sys

    def setting(**env):
        base = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
        code = "import os, fmnist_utils; print(os.environ['TF_ENABLE_ONEDNN_OPTS'])"
        return subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True,
                              text=True, check=True).stdout.strip()

    assert setting() == "1"
    assert setting(TF_ENABLE_ONEDNN_OPTS="0") == "0"
