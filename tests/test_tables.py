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


def _seg_run(seed: int, miou: float, dog_iou: float | None) -> dict:
    run = _run("UNet", seed, 0.0, 0.0)
    del run["val_accuracy"]
    return {
        **run,
        "experiment": "coco_seg",
        "params": 42078,
        "task": "segmentation",
        "miou": miou,
        "pixel_accuracy": 80.0 + seed,
        "thresholded_iou": 20.0,
        "per_class": [
            {"class": "background", "iou": 0.8, "pixels": 10, "predicted": 9},
            {"class": "dog", "iou": dog_iou, "pixels": 0 if dog_iou is None else 5, "predicted": 1},
        ],
    }


def test_classification_and_segmentation_rows_share_the_tables() -> None:
    runs = [*RUNS, _seg_run(0, 40.0, 0.2), _seg_run(1, 50.0, None)]
    refs = {**REFERENCES, "coco_seg": {"UNet": {"miou": 36.0}}}
    summary = summary_table(runs, refs).set_index(["network", "metric"])
    assert summary.loc[("HW4Net1", "val_accuracy"), "mean"] == 55.0
    assert summary.loc[("UNet", "miou"), ["mean", "reference"]].tolist() == [45.0, 36.0]
    assert summary.loc[("UNet", "pixel_accuracy"), "mean"] == 80.5
    assert summary.loc[("UNet", "thresholded_iou"), "n_seeds"] == 2
    assert len(summary) == 4
    per_class = per_class_table(runs).set_index(["network", "class"])
    # A seed where the class is absent (IoU undefined) is left out of the mean, not counted 0.
    assert per_class.loc[("UNet", "dog"), "iou"] == pytest.approx(0.2)
    assert per_class.loc[("UNet", "background"), "iou"] == pytest.approx(0.8)
    table = run_table(runs)
    assert table["miou"].notna().sum() == 2 and table["val_accuracy"].notna().sum() == 2
