"""GPU slots: a training job takes a free slot (an OS file lock) and sees only its slot's device.

Snakemake's `gpu` resource only counts GPUs; it never tells a job which one to use. Each slot is
a file under the slot folder locked with flock, so a crashed holder's lock is released by the
kernel. Slot i is on device i // slots_per_device (so several slots per device pack jobs onto
the first devices). The job exports CUDA_VISIBLE_DEVICES before CUDA initialises. A job that
finds every slot taken (Snakemake started more training jobs than slots: no `--resources gpu=N`)
waits for one to come free, saying so in its log, up to `gpu.slot_wait` seconds. Inside a SLURM
job no slot is taken: SLURM assigns the job's GPUs. On a machine without a GPU (outside a
cluster) training jobs ask for none (gpus_to_request), so `--resources gpu=N` cannot serialise them.
"""

import fcntl
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from visionrepro.errors import UserError

log = logging.getLogger(__name__)

VISIBLE = "CUDA_VISIBLE_DEVICES"
SLURM_JOB = "SLURM_JOB_ID"
POLL = 0.5  # seconds between looks at the slots while waiting
REPEAT_LOG = 600.0  # seconds between two "still waiting" log lines

_sleep = time.sleep  # module-level so tests can replace the wait


class NoFreeSlotError(UserError):
    """Every GPU slot is taken."""


@dataclass(frozen=True)
class GpuSettings:
    """The `gpu` config: devices ('auto' detects, an integer overrides), slots per device, and
    how long a job waits for a free slot (seconds; 0: fail at once).

    Rules pass it as an object, not a dict: Snakemake's params trigger skips objects, so
    changing where jobs run never retrains them.
    """

    slot_dir: str
    devices: int | str = "auto"
    slots_per_device: int = 1
    slot_wait: float = 86400.0

    def __post_init__(self) -> None:
        devices = self.devices
        number = isinstance(devices, int) and not isinstance(devices, bool) and devices >= 0
        if devices != "auto" and not number:
            raise ValueError(f"gpu.devices: expected 'auto' or an integer >= 0, got {devices!r}")
        if self.slots_per_device < 1:
            raise ValueError(
                f"gpu.slots_per_device: expected an integer >= 1, got {self.slots_per_device!r}"
            )
        wait = self.slot_wait
        if isinstance(wait, bool) or not isinstance(wait, int | float) or wait < 0:
            raise ValueError(f"gpu.slot_wait: expected seconds >= 0, got {wait!r}")

    def device_count(self) -> int:
        """The number of devices: detected for 'auto', else the configured number."""
        return detected_devices() if self.devices == "auto" else int(self.devices)


def gpus_to_request(
    configured: int, devices: int, cluster: bool, environ: Mapping[str, str] | None = None
) -> int:
    """The GPUs a training job asks for: `configured` on a cluster (a cluster executor, or inside
    a SLURM job) or where `devices` were found; 0 on a machine without one, so that
    `--resources gpu=N` cannot serialise CPU training."""
    env = os.environ if environ is None else environ
    if cluster or SLURM_JOB in env or devices > 0:
        return configured
    return 0


class Executing(Protocol):
    """What gpu_resource reads of Snakemake's workflow object once jobs are planned."""

    non_local_exec: bool  # a cluster executor (slurm, ...) submits the jobs
    remote_exec: bool  # this Snakemake runs inside a submitted job


def gpu_resource(configured: int, devices: int, workflow: Executing) -> Callable[..., int]:
    """A `resources: gpu=` function: gpus_to_request, with the executor read at job time
    (Snakemake knows it only after parsing; its submit host may have no GPU, its nodes do)."""

    def gpus(wildcards: object) -> int:
        cluster = bool(workflow.non_local_exec or workflow.remote_exec)
        return gpus_to_request(configured, devices, cluster)

    return gpus


@dataclass(frozen=True)
class Slot:
    """A held GPU slot: its number, its device and the open, locked file descriptor."""

    index: int
    device: int
    fd: int


def detected_devices() -> int:
    """Number of NVIDIA GPUs from nvidia-smi (0 without it); CUDA itself is not initialised."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    proc = subprocess.run([smi, "-L"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return 0
    return sum(line.startswith("GPU ") for line in proc.stdout.splitlines())


def _lock_free_slot(slot_dir: Path, slots: int, slots_per_device: int) -> Slot | None:
    """Lock the lowest free slot without waiting; None if all are taken."""
    for index in range(slots):
        fd = os.open(slot_dir / f"slot{index}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return Slot(index=index, device=index // slots_per_device, fd=fd)
    return None


def holders(slot_dir: Path, slots: int) -> list[str]:
    """The process ids the slot files name (each holder writes its own)."""
    pids = []
    for index in range(slots):
        try:
            pids.append((slot_dir / f"slot{index}.lock").read_text().strip() or "?")
        except OSError:
            pids.append("?")
    return pids


def take_slot(slot_dir: Path, devices: int, slots_per_device: int, wait: float = 0.0) -> Slot:
    """Lock the lowest free slot; while all are taken, wait up to `wait` seconds for one (the
    log says so, and which processes hold them); NoFreeSlotError after that."""
    slot_dir.mkdir(parents=True, exist_ok=True)
    slots = devices * slots_per_device
    started = time.monotonic()
    next_log = started
    while (slot := _lock_free_slot(slot_dir, slots, slots_per_device)) is None:
        now = time.monotonic()
        if now - started >= wait:
            raise NoFreeSlotError(
                f"all {slots} GPU slots under {slot_dir} are taken ({devices} devices x "
                f"gpu.slots_per_device={slots_per_device}), waited {now - started:.0f} s "
                f"(gpu.slot_wait={wait:g}); run with --resources gpu=<at most {slots}>, raise "
                "gpu.slots_per_device, or gpu.slot_wait"
            )
        if now >= next_log:
            log.info(
                "all %d GPU slots under %s are taken (by processes %s); waiting up to %.0f s "
                "more for one to come free (gpu.slot_wait=%g)",
                *(slots, slot_dir, ", ".join(holders(slot_dir, slots))),
                wait - (now - started),
                wait,
            )
            next_log = now + REPEAT_LOG
        _sleep(min(POLL, max(wait - (now - started), 0.0)))
    if next_log > started:
        log.info("GPU slot %d came free after %.0f s", slot.index, time.monotonic() - started)
    return slot


def release_slot(slot: Slot) -> None:
    """Unlock and close a slot's file."""
    fcntl.flock(slot.fd, fcntl.LOCK_UN)
    os.close(slot.fd)


@contextmanager
def gpu_slot(
    settings: GpuSettings, environ: MutableMapping[str, str] | None = None
) -> Iterator[Slot | None]:
    """Hold a free GPU slot with CUDA_VISIBLE_DEVICES set to its device; None when none apply.

    No slot is taken when CUDA_VISIBLE_DEVICES is already set (e.g. by SLURM): it is kept; nor
    inside a SLURM job (SLURM_JOB_ID set): the slot files live in the shared data_dir.
    Without devices (no GPU found and no `gpu.devices` override) this is a no-op: CPU training.
    """
    env = os.environ if environ is None else environ
    if VISIBLE in env:
        log.info(
            "%s=%s already set (by SLURM or the user): kept, no GPU slot taken",
            VISIBLE,
            env[VISIBLE],
        )
        yield None
        return
    if SLURM_JOB in env:
        log.info(
            "inside SLURM job %s: SLURM assigns its GPUs (%s unset: none); no GPU slot taken",
            env[SLURM_JOB],
            VISIBLE,
        )
        yield None
        return
    count = settings.device_count()
    if count == 0:
        log.info(
            "no GPU (gpu.devices=%s): no GPU slot taken, training on the CPU", settings.devices
        )
        yield None
        return
    slot = take_slot(Path(settings.slot_dir), count, settings.slots_per_device, settings.slot_wait)
    env[VISIBLE] = str(slot.device)
    log.info("GPU slot %d (device %d), %s=%d", slot.index, slot.device, VISIBLE, slot.device)
    try:
        yield slot
    finally:
        env.pop(VISIBLE, None)
        release_slot(slot)
        log.info("released GPU slot %d", slot.index)
