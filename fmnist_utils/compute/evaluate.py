"""Metrics with honest uncertainty: accuracy with a bootstrap CI, per-class report, confusion
matrix, McNemar's test between two classifiers, and expected calibration error."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import metrics

from .data import CLASS_NAMES, IMAGE_SHAPE

ECE_BINS = 15  # equal-width confidence bins of the calibration error and the reliability diagram


def predict_proba(model, x: np.ndarray, tta_flip: bool = False, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities; with ``tta_flip`` the mean over the image and its mirror (images shaped (n, 28, 28, 1),
    or flattened for an MLP)."""
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    if tta_flip:
        if x.ndim not in (2, 4):
            raise ValueError("Test-time flip averaging needs images, shaped (n, 28, 28, 1) or (n, 784).")
        mirror = x[:, :, ::-1] if x.ndim == 4 else x.reshape(-1, *IMAGE_SHAPE)[:, :, ::-1].reshape(x.shape)
        probs = (probs + model.predict(mirror, batch_size=batch_size, verbose=0)) / 2
    return np.asarray(probs, dtype=np.float32)


def accuracy(y_true: np.ndarray, probs_or_pred: np.ndarray) -> float:
    pred = probs_or_pred.argmax(axis=1) if probs_or_pred.ndim == 2 else probs_or_pred
    return float(np.mean(pred == y_true))


def log_loss(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean cross-entropy of the true class (what Keras reports as loss)."""
    p = np.clip(probs[np.arange(len(y_true)), y_true], 1e-7, 1.0)
    return float(-np.mean(np.log(p)))


def bootstrap_ci(y_true: np.ndarray, y_pred: np.ndarray, n_boot: int = 2000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of accuracy: resample test images with replacement."""
    correct = (np.asarray(y_true) == np.asarray(y_pred)).astype(np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(correct), size=(n_boot, len(correct)))
    accs = correct[idx].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(accs, [alpha, 1 - alpha])
    return float(lo), float(hi)


def classification_table(y_true: np.ndarray, y_pred: np.ndarray) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support, one row per class (scikit-learn's report)."""
    report = metrics.classification_report(y_true, y_pred, labels=range(len(CLASS_NAMES)),
                                           target_names=CLASS_NAMES, output_dict=True, zero_division=0)
    table = pd.DataFrame(report).T.loc[list(CLASS_NAMES)]
    table["support"] = table["support"].astype(int)
    return table.rename(columns={"f1-score": "f1"})


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return metrics.confusion_matrix(y_true, y_pred, labels=range(len(CLASS_NAMES)))


def mcnemar(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> dict:
    """McNemar's exact test: do classifiers A and B err on different images more than chance?

    ``b`` counts images only A gets right, ``c`` those only B gets right; under H0 each
    discordant image is a fair coin, so the p-value is a two-sided binomial test on b of b+c.
    """
    a_ok, b_ok = pred_a == y_true, pred_b == y_true
    b = int(np.sum(a_ok & ~b_ok))
    c = int(np.sum(~a_ok & b_ok))
    p = 1.0 if b + c == 0 else float(stats.binomtest(b, b + c, 0.5).pvalue)
    return {"only_a_correct": b, "only_b_correct": c, "p_value": p}


def calibration_bins(y_true: np.ndarray, probs: np.ndarray, n_bins: int = ECE_BINS) -> pd.DataFrame:
    """Confidence vs accuracy in equal-width confidence bins (the reliability diagram's data)."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    edges = np.linspace(0, 1, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        mask = which == b
        rows.append({"lower": edges[b], "upper": edges[b + 1], "count": int(mask.sum()),
                     "confidence": float(conf[mask].mean()) if mask.any() else np.nan,
                     "accuracy": float(correct[mask].mean()) if mask.any() else np.nan})
    return pd.DataFrame(rows)


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """ECE: the count-weighted mean |accuracy − confidence| over confidence bins."""
    bins = calibration_bins(y_true, probs, n_bins).dropna()
    return float(np.sum(bins["count"] * (bins["accuracy"] - bins["confidence"]).abs()) / len(y_true))


def summarize(y_true: np.ndarray, probs: np.ndarray, n_boot: int = 2000) -> dict:
    pred = probs.argmax(axis=1)
    lo, hi = bootstrap_ci(y_true, pred, n_boot=n_boot)
    return {"accuracy": accuracy(y_true, pred), "accuracy_ci95": [lo, hi],
            "loss": log_loss(y_true, probs), "ece": expected_calibration_error(y_true, probs)}


def most_confident_errors(y_true: np.ndarray, probs: np.ndarray, n: int = 30) -> pd.DataFrame:
    """The ``n`` misclassified images the model was most sure about (index = image index; equal
    confidences in image order, so the figure is the same on every machine)."""
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y_true)
    conf = probs[wrong, pred[wrong]]
    order = wrong[np.argsort(-conf, kind="stable")][:n]
    names = np.asarray(CLASS_NAMES)
    return pd.DataFrame({"true": names[y_true[order]], "predicted": names[pred[order]],
                         "confidence": probs[order, pred[order]]}, index=order)


def confusions_among(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict:
    cm = pd.DataFrame(confusion(y_true, y_pred), index=CLASS_NAMES, columns=CLASS_NAMES)
    sub = cm.loc[classes, classes]
    return {"classes": list(classes), "matrix": sub.values.tolist(),
            "errors_total": int(cm.values.sum() - np.trace(cm.values)),
            "errors_within": int(sub.values.sum() - np.trace(sub.values))}
