"""The result tables built from runs' metrics.json records."""

import pytest

from visionrepro.tables import per_class_table, run_table, summary_table


def _run(network: str, seed: int, accuracy: float, precision: float) -> dict:
    return {
        "experiment": "coco_gray",
        "network": network,
        "params": 406885,
        "seed": seed,
        "val_accuracy": accuracy,
        "train_seconds": 12.5,
        "per_class": [
            {"class": "boat", "precision": precision, "recall": 0.5, "f1": 0.5, "support": 2}
        ],
        "provenance": {
            "device": "cpu",
            "threads": 2,
            "git_commit": "abc",
            "host": "h",
            "created": "t",
            "versions": {"torch": "2.14.1"},
        },
    }


RUNS = [_run("HW4Net1", 0, 50.0, 0.2), _run("HW4Net1", 1, 60.0, 0.4)]
REFERENCES = {"coco_gray": {"HW4Net1": {"params": 406885, "val_accuracy": 54.35}}}


def test_summary_has_seed_statistics_beside_the_reference() -> None:
    row = summary_table(RUNS, REFERENCES).iloc[0]
    assert (row["metric"], row["n_seeds"], row["mean"]) == ("val_accuracy", 2, 55.0)
    assert row["std"] == pytest.approx(7.0710678)
    assert (row["reference"], row["reference_params"]) == (54.35, 406885)


def test_summary_without_a_reference_leaves_it_empty() -> None:
    assert summary_table(RUNS, {})["reference"].isna().all()


def test_run_and_per_class_tables() -> None:
    runs = run_table(RUNS)
    assert list(runs["seed"]) == [0, 1] and set(runs["git_commit"]) == {"abc"}
    assert per_class_table(RUNS).iloc[0]["precision"] == pytest.approx(0.3)
