"""A tuned model is retrained on exactly the recipe of the hand-designed models it competes with."""

import dataclasses

from fmnist_utils import config
from fmnist_utils.compute import recipes
from fmnist_utils.compute.spec import TrainConfig


def test_retrain_keeps_the_recipe_and_takes_only_the_learning_rate():
    full = config.get_profile("full")
    found = TrainConfig(epochs=3, batch_size=32, learning_rate=3e-4, schedule="constant", patience=None)
    for recipe in (recipes.mlp_standard(full), recipes.cnn_recipe(full)):
        retrained = recipes.retrain(recipe, found)
        assert retrained.learning_rate == 3e-4
        assert dataclasses.replace(retrained, learning_rate=recipe.learning_rate) == recipe


def test_recipes_follow_the_profile():
    for profile in (config.get_profile("quick"), config.get_profile("full")):
        assert recipes.mlp_standard(profile).epochs == profile.mlp_epochs
        assert recipes.cnn_baseline(profile).epochs == profile.cnn_epochs
        cnn = recipes.cnn_recipe(profile)
        assert cnn.epochs == profile.recipe_epochs and cnn.schedule == "cosine" and cnn.patience is None
        assert cnn.precision == recipes.CNN_PRECISION == "mixed_bfloat16"
        assert cnn.warmup_epochs == (1 if profile.recipe_epochs > 2 else 0)


def test_smoothing_changes_only_the_targets():
    recipe = recipes.cnn_recipe(config.get_profile("full"))
    smooth = recipes.smoothed(recipe)
    assert smooth.label_smoothing == recipes.LABEL_SMOOTHING > 0 and recipe.label_smoothing == 0
    assert dataclasses.replace(smooth, label_smoothing=0.0) == recipe


def test_the_final_recipe_trains_longer_than_the_recipe():
    for profile in (config.get_profile("quick"), config.get_profile("full")):
        recipe = recipes.cnn_recipe(profile)
        final = recipes.longer(recipe, profile.final_epochs)
        assert final.epochs == profile.final_epochs > recipe.epochs
        assert dataclasses.replace(final, epochs=recipe.epochs) == recipe
