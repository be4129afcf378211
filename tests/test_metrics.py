"""Tests for classification_metrics and the over-seeds summary."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from visionrepro.engine.metrics import classification_metrics, summarise

CLASSES = ["boat", "cake", "couch", "dog"]
# "dog" (3) is neither a true nor a predicted label: its row and column must still be there.
Y_TRUE = np.array([0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 0, 1])


def test_accuracy_and_confusion_by_hand() -> None:
    metrics = classification_metrics(Y_TRUE, Y_PRED, CLASSES)
    # Correct: items 0, 2, 3 and 4 -> 4 of 7.
    assert metrics["val_accuracy"] == pytest.approx(100 * 4 / 7)
    # Rows are true classes, columns predicted classes.
    assert metrics["confusion_matrix"] == [
        [1, 1, 0, 0],
        [0, 2, 0, 0],
        [1, 1, 1, 0],
        [0, 0, 0, 0],
    ]
    per_class = {entry["class"]: entry for entry in metrics["per_class"]}
    assert [entry["class"] for entry in metrics["per_class"]] == CLASSES
    # boat: predicted twice (1 right), 2 true; cake: predicted 4 times (2 right), 2 true;
    # couch: predicted once (right), 3 true; dog: never seen, zero_division -> 0.
    hand = {
        "boat": (1 / 2, 1 / 2, 2),
        "cake": (2 / 4, 2 / 2, 2),
        "couch": (1 / 1, 1 / 3, 3),
        "dog": (0.0, 0.0, 0),
    }
    for name, (precision, recall, support) in hand.items():
        entry = per_class[name]
        assert entry["precision"] == pytest.approx(precision)
        assert entry["recall"] == pytest.approx(recall)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        assert entry["f1"] == pytest.approx(f1)
        assert entry["support"] == support
    json.dumps(metrics)  # plain Python types, ready for a metrics file


def test_precision_recall_equal_sklearn() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 3, 200))
    metrics = classification_metrics(y_true, y_pred, CLASSES)
    labels = list(range(len(CLASSES)))
    kwargs = {"labels": labels, "average": None, "zero_division": 0}
    np.testing.assert_allclose(
        [e["precision"] for e in metrics["per_class"]], precision_score(y_true, y_pred, **kwargs)
    )
    np.testing.assert_allclose(
        [e["recall"] for e in metrics["per_class"]], recall_score(y_true, y_pred, **kwargs)
    )
    np.testing.assert_allclose(
        [e["f1"] for e in metrics["per_class"]], f1_score(y_true, y_pred, **kwargs)
    )
    support = np.bincount(y_true, minlength=4).tolist()
    assert [e["support"] for e in metrics["per_class"]] == support
    assert metrics["val_accuracy"] == pytest.approx(100 * np.mean(y_true == y_pred))
    confusion = np.array(metrics["confusion_matrix"])
    assert confusion.shape == (4, 4)
    for i in range(4):
        for j in range(4):
            assert confusion[i, j] == np.sum((y_true == i) & (y_pred == j))


def _runs() -> pd.DataFrame:
    rows = []
    accuracies = {
        ("rgb", "HW4Net1", 406_885): [50.0, 54.0, 58.0],
        ("rgb", "HW4Net2", 529_765): [41.5, 47.25],
        ("gray", "HW4Net1", 406_885): [61.0],
    }
    for (experiment, network, params), values in accuracies.items():
        for seed, value in enumerate(values):
            for metric, v in (("val_accuracy", value), ("train_seconds", 10.0 * (seed + 1))):
                rows.append(
                    {
                        "experiment": experiment,
                        "network": network,
                        "params": params,
                        "seed": seed,
                        "metric": metric,
                        "value": v,
                    }
                )
    return pd.DataFrame(rows)


def test_summarise_over_seeds() -> None:
    runs = _runs()
    table = summarise(runs)
    assert list(table.columns) == [
        "experiment",
        "network",
        "params",
        "metric",
        "n_seeds",
        "mean",
        "std",
        "min",
        "max",
    ]
    assert len(table) == 6
    # Groups keep the order in which they first appear.
    assert list(zip(table["experiment"], table["network"], table["metric"], strict=True)) == [
        ("rgb", "HW4Net1", "val_accuracy"),
        ("rgb", "HW4Net1", "train_seconds"),
        ("rgb", "HW4Net2", "val_accuracy"),
        ("rgb", "HW4Net2", "train_seconds"),
        ("gray", "HW4Net1", "val_accuracy"),
        ("gray", "HW4Net1", "train_seconds"),
    ]
    row = table.set_index(["experiment", "network", "metric"])
    net1 = row.loc[("rgb", "HW4Net1", "val_accuracy")]
    assert net1["params"] == 406_885
    assert net1["n_seeds"] == 3
    assert net1["mean"] == pytest.approx(54.0)
    assert net1["std"] == pytest.approx(4.0)  # sqrt((16 + 0 + 16) / (3 - 1))
    assert (net1["min"], net1["max"]) == (50.0, 58.0)

    net2 = row.loc[("rgb", "HW4Net2", "val_accuracy")]
    assert net2["n_seeds"] == 2
    assert net2["mean"] == pytest.approx((41.5 + 47.25) / 2)
    assert net2["std"] == pytest.approx(np.std([41.5, 47.25], ddof=1))
    assert net2["std"] != pytest.approx(np.std([41.5, 47.25], ddof=0))

    seconds = row.loc[("rgb", "HW4Net1", "train_seconds")]
    assert (seconds["mean"], seconds["min"], seconds["max"]) == (20.0, 10.0, 30.0)

    single = row.loc[("gray", "HW4Net1", "val_accuracy")]
    assert single["n_seeds"] == 1
    assert single["std"] == 0.0  # one seed: 0, not NaN
    assert single["mean"] == single["min"] == single["max"] == 61.0
    assert not table.isna().any().any()


def test_summarise_matches_pandas_per_group() -> None:
    rng = np.random.default_rng(1)
    runs = pd.DataFrame(
        {
            "experiment": np.repeat(["a", "b"], 10),
            "network": np.tile(np.repeat(["HW4Net1", "HW4Net3"], 5), 2),
            "params": np.tile(np.repeat([406_885, 622_245], 5), 2),
            "metric": "val_accuracy",
            "seed": np.tile(np.arange(5), 4),
            "value": rng.uniform(20, 80, 20),
        }
    )
    table = summarise(runs)
    assert len(table) == 4
    for row in table.itertuples():
        values = runs.loc[
            (runs["experiment"] == row.experiment) & (runs["network"] == row.network), "value"
        ].to_numpy()
        assert row.n_seeds == 5
        assert row.mean == pytest.approx(values.mean())
        assert row.std == pytest.approx(values.std(ddof=1))
        assert (row.min, row.max) == (values.min(), values.max())
