"""benchmarks/gpu_check.py, the GPU check: its CPU path runs, says there is no CUDA, and its table
flags differing same-seed runs and shared slots."""

import subprocess
import sys

import pandas as pd
import pytest
import torch
from workflow_helpers import PROJECT

SCRIPT = PROJECT / "benchmarks" / "gpu_check.py"
sys.path.insert(0, str(SCRIPT.parent))
import gpu_check  # noqa: E402


def run_check(*args: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(PROJECT / "src"), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, str(SCRIPT), "--quick", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the path without CUDA")
def test_without_cuda_it_says_so_and_skips_what_is_past_its_budget() -> None:
    proc = run_check("--budget", "0")
    assert proc.returncode == 0, proc.stderr
    assert "no CUDA" in proc.stdout
    assert proc.stdout.count("skipped: over --budget") == 5  # 4 CPU rows and the slots


@pytest.mark.slow
def test_the_quick_check_trains_repeatably_and_shares_slots() -> None:
    proc = run_check()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("| identical") == 4 * (1 + torch.cuda.is_available())
    assert "slots [0, 1]" in proc.stdout and "distinct slots; together / alone" in proc.stdout


def test_failures_are_differing_weights_or_a_shared_slot() -> None:
    fine = pd.DataFrame({"same seed": ["identical", None], "result": [None, "distinct slots"]})
    assert not gpu_check.failures(fine)
    assert gpu_check.failures(fine.assign(**{"same seed": ["DIFFERENT", None]}))
    assert gpu_check.failures(fine.assign(result=[None, "SAME SLOT"]))
    assert not gpu_check.failures(pd.DataFrame({"check": ["slots"], "result": ["skipped"]}))
