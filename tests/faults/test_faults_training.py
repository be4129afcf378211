"""Fault matrix, training side: killed jobs, tampered or truncated checkpoints and model files.

Each test injects one fault and checks what the user sees and what is left on disk. The fast
ones drive the engine directly; the slow ones run the tiny demo workflow, as a user would.
"""

import errno
import io
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from training_helpers import (
    CPU,
    Killed,
    assert_same_run,
    brightness_dataset,
    kill_after_first,
)
from workflow_helpers import OFFLINE, copy_workflow, demo_like_config, snakemake, write_config

from visionrepro.engine import checkpoints
from visionrepro.engine.checkpoints import load_trained, save_trained
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import train
from visionrepro.errors import UserError
from visionrepro.fileio import DiskFullError

SETTINGS = TrainSettings(epochs=2, batch_size=4, lr=1e-3, log_every=5)


class CodeRunning:
    """Unpickling this runs a command: it creates the file `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def plant_code_running_pickle(path: Path, marker: Path) -> None:
    """A torch file whose loading with weights_only=False would create `marker`."""
    torch.save({"fingerprint": "", "epoch": 1, "model": CodeRunning(marker)}, path)


def _state_of(run: object) -> tuple[torch.nn.Module, dict]:
    return run.model, run.history


@pytest.mark.usefixtures("one_thread")
def test_resume_with_dropout_and_color_jitter_equals_uninterrupted_run(tmp_path: Path) -> None:
    """Dropout and colour jitter draw from torch's global generator: the checkpoint restores it."""
    data = brightness_dataset(24, seed=4, side=32)
    settings = replace(SETTINGS, epochs=3, color_jitter=(0.2, 0.2, 0.2))
    kwargs = {"seed": 0, "device": CPU, "network_options": {"dropout": 0.5}}
    want = train("CifarCNN", data, data, settings, **kwargs)
    checkpoint = tmp_path / "checkpoint.pt"
    with pytest.raises(Killed):
        train(
            "CifarCNN",
            data,
            data,
            settings,
            checkpoint=checkpoint,
            on_epoch_end=kill_after_first,
            **kwargs,
        )
    torch.rand(1000)  # what ran in between moves the global generator
    got = train("CifarCNN", data, data, settings, checkpoint=checkpoint, **kwargs)
    assert got.epoch == 3
    assert_same_run(_state_of(got), _state_of(want))


def test_cuda_generators_are_saved_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """With CUDA available the checkpoint holds every device's generator state, and resuming
    puts them back (pretend CUDA: the states are recorded, not sent to a device)."""
    device_states = [torch.tensor([1, 2, 3], dtype=torch.uint8)]
    restored: list = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: device_states)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.append)
    states = checkpoints.global_rng_states()
    assert states["cuda"] is device_states
    checkpoints.set_global_rng_states(states)
    assert restored == [device_states]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    checkpoints.set_global_rng_states(states)  # a GPU run resumed on a CPU-only host
    assert restored == [device_states]


@pytest.mark.usefixtures("one_thread")
def test_code_running_checkpoint_is_ignored_not_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = brightness_dataset(12, seed=5)
    want = train("HW4Net1", data, data, SETTINGS, seed=0, device=CPU)
    checkpoint, marker = tmp_path / "checkpoint.pt", tmp_path / "ran"
    plant_code_running_pickle(checkpoint, marker)
    with caplog.at_level(logging.WARNING, logger="visionrepro"):
        got = train("HW4Net1", data, data, SETTINGS, seed=0, device=CPU, checkpoint=checkpoint)
    assert not marker.exists()
    assert f"ignoring unreadable checkpoint {checkpoint}" in caplog.text
    assert "posix.system" in caplog.text  # what was refused
    assert_same_run(_state_of(got), _state_of(want))


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("fault", ["code-running", "truncated"])
def test_bad_model_file_is_refused_naming_it(fault: str, tmp_path: Path) -> None:
    path, marker = tmp_path / "model.pt", tmp_path / "ran"
    if fault == "code-running":
        plant_code_running_pickle(path, marker)
    else:
        data = brightness_dataset(8, seed=6)
        state = train("HW4Net1", data, data, replace(SETTINGS, epochs=1), seed=0, device=CPU)
        save_trained(path, state, data.classes)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UserError) as err:
        load_trained(path)
    assert not marker.exists()
    assert str(path) in str(err.value)
    assert f"--forcerun {path}" in str(err.value)


# The tiny demo, with one training run long enough to be killed in the middle.
RUN = Path("results/runs/coco_rgb/HW4Net1/seed0")
TARGET = str(RUN / "predictions.csv")
LOG = Path("results/logs/train/coco_rgb/HW4Net1/seed0.log")
EPOCHS = 30


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A scratch copy of the workflow and the config of its one long run."""
    workdir = copy_workflow(tmp_path_factory.mktemp("faults_training"))
    config = demo_like_config()
    config["experiments"]["coco_rgb"]["train"]["epochs"] = EPOCHS
    return workdir, str(write_config(workdir, config))


def _kill_after_first_checkpoint(workdir: Path, config: str) -> int:
    """Start the run, kill snakemake and its jobs (SIGKILL) once a checkpoint exists; the epoch
    the checkpoint holds."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "2", TARGET, "--configfile", config],
        cwd=workdir,
        env=OFFLINE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    checkpoint = workdir / RUN / "checkpoint.pt"
    deadline = time.monotonic() + 900
    while not checkpoint.exists():
        assert proc.poll() is None, "snakemake ended before the first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint within 15 minutes"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return torch.load(checkpoint, weights_only=True)["epoch"]


@pytest.mark.slow
def test_killed_training_resumes_to_identical_weights_and_predictions(
    workdir: tuple[Path, str],
) -> None:
    path, config = workdir
    epoch = _kill_after_first_checkpoint(path, config)
    assert 1 <= epoch < EPOCHS
    assert not (path / RUN / "model.pt").exists()
    snakemake(path, "--unlock", "--configfile", config)
    snakemake(path, TARGET, "--configfile", config)
    log = (path / LOG).read_text()
    # The killed attempt's records come first, then the resumed attempt says where it resumed.
    assert log.count("training HW4Net1 (seed 0) on cpu") == 2
    assert log.index("epoch 1/30 done") < log.index(f"after epoch {epoch} of {EPOCHS}")
    assert f"resuming HW4Net1 from the checkpoint after epoch {epoch} of {EPOCHS}" in log
    assert log.count(f"epoch {EPOCHS}/{EPOCHS} done") == 1
    assert (
        not (path / RUN / "checkpoint.pt").exists() and not (path / RUN / "checkpoint.log").exists()
    )
    resumed = torch.load(path / RUN / "model.pt", weights_only=True)
    resumed_predictions = (path / RUN / "predictions.csv").read_bytes()

    snakemake(path, TARGET, "--forcerun", str(RUN / "model.pt"), "--configfile", config)
    log = (path / LOG).read_text()
    assert "resuming" not in log and "earlier, interrupted attempts" not in log
    uninterrupted = torch.load(path / RUN / "model.pt", weights_only=True)
    assert resumed["settings"] == uninterrupted["settings"]
    for name, tensor in uninterrupted["state_dict"].items():
        assert torch.equal(resumed["state_dict"][name], tensor), name
    assert (path / RUN / "predictions.csv").read_bytes() == resumed_predictions


@pytest.mark.slow
def test_code_running_checkpoint_is_ignored_by_the_workflow(workdir: tuple[Path, str]) -> None:
    path, config = workdir
    marker = path / "ran"
    plant_code_running_pickle(path / RUN / "checkpoint.pt", marker)
    snakemake(path, TARGET, "--forcerun", str(RUN / "model.pt"), "--configfile", config)
    assert not marker.exists()
    log = (path / LOG).read_text()
    assert f"ignoring unreadable checkpoint {RUN / 'checkpoint.pt'}" in log
    assert f"epoch 1/{EPOCHS} done" in log and not (path / RUN / "checkpoint.pt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["code-running", "truncated"])
def test_bad_model_file_fails_evaluation_naming_it(fault: str, workdir: tuple[Path, str]) -> None:
    path, config = workdir
    model, marker = path / RUN / "model.pt", path / "ran"
    # A good run to start from (a model.pt broken by another test is newer than its inputs).
    snakemake(path, TARGET, "--forcerun", str(RUN / "model.pt"), "--configfile", config)
    if fault == "code-running":
        plant_code_running_pickle(model, marker)
    else:
        model.write_bytes(model.read_bytes()[:1000])
    proc = snakemake(path, TARGET, "--configfile", config, check=False)
    assert proc.returncode != 0
    assert not marker.exists()
    log = (path / "results/logs/evaluate/coco_rgb/HW4Net1/seed0.log").read_text()
    assert f"{RUN / 'model.pt'} is not a model file this workflow wrote" in log
    assert f"--forcerun {RUN / 'model.pt'}" in log
    assert "Traceback" not in log


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("edit", [False, True])
def test_checkpoint_resumes_only_the_same_code(
    edit: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Kill a run after epoch 1 and edit one of its code files: the rerun starts afresh, saying
    which file changed; unedited, it resumes (only epoch 2 runs) and ends the same."""
    data = brightness_dataset(12, seed=7)
    losses = tmp_path / "losses.py"
    losses.write_text("SCALE = 1\n")
    kwargs = {"seed": 0, "device": CPU, "checkpoint": tmp_path / "checkpoint.pt"}
    with pytest.raises(Killed):
        train(
            "HW4Net1", data, data, SETTINGS, code=[losses], on_epoch_end=kill_after_first, **kwargs
        )
    if edit:
        losses.write_text("SCALE = 2\n")
    epochs: list[int] = []
    with caplog.at_level(logging.INFO, logger="visionrepro"):
        got = train(
            "HW4Net1", data, data, SETTINGS, code=[losses], on_epoch_end=epochs.append, **kwargs
        )
    want = train("HW4Net1", data, data, SETTINGS, seed=0, device=CPU)
    assert_same_run(_state_of(got), _state_of(want))
    if edit:
        assert epochs == [1, 2]
        assert f"the code changed since it was written ({losses.as_posix()})" in caplog.text
        assert "starting afresh" in caplog.text
    else:
        assert epochs == [2]
        assert "resuming HW4Net1 from the checkpoint after epoch 1 of 2" in caplog.text


@pytest.mark.usefixtures("one_thread")
def test_checkpoint_of_other_settings_or_old_format_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A checkpoint of another learning rate, or one with the former single-digest fingerprint,
    is not resumed, and the log says which."""
    data = brightness_dataset(12, seed=8)
    checkpoint = tmp_path / "checkpoint.pt"
    kwargs = {"seed": 0, "device": CPU, "checkpoint": checkpoint}
    with pytest.raises(Killed):
        train("HW4Net1", data, data, SETTINGS, on_epoch_end=kill_after_first, **kwargs)
    saved = torch.load(checkpoint, weights_only=True)
    epochs: list[int] = []
    with caplog.at_level(logging.WARNING, logger="visionrepro"):
        train(
            "HW4Net1", data, data, replace(SETTINGS, lr=2e-3), on_epoch_end=epochs.append, **kwargs
        )
    assert epochs == [1, 2]
    assert "the run's settings differ" in caplog.text
    torch.save({**saved, "fingerprint": "0" * 64}, checkpoint)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="visionrepro"):
        train("HW4Net1", data, data, SETTINGS, **kwargs)
    assert "written by an older version of the workflow" in caplog.text


class _FillingFile(io.RawIOBase):
    """A file on a disk that fills up after `room` bytes: the write that does not fit fails
    with ENOSPC (as on a real disk, part way through a save, not at its first byte)."""

    def __init__(self, path: Path, room: int) -> None:
        self.file, self.room = open(path, "wb"), room  # noqa: SIM115 - closed in close()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.file.write(data)

    def close(self) -> None:
        self.file.close()
        super().close()


@pytest.mark.usefixtures("one_thread")
def test_disk_full_part_way_through_a_checkpoint_says_no_space_left_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch.save reported it as "enforce fail at inline_container.cc ... unexpected pos"."""
    data = brightness_dataset(8, seed=6)
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    real_open = Path.open

    def filling_open(self: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        if mode == "wb" and self.name.startswith(".checkpoint.pt."):
            return _FillingFile(self, room=20_000)
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", filling_open)
    with pytest.raises(DiskFullError) as err:
        train("HW4Net1", data, data, SETTINGS, seed=0, device=CPU, checkpoint=checkpoint)
    message = str(err.value)
    assert "No space left on device" in message and str(checkpoint) in message
    assert "enforce fail" not in message and "unexpected pos" not in message
    left = [p.name for p in checkpoint.parent.iterdir()]
    assert left == ["epochs.csv"]  # no partial checkpoint left; the per-epoch numbers so far
