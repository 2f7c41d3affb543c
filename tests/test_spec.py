"""The typed model spec: its hash is the cache key, it round-trips through the results files, and
an unknown option is an error that names it."""

import hashlib
import json

import pytest

from fmnist_utils.compute.spec import CACHE_VERSION, ModelSpec, TrainConfig

RECIPE = TrainConfig(epochs=12, learning_rate=2e-3, schedule="cosine", warmup_epochs=1, patience=None)
SPEC = ModelSpec("vgg_bn", RECIPE, {"blocks": [[32], [64]], "augment": {"flip": True, "shift": 0.0}}, seed=42,
                 tta_flip=True)


def test_cache_key_is_the_published_formula():
    # Keys of models trained before ModelSpec existed: sha256 of the spec dict, data fingerprint, version.
    old_spec = {"arch": "vgg_bn", "hparams": SPEC.hparams, "train": RECIPE.to_dict(), "seed": 42}
    payload = json.dumps({"spec": old_spec, "data": "abc", "v": CACHE_VERSION}, sort_keys=True)
    assert SPEC.cache_key("abc") == hashlib.sha256(payload.encode()).hexdigest()[:12]


def test_cache_key_depends_on_what_determines_the_weights_only():
    base = SPEC.cache_key("data0")
    assert SPEC.replace(tta_flip=False).cache_key("data0") == base, "test-time averaging changes no weight"
    for changed in (SPEC.replace(seed=43), SPEC.replace(hparams={"blocks": [[16]]}),
                    SPEC.replace(train=TrainConfig(epochs=11))):
        assert changed.cache_key("data0") != base
    assert SPEC.cache_key("data1") != base


def test_round_trip_through_a_results_file():
    assert ModelSpec.from_dict(json.loads(json.dumps(SPEC.to_dict()))) == SPEC


def test_unknown_options_are_named():
    with pytest.raises(ValueError, match=r"Unknown model spec option\(s\) \['mixup'\]"):
        ModelSpec.from_dict({**SPEC.to_dict(), "mixup": 0.2})
    with pytest.raises(ValueError, match=r"Unknown training recipe option\(s\) \['mixup'\]"):
        ModelSpec.from_dict({**SPEC.to_dict(), "train": {**RECIPE.to_dict(), "mixup": 0.1}})


def test_later_options_at_their_defaults_leave_earlier_keys_unchanged():
    assert set(RECIPE.to_dict()) == {"epochs", "batch_size", "learning_rate", "schedule", "warmup_epochs",
                                     "patience", "weight_decay"}
    smoothed = SPEC.replace(train=TrainConfig(**{**RECIPE.to_dict(), "label_smoothing": 0.1}))
    assert smoothed.to_dict()["train"]["label_smoothing"] == 0.1
    assert smoothed.cache_key("d") != SPEC.cache_key("d")
    assert ModelSpec.from_dict(json.loads(json.dumps(smoothed.to_dict()))) == smoothed


def test_spec_is_frozen_and_its_hparams_are_a_copy():
    hparams = {"hidden_units": [16]}
    spec = ModelSpec("mlp", RECIPE, hparams)
    hparams["hidden_units"].append(8)
    assert spec.hparams == {"hidden_units": [16]}
    with pytest.raises(AttributeError):
        spec.seed = 1
    with pytest.raises(TypeError, match="TrainConfig"):
        ModelSpec("mlp", {"epochs": 1})
