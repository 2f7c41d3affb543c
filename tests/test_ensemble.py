import numpy as np
import pytest

from fmnist_utils.compute import ensemble
from fmnist_utils.compute.spec import ModelSpec, TrainConfig

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


SPEC = ModelSpec("vgg_bn", TrainConfig(epochs=30), {"dense_units": 256}, seed=42)


def _entry(spec, family="cnn"):
    return {"family": family, "spec": spec.to_dict()}


def test_member_plan_counts_earlier_copies_and_gives_new_ones_free_seeds():
    other = SPEC.replace(hparams={"dense_units": 128})
    recorded = {"hand": _entry(SPEC), "hand_seed2": _entry(SPEC.replace(seed=1000)), "other": _entry(other),
                "an_mlp": _entry(SPEC.replace(seed=7), family="mlp")}
    plan = ensemble.member_plan({"hand": (SPEC, 4), "wide": (other, 1)}, recorded, "ens", first_seed=1000)
    assert [(name, spec.seed, new) for name, spec, new in plan] == [
        ("hand", 42, False), ("hand_seed2", 1000, False), ("ens__hand02", 1001, True), ("ens__hand03", 1002, True),
        ("other", 42, False)]
    assert all(spec.replace(seed=SPEC.seed) == SPEC for _, spec, _ in plan[:4])


def test_member_plan_takes_no_more_earlier_copies_than_asked():
    recorded = {f"copy{i}": _entry(SPEC.replace(seed=i)) for i in range(3)}
    assert [name for name, *_ in ensemble.member_plan({"d": (SPEC, 2)}, recorded, "ens", 0)] == ["copy0", "copy1"]


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


def test_the_student_keeps_its_designs_network_and_recipe_and_learns_from_every_member():
    from types import SimpleNamespace

    from fmnist_utils.compute.spec import ModelSpec, TrainConfig

    design = ModelSpec("vgg_bn", TrainConfig(epochs=30, schedule="cosine"), {"dense_units": 128}, seed=1, tta_flip=True)
    members = [SimpleNamespace(train=SimpleNamespace(key=k)) for k in ("k1", "k2")]
    student = ensemble.student_spec(design, members, seed=7)
    assert student.train.teachers == ("k1", "k2") and student.train.distill == ensemble.DISTILL
    assert student.train.temperature == ensemble.TEMPERATURE
    assert student.replace(seed=1, train=design.train) == design, "only the seed and the targets differ"


def test_the_teacher_is_the_members_soft_vote_with_their_own_test_time_flips():
    from types import SimpleNamespace

    import keras

    from fmnist_utils.compute.spec import ModelSpec, TrainConfig

    class Leftward(keras.Model):  # probability of class 1 = the share of brightness in the left half
        def call(self, x):
            left = keras.ops.sum(x[:, :, :14], axis=(1, 2, 3)) / keras.ops.sum(x, axis=(1, 2, 3))
            return keras.ops.stack([1 - left, left], axis=1)

    images = np.zeros((1, 28, 28), np.uint8)
    images[0, :, :7] = 255  # all on the left
    flipping = SimpleNamespace(model=Leftward(), train=SimpleNamespace(
        spec=ModelSpec("vgg_bn", TrainConfig(epochs=1), tta_flip=True)))
    plain = SimpleNamespace(model=Leftward(), train=SimpleNamespace(spec=ModelSpec("vgg_bn", TrainConfig(epochs=1))))
    np.testing.assert_allclose(ensemble.teach([flipping], images), [[0.5, 0.5]], atol=1e-6)
    np.testing.assert_allclose(ensemble.teach([flipping, plain], images), [[0.25, 0.75]], atol=1e-6)
