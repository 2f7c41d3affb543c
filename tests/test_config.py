import numpy as np
import pytest

from fmnist_utils import config


def test_quick_outputs_stay_under_build_quick():
    quick = config.get_profile("quick")
    for folder in (quick.figures_dir, quick.results_dir, quick.report_dir, quick.artifacts_dir,
                   quick.notebooks_out_dir):
        assert folder.is_relative_to(config.BUILD_DIR / "quick")


def test_full_outputs_are_the_published_folders():
    full = config.get_profile("full")
    assert full.figures_dir == config.ROOT / "figures"
    assert full.results_dir == config.ROOT / "results" / "full"
    assert full.report_dir == config.ROOT / "report"
    assert full.is_published and not config.get_profile("quick").is_published


def test_quick_is_smaller_than_full():
    quick, full = config.get_profile("quick"), config.get_profile("full")
    assert quick.train_subset < 54000 and full.train_subset is None
    assert quick.ensemble_size <= full.ensemble_size and full.ensemble_second_design < full.ensemble_size
    assert quick.cnn_epochs <= 2 and quick.mlp_epochs <= 2


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv(config.PROFILE_ENV, "full")
    assert config.get_profile().name == "full"
    monkeypatch.delenv(config.PROFILE_ENV)
    assert config.get_profile().name == "quick"


def test_unknown_profile_is_rejected():
    with pytest.raises(ValueError, match="Unknown profile"):
        config.get_profile("medium")


def test_seed_everything_repeats_numpy():
    config.seed_everything(7)
    a = np.random.rand(3)
    config.seed_everything(7)
    np.testing.assert_array_equal(a, np.random.rand(3))
