import keras_tuner as kt
import numpy as np
import pytest

from fmnist_utils.compute import models, tuning


@pytest.mark.parametrize("space", ["mlp", "cnn"])
def test_space_defaults_build_a_model(space):
    spec = tuning.spec_from_hp(space, kt.HyperParameters())
    assert 1e-4 <= spec.train.learning_rate <= 1e-2 and spec.train.schedule == "constant"
    model = models.build_model(spec.arch, **spec.hparams)
    x = np.zeros((1, 784) if models.input_kind(spec.arch) == "flat" else (1, 28, 28, 1), np.float32)
    assert model.predict(x, verbose=0).shape == (1, 10)


def test_mlp_space_uses_as_many_units_as_layers():
    hp = kt.HyperParameters()
    hp.Fixed("layers", 4)
    _, hparams, _ = tuning.mlp_space(hp)
    assert len(hparams["hidden_units"]) == 4 and set(hparams["hidden_units"]) <= set(tuning.MLP_UNITS)


def test_tuner_state_is_keyed_by_cache_version(tmp_profile, monkeypatch):
    # A stale search (models built by older code) must not be resumed after CACHE_VERSION changes.
    first = tuning.make_tuner("mlp", tmp_profile).project_dir
    monkeypatch.setattr(tuning, "CACHE_VERSION", tuning.CACHE_VERSION + 1)
    second = tuning.make_tuner("mlp", tmp_profile).project_dir
    assert first != second and str(tmp_profile.store_dir) in first


@pytest.mark.parametrize("max_epochs, factor, iterations", [(2, 2, 1), (9, 3, 1), (9, 3, 2), (27, 3, 1)])
def test_hyperband_trial_count_matches_keras_tuner(max_epochs, factor, iterations):
    oracle = kt.oracles.HyperbandOracle(objective="val_accuracy", max_epochs=max_epochs, factor=factor,
                                        hyperband_iterations=iterations)
    expected = iterations * sum(oracle._get_size(b, r) for b in range(oracle._get_num_brackets())
                                for r in range(oracle._get_num_rounds(b)))
    assert tuning.hyperband_trials(max_epochs, factor, iterations) == expected


def test_space_table_reads_the_space_itself():
    mlp = tuning.space_table("mlp")
    assert mlp.loc["units_0…units_5", "values"] == ", ".join(str(u) for u in tuning.MLP_UNITS)
    assert mlp.loc["layers", "values"] == f"2 to {tuning.MAX_LAYERS}, step 1"
    cnn = tuning.space_table("cnn")
    assert cnn.loc["learning_rate", "values"] == "0.0005 to 0.005 (log scale)"
    assert cnn.loc["width", "values"] == ", ".join(str(w) for w in tuning.CNN_WIDTHS)


def test_cnn_space_is_our_cnn_at_the_chosen_width():
    hp = kt.HyperParameters()
    hp.Fixed("width", 16)
    hp.Fixed("erasing", 0.25)
    spec = tuning.spec_from_hp("cnn", hp)
    assert spec.hparams["blocks"] == [[16], [32, 32], [64, 64]] and spec.hparams["augment"]["erasing"] == 0.25
    assert spec.train.precision == "mixed_bfloat16" and not spec.hparams["first_bn"]
