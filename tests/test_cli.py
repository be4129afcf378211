"""The command-line tools (compare, republish, spread, status) behave like Unix tools: exit
statuses a script tells apart (0 fine, 1 the regression asked about, 2 bad input or usage, 3 a
bug), the whole docstring and the statuses in --help, compare's --format, console scripts."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomllib
from test_compare import per_seed, write
from workflow_helpers import PROJECT

from visionrepro import cli
from visionrepro.compare import __main__ as compare_cli
from visionrepro.report import republish, spread

TOOLS = {
    "visionrepro-compare": "visionrepro.compare",
    "visionrepro-republish": "visionrepro.report.republish",
    "visionrepro-spread": "visionrepro.report.spread",
    "visionrepro-status": "visionrepro.status",
}


def python_m(module: str, *args: str) -> subprocess.CompletedProcess:
    """`python -m module args` with this checkout's library."""
    env = {"PYTHONPATH": str(PROJECT / "src"), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", module, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def sides(tmp_path: Path) -> tuple[str, str]:
    """Two per-seed tables: variant A worse by 3 standard deviations after, B the same."""
    before = write(per_seed({"A": 0.0, "B": 0.0}, seed=10), tmp_path / "before.csv")
    after = write(per_seed({"A": -3.0, "B": 0.0}, seed=10), tmp_path / "after.csv")
    return str(before), str(after)


def test_an_unwritable_out_is_bad_input_in_one_line(sides: tuple[str, str]) -> None:
    proc = python_m("visionrepro.compare", *sides, "--out", "/proc/nope/x.csv")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "/proc/nope/x.csv" in proc.stderr and "cannot write" in proc.stderr


def test_a_regression_asked_about_is_1_and_bad_usage_2(sides: tuple[str, str]) -> None:
    assert compare_cli.main([*sides, "--fail-on", "worse"]) == cli.FOUND
    assert compare_cli.main([sides[0], sides[0], "--fail-on", "worse"]) == cli.OK
    with pytest.raises(SystemExit) as usage:
        compare_cli.main([*sides, "--format", "yaml"])
    assert usage.value.code == cli.BAD_INPUT


def test_a_crash_is_a_bug_with_its_traceback_not_1(
    sides: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(compare_cli, "compare", broken)
    assert compare_cli.main([*sides, "--fail-on", "worse"]) == cli.BUG == 3
    error = capsys.readouterr().err
    assert "Traceback" in error and "ZeroDivisionError" in error and "a bug" in error


@pytest.mark.parametrize("tool", TOOLS.values())
def test_help_shows_the_whole_docstring_and_the_exit_statuses(tool: str) -> None:
    proc = python_m(tool, "--help")
    assert proc.returncode == 0
    module = importlib.import_module(tool if tool != "visionrepro.compare" else f"{tool}.__main__")
    for line in module.__doc__.strip().splitlines():
        assert line.strip() in proc.stdout
    assert f"usage: python -m {tool}" in proc.stdout
    assert "exit status:" in proc.stdout and "2  bad input or usage" in proc.stdout
    assert "3  a bug" in proc.stdout
    assert ("1  a regression asked about" in proc.stdout) == (tool == "visionrepro.compare")


def test_compare_formats(sides: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {}
    for form in compare_cli.FORMATS:
        assert compare_cli.main([*sides, "--format", form]) == 0
        outputs[form] = capsys.readouterr().out
    records = json.loads(outputs["json"])
    table = pd.read_csv(pd.io.common.StringIO(outputs["csv"]))
    assert len(records) == len(table) == 4
    assert (
        {r["reading"] for r in records} == set(table["reading"]) == {"worse", "better", "identical"}
    )
    assert "| experiment" in outputs["markdown"] and "2 of 4 rows identical" in outputs["markdown"]
    assert "|" not in outputs["text"] and "2 of 4 rows identical" in outputs["text"]


def test_spread_and_republish_refuse_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert spread.main([str(missing)]) == 2
    error = capsys.readouterr().err
    assert f"{missing}/tables/runs.csv: missing" in error and "results_dir" in error
    assert error.count("\n") == 1
    assert republish.main([str(missing)]) == 2
    assert f"{missing}/runs.csv: missing" in capsys.readouterr().err


def test_console_scripts_are_the_python_m_mains() -> None:
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts) == set(TOOLS)
    for name, target in scripts.items():
        module, _, function = target.partition(":")
        main = getattr(importlib.import_module(module), function)
        assert module.startswith(TOOLS[name]) and callable(main)


def test_the_prog_name_is_how_the_tool_was_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/venv/bin/visionrepro-spread"])
    assert cli.prog_name("visionrepro.report.spread") == "visionrepro-spread"
    monkeypatch.setattr(sys, "argv", ["/x/src/visionrepro/report/spread.py"])
    assert cli.prog_name("visionrepro.report.spread") == "python -m visionrepro.report.spread"
