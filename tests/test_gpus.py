"""GPU slots with a pretended device count: real file locks, real processes, no GPU needed."""

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest
from workflow_helpers import PROJECT

from visionrepro.engine import gpus
from visionrepro.engine.gpus import (
    SLURM_JOB,
    VISIBLE,
    GpuSettings,
    NoFreeSlotError,
    gpu_slot,
    release_slot,
    take_slot,
)

SPAWN = multiprocessing.get_context("spawn")
WAIT = 60  # seconds: a guard against a hung child, never a synchronisation


def hold_slot(settings: GpuSettings, start, taken, release) -> None:
    """In a child process: wait for the others, take a slot, report it, hold it until released."""
    start.wait()
    env: dict[str, str] = {}
    with gpu_slot(settings, env) as slot:
        taken.put((slot.index, slot.device, env[VISIBLE]))
        release.wait()


def run_holders(settings: GpuSettings, count: int) -> list[tuple[int, int, str]]:
    """`count` processes take slots at the same moment; what each got while all held theirs."""
    start, release, taken = SPAWN.Barrier(count), SPAWN.Event(), SPAWN.Queue()
    holders = [
        SPAWN.Process(target=hold_slot, args=(settings, start, taken, release))
        for _ in range(count)
    ]
    for holder in holders:
        holder.start()
    try:
        got = [taken.get(timeout=WAIT) for _ in holders]
        no_wait = replace(settings, slot_wait=0)
        with pytest.raises(NoFreeSlotError, match=r"gpu\.slots_per_device"), gpu_slot(no_wait, {}):
            pass
    finally:
        release.set()
        for holder in holders:
            holder.join(WAIT)
    assert [holder.exitcode for holder in holders] == [0] * count
    return got


def test_concurrent_holders_never_share_a_slot(tmp_path: Path) -> None:
    got = run_holders(GpuSettings(str(tmp_path), devices=2), 2)
    assert sorted(got) == [(0, 0, "0"), (1, 1, "1")]


def test_a_race_of_four_gets_four_slots(tmp_path: Path) -> None:
    got = run_holders(GpuSettings(str(tmp_path), devices=4), 4)
    assert sorted(index for index, _, _ in got) == [0, 1, 2, 3]


def test_slots_per_device_packs_jobs_onto_the_first_devices(tmp_path: Path) -> None:
    settings = GpuSettings(str(tmp_path), devices=2, slots_per_device=2)
    envs: list[dict[str, str]] = [{} for _ in range(4)]
    with ExitStack() as stack:
        slots = [stack.enter_context(gpu_slot(settings, env)) for env in envs]
        assert [(s.index, s.device) for s in slots] == [(0, 0), (1, 0), (2, 1), (3, 1)]
        assert [env[VISIBLE] for env in envs] == ["0", "0", "1", "1"]
    assert envs == [{}] * 4


def test_a_crashed_holders_slot_is_freed(tmp_path: Path) -> None:
    settings = GpuSettings(str(tmp_path), devices=1)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from visionrepro.engine.gpus import GpuSettings, gpu_slot\n"
            f"with gpu_slot(GpuSettings({str(tmp_path)!r}, devices=1)) as slot:\n"
            "    print(slot.index, flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
    )
    try:
        assert holder.stdout.readline().strip() == "0"
        with pytest.raises(NoFreeSlotError), gpu_slot(replace(settings, slot_wait=0), {}):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(WAIT)
        holder.stdin.close()
        holder.stdout.close()
    assert holder.returncode == -signal.SIGKILL
    with gpu_slot(settings, {}) as slot:
        assert slot.index == 0


def test_the_log_names_slot_and_device(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = GpuSettings(str(tmp_path), devices=2)
    caplog.set_level(logging.INFO, logger="visionrepro.engine.gpus")
    with gpu_slot(settings, {}), gpu_slot(settings, {}):
        pass
    assert "GPU slot 1 (device 1), CUDA_VISIBLE_DEVICES=1" in caplog.text


def test_a_preset_cuda_visible_devices_is_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="visionrepro.engine.gpus")
    env = {VISIBLE: "3"}
    with gpu_slot(GpuSettings(str(tmp_path / "slots"), devices=2), env) as slot:
        assert slot is None
        assert env == {VISIBLE: "3"}
    assert env == {VISIBLE: "3"}
    assert not (tmp_path / "slots").exists()
    assert "CUDA_VISIBLE_DEVICES=3 already set" in caplog.text


@pytest.fixture
def no_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH without nvidia-smi: what a machine without an NVIDIA driver looks like."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


@pytest.mark.usefixtures("no_nvidia_smi")
def test_without_a_gpu_it_is_a_no_op(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    with gpu_slot(GpuSettings(str(tmp_path / "slots")), env) as slot:
        assert slot is None
        assert env == {}
    assert not (tmp_path / "slots").exists()


def test_auto_counts_the_gpus_nvidia_smi_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'GPU 0: Fake (UUID: a)'\necho 'GPU 1: Fake (UUID: b)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    env: dict[str, str] = {}
    settings = GpuSettings(str(tmp_path / "slots"))
    with gpu_slot(settings, {}), gpu_slot(settings, env) as second:
        assert (second.index, env[VISIBLE]) == (1, "1")


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"devices": -1}, "gpu.devices"),
        ({"devices": "two"}, "gpu.devices"),
        ({"devices": True}, "gpu.devices"),
        ({"slots_per_device": 0}, "gpu.slots_per_device"),
        ({"slot_wait": -1}, "gpu.slot_wait"),
        ({"slot_wait": "long"}, "gpu.slot_wait"),
    ],
)
def test_bad_settings_name_the_config_key(values: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        GpuSettings("slots", **values)


class LogSignal(logging.Handler):
    """Sets an event when a log record containing `text` arrives (for synchronisation)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text, self.seen = text, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


def test_a_job_finding_every_slot_taken_waits_for_one_saying_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="visionrepro.engine.gpus")
    waiting = LogSignal("waiting up to")
    logging.getLogger("visionrepro.engine.gpus").addHandler(waiting)
    held = take_slot(tmp_path, devices=1, slots_per_device=1)
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(take_slot(tmp_path, 1, 1, wait=WAIT).index))
    try:
        waiter.start()
        assert waiting.seen.wait(WAIT), "the waiting job never said it waits"
        assert not got  # it waits while the slot is held
    finally:
        release_slot(held)
        waiter.join(WAIT)
        logging.getLogger("visionrepro.engine.gpus").removeHandler(waiting)
    assert got == [0]
    assert f"all 1 GPU slots under {tmp_path} are taken (by processes {os.getpid()})" in caplog.text
    assert "GPU slot 0 came free after" in caplog.text


def test_the_wait_is_bounded_by_gpu_slot_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(gpus, "_sleep", slept.append)
    clock = iter(range(100))  # one second per look at the slots
    monkeypatch.setattr(gpus.time, "monotonic", lambda: float(next(clock)))
    held = take_slot(tmp_path, 1, 1)
    try:
        with pytest.raises(NoFreeSlotError, match=r"waited 3 s \(gpu\.slot_wait=3\)"):
            take_slot(tmp_path, 1, 1, wait=3)
    finally:
        release_slot(held)
    assert slept == [gpus.POLL] * 2  # looks at 1 and 2 s, then 3 s: no more waiting


def test_inside_a_slurm_job_no_slot_file_is_taken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="visionrepro.engine.gpus")
    env = {SLURM_JOB: "4242"}
    with gpu_slot(GpuSettings(str(tmp_path / "slots"), devices=2), env) as slot:
        assert slot is None and env == {SLURM_JOB: "4242"}
    assert not (tmp_path / "slots").exists()
    assert "inside SLURM job 4242" in caplog.text
