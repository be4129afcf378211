"""The project's own style gates: ruff, snakefmt and snakemake --lint stay clean.

Only the project's own code is checked: a user's network file (e.g. `nets/x.py`) or any other
folder of theirs never fails these gates.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_helpers import PROJECT

OWN_PYTHON = ("src", "tests", "workflow_scripts", "benchmarks")  # the project's Python folders
OWN_SNAKEMAKE = ("Snakefile", "rules")


def style_commands() -> list[list[str]]:
    """The gates, each a `python -m` command run in the project folder."""
    return [
        ["ruff", "check", *OWN_PYTHON],
        ["ruff", "format", "--check", *OWN_PYTHON],
        ["snakefmt", "--check", *OWN_SNAKEMAKE],
        ["snakemake", "--lint", "--cores", "1"],
        ["snakemake", "--lint", "--cores", "1", "--configfile", "configs/demo.yaml"],
    ]


def run_gate(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run one gate in `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("command", style_commands(), ids=" ".join)
def test_clean(command: list[str]) -> None:
    proc = run_gate(command, PROJECT)
    assert proc.returncode == 0, f"{' '.join(command)}:\n{proc.stdout}\n{proc.stderr}"


UNCLEAN = "import os,sys\nx=1  \n"  # unused, unsorted imports, trailing space, unformatted


def test_a_users_file_outside_the_projects_folders_is_not_checked(tmp_path: Path) -> None:
    """A non-ruff-clean file in a user's folder passes; the same file in src/ fails the gate."""
    (tmp_path / "pyproject.toml").write_text((PROJECT / "pyproject.toml").read_text())
    for folder in OWN_PYTHON:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "clean.py").write_text('"""A clean module."""\n')
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "mine.py").write_text(UNCLEAN)
    ruff = [c for c in style_commands() if c[0] == "ruff"]
    for command in ruff:
        proc = run_gate(command, tmp_path)
        assert proc.returncode == 0, f"{' '.join(command)}:\n{proc.stdout}\n{proc.stderr}"
    shutil.copy(tmp_path / "nets" / "mine.py", tmp_path / "src" / "mine.py")
    for command in ruff:
        proc = run_gate(command, tmp_path)
        assert proc.returncode != 0, f"{' '.join(command)} passed an unclean src/mine.py"
        assert "mine.py" in proc.stdout + proc.stderr
