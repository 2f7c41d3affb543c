"""``make predict IMAGE=shoe.png``: the published best CNN, read from the model store, on any picture prepared as
Fashion-MNIST's images were (Xiao et al. 2017, section 2; the steps are in :func:`load_image`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from .. import atomic, results
from ..compute import store
from ..compute.data import CLASS_NAMES, prepare_splits
from ..compute.evaluate import predict_proba
from ..compute.spec import ModelSpec
from ..compute.train import preprocess
from ..config import PROFILE_NAMES, ROOT, SEED, Profile, get_profile
from ..present import plots
from ..present.names import display_name

SIDE = 28  # Fashion-MNIST's images: 28×28 grey, a light garment on a black background
DEMO_FIGURE = "demo_photo"  # `make demo`'s figure for the report, next to the others
TOP_K = 3  # classes `make predict` prints


def load_image(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """A picture as the network sees Fashion-MNIST (see the module's docstring). Returns the uint8 image and what
    was done to it; a missing file or one that is not an image stops with one line."""
    try:
        with Image.open(path) as opened:
            image = opened.convert("L")
    except FileNotFoundError:
        raise SystemExit(f"{path}: no such file.") from None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise SystemExit(f"{path}: not a readable image ({exc}). Give a PNG or JPEG file.") from None
    pixels = np.asarray(image, dtype=np.int16)
    corner = int(np.median([pixels[0, 0], pixels[0, -1], pixels[-1, 0], pixels[-1, -1]]))
    rows, cols = (np.abs(pixels - corner) > 0.05 * 255).any(1), (np.abs(pixels - corner) > 0.05 * 255).any(0)
    done = []
    if rows.any() and (not rows.all() or not cols.all()):
        (top, bottom), (left, right) = np.flatnonzero(rows)[[0, -1]], np.flatnonzero(cols)[[0, -1]]
        image = image.crop((int(left), int(top), int(right) + 1, int(bottom) + 1))
        done.append("edges trimmed")
    if image.size != (SIDE, SIDE):
        done.append(f"resized from {image.size[0]}×{image.size[1]}")
        scale = SIDE / max(image.size)
        image = image.resize((max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale))),
                             Image.Resampling.LANCZOS)
        image = image.filter(ImageFilter.UnsharpMask(radius=1, percent=100, threshold=0))
    if corner > 127:
        image, corner = ImageOps.invert(image), 255 - corner
        done.append("light background inverted")
    canvas = Image.new("L", (SIDE, SIDE), 0)
    canvas.paste(image, ((SIDE - image.size[0]) // 2, (SIDE - image.size[1]) // 2))
    return np.asarray(canvas, dtype=np.uint8), done


def top_k(probs: np.ndarray) -> list[tuple[str, float]]:
    order = np.argsort(-probs, kind="stable")[:TOP_K]  # ties in class order
    return [(CLASS_NAMES[i], float(probs[i])) for i in order]


def example_photo(x: np.ndarray, y: np.ndarray, target: Path) -> Path:
    """An image dressed as a photograph, for the demo: the first sneaker of ``x``, dark on an off-white
    background, enlarged eight times on a wider colour canvas (so that the demo shows inversion and resizing)."""
    sneaker = x[int(np.flatnonzero(y == CLASS_NAMES.index("Sneaker"))[0])]
    garment = Image.fromarray(255 - sneaker).resize((8 * SIDE, 8 * SIDE), Image.Resampling.BICUBIC).convert("RGB")
    canvas = Image.new("RGB", (11 * SIDE, 8 * SIDE), (250, 248, 240))
    canvas.paste(garment, (int(1.5 * SIDE), 0))
    with atomic.atomic_path(target, suffix=".png") as tmp:
        canvas.save(tmp)
    return target


def best_cnn(profile: Profile):
    """The results' best CNN from the model store, with what :func:`classify` needs to describe it."""
    summary = results.load_summary(profile.results_dir, profile.name)
    name = summary["best"]["cnn"]
    entry = summary["models"][name]
    stored = store.of_entry(profile.store_dir, entry)
    if not store.holds(stored):
        raise SystemExit(f"The best CNN, {display_name(name)}, is not in the model store {profile.store_dir} yet: "
                         f"`make status PROFILE={profile.name}` names the command that trains it.")
    model, _, _ = store.load(stored)
    return model, {"name": display_name(name), "test_accuracy": entry["test_accuracy"], "spec": entry["spec"]}


def record_demo(profile: Profile) -> Path:
    """Run the demo on :func:`example_photo` of a validation image (no network trained on it, and it is not a test
    image) and keep the command and what it printed next to the store, with a figure for the report (the PDF build
    trains and predicts nothing)."""
    example = example_photo(*prepare_splits(profile, SEED)["val"], profile.store_dir / "sneaker.png")
    shown = example.relative_to(ROOT)
    command = f"make predict IMAGE={shown}" + ("" if profile.is_published else f" PROFILE={profile.name}")
    model, record = best_cnn(profile)
    printed = classify(model, record, [shown])
    target = profile.store_dir / "demo.json"
    atomic.write_json(target, {"command": command, "output": printed})
    seen, _, _ = prepare_and_predict(model, record, example)
    with Image.open(example) as photo:
        figure = plots.demo_panel(np.asarray(photo.convert("RGB")), seen, [f"$ {command}", *printed])
    plots.save_figure(figure, DEMO_FIGURE, profile.figures_dir)
    return target


def prepare_and_predict(model, record: dict, path) -> tuple[np.ndarray, list[str], np.ndarray]:
    spec = ModelSpec.from_dict(record["spec"])
    image, done = load_image(path)
    return image, done, predict_proba(model, preprocess(spec.arch, image[None]), spec.tta_flip)[0]


def classify(model, record: dict, paths: list) -> list[str]:
    """One block per image: its name, what was done to it, and the model's three most likely classes."""
    lines = [f"{record['name']} ({record['test_accuracy']:.2%} on the test set)"]
    for path in paths:
        _, done, probs = prepare_and_predict(model, record, path)
        lines.append(f"{path}" + (f" ({'; '.join(done)})" if done else ""))
        lines += [f"  {label:<12} {p:6.1%}" for label, p in top_k(probs)]
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Classify images with the published best CNN (from the model store).")
    parser.add_argument("images", nargs="*", help="image files (PNG, JPEG; any size, colour or grey)")
    parser.add_argument("--record", action="store_true", help="run the demo photo and keep its output for the report")
    parser.add_argument("--profile", default=None, choices=PROFILE_NAMES, help="default: $FMNIST_PROFILE or quick")
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    if args.record:
        print(f"demo recorded in {record_demo(profile)}")
    elif not args.images:
        parser.error("give at least one image, e.g. make predict IMAGE=shoe.png")
    else:
        print("\n".join(classify(*best_cnn(profile), args.images)))


if __name__ == "__main__":
    main()
