"""The result tables built from runs' metrics.json and train.json records."""

import numpy as np
import pandas as pd
import pytest

from visionrepro.report.tables import (
    convergence_table,
    data_version,
    dataset_table,
    first_epoch_reaching,
    per_class_table,
    run_table,
    summary_table,
)


def _run(network: str, seed: int, accuracy: float, precision: float) -> dict:
    return {
        "experiment": "coco_gray",
        "variant": network,
        "network": network,
        "params": 406885,
        "seed": seed,
        "val_accuracy": accuracy,
        "summary_metrics": ["val_accuracy"],
        "classes": ["boat", "cake", "dog"],
        "confusion_matrix": [[2, 0, 0], [1, 1, 0], [0, 1, 1]],
        "train_seconds": 12.5,
        "images_per_second": 800.0,
        "precision": "fp32",
        "per_class": [
            {"class": "boat", "precision": precision, "recall": 0.5, "f1": 0.5, "support": 2}
        ],
        "provenance": {
            "code_version": "git abc",
            "device": "cpu",
            "device_name": "cpu",
            "threads": 2,
            "host": "h",
            "created": "t",
            "versions": {"python": "3.11.7", "torch": "2.14.1", "numpy": "2.4.6"},
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
    assert list(runs["seed"]) == [0, 1] and set(runs["code_version"]) == {"git abc"}
    assert list(runs["torch"]) == ["2.14.1"] * 2 and list(runs["snakemake"]) == [""] * 2
    assert per_class_table(RUNS).iloc[0]["precision"] == pytest.approx(0.3)


def test_runs_at_chance_level_are_flagged() -> None:
    # 3 classes: chance is 33.3 %, flagged up to 38.3 %; or at most two classes predicted.
    near = {**_run("HW4Net1", 0, 35.0, 0.2)}
    two = {**_run("HW4Net1", 1, 60.0, 0.2), "confusion_matrix": [[2, 0, 0], [1, 1, 0], [1, 1, 0]]}
    runs = run_table([near, two, *RUNS])
    assert runs["chance"].tolist() == [True, True, False, False]
    seg = _seg_run(0, 40.0, 0.2)  # pixels: every class predicted; accuracy is not used
    assert run_table([seg])["chance"].tolist() == [False]
    seg["confusion_matrix"] = [[9, 0, 1], [3, 0, 0], [4, 0, 1]]  # background and dog only
    assert run_table([seg])["chance"].tolist() == [True]
    color = {**_fashion_run("UNet", 0, 0.0), "task": "colorization", "pixel_accuracy": 5.0}
    del color["confusion_matrix"]
    color["classes"] = [f"#{i:06x}" for i in range(24)]  # chance 4.2 %: 5 % is near it
    assert run_table([color])["chance"].tolist() == [True]


def test_records_from_before_code_versions_give_their_commit() -> None:
    run = _run("HW4Net1", 0, 50.0, 0.2)
    del run["provenance"]["code_version"]
    run["provenance"]["git_commit"] = "0123abc"
    assert run_table([run])["code_version"].tolist() == ["git 0123abc"]


def _seg_run(seed: int, miou: float, dog_iou: float | None) -> dict:
    run = _run("UNet", seed, 0.0, 0.0)
    del run["val_accuracy"]
    return {
        **run,
        "experiment": "coco_seg",
        "params": 42078,
        "task": "segmentation",
        "summary_metrics": ["miou", "pixel_accuracy", "thresholded_iou"],
        "miou": miou,
        "classes": ["background", "cake", "dog"],
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
    summary = summary_table(runs, refs).set_index(["variant", "metric"])
    assert summary.loc[("HW4Net1", "val_accuracy"), "mean"] == 55.0
    assert summary.loc[("UNet", "miou"), ["mean", "reference"]].tolist() == [45.0, 36.0]
    assert summary.loc[("UNet", "pixel_accuracy"), "mean"] == 80.5
    assert summary.loc[("UNet", "thresholded_iou"), "n_seeds"] == 2
    assert len(summary) == 4
    per_class = per_class_table(runs).set_index(["variant", "class"])
    # A seed where the class is absent (IoU undefined) is left out of the mean, not counted 0.
    assert per_class.loc[("UNet", "dog"), "iou"] == pytest.approx(0.2)
    assert per_class.loc[("UNet", "background"), "iou"] == pytest.approx(0.8)
    table = run_table(runs)
    assert table["miou"].notna().sum() == 2 and table["val_accuracy"].notna().sum() == 2


def _fashion_run(variant: str, seed: int, accuracy: float) -> dict:
    """A metrics.json of a test-split experiment: its metric is test_accuracy."""
    run = _run("MLP", seed, 0.0, 0.5)
    del run["val_accuracy"]
    return {
        **run,
        "experiment": "fashion_mlp",
        "variant": variant,
        "params": 337674,
        "summary_metrics": ["test_accuracy"],
        "test_accuracy": accuracy,
    }


def test_variants_of_one_network_are_rows_of_their_own_with_their_reference() -> None:
    runs = [
        _fashion_run("MLP_lr1", 0, 10.0),
        _fashion_run("MLP_lr1", 1, 12.0),
        _fashion_run("MLP_lr0.1", 0, 86.0),
        *RUNS,
    ]
    refs = {
        **REFERENCES,
        "fashion_mlp": {"MLP_lr0.1": {"params": 337674, "test_accuracy": 87.0}},
    }
    summary = summary_table(runs, refs)
    rows = summary.set_index(["experiment", "variant", "metric"])
    lr1 = rows.loc[("fashion_mlp", "MLP_lr1", "test_accuracy")]
    assert (lr1["network"], lr1["n_seeds"], lr1["mean"], lr1["min"], lr1["max"]) == (
        "MLP",
        2,
        11.0,
        10.0,
        12.0,
    )
    assert pd.isna(lr1["reference"])
    lr01 = rows.loc[("fashion_mlp", "MLP_lr0.1", "test_accuracy")]
    assert (lr01["reference"], lr01["reference_params"], lr01["std"]) == (87.0, 337674, 0.0)
    assert list(summary["variant"]) == ["MLP_lr1", "MLP_lr0.1", "HW4Net1"]
    table = run_table(runs)
    assert table["test_accuracy"].notna().sum() == 3 and table["val_accuracy"].notna().sum() == 2
    assert list(table["network"][:3]) == ["MLP"] * 3


def test_runs_without_per_class_scores_leave_the_per_class_table_empty() -> None:
    run = {**_fashion_run("UNet", 0, 50.0), "task": "colorization"}
    del run["per_class"]
    assert per_class_table([run]).empty
    assert len(per_class_table([run, *RUNS])) == 1


def _history(variant: str, seed: int, accuracies: list[float]) -> dict:
    return {
        "experiment": "fashion_mlp",
        "variant": variant,
        "network": "MLP",
        "seed": seed,
        "history": {"test_accuracy": accuracies, "test_loss": [1.0] * len(accuracies)},
    }


@pytest.mark.parametrize(
    ("values", "epoch"),
    [
        ([70.0, 80.0, 86.0, 88.0], 3),  # reaches it at epoch 3 (1-based)
        ([86.0, 80.0], 1),  # at the first epoch, even if it drops below again
        ([70.0, 85.0, 84.0], 2),  # exactly the threshold counts as reaching it
        ([70.0, 84.99, 84.0], None),  # never within the budget
        ([], None),  # no epoch at all
    ],
)
def test_first_epoch_reaching_the_threshold(values: list[float], epoch: int | None) -> None:
    assert first_epoch_reaching(values, 85) == epoch


def test_convergence_table_per_variant_and_seed() -> None:
    histories = [
        _history("MLP_lr0.1", 0, [80.0, 85.5, 87.0]),
        _history("MLP_lr0.1", 1, [86.0, 87.0, 87.5]),
        _history("MLP_lr1", 0, [10.0, 10.0, 10.0]),
        {**_history("other", 0, [99.0]), "experiment": "mnist"},  # no convergence setting
    ]
    table = convergence_table(
        histories, {"fashion_mlp": {"metric": "test_accuracy", "threshold": 85}}
    )
    assert list(zip(table["variant"], table["seed"], strict=True)) == [
        ("MLP_lr0.1", 0),
        ("MLP_lr0.1", 1),
        ("MLP_lr1", 0),
    ]
    assert table["reached"].tolist() == [True, True, False]
    assert table["epoch"].tolist()[:2] == [2, 1] and pd.isna(table["epoch"].iloc[2])
    assert (table["epochs"] == 3).all() and (table["threshold"] == 85).all()
    assert (table["metric"] == "test_accuracy").all()


def test_convergence_table_round_trips_through_csv(tmp_path) -> None:
    settings = {"fashion_mlp": {"metric": "test_accuracy", "threshold": 85}}
    table = convergence_table([_history("MLP_lr1", 0, [10.0, 10.0])], settings)
    table.to_csv(tmp_path / "convergence.csv", index=False)
    text = (tmp_path / "convergence.csv").read_text().splitlines()
    assert text[1].endswith(",2,False,")  # epochs 2, not reached, epoch empty
    empty = convergence_table([_history("MLP_lr1", 0, [10.0])], {})
    empty.to_csv(tmp_path / "empty.csv", index=False)
    assert pd.read_csv(tmp_path / "empty.csv").columns.tolist() == list(empty.columns)


def test_dataset_table_is_a_pivot_of_datasets_and_splits() -> None:
    splits = {
        ("mnist", "train"): (np.array([0, 1, 1, 2]), ["0 - zero", "1 - one", "2 - two"]),
        ("mnist", "test"): (np.array([1, 0]), ["0 - zero", "1 - one", "2 - two"]),
        ("coco", "val"): (np.array([0]), ["boat", "dog"]),
        ("coco", "train"): (np.array([0, 0]), ["boat", "dog"]),
    }
    table = dataset_table(splits).set_index("dataset")
    assert table.columns.tolist() == ["classes", "train", "test", "val"]
    assert table.loc["mnist"].tolist() == [3, 4, 2, None] or (
        table.loc["mnist", ["classes", "train", "test"]].tolist() == [3, 4, 2]
        and pd.isna(table.loc["mnist", "val"])
    )
    assert table.loc["coco", ["classes", "train", "val"]].tolist() == [2, 2, 1]
    assert pd.isna(table.loc["coco", "test"])


def test_the_data_version_is_the_packs_not_the_seeds_palette() -> None:
    packs = {"train.npz": "a" * 64, "test.npz": "b" * 64}
    one = data_version({"data_sha256": {**packs, "seed3.npz": "c" * 64}})
    other = data_version({"data_sha256": {**packs, "seed4.npz": "d" * 64}})
    assert one == other and len(one) == 12
    assert data_version({"data_sha256": {**packs, "test.npz": "e" * 64}}) != one
    assert data_version({"data_sha256": {"train_masks.npz": "f" * 64}}) != ""
    assert data_version({}) == ""
