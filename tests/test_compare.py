"""python -m visionrepro.compare on synthetic per-seed tables with known answers: a shift of 3
standard deviations is flagged (in the metric's better direction), no shift is not, identical
tables read identical, changed settings and code are attributed, runs come and go, and bad
input is refused with the file and what it lacks."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_helpers import PROJECT

from visionrepro.compare.__main__ import main
from visionrepro.compare.changes import compare, decided, minimum_effect, row_test
from visionrepro.compare.inputs import read_side, tolerances
from visionrepro.report import stats

PUBLISHED = PROJECT / "docs" / "published"
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
    # The accuracy must move beyond the tolerance (1 point, the default); a loss has none.
    for metric, minimum in (("val_accuracy", 1.0), ("val_loss", 0.0)):
        row = table.loc[("B", metric)]
        assert row["reading"] == "no detectable change" and row["minimum"] == minimum
        assert row["ci_low"] < 0 < row["ci_high"]
        # 10 seeds a side at std 1, at Holm's level 0.05 / 2 (2 of 4 rows rejected): the test
        # catches about 1.5 to 2.2 points beyond the minimum 4 times in 5.
        assert minimum + 1.2 < row["detectable"] < minimum + 2.6
        assert row["p_holm"] >= row["p_value"]
    assert (table["before_n"] == 10).all() and (table["after_n"] == 10).all()
    assert (table["what_differs"] == "").all()


def test_holm_adjusts_over_the_whole_table_not_per_experiment(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0, "B": 0.0, "C": 0.0}, seed=3)
    after = per_seed({"A": 0.0, "B": 0.0, "C": 0.0}, seed=4)
    other_b, other_a = (t.assign(experiment="other") for t in (before, after))
    table = readings(pd.concat([before, other_b]), pd.concat([after, other_a]), tmp_path)
    assert len(table) == 12 and table["p_value"].notna().all()
    smallest = table["p_value"].min()
    assert table["p_holm"].min() == pytest.approx(min(1.0, 12 * smallest))


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


def test_a_changed_network_file_is_named(tmp_path: Path) -> None:
    """The commit is the same (an untracked network file), the file's digest is not."""
    before = per_seed({"A": 0.0, "B": 0.0}, seed=7)
    before["code_version"] = "git abc; nets/x.py 111111111111"
    after = before.copy()
    after.loc[after["variant"] == "B", "code_version"] = "git abc; nets/x.py 222222222222"
    table = readings(before, after, tmp_path)
    assert (table.loc["B", "what_differs"] == "code differs: nets/x.py").all()
    assert (table.loc["A", "what_differs"] == "").all()
    after.loc[after["variant"] == "B", "code_version"] = "git def; nets/x.py 222222222222"
    table = readings(before, after, tmp_path)
    assert (table.loc["B", "what_differs"] == "code differs").all()  # the whole code changed


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
    assert "Holm over all 2 tested rows (family-wise error 5 %)" in printed
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


def test_seeds_that_all_moved_alike_are_worse_only_beyond_the_tolerance(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0}, seed=13, seeds=[0, 1, 2])
    after = before.assign(val_accuracy=before["val_accuracy"] - 1.5)
    table = readings(before, after, tmp_path)
    assert table.loc[("A", "val_accuracy"), "test"] == "no spread"
    assert table.loc[("A", "val_accuracy"), "reading"] == "worse"  # 1.5 > the 1 point tolerance
    after = before.assign(val_accuracy=before["val_accuracy"] - 0.5)
    table = readings(before, after, tmp_path)
    assert table.loc[("A", "val_accuracy"), "reading"] == "no detectable change"
    # Constant values on other seeds (Welch, no spread) and the same mean: nothing moved.
    flat = before.assign(val_accuracy=50.0)
    moved = flat.assign(seed=flat["seed"] + 10)
    table = readings(flat, moved, tmp_path)
    assert table.loc[("A", "val_accuracy"), "reading"] == "no detectable change"


def mnist_cnn(tmp_path: Path) -> pd.DataFrame:
    """MnistCNN's published 3 seeds (test accuracy on 10,000 images), as compare reads them."""
    runs = pd.read_csv(PUBLISHED / "runs.csv")
    return runs[runs["variant"] == "MnistCNN"].reset_index(drop=True)


@pytest.mark.parametrize("images", [[1, 1, 1], [1, 1, 2], [2, 2, 2]])
def test_a_test_image_or_two_per_seed_is_not_worse(tmp_path: Path, images: list[int]) -> None:
    """One image of 10,000 is 0.01 points: below the metric's resolution and the tolerance, so
    no change, however alike the seeds moved (the old paired t read it worse at p = 2e-25)."""
    before = mnist_cnn(tmp_path)
    after = before.assign(test_accuracy=before["test_accuracy"] - np.array(images) / 100)
    b, a = write(before, tmp_path / "before.csv"), write(after, tmp_path / "after.csv")
    table = compare(read_side(b), read_side(a), ("b", "a")).set_index("metric")
    row = table.loc["test_accuracy"]
    assert row["reading"] == "no detectable change" and row["minimum"] == 1.0
    assert row["p_value"] == 1.0  # a move of at most 0.02 is nowhere near 1 point
    assert main([str(b), str(a), "--fail-on", "worse"]) == 0


def test_the_minimum_effect_is_the_tolerance_but_never_below_the_resolution() -> None:
    assert minimum_effect("test_accuracy", 1.0, 10_000) == 1.0
    assert minimum_effect("val_accuracy", 1.0, 20) == 5.0  # one image of 20 is 5 points
    assert minimum_effect("miou", 0.3, float("nan")) == 0.3
    assert minimum_effect("test_loss", 1.0, 10_000) == 0.0  # no scale: the exact floor instead


def test_a_loss_p_is_never_below_what_an_exact_test_could_give(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0}, seed=15, seeds=[0, 1, 2])
    shift = np.array([0.010, 0.011, 0.012])
    table = readings(before, before.assign(val_loss=before["val_loss"] + shift), tmp_path)
    row = table.loc[("A", "val_loss")]
    assert row["p_value"] == 0.25 and row["reading"] == "no detectable change"


def test_the_gate_reads_holms_p_not_the_raw_one(tmp_path: Path) -> None:
    """Ten variants; one moved with raw p = 0.020 (paired t of 1.5, 2, 2.5 beyond a tolerance of
    0): Holm's p 0.20 over the table, so no variant reads better."""
    before = per_seed({f"V{i}": 0.0 for i in range(10)}, seed=16, seeds=[0, 1, 2])
    before = before.drop(columns="val_loss")
    after = before.copy()
    moved = after["variant"] == "V0"
    after.loc[moved, "val_accuracy"] += [1.5, 2.0, 2.5]
    same = ~moved
    after.loc[same, "val_accuracy"] += np.tile([0.5, -0.5, 0.1], 9)
    tables = [read_side(write(t, tmp_path / f"{n}.csv")) for n, t in (("b", before), ("a", after))]
    table = compare(*tables, ("b", "a"), {"exp": 0.0}).set_index("variant")
    row = table.loc["V0"]
    assert row["p_value"] == pytest.approx(0.0202, abs=1e-4)
    assert row["p_holm"] >= 0.05 and row["reading"] == "no detectable change"
    # Alone in the table, the same move is beyond noise.
    alone = compare(*(t[t["variant"] == "V0"] for t in tables), ("b", "a"), {"exp": 0.0})
    assert alone["reading"].iloc[0] == "better"


def test_the_detectable_difference_is_at_holms_level(tmp_path: Path) -> None:
    before = per_seed({"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}, seed=17).drop(columns="val_loss")
    after = per_seed({"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}, seed=18).drop(columns="val_loss")
    table = readings(before, after, tmp_path)
    assert (table["reading"] == "no detectable change").all()
    for variant in "ABCD":
        b = before[before["variant"] == variant]["val_accuracy"].to_numpy()
        a = after[after["variant"] == variant]["val_accuracy"].to_numpy()
        result = stats.compare_seeds(a, b, paired=True, power=None, minimum=1.0)
        at_holm = stats.detectable_difference(result, 0.05 / 4)
        assert table.loc[(variant, "val_accuracy"), "detectable"] == pytest.approx(at_holm)
        assert at_holm > stats.detectable_difference(result, 0.05)


def test_seeds_at_chance_are_left_out_and_an_all_chance_side_is_not_tested(
    tmp_path: Path,
) -> None:
    before = per_seed({"A": 0.0, "B": 0.0}, seed=19, seeds=[0, 1, 2, 3, 4]).drop(columns="val_loss")
    after = before.copy()
    diverged = (after["variant"] == "A") & (after["seed"] == 4)
    after.loc[diverged, ["val_accuracy", "chance"]] = [10.0, True]
    after.loc[after["variant"] == "B", ["val_accuracy", "chance"]] = [10.0, True]
    table = readings(before, after, tmp_path)
    a = table.loc[("A", "val_accuracy")]
    # Four trained seeds paired (their values unchanged): no move; the divergence apart.
    assert a["test"] == "paired t" or a["test"] == "no spread"
    assert a["reading"] == "no detectable change"
    assert a["diverged"] == "0 of 5 at chance, then 1 of 5 (Fisher p = 1)"
    b = table.loc[("B", "val_accuracy")]
    assert b["test"] == "all at chance" and np.isnan(b["p_value"])
    assert b["reading"] == "changed (a side all at chance: no test)"
    assert b["diverged"].startswith("0 of 5 at chance, then 5 of 5 (Fisher p = 0.0079")


def test_the_gate_false_alarm_rate_on_a_null_table_of_the_published_layout() -> None:
    """Both sides drawn from the same normal per row, in the published runs' layout (its rows,
    seeds, metrics, evaluation sets and tolerances, each row's mean and spread), tested and read
    as compare does (row_test, then `decided`: Holm over the table): P(any row reads better or
    worse) and P(--fail-on worse fails) stay at or below the stated 5 %."""
    layout = read_side(PUBLISHED / "runs.csv")
    limits = tolerances(PUBLISHED)
    rows = []
    for (experiment, _, metric), group in layout.groupby(["experiment", "variant", "metric"]):
        values = group["value"].dropna().to_numpy()
        minimum = minimum_effect(metric, limits[experiment], group["n_eval"].max())
        rows.append((metric, values.mean(), max(values.std(ddof=1), 0.05), len(values), minimum))
    rng = np.random.default_rng(20)
    reps, any_moved, worse = 400, 0, 0
    for _ in range(reps):
        tested = []
        for metric, mean, std, n, minimum in rows:
            before, after = rng.normal(mean, std, (2, n))
            result = row_test(after, before, True, metric, minimum)
            tested.append(
                {
                    "metric": metric,
                    "identical": False,
                    "reading": None,
                    **result.columns(),
                    "result": result,
                }
            )
        readings = decided(pd.DataFrame(tested), power=None)["reading"]
        any_moved += readings.isin(["better", "worse"]).any()
        worse += readings.eq("worse").any()
    # 5 % of 400 has a binomial SE of 1.1 points: the bound allows two of them.
    assert len(rows) == 28
    assert any_moved / reps <= 0.072 and worse / reps <= 0.072


def test_only_runs_on_one_side(tmp_path: Path) -> None:
    table = readings(
        per_seed({"A": 0.0}, 14), per_seed({"B": 0.0}, 14).assign(experiment="x"), tmp_path
    )
    assert set(table["reading"]) == {"new", "gone"}
