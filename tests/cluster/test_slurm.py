"""The demo workflow through profiles/slurm on a real one-node SLURM (tests/cluster/slurm_local.sh).

Skips where SLURM cannot run: not root, or slurm-wlm/munge not installed (.ci/run installs them).
"""

import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_helpers import (
    PROJECT,
    copy_workflow,
    demo_like_config,
    job_stats,
    snakemake,
    write_config,
)

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("slurm_local.sh")
PARTITION = "visionrepro"
CANNOT_RUN = 2  # slurm_local.sh's exit status when SLURM cannot run on this machine
# Test-only overrides of profiles/slurm: the local partition, no accounting (so squeue, not
# sacct, and no account) and a short first status check.
OVERRIDES = (
    "--default-resources",
    f"slurm_partition={PARTITION}",
    "--slurm-status-command",
    "squeue",
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks",
    "2",
)


def slurm_local(command: str, state: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SLURM_LOCAL_DIR": str(state), "SLURM_LOCAL_PARTITION": PARTITION}
    return subprocess.run(
        ["bash", str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def slurm() -> Iterator[None]:
    """A running local SLURM, shut down (by its pid files) afterwards."""
    if os.geteuid() != 0:
        pytest.skip("the local SLURM needs root (slurmd and munged)")
    if shutil.which("slurmctld") is None:
        pytest.skip("SLURM is not installed: apt-get install slurm-wlm munge")
    state = Path(tempfile.mkdtemp(prefix="visionrepro-slurm-"))  # readable by the slurm user
    try:
        up = slurm_local("up", state)
        if up.returncode == CANNOT_RUN:
            pytest.skip(f"SLURM cannot run here: {up.stderr.strip()}")
        assert up.returncode == 0, f"slurm_local.sh up failed:\n{up.stdout}\n{up.stderr}"
        yield
    finally:
        down = slurm_local("down", state)
        assert down.returncode == 0, down.stderr
        shutil.rmtree(state, ignore_errors=True)


SUBMITTED = ("coco_rgb", "coco_seg", "mnist_mlp_vs_cnn")


def run_demo(workdir: Path, *args: str) -> tuple[pd.DataFrame, str]:
    """Run the tiny demo in a scratch copy of the workflow: its summary table and output."""
    workdir.mkdir()
    copy_workflow(workdir)
    config = demo_like_config()
    for name, exp in config["experiments"].items():  # a classification, a segmentation and
        exp["enabled"] = name in SUBMITTED  # an MNIST experiment: the job kinds, fewer jobs
    proc = snakemake(workdir, "--configfile", str(write_config(workdir, config)), *args)
    assert (workdir / "results/report/index.html").stat().st_size > 0
    return pd.read_csv(workdir / "results/tables/summary.csv"), proc.stdout + proc.stderr


@pytest.mark.usefixtures("slurm")
def test_demo_through_the_slurm_profile_equals_a_local_run(
    tmp_path: Path, demo_run: tuple[Path, str]
) -> None:
    on_slurm, output = run_demo(
        tmp_path / "slurm", "--workflow-profile", "profiles/slurm", *OVERRIDES
    )
    # One sbatch per job, but the small jobs go in few (profiles/slurm's job groups): per
    # experiment its evaluations and their figures, and the tables and report together.
    logs = re.findall(r"submitted with SLURM jobid \d+ \(log: \S*/(rule|group)_([^/]+)/", output)
    # a group's folder: group_<group>_<its rules>
    submitted = Counter(name if kind == "rule" else name.split("_")[0] for kind, name in logs)
    runs = list((tmp_path / "slurm/results/runs").glob("*/*/seed*/train.json"))
    assert submitted["train"] == len(runs) > 0
    assert submitted["evaluation"] == len(SUBMITTED) and submitted["report"] == 1
    jobs = job_stats(output)
    on_host = {*yaml.safe_load((PROJECT / "config.yaml").read_text())["cluster"]["local_rules"]}
    on_host.add("all")
    profile = yaml.safe_load((PROJECT / "profiles/slurm/config.yaml").read_text())
    grouped = {entry.split("=")[0] for entry in profile["groups"]}
    alone = sum(n for rule, n in jobs.items() if rule not in on_host | grouped)
    assert sum(submitted.values()) == alone + len(SUBMITTED) + 1
    one_each = sum(n for rule, n in jobs.items() if rule not in on_host)
    print(f"{one_each} jobs on SLURM in {sum(submitted.values())} submissions: {dict(submitted)}")
    assert "localrule coco_annotations:" in output  # cluster.local_rules: on the submit host
    assert "localrule source_fetch:" in output
    log = (tmp_path / "slurm/results/logs/train/coco_rgb/HW4Net1/seed0.log").read_text()
    assert "CUDA_VISIBLE_DEVICES=0 already set" in log  # SLURM's fake GPU, kept
    assert "on cpu" in log

    local = pd.read_csv(demo_run[0] / "results/tables/summary.csv")  # every experiment, locally
    local = local[local["experiment"].isin(SUBMITTED)].reset_index(drop=True)
    pd.testing.assert_frame_equal(on_slurm, local)
