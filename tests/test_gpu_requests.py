"""What a training job asks for: a GPU where devices are found or jobs go to a cluster, none on
a machine without one (pretend devices through gpu.devices; dry runs of the tiny demo)."""

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from workflow_helpers import OFFLINE, copy_workflow, demo_like_config, write_config

from visionrepro.engine.gpus import SLURM_JOB, gpu_resource, gpus_to_request

TARGET = "results/runs/coco_rgb/HW4Net1/seed0/model.pt"
RESOURCES = re.compile(r"^rule train:\n(?:    .*\n)*?    resources: (.*)$", re.M)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = copy_workflow(tmp_path_factory.mktemp("gpu_requests"))
    for devices in (0, 2):
        write_config(workdir, demo_like_config(gpu={"devices": devices}), f"gpus{devices}.yaml")
    return workdir


def planned_train_gpus(workdir: Path, devices: int, *args: str, env: dict | None = None) -> int:
    """The `gpu` resource of the training job a dry run plans (`env` over the offline one, which
    is outside any SLURM job even where the tests run in one)."""
    command = [sys.executable, "-m", "snakemake", "--cores", "2", TARGET, "--dry-run"]
    config = ["--configfile", f"gpus{devices}.yaml"]
    proc = subprocess.run(
        [*command, *config, *args],
        cwd=workdir,
        env={**{k: v for k, v in OFFLINE.items() if k != SLURM_JOB}, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    found = RESOURCES.findall(out)
    assert len(found) == 1, out
    resources = dict(item.split("=", 1) for item in found[0].split(", "))
    return int(resources["gpu"])


def test_no_gpu_machine_asks_for_none_even_with_a_gpu_limit(workdir: Path) -> None:
    assert planned_train_gpus(workdir, 0, "--resources", "gpu=1") == 0
    assert planned_train_gpus(workdir, 0) == 0


def test_gpu_machine_asks_for_the_configured_gpu(workdir: Path) -> None:
    assert planned_train_gpus(workdir, 2, "--resources", "gpu=2") == 1
    assert planned_train_gpus(workdir, 2) == 1


def test_inside_a_slurm_job_the_gpu_is_kept_without_local_devices(workdir: Path) -> None:
    assert planned_train_gpus(workdir, 0, env={SLURM_JOB: "4242"}) == 1


def test_the_slurm_profile_keeps_the_gpu_on_a_submit_host_without_one(workdir: Path) -> None:
    # The dry run of a cluster executor plans with Snakemake's dryrun executor; the profile's
    # set-resources still asks for the GPU (a real submission also sees the cluster executor).
    assert planned_train_gpus(workdir, 0, "--workflow-profile", "profiles/slurm") == 1


@pytest.mark.parametrize(
    ("configured", "devices", "cluster", "env", "expected"),
    [
        (1, 0, False, {}, 0),  # a CPU machine: no GPU, the limit cannot serialise
        (1, 2, False, {}, 1),  # a GPU machine
        (1, 0, True, {}, 1),  # a cluster executor on a submit host without a GPU
        (1, 0, False, {SLURM_JOB: "7"}, 1),  # inside a SLURM job
        (0, 2, True, {}, 0),  # jobs.train.gpu: 0 is kept everywhere
        (2, 4, False, {}, 2),
    ],
)
def test_gpus_to_request(
    configured: int, devices: int, cluster: bool, env: dict, expected: int
) -> None:
    assert gpus_to_request(configured, devices, cluster, env) == expected


def test_gpu_resource_reads_the_executor_when_jobs_are_planned() -> None:
    workflow = SimpleNamespace(non_local_exec=False, remote_exec=False)
    gpus = gpu_resource(1, 0, workflow)  # made while parsing: the executor is not known yet
    assert gpus({}) == 0
    workflow.non_local_exec = True  # Snakemake sets the cluster executor before planning jobs
    assert gpus({}) == 1
    workflow.non_local_exec, workflow.remote_exec = False, True  # inside a submitted job
    assert gpus({}) == 1
