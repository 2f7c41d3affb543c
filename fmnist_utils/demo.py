"""The published best single CNN at work, without training: it ships in the repository.

    make predict IMAGE=shoe.png     # the top-3 classes and their probabilities
    make ship-model                 # (after a republish) put the new best CNN in models/

:func:`ship` takes the best CNN of the results (by validation accuracy) from the training cache (training it
if the cache lacks it), checks that its test-set probabilities equal the published ones bit for bit, and only
then saves it to ``models/best_cnn.keras`` with ``models/best_cnn.json`` (its name and the digest of its
published probabilities). ``make verify`` repeats that check, so a shipped model never disagrees with the
report. The quick profile ships into ``build/quick/models/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from . import atomic, results
from .config import PROFILE_NAMES, ROOT, Profile, get_profile
from .data import CLASS_NAMES
from .names import display_name

SIDE = 28  # Fashion-MNIST's images: 28×28 grey, a light garment on a black background


def shipped_dir(profile: Profile) -> Path:
    return ROOT / "models" if profile.is_published else profile.build_dir / "models"


def load_image(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """A picture as the network sees Fashion-MNIST: grey, the garment light on a dark background (a picture
    with a light background is inverted), padded to a square and resized to 28×28. Returns the uint8 image and
    what was done to it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("L")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise SystemExit(f"{path}: not a readable image ({exc}). Give a PNG or JPEG file.") from None
    done = []
    pixels = np.asarray(image)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if border.mean() > 127:
        image, done = ImageOps.invert(image), ["light background inverted"]
    if image.size != (SIDE, SIDE):
        done.append(f"resized from {image.size[0]}×{image.size[1]}")
        image = ImageOps.pad(image, (max(image.size),) * 2, color=0).resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8), done


def top_k(probs: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
    order = np.argsort(-probs, kind="stable")[:k]  # ties in class order
    return [(CLASS_NAMES[i], float(probs[i])) for i in order]


def test_probabilities(model, spec, x_test: np.ndarray) -> np.ndarray:
    """The model's test-set probabilities exactly as the steps record them (test-time flips as its spec says)."""
    from .evaluate import predict_proba
    from .train import preprocess

    return results.as_stored(predict_proba(model, preprocess(spec.arch, x_test), spec.tta_flip))


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def disagreement(model, spec, x_test: np.ndarray, published: np.ndarray) -> str | None:
    """Why ``model`` is not the published one (None when its test probabilities equal them bit for bit)."""
    mine = test_probabilities(model, spec, x_test)
    if np.array_equal(mine, published):
        return None
    moved = int(np.sum(mine.argmax(1) != published.argmax(1)))
    return (f"its test-set probabilities differ from the published ones (largest difference "
            f"{float(np.max(np.abs(mine.astype(np.float32) - published.astype(np.float32)))):.3g}; "
            f"{moved} predictions differ)")


def ship(profile: Profile) -> Path:
    """Save the results' best single CNN to :func:`shipped_dir` once it is shown to be the published model."""
    from .data import prepare_splits
    from .spec import ModelSpec
    from .train import fit

    summary = results.load_summary(profile.results_dir, profile.name)
    name = summary["best"]["cnn"]
    entry, published = summary["models"][name], results.load_probs(profile.results_dir)[name]
    spec = ModelSpec.from_dict(entry["spec"])
    splits = prepare_splits(profile)
    print(f"{display_name(name)}: from the training cache, or trained (about {entry['train_seconds'] / 60:.0f} min "
          f"where it was published)")
    model = fit(name, spec, splits, profile.artifacts_dir, verbose=0).model
    problem = disagreement(model, spec, splits["test"][0], published)
    if problem:
        raise SystemExit(f"Not shipped: {display_name(name)} as trained here is not the published model: {problem}. "
                         f"It was trained with {spec.train.precision} on {summary['hardware']['cpu']}; rebuild it on "
                         "such a machine, or from the training cache that published it.")
    folder = shipped_dir(profile)
    with atomic.atomic_path(folder / "best_cnn.keras", suffix=".keras") as tmp:
        model.save(tmp)
    record = {"model": name, "name": display_name(name), "test_accuracy": entry["test_accuracy"],
              "spec": entry["spec"], "test_probabilities_sha256": digest(published)}
    example = example_photo(*splits["test"], folder / "example_photo.png")
    command = f"make predict IMAGE={example.relative_to(ROOT)}" + ("" if profile.is_published else
                                                                    f" PROFILE={profile.name}")
    record["demo"] = {"command": command, "output": classify(model, record, [example.relative_to(ROOT)])}
    atomic.write_json(folder / "best_cnn.json", record)
    print(f"shipped {display_name(name)} ({entry['test_accuracy']:.2%} test) to {folder / 'best_cnn.keras'}")
    return folder / "best_cnn.keras"


def example_photo(x_test: np.ndarray, y_test: np.ndarray, target: Path) -> Path:
    """A test image dressed as a photograph, for the demo: the first test sneaker, dark on an off-white
    background, enlarged eight times on a wider colour canvas (so that the demo shows inversion and resizing)."""
    from PIL import Image

    sneaker = x_test[int(np.flatnonzero(y_test == CLASS_NAMES.index("Sneaker"))[0])]
    garment = Image.fromarray(255 - sneaker).resize((8 * SIDE, 8 * SIDE), Image.Resampling.BICUBIC).convert("RGB")
    canvas = Image.new("RGB", (11 * SIDE, 8 * SIDE), (250, 248, 240))
    canvas.paste(garment, (int(1.5 * SIDE), 0))
    with atomic.atomic_path(target, suffix=".png") as tmp:
        canvas.save(tmp)
    return target


def load_shipped(profile: Profile):
    """The shipped model and its record; a clear error when none was shipped or the file is unreadable."""
    import keras

    folder = shipped_dir(profile)
    path, record_path = folder / "best_cnn.keras", folder / "best_cnn.json"
    if not path.is_file() or not record_path.is_file():
        raise SystemExit(f"No model shipped in {folder}: run `make ship-model PROFILE={profile.name}` where the "
                         "training cache of the published results is (it copies the best CNN there).")
    try:
        return keras.models.load_model(path, compile=False), json.loads(record_path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{path}: unreadable ({exc}); restore it with `git checkout -- {folder}`.") from None


def shipped_problems(profile: Profile, summary: dict, probs: dict, x_test: np.ndarray) -> list[str]:
    """For ``make verify``: the shipped model is the results' best CNN and predicts the published probabilities."""
    from .spec import ModelSpec

    if not (shipped_dir(profile) / "best_cnn.keras").is_file():
        return []
    model, record = load_shipped(profile)
    best = summary["best"]["cnn"]
    if record["model"] != best or record["test_probabilities_sha256"] != digest(probs[best]):
        return [f"{shipped_dir(profile)}: holds {record['model']}, not the published best CNN {best}: "
                f"`make ship-model PROFILE={profile.name}` replaces it"]
    problem = disagreement(model, ModelSpec.from_dict(summary["models"][best]["spec"]), x_test, probs[best])
    return [f"{shipped_dir(profile) / 'best_cnn.keras'}: {problem}"] if problem else []


def predict(paths: list[str], profile: Profile) -> list[str]:
    """One block per image: its name, what was done to it, and the model's three most likely classes."""
    return classify(*load_shipped(profile), paths)


def classify(model, record: dict, paths: list) -> list[str]:
    """:func:`predict`'s lines for ``model``, described by its shipped ``record``."""
    from .evaluate import predict_proba
    from .spec import ModelSpec
    from .train import preprocess

    spec = ModelSpec.from_dict(record["spec"])
    lines = [f"{record['name']} ({record['test_accuracy']:.2%} on the test set)"]
    for path in paths:
        image, done = load_image(path)
        probs = predict_proba(model, preprocess(spec.arch, image[None]), spec.tta_flip)[0]
        lines.append(f"{path}" + (f" ({'; '.join(done)})" if done else ""))
        lines += [f"  {label:<12} {p:6.1%}" for label, p in top_k(probs)]
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Classify images with the shipped CNN, or ship a new one.")
    parser.add_argument("images", nargs="*", help="image files (PNG, JPEG; any size, colour or grey)")
    parser.add_argument("--ship", action="store_true", help="copy the results' best CNN into models/ (checked)")
    parser.add_argument("--profile", default=None, choices=PROFILE_NAMES, help="default: $FMNIST_PROFILE or quick")
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    if args.ship:
        ship(profile)
    elif not args.images:
        parser.error("give at least one image, e.g. make predict IMAGE=shoe.png")
    else:
        print("\n".join(predict(args.images, profile)))
    sys.exit(0)


if __name__ == "__main__":
    main()
