"""A reference can judge any number a run records (issue 31.1): the derived measures of
report/measures.py, their columns in the runs table and their own tolerances in the verdicts."""

import json
import math

import pytest

from visionrepro.report import measures
from visionrepro.report.tables import run_table
from visionrepro.report.verdicts import glance_table, metric_name

RUN = {
    "experiment": "e",
    "variant": "A",
    "seed": 0,
    "classes": ["boat", "dog"],
    "confusion_matrix": [[30, 10], [25, 15]],
    "per_class": [
        {"class": "boat", "precision": 0.5, "recall": 0.75, "f1": 0.6, "support": 40},
        {"class": "dog", "precision": 0.6, "recall": 0.375, "f1": 0.46, "support": 40},
    ],
    "test_loss": 0.125,
}
HISTORY = {
    "test_accuracy": [71.5, 80.0, 84.0, 86.0, 85.5, 85.52, 85.53],
    "test_loss": [0.8, 0.5, 0.4, 0.45, 0.6, 0.7, 0.65],
}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("recall[dog]", 37.5),
        ("precision[boat]", 50.0),
        ("correct[dog]", 15.0),
        ("support[dog]", 40.0),
        ("test_loss", 0.125),
        ("history.test_accuracy[1]", 71.5),
        ("history.test_accuracy[-1]", 85.53),
        ("epoch_reaching.test_accuracy>=85", 4.0),
        ("epoch_reaching.test_loss<=0.45", 3.0),
        ("epoch_settled.test_accuracy<0.1", 5.0),  # the change 86.0 -> 85.5 is the last >= 0.1
        ("epoch_min.test_loss", 3.0),
    ],
)
def test_each_measure_is_resolved_from_the_runs_records(name: str, expected: float) -> None:
    assert measures.value(name, RUN, HISTORY) == pytest.approx(expected)


def test_a_condition_never_met_is_nan_and_a_curve_that_never_moves_settles_at_once() -> None:
    assert math.isnan(measures.value("epoch_reaching.test_accuracy>=90", RUN, HISTORY))
    assert (
        measures.value("epoch_settled.test_accuracy<0.1", RUN, {"test_accuracy": [10.0] * 5}) == 1
    )


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("recall[cat]", r"'cat' is not a class of the run"),
        ("history.test_accuracy[8]", r"the run has 7 epochs"),
        ("history.val_accuracy[1]", r"records no 'val_accuracy'"),
        ("miou", r"'miou': not a metric its metrics.json records"),
    ],
)
def test_a_measure_a_run_cannot_give_is_named(name: str, error: str) -> None:
    with pytest.raises(measures.MeasureError, match=error):
        measures.value(name, RUN, HISTORY)


def test_units_and_their_default_tolerances() -> None:
    units = {n: measures.unit(n) for n in ("test_loss", "recall[dog]", "epoch_min.test_loss")}
    assert units == {"test_loss": "loss", "recall[dog]": "points", "epoch_min.test_loss": "epochs"}
    setting = {"tolerance": 0.5, "tolerances": {"test_loss": 0.02}}
    assert measures.tolerance_of("recall[dog]", {}, setting, 1.0) == 0.5
    assert measures.tolerance_of("test_loss", {}, setting, 1.0) == 0.02
    entry = {"tolerances": {"test_loss": 0.05}}
    assert measures.tolerance_of("test_loss", entry, setting, 1.0) == 0.05  # the entry's wins
    assert measures.tolerance_of("epoch_min.test_loss", {}, setting, 1.0) is None
    assert metric_name("epoch_reaching.test_accuracy>=85") == "first epoch test acc. >= 85"


def _records(losses: list[float], recalls: list[float]) -> tuple[list[dict], list[dict]]:
    runs, histories = [], []
    for seed, (loss, recall) in enumerate(zip(losses, recalls, strict=True)):
        per_class = [{"class": "dog", "precision": 0.5, "recall": recall, "f1": 0.5, "support": 40}]
        runs.append(
            {
                **RUN,
                "seed": seed,
                "network": "N",
                "params": 10,
                "val_accuracy": 70.0 + seed,
                "summary_metrics": ["val_accuracy"],
                "per_class": per_class,
                "classes": ["dog", "boat"],
                "confusion_matrix": [[int(40 * recall), 40 - int(40 * recall)], [0, 40]],
                "test_loss": loss,
                "n_eval": 80,
                "train_seconds": 1.0,
                "images_per_second": 1.0,
                "precision": "fp32",
                "provenance": {
                    "code_version": "v",
                    **dict.fromkeys(("device", "device_name", "threads", "host", "created"), "x"),
                    "versions": {},
                    "train": {"epochs": 10},
                    "color": "rgb",
                },
            }
        )
        histories.append(
            {
                **{k: RUN[k] for k in ("experiment", "variant")},
                "seed": seed,
                "history": {"test_accuracy": [50.0, 70.0 + seed]},
            }
        )
    return runs, histories


def test_a_loss_is_judged_in_its_own_unit_and_a_class_recall_in_points() -> None:
    runs, histories = _records([0.125, 0.127, 0.126], [0.40, 0.41, 0.39])
    names = ["test_loss", "recall[dog]", "history.test_accuracy[2]"]
    table = run_table(runs, histories, names)
    assert list(table["history.test_accuracy[2]"]) == [70.0, 71.0, 72.0]
    spec = {
        "metric": "val_accuracy",
        "tolerance": 1.0,
        "tolerances": {"test_loss": 0.01},
        "reference": {
            "A": {"test_loss": 0.1278, "recall[dog]": 40.5, "source": {"test_loss": "M12"}}
        },
    }
    glance = glance_table(table, {"e": spec}).set_index("metric")
    assert (
        glance.loc["test_loss", "tolerance"] == 0.01 and glance.loc["test_loss", "source"] == "M12"
    )
    assert glance.loc["test_loss", "kind"] == "consistent"  # 0.1278 vs 0.126 ± 0.001, within 0.01
    assert glance.loc["recall[dog]", "tolerance"] == 1.0
    assert glance.loc["recall[dog]", "source"] == ""
    # a loss 0.0018 away is "consistent" only because its tolerance is its own: with ±1 point it
    # would say nothing; without one stated it is an error naming the key to set
    del spec["tolerances"]
    with pytest.raises(ValueError, match=r"experiments.e.tolerances.test_loss"):
        glance_table(table, {"e": spec})


def test_a_reference_setting_may_name_anything_the_resolved_config_holds() -> None:
    runs, _ = _records([0.1] * 3, [0.4] * 3)
    table = run_table(runs)
    reference = {"val_accuracy": 71.0, "settings": {"color": "gray", "epochs": 10}}
    spec = {"metric": "val_accuracy", "reference": {"A": reference}}
    row = glance_table(table, {"e": spec}).iloc[0]
    assert row["verdict"] == "not comparable: color rgb ≠ gray"
    assert json.loads(table.loc[0, "settings"])["color"] == "rgb"
    reference["settings"] = {"color": "rgb", "epochs": 10}
    assert glance_table(table, {"e": spec}).iloc[0]["kind"] == "inconclusive"  # judged
