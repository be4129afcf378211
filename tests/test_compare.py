"""python -m visionrepro.compare on synthetic per-seed tables with known answers: a shift of 3
standard deviations is flagged (in the metric's better direction), no shift is not, identical
tables read identical, changed settings and code are attributed, runs come and go, and bad
input is refused with the file and what it lacks."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from visionrepro.compare.__main__ import main
from visionrepro.compare.changes import compare
from visionrepro.compare.inputs import read_side

SEEDS = list(range(10))
SETTINGS = {"train": {"lr": 0.001, "epochs": 5}, "network": "Net"}


def per_seed(
    shifts: dict[str, float], seed: int, seeds: list[int] = SEEDS, std: float = 1.0
) -> pd.DataFrame:
    """A runs.csv-like table: experiment "exp", one variant per `shifts` key, `seeds` runs each
    with val_accuracy ~ N(70 + shift, std) and val_loss ~ N(1 + shift, std) drawn from `seed`."""
    rng = np.random.default_rng(seed)
    rows = [
        {
            "experiment": "exp",
            "variant": variant,
            "network": variant,
            "seed": s,
            "val_accuracy": 70 + shift + rng.normal(0, std),
            "val_loss": 1 + shift + rng.normal(0, std),
            "chance": False,
            "train_seconds": 10.0,
            "code_version": "git abc",
            "settings": json.dumps(SETTINGS),
        }
        for variant, shift in shifts.items()
        for s in seeds
    ]
    return pd.DataFrame(rows)


def write(table: pd.DataFrame, path: Path) -> Path:
    table.to_csv(path, index=False)
    return path


def readings(before: pd.DataFrame, after: pd.DataFrame, tmp_path: Path) -> pd.DataFrame:
    b, a = write(before, tmp_path / "before.csv"), write(after, tmp_path / "after.csv")
    table = compare(read_side(b), read_side(a), (str(b), str(a)))
    return table.set_index(["variant", "metric"])


@pytest.mark.parametrize("paired", [True, False])
def test_a_shift_of_3_std_is_flagged_and_no_shift_is_not(tmp_path: Path, paired: bool) -> None:
    before = per_seed({"A": 0.0, "B": 0.0}, seed=1)
    after_seeds = SEEDS if paired else list(range(10, 20))
    after = per_seed({"A": 3.0, "B": 0.0}, seed=2, seeds=after_seeds)
    table = readings(before, after, tmp_path)
    assert (table["test"] == ("paired t" if paired else "Welch t")).all()
    # Higher accuracy is better; a higher loss is worse.
    assert table.loc[("A", "val_accuracy"), "reading"] == "better"
    assert table.loc[("A", "val_loss"), "reading"] == "worse"
    assert 2 < table.loc[("A", "val_accuracy"), "difference"] < 4
    for metric in ("val_accuracy", "val_loss"):
        row = table.loc[("B", metric)]
        assert row["reading"] == "no detectable change"
        assert row["ci_low"] < 0 < row["ci_high"]
        # 10 seeds a side at std 1: the test catches about 1.3 to 1.9 points 4 times in 5.
        assert 1 < row["detectable"] < 2.5
        assert row["p_holm"] >= row["p_value"]
    assert (table["before_n"] == 10).all() and (table["after_n"] == 10).all()
    assert (table["what_differs"] == "").all()


def test_holm_adjusts_within_an_experiment(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0, "B": 0.0, "C": 0.0}, seed=3)
    table = readings(before, per_seed({"A": 0.0, "B": 0.0, "C": 0.0}, seed=4), tmp_path)
    smallest = table["p_value"].idxmin()
    assert table.loc[smallest, "p_holm"] == pytest.approx(min(1.0, 6 * table["p_value"].min()))


def test_identical_tables_read_identical_everywhere(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0, "B": 1.0}, seed=5)
    table = readings(before, before.copy(), tmp_path)
    assert (table["reading"] == "identical").all()
    assert (table["difference"] == 0).all()


def test_one_seed_off_in_the_last_bit_is_not_identical(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0}, seed=6)
    after = before.copy()
    after.loc[3, "val_accuracy"] = np.nextafter(after.loc[3, "val_accuracy"], 100)
    table = readings(before, after, tmp_path)
    assert table.loc[("A", "val_accuracy"), "reading"] == "no detectable change"
    assert table.loc[("A", "val_loss"), "reading"] == "identical"


def test_changed_settings_and_code_are_attributed(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0, "B": 0.0}, seed=7)
    after = per_seed({"A": 3.0, "B": 0.0}, seed=7)
    lr = {**SETTINGS, "train": {"lr": 0.01, "epochs": 5}}
    after.loc[after["variant"] == "A", "settings"] = json.dumps(lr)
    after.loc[after["variant"] == "B", "code_version"] = "git def"
    table = readings(before, after, tmp_path)
    assert (table.loc["A", "what_differs"] == "settings differ: train.lr").all()
    assert (table.loc["B", "what_differs"] == "code differs").all()


def test_new_and_gone_runs(tmp_path: Path) -> None:
    table = readings(per_seed({"A": 0.0, "B": 0.0}, 8), per_seed({"A": 0.0, "C": 0.0}, 8), tmp_path)
    assert (table.loc["B", "reading"] == "gone").all()
    assert (table.loc["C", "reading"] == "new").all()
    assert (table.loc["A", "reading"] == "identical").all()
    assert table.loc[("C", "val_accuracy"), "after_n"] == 10
    assert np.isnan(table.loc[("C", "val_accuracy"), "before_mean"])


def results_folder(root: Path, table: pd.DataFrame, local_dir: str) -> Path:
    """A results folder as the pipeline writes it: tables/runs.csv (no settings column) and each
    run's metrics.json with its resolved settings in the provenance."""
    (root / "tables").mkdir(parents=True)
    table.drop(columns="settings").to_csv(root / "tables" / "runs.csv", index=False)
    for row in table.itertuples():
        run = root / "runs" / row.experiment / row.variant / f"seed{row.seed}"
        run.mkdir(parents=True)
        provenance = {**json.loads(row.settings), "dataset": {"name": "d", "local_dir": local_dir}}
        (run / "metrics.json").write_text(json.dumps({"provenance": provenance}))
    return root


def test_a_results_folder_gives_its_runs_settings(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0, "B": 0.0}, seed=9, seeds=[0, 1])
    after = before.copy()
    after.loc[after["variant"] == "A", "settings"] = json.dumps({**SETTINGS, "color": "rgb"})
    after.loc[after["variant"] == "A", "val_accuracy"] += 1.0
    # Where the data was read from (a local copy's folder) is not a setting that is compared.
    b = results_folder(tmp_path / "before", before, local_dir="/a")
    a = results_folder(tmp_path / "after", after, local_dir="/b")
    table = compare(read_side(b), read_side(a / "tables"), ("b", "a")).set_index(
        ["variant", "metric"]
    )
    assert table.loc[("A", "val_accuracy"), "reading"] == "changed (too few seeds for a test)"
    assert table.loc[("A", "val_accuracy"), "what_differs"] == "settings differ: color"
    assert table.loc[("A", "val_loss"), "reading"] == "identical"
    assert (table.loc["B", "reading"] == "identical").all()
    assert (table.loc["B", "what_differs"] == "").all()


def test_cli_prints_the_changes_writes_csv_and_fails_on_worse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = write(per_seed({"A": 0.0, "B": 0.0}, seed=10), tmp_path / "before.csv")
    after = write(per_seed({"A": -3.0, "B": 0.0}, seed=10), tmp_path / "after.csv")
    out = tmp_path / "changes.csv"
    assert main([str(before), str(after), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "worse" in printed and "2 of 4 rows identical" in printed
    assert set(pd.read_csv(out)["reading"]) == {"worse", "better", "identical"}
    assert main([str(before), str(after), "--fail-on", "worse"]) == 1
    assert main([str(before), str(before), "--fail-on", "worse"]) == 0
    assert main([str(before), str(before), "--fail-on", "changed"]) == 0
    assert main([str(before), str(after), "--fail-on", "changed"]) == 1


def test_bad_input_names_the_file_and_what_it_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(per_seed({"A": 0.0}, seed=11), tmp_path / "good.csv")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(empty), str(good)]) == 2
    error = capsys.readouterr().err
    assert str(empty) in error and "tables/runs.csv" in error and "Traceback" not in error

    no_code = write(per_seed({"A": 0.0}, seed=11).drop(columns="code_version"), tmp_path / "x.csv")
    assert main([str(good), str(no_code)]) == 2
    error = capsys.readouterr().err
    assert str(no_code) in error and "code_version" in error

    renamed = per_seed({"A": 0.0}, seed=11).rename(
        columns={"val_accuracy": "accuracy", "val_loss": "loss"}
    )
    renamed_path = write(renamed, tmp_path / "renamed.csv")
    assert main([str(good), str(renamed_path)]) == 2
    error = capsys.readouterr().err
    assert str(renamed_path) in error and "accuracy, loss" in error and "val_accuracy" in error


def test_unreadable_settings_name_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(per_seed({"A": 0.0}, seed=12), tmp_path / "good.csv")
    broken = write(per_seed({"A": 0.0}, seed=12).assign(settings="{lr: 0.1"), tmp_path / "b.csv")
    assert main([str(good), str(broken)]) == 2
    error = capsys.readouterr().err
    assert str(broken) in error and "settings" in error and "Traceback" not in error


def test_seeds_that_all_moved_alike_are_beyond_noise(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0}, seed=13, seeds=[0, 1, 2])
    after = before.assign(val_accuracy=before["val_accuracy"] - 0.5)
    table = readings(before, after, tmp_path)
    assert table.loc[("A", "val_accuracy"), "test"] == "no spread"
    assert table.loc[("A", "val_accuracy"), "reading"] == "worse"
    # Constant values on other seeds (Welch, no spread) and the same mean: nothing moved.
    flat = before.assign(val_accuracy=50.0)
    moved = flat.assign(seed=flat["seed"] + 10)
    table = readings(flat, moved, tmp_path)
    assert table.loc[("A", "val_accuracy"), "reading"] == "no detectable change"


def test_only_runs_on_one_side(tmp_path: Path) -> None:
    table = readings(
        per_seed({"A": 0.0}, 14), per_seed({"B": 0.0}, 14).assign(experiment="x"), tmp_path
    )
    assert set(table["reading"]) == {"new", "gone"}
