"""A compared table read as data, never as paths or code (issue 33, point 9): a row whose
experiment is `../../../secret` read a metrics.json outside the compared folder; a deeply nested
`settings` JSON gave a 41-line RecursionError; a seed `abc` a raw ValueError. Each is now a
one-line error naming the file (and the row), and runs are read only inside the folder.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from visionrepro.compare.__main__ import main
from visionrepro.compare.inputs import read_side
from visionrepro.errors import UserError
from visionrepro.fileio import write_json

ROW = {"experiment": "e", "variant": "v", "seed": 0, "val_accuracy": 70.0, "code_version": "a"}


def _results(tmp_path: Path, rows: list[dict]) -> Path:
    """A results folder: tables/runs.csv with `rows`, and a metrics.json per run inside it."""
    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    pd.DataFrame(rows).to_csv(results / "tables" / "runs.csv", index=False)
    return results


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("experiment", "../../../secret"),
        ("variant", "../../x"),
        ("experiment", "a/b"),
        ("variant", ""),
    ],
)
def test_a_row_naming_a_path_is_refused_and_nothing_outside_is_read(
    tmp_path: Path, column: str, value: str
) -> None:
    secret = tmp_path / "secret" / "v" / "seed0" / "metrics.json"
    write_json(secret, {"provenance": {"train": {"lr": 0.5}}})
    results = _results(tmp_path, [ROW, {**ROW, column: value, "seed": 1}])
    with pytest.raises(UserError) as err:
        read_side(results)
    assert str(err.value).startswith(
        f"{results}/tables/runs.csv, line 3: {column} {value!r} is not"
    )
    assert "\n" not in str(err.value)


def test_a_run_folder_linked_outside_the_results_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    write_json(outside / "v" / "seed0" / "metrics.json", {"provenance": {"train": {"lr": 1}}})
    results = _results(tmp_path, [ROW])
    (results / "runs").mkdir()
    (results / "runs" / "e").symlink_to(outside)
    with pytest.raises(UserError, match=r"seed0/metrics.json: outside .*results/runs"):
        read_side(results)


@pytest.mark.parametrize("seed", ["abc", "-1", "1.5", ""])
def test_a_seed_that_is_no_integer_names_the_file_and_row(tmp_path: Path, seed: str) -> None:
    table = tmp_path / "runs.csv"
    pd.DataFrame([ROW, {**ROW, "seed": seed}]).to_csv(table, index=False)
    with pytest.raises(
        UserError, match=rf"^{table}, line 3: seed .* is not an integer of 0 or more$"
    ):
        read_side(table)


def test_deeply_nested_settings_are_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    table = tmp_path / "runs.csv"
    pd.DataFrame([{**ROW, "settings": json.dumps({"a": 1})[:-1] + ', "b": ' + deep + "}"}]).to_csv(
        table, index=False
    )
    assert main([str(table), str(table)]) == 2
    error = capsys.readouterr().err
    assert error.split(": error: ", 1)[1].startswith(
        f"{table}: a run's settings are not readable (nested too deeply)"
    )
    assert error.count("\n") == 1


def test_a_good_table_still_reads(tmp_path: Path) -> None:
    table = tmp_path / "runs.csv"
    pd.DataFrame([ROW, {**ROW, "variant": "1", "seed": 1}]).to_csv(table, index=False)
    long = read_side(table)
    assert list(long["variant"]) == ["v", "1"] and list(long["seed"]) == [0, 1]
