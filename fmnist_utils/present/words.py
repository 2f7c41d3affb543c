"""The report's numbers and comparisons in words: percentages, intervals, counts, lists and differences, as the
running text and the tables write them."""

from __future__ import annotations

from ..compute.data import IMAGE_SHAPE


def pct(x: float, digits: int = 2) -> str:
    """0.93456 → '93.46%'."""
    return f"{100 * x:.{digits}f}%"


def ci(entry: dict, digits: int = 2) -> str:
    lo, hi = entry["test_accuracy_ci95"]
    return f"{100 * lo:.{digits}f}–{100 * hi:.{digits}f}%"


def augmentation(hparams: dict) -> str:
    """A model's ``augment`` hyper-parameter in words, e.g. 'random horizontal flips'."""
    from ..compute.augment import SHIFT  # the block's default, for specs that leave it out

    aug = hparams.get("augment")
    if not aug:
        return "no augmentation"
    parts = ["random horizontal flips"] if aug.get("flip", True) else []
    shift = aug.get("shift", SHIFT)
    if shift:
        pixels = shift * IMAGE_SHAPE[1]  # a fraction of the image width
        parts.append(f"shifts of up to {pixels:.0f} pixels" if abs(pixels - round(pixels)) < 1e-6
                     else f"shifts of up to {100 * shift:.0f}%")
    if aug.get("erasing"):
        parts.append("random erasing")
    return listing(parts) if parts else "no augmentation"


def recipe_differences(spec: dict, other: dict) -> tuple[list[str], list[str]]:
    """How two models' training differs, in words for each (['the source reports' recipe', '18 epochs', 'no
    augmentation'], ['our MLP recipe', '30 epochs', 'random horizontal flips']); empty when they train alike."""
    from .names import recipe_name

    def words(s: dict) -> dict[str, str]:
        name = recipe_name(s)[0].lower() + recipe_name(s)[1:]
        return {"recipe": name if name.startswith("our") else f"the {name}",
                "epochs": f"{s['train']['epochs']} epochs", "augment": augmentation(s["hparams"]),
                "tta": "flip averaging at test time" if s.get("tta_flip") else "no flip averaging at test time"}
    a, b = words(spec), words(other)
    differ = [k for k in a if a[k] != b[k]]
    return [a[k] for k in differ], [b[k] for k in differ]


NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve")


def in_words(count: int) -> str:
    """A small count as a word ('twelve'), a larger one in digits: as running text writes them."""
    return NUMBER_WORDS[count] if 0 <= count < len(NUMBER_WORDS) else f"{count:,}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def listing(items) -> str:
    """['a'] → 'a'; ['a', 'b'] → 'a and b'; ['a', 'b', 'c'] → 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def gap(ours: float, theirs: float) -> str:
    """Our accuracy set against a published one: '0.64 points below' / '0.10 points above'. A plain
    difference, not a test: the source reports' predictions are not available."""
    return f"{100 * abs(ours - theirs):.2f} points {'below' if ours < theirs else 'above'}"


def inside_interval(entry: dict, theirs: float) -> str:
    """' (their 94.09% lies inside our 95% interval)' when a published number lies inside the bootstrap interval of
    ours, so the plain difference may be noise; nothing otherwise."""
    lo, hi = entry["test_accuracy_ci95"]
    return f" (their {pct(theirs)} lies inside our 95% interval)" if lo <= theirs <= hi else ""


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"
