"""Classification and segmentation metrics (scikit-learn) and their aggregation over seeds."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str], split: str = "val"
) -> dict[str, Any]:
    """Accuracy on `split` (%, as `{split}_accuracy`), per-class precision/recall/F1/support and
    the confusion matrix."""
    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        f"{split}_accuracy": 100.0 * accuracy_score(y_true, y_pred),
        "per_class": [
            {
                "class": name,
                "precision": float(p),
                "recall": float(r),
                "f1": float(f),
                "support": int(s),
            }
            for name, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        ],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


IOU_THRESHOLDS = np.round(np.arange(0.50, 0.951, 0.05), 2)


def pixel_confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion matrix accumulated over all pixels (rows: true class, columns: predicted)."""
    return confusion_matrix(y_true.ravel(), y_pred.ravel(), labels=list(range(n_classes)))


def iou_per_class(confusion: np.ndarray) -> np.ndarray:
    """TP / (TP + FP + FN) per class; NaN for a class absent from both prediction and truth."""
    tp = np.diag(confusion).astype(float)
    union = confusion.sum(0) + confusion.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def image_ious(y_true: np.ndarray, y_pred: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per image, the IoU of its object's class (`values[i]`) in prediction and truth; NaN
    where the class is in neither."""
    values = np.asarray(values)[:, None, None]
    truth, pred = y_true == values, y_pred == values
    union = (truth | pred).sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, (truth & pred).sum((1, 2)) / union, np.nan)


def thresholded_iou(y_true: np.ndarray, y_pred: np.ndarray, values: np.ndarray) -> float:
    """The CSC413 write-up's score: each image's IoU (`image_ious`) turned into the fraction of
    thresholds 0.50, 0.55, ..., 0.95 it exceeds, averaged over the images where it is defined."""
    iou = image_ious(y_true, y_pred, values)
    iou = iou[~np.isnan(iou)]
    return float((iou[:, None] > IOU_THRESHOLDS[None, :]).mean()) if len(iou) else float("nan")


def segmentation_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str], values: np.ndarray
) -> dict[str, Any]:
    """mIoU, pixel accuracy and the thresholded IoU (all in %), per-class IoU, confusion matrix.

    `y_true`, `y_pred`: N x H x W class indices; `values`: each image's object class index.
    """
    confusion = pixel_confusion(y_true, y_pred, len(classes))
    iou = iou_per_class(confusion)
    return {
        "miou": 100.0 * float(np.nanmean(iou)),
        "pixel_accuracy": 100.0 * float(np.trace(confusion) / confusion.sum()),
        "thresholded_iou": 100.0 * thresholded_iou(y_true, y_pred, values),
        "per_class": [
            {
                "class": name,
                "iou": None if np.isnan(v) else float(v),
                "pixels": int(t),
                "predicted": int(p),
            }
            for name, v, t, p in zip(classes, iou, confusion.sum(1), confusion.sum(0), strict=True)
        ],
        "confusion_matrix": confusion.tolist(),
    }


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof=1), min and max of `value` over seeds per group of the other columns
    (experiment, variant, network, params, metric)."""
    keys = [c for c in runs.columns if c not in ("seed", "value")]
    grouped = runs.groupby(keys, sort=False)["value"]
    table = grouped.agg(n_seeds="count", mean="mean", std="std", min="min", max="max")
    table["std"] = table["std"].fillna(0.0)
    return table.reset_index()
