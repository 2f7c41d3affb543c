"""Every path, run profile and seed of the project, anchored to the repository root.

A profile decides how much work a run does *and where its outputs go*: the quick profile
writes only under ``build/quick/`` so it can never overwrite the published full results.
"""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = ROOT / "notebooks"
BUILD_DIR = ROOT / "build"
SEED = 42
PROFILE_ENV = "FMNIST_PROFILE"
BUILD_DIR_ENV = "FMNIST_BUILD_DIR"  # moves the quick profile's outputs elsewhere (tests run it in a temp dir)


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    # Data: None means "all of it".
    train_subset: int | None
    val_size: int
    # Training budgets.
    mlp_epochs: int
    cnn_epochs: int  # report 004's CNN recipe (early stopping) and the report-003 designs (half of it)
    recipe_epochs: int  # our CNN recipe: a fixed number of epochs
    final_epochs: int  # our final CNN recipe: the same, trained longer
    patience: int
    # Hyperband: max_epochs per trial, reduction factor, images used for the search.
    tuner_max_epochs: int
    tuner_factor: int
    tuner_subset: int | None
    tuner_iterations: int
    # Ensemble.
    ensemble_size: int  # members in all: copies of the tuned CNN and of the hand-designed one, each on its own recipe
    ensemble_second_design: int  # how many of them are copies of the design second on validation
    ensemble_residual: int  # copies of a residual network the validation-chosen subset may also draw on
    bootstrap_samples: int
    # Output folders.
    figures_dir: Path
    results_dir: Path
    report_dir: Path
    artifacts_dir: Path  # the local training cache (not in git)
    store_dir: Path  # the model store (fmnist_utils.compute.store; in git for the full profile)
    notebooks_out_dir: Path
    build_dir: Path  # executed notebooks, logs and failed runs of this profile

    @property
    def is_published(self) -> bool:
        return self.name == "full"

    @property
    def logs_dir(self) -> Path:
        return self.build_dir / "logs"

    @property
    def failed_dir(self) -> Path:
        """Where the executed copy of a notebook that raised is kept, for reading its traceback."""
        return self.build_dir / "failed"


def build_root() -> Path:
    return Path(os.environ.get(BUILD_DIR_ENV) or BUILD_DIR)


def _profiles() -> dict[str, Profile]:
    quick_root = build_root() / "quick"
    full_build = build_root() / "full"
    return {
        "quick": Profile(
            name="quick",
            train_subset=3000,
            val_size=1000,
            mlp_epochs=2,
            cnn_epochs=1,
            recipe_epochs=1,
            final_epochs=2,
            patience=2,
            tuner_max_epochs=2,
            tuner_factor=2,
            tuner_subset=1500,
            tuner_iterations=1,
            ensemble_size=3,
            ensemble_second_design=1,
            ensemble_residual=1,
            bootstrap_samples=200,
            figures_dir=quick_root / "figures",
            results_dir=quick_root / "results",
            report_dir=quick_root,
            artifacts_dir=quick_root / "artifacts",
            store_dir=quick_root / "models",
            notebooks_out_dir=quick_root / "notebooks",
            build_dir=quick_root,
        ),
        "full": Profile(
            name="full",
            train_subset=None,
            val_size=6000,
            mlp_epochs=30,
            cnn_epochs=12,
            recipe_epochs=18,
            final_epochs=30,
            patience=6,
            tuner_max_epochs=9,
            tuner_factor=3,
            tuner_subset=16000,
            tuner_iterations=1,
            ensemble_size=15,  # report 003's ensemble size
            ensemble_second_design=5,
            ensemble_residual=4,
            bootstrap_samples=2000,
            figures_dir=ROOT / "figures",
            results_dir=ROOT / "results" / "full",
            report_dir=ROOT / "report",
            artifacts_dir=ROOT / "artifacts" / "full",
            store_dir=ROOT / "models" / "full",
            notebooks_out_dir=full_build / "notebooks",
            build_dir=full_build,
        ),
    }


PROFILE_NAMES = tuple(_profiles())


def get_profile(name: str | None = None) -> Profile:
    """Return a profile by name; ``None`` reads ``$FMNIST_PROFILE`` (default ``quick``)."""
    name = name or os.environ.get(PROFILE_ENV, "quick")
    profiles = _profiles()
    if name not in profiles:
        raise ValueError(f"Unknown profile {name!r}; choose one of {sorted(profiles)}.")
    return profiles[name]


def seed_everything(seed: int = SEED) -> None:
    """Seed Python, NumPy and Keras (which seeds the backend) for a repeatable run."""
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    import keras  # deferred: importing Keras is slow and the tests of paths need none

    keras.utils.set_random_seed(seed)
