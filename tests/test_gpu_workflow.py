"""End to end: four training jobs with --resources gpu=2 on a config that pretends two GPUs."""

import re
from datetime import datetime
from itertools import combinations
from pathlib import Path

import pytest
from workflow_helpers import copy_workflow, demo_like_config, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow

LOGGER = r"^(\S+ \S+) INFO visionrepro\.engine\.gpus: "
TAKEN = re.compile(LOGGER + r"GPU slot (\d) \(device (\d)\), CUDA_VISIBLE_DEVICES=(\d)$", re.M)
RELEASED = re.compile(LOGGER + r"released GPU slot (\d)$", re.M)


# Four training jobs: 2 networks x 2 seeds of the tiny demo, asked for as targets.
TARGETS = [
    f"results/runs/coco_rgb/{network}/seed{seed}/model.pt"
    for network in ("HW4Net1", "HW4Net2")
    for seed in (0, 1)
]


def two_gpu_config() -> dict:
    """The tiny demo with two seeds and two pretend GPUs."""
    config = demo_like_config(gpu={"devices": 2, "slots_per_device": 1})
    config["experiments"]["coco_rgb"]["seeds"] = [0, 1]
    return config


def stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f")


def slot_use(log: str) -> tuple[int, datetime, datetime]:
    """The slot a training job held, from its log, with when it took and released it."""
    taken, released = TAKEN.findall(log), RELEASED.findall(log)
    assert len(taken) == 1 and len(released) == 1, log
    when, slot, device, visible = taken[0]
    assert slot == device == visible  # one slot per device
    assert released[0][1] == slot
    return int(slot), stamp(when), stamp(released[0][0])


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    workdir = copy_workflow(tmp_path_factory.mktemp("gpus"))
    config = write_config(workdir, two_gpu_config())
    snakemake(workdir, *TARGETS, "--configfile", str(config), "--resources", "gpu=2")
    return workdir, config


def test_each_training_job_logs_its_own_slot(finished: tuple[Path, Path]) -> None:
    workdir, _ = finished
    logs = sorted((workdir / "results/logs/train").glob("*/*/seed*.log"))
    assert len(logs) == len(TARGETS)
    uses = {log.relative_to(workdir).as_posix(): slot_use(log.read_text()) for log in logs}
    print("slot of each training job:", {k: v[0] for k, v in uses.items()})
    assert {slot for slot, _, _ in uses.values()} <= {0, 1}
    for (slot_a, start_a, end_a), (slot_b, start_b, end_b) in combinations(uses.values(), 2):
        if slot_a == slot_b:  # one after the other: released before taken again
            assert end_a <= start_b or end_b <= start_a


def test_pretend_gpus_still_train_on_the_cpu(finished: tuple[Path, Path]) -> None:
    workdir, _ = finished
    log = (workdir / "results/logs/train/coco_rgb/HW4Net1/seed0.log").read_text()
    assert "training HW4Net1 (seed 0) on cpu" in log


def test_changing_gpu_placement_retrains_nothing(finished: tuple[Path, Path]) -> None:
    workdir, _ = finished
    config = two_gpu_config()
    config["gpu"] = {"devices": 1, "slots_per_device": 2}
    path = write_config(workdir, config, "moved.yaml")
    assert planned_jobs(workdir, *TARGETS, "--configfile", str(path)) == {}


def test_an_unknown_local_rule_is_named(finished: tuple[Path, Path]) -> None:
    workdir, _ = finished
    config = two_gpu_config()
    config["cluster"] = {"local_rules": ["coco_download"]}
    path = write_config(workdir, config, "bad.yaml")
    proc = snakemake(workdir, "--dry-run", "--configfile", str(path), check=False)
    assert proc.returncode != 0
    assert "cluster.local_rules: unknown rules ['coco_download']" in proc.stdout + proc.stderr
