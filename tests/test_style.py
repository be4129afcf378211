"""The project's own style gates: ruff, snakefmt and snakemake --lint stay clean."""

import subprocess
import sys

import pytest
from workflow_helpers import PROJECT


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["snakefmt", "--check", "."],
        ["snakemake", "--lint", "--cores", "1"],
        ["snakemake", "--lint", "--cores", "1", "--configfile", "configs/demo.yaml"],
    ],
)
def test_clean(command: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", *command], cwd=PROJECT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{' '.join(command)}:\n{proc.stdout}\n{proc.stderr}"
