"""Classification metrics (scikit-learn) and their aggregation over seeds."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]
) -> dict[str, Any]:
    """Accuracy (%), per-class precision/recall/F1/support and the confusion matrix."""
    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "val_accuracy": 100.0 * accuracy_score(y_true, y_pred),
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


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof=1), min and max over seeds per (experiment, network, metric)."""
    keys = ["experiment", "network", "params", "metric"]
    grouped = runs.groupby(keys, sort=False)["value"]
    table = grouped.agg(n_seeds="count", mean="mean", std="std", min="min", max="max")
    table["std"] = table["std"].fillna(0.0)
    return table.reset_index()
