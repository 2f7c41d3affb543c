import numpy as np
import pytest

from fmnist_utils import ensemble
from fmnist_utils.spec import TrainConfig

# Three members, three images, three classes.
MEMBERS = np.array([
    [[0.6, 0.4, 0.0], [0.1, 0.8, 0.1], [0.4, 0.3, 0.3]],
    [[0.6, 0.4, 0.0], [0.1, 0.2, 0.7], [0.1, 0.5, 0.4]],
    [[0.0, 1.0, 0.0], [0.1, 0.2, 0.7], [0.2, 0.2, 0.6]],
])


def test_soft_vote_is_the_mean():
    np.testing.assert_allclose(ensemble.soft_vote(MEMBERS)[0], [0.4, 0.6, 0.0])
    assert ensemble.soft_vote(MEMBERS).argmax(1).tolist() == [1, 2, 2]


def test_hard_vote_is_the_majority():
    # Image 0: two members say class 0, although the mean probability favours class 1.
    assert ensemble.hard_vote(MEMBERS).tolist()[:2] == [0, 2]


def test_hard_vote_breaks_ties_by_probability():
    # Image 2: one vote each for 0, 1, 2; summed probabilities 0.7, 1.0, 1.3 -> class 2.
    assert ensemble.hard_vote(MEMBERS)[2] == 2


def test_accuracy_by_size():
    y = np.array([1, 2, 2])
    table = ensemble.accuracy_by_size(MEMBERS, y, n_orders=10, seed=0)
    assert table["members"].tolist() == [1, 2, 3]
    full = table.iloc[-1]
    assert full["mean"] == pytest.approx(1.0) and full["std"] == pytest.approx(0.0)
    single_accs = [np.mean(m.argmax(1) == y) for m in MEMBERS]
    assert min(single_accs) <= table.iloc[0]["mean"] <= max(single_accs)


BASE_RECIPE = {"epochs": 12, "batch_size": 128, "learning_rate": 2e-3, "schedule": "cosine", "warmup_epochs": 1,
               "patience": None, "weight_decay": 0.0}


def test_scratch_members_repeat_the_base_recipe_shortened():
    cfg = ensemble.member_config(TrainConfig.from_dict(BASE_RECIPE), 4, "scratch")
    assert cfg.to_dict() == {**BASE_RECIPE, "epochs": 4}


def test_branch_members_restart_a_cosine_cycle_at_a_lower_peak():
    plateau = TrainConfig.from_dict({**BASE_RECIPE, "schedule": "plateau", "patience": 5})
    cfg = ensemble.member_config(plateau, 4, "base", branch_lr_factor=0.25)
    assert (cfg.epochs, cfg.schedule, cfg.warmup_epochs, cfg.patience) == (4, "cosine", 0, None)
    assert cfg.learning_rate == pytest.approx(5e-4) and cfg.batch_size == 128
    with pytest.raises(ValueError, match="member start"):
        ensemble.member_config(TrainConfig.from_dict(BASE_RECIPE), 4, "pretrained")


def _one_hot_noise(y, flip, rng):
    """Confident probabilities that are wrong on the images in ``flip``."""
    probs = np.full((len(y), 3), 0.05)
    labels = np.where(flip, (y + 1) % 3, y)
    probs[np.arange(len(y)), labels] = 0.9
    return probs


def test_greedy_selection_adds_complementary_members_and_stops():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    wrong_a, wrong_b = np.zeros(300, bool), np.zeros(300, bool)
    wrong_a[:60], wrong_b[60:120] = True, True  # a and b err on different images
    a, b = _one_hot_noise(y, wrong_a, rng), _one_hot_noise(y, wrong_b, rng)
    useless = np.full((300, 3), 1 / 3)  # adds nothing: must not be chosen
    worse = _one_hot_noise(y, np.arange(300) < 150, rng)  # errs on a's and b's images and more
    chosen = ensemble.greedy_selection([useless, worse, a, b], y)
    assert sorted(chosen) == [2, 3]
    assert ensemble.greedy_selection([useless, worse, a, b], y, max_members=1) in ([2], [3])


def test_greedy_selection_of_one_member_is_that_member():
    y = np.array([0, 1, 2])
    assert ensemble.greedy_selection(MEMBERS[:1], y) == [0]


def test_growth_follows_the_given_order():
    y = np.array([0, 1, 2])
    frame = ensemble.growth(MEMBERS, MEMBERS, y, y)
    assert frame["members"].tolist() == [1, 2, 3]
    # first member alone: [0, 1, 0] -> 2 of 3 right; all three: soft vote [1, 2, 2] -> 1 of 3 right.
    assert frame["test_accuracy"].round(4).tolist()[::2] == [0.6667, 0.3333]
    assert frame["val_accuracy"].equals(frame["test_accuracy"])
