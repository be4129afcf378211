"""A truncated run file (issue 33, point 8): `metrics.json` cut short gave a JSONDecodeError
naming no file; Snakemake then removed results/tables/ (the outputs of the failed aggregate job)
and every rerun failed the same way. Reading it now names the file and the fix, and the workflow
sets such a file aside while it plans (rules/common.smk), so the evaluation that wrote it runs
again and no job reading it starts (the tables stay until they are rewritten).
"""

import json
import logging
import os
from pathlib import Path

import pytest

from visionrepro.errors import UserError
from visionrepro.fileio import (
    UNREADABLE_SUFFIX,
    read_json,
    set_aside_unreadable_json,
    write_json,
)


def _truncated(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"experiment": "e", "provenance": {"code": "a long string"}})
    path.write_text(text[: len(text) // 2])
    return path


def test_reading_a_truncated_file_names_it(tmp_path: Path) -> None:
    path = _truncated(tmp_path / "runs/e/v/seed0/metrics.json")
    with pytest.raises(UserError) as err:
        read_json(path)
    message = str(err.value)
    assert message.startswith(f"{path} is not readable JSON (Unterminated string")
    assert f"--forcerun {path}" in message


def test_deeply_nested_json_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UserError, match=r"deep.json is not readable JSON \(nested too deeply"):
        read_json(path)


def test_planning_sets_a_truncated_file_aside_and_keeps_the_good_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _truncated(tmp_path / "runs/e/v/seed0/metrics.json")
    good = tmp_path / "runs/e/v/seed1/metrics.json"
    write_json(good, {"ok": 1})
    tables = tmp_path / "tables/runs.csv"
    tables.parent.mkdir()
    tables.write_text("experiment\ne\n")
    gone = tmp_path / "runs/e/v/seed2/metrics.json"
    with caplog.at_level(logging.WARNING, logger="visionrepro"):
        moved = set_aside_unreadable_json([bad, good, gone])
    aside = bad.with_name("metrics.json" + UNREADABLE_SUFFIX)
    assert moved == [aside] and aside.exists() and not bad.exists()
    assert read_json(good) == {"ok": 1}
    assert tables.read_text() == "experiment\ne\n"
    assert f"{bad} does not parse (truncated?): set aside as {aside}" in caplog.text
    assert set_aside_unreadable_json([bad, good, gone]) == []  # nothing left to move


def test_the_workflow_sets_run_files_aside_while_planning() -> None:
    common = (Path(__file__).parents[2] / "rules" / "common.smk").read_text()
    assert (
        'set_aside_unreadable_json(PLAN.run_files("metrics.json") + PLAN.run_files("train.json"))'
        in common
    )


def test_a_fifo_in_place_of_a_run_file_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "train.json"
    os.mkfifo(fifo)  # reading it would block until a writer came
    assert set_aside_unreadable_json([fifo]) == []
    assert fifo.exists()
