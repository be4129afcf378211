"""The seed-spread analysis: the reported value against the last epochs' scores."""

import json
from pathlib import Path

import pandas as pd

from visionrepro.report.spread import curve_key, epoch_spread, final_values, read_runs


def test_curve_key_follows_the_metric_per_epoch_on_its_split_or_val() -> None:
    assert (
        curve_key({"test_accuracy": [], "train_accuracy": []}, "test_accuracy") == "test_accuracy"
    )
    assert curve_key({"val_accuracy": [], "train_accuracy": []}, "test_accuracy") == "val_accuracy"
    assert curve_key({"test_pixel_accuracy": []}, "pixel_accuracy") == "test_pixel_accuracy"
    assert curve_key({"val_miou": [], "val_pixel_accuracy": []}, "miou") == "val_miou"
    assert curve_key({"train_accuracy": []}, "test_accuracy") is None


def test_a_last_epoch_wobble_spreads_the_final_values_more_than_the_tail_means() -> None:
    # Two seeds on the same plateau, one ending on a bad epoch: final 50 vs 56, tail means close.
    runs = [
        ("e", "net", 56.0, {"test_accuracy": [40, 55, 55, 56]}, "test_accuracy"),
        ("e", "net", 50.0, {"test_accuracy": [41, 56, 57, 50]}, "test_accuracy"),
        ("e", "mlp", 70.0, {"loss": []}, "test_accuracy"),  # no per-epoch scores
    ]
    table = epoch_spread(runs, last=3).set_index("variant")
    assert table.loc["net", "seeds"] == 2
    assert table.loc["net", "reported"] == "53.00 ± 4.24"
    assert table.loc["net", "last epoch"] == "53.00 ± 4.24"
    assert table.loc["net", "mean of last 3 epochs"] == "54.83 ± 0.71"  # 55.33 and 54.33
    assert float(table.loc["net", "wobble"]) > 1.5
    assert table.loc["mlp", "per epoch on"] == "-" and table.loc["mlp", "reported"] == "70.00"


def test_read_runs_takes_each_runs_headline_metric_and_history(tmp_path: Path) -> None:
    runs = pd.DataFrame(
        {
            "experiment": ["c", "s"],
            "variant": ["a", "UNet"],
            "seed": [0, 1],
            "test_accuracy": [60.0, None],
            "miou": [None, 40.0],
        }
    )
    (tmp_path / "tables").mkdir()
    runs.to_csv(tmp_path / "tables" / "runs.csv", index=False)
    files = (
        ("c", "a", 0, "classification", {"val_accuracy": [1]}),
        ("s", "UNet", 1, "segmentation", {}),
    )
    for exp, var, seed, task, history in files:
        folder = tmp_path / "runs" / exp / var / f"seed{seed}"
        folder.mkdir(parents=True)
        (folder / "train.json").write_text(json.dumps({"eval_split": "test", "history": history}))
        (folder / "metrics.json").write_text(json.dumps({"task": task}))
    assert read_runs(tmp_path) == [
        ("c", "a", 60.0, {"val_accuracy": [1]}, "test_accuracy"),
        ("s", "UNet", 40.0, {}, "miou"),
    ]
    assert list(final_values(tmp_path)["metric"]) == ["test_accuracy", "miou"]
