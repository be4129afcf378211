"""python -m visionrepro.status on a fake results folder: every run found, done, running (epoch k
of n with the time left), failed (the log's error line), interrupted, waiting."""

import logging
import os
from pathlib import Path

import pytest

from visionrepro.engine.checkpoints import continue_attempt_log, finish_run
from visionrepro.engine.epochs import epochs_path, write_epochs
from visionrepro.status import find_runs, main, run_status, statuses

HISTORY = {"epoch_seconds": [60.0, 60.0, 60.0], "val_accuracy": [30.0, 38.0, 41.5]}


def run_dir(results: Path, variant: str, seed: int = 0) -> Path:
    folder = results / "runs" / "exp" / variant / f"seed{seed}"
    folder.mkdir(parents=True)
    return folder


def train_log(results: Path, variant: str, text: str, seed: int = 0) -> None:
    log = results / "logs" / "train" / "exp" / variant / f"seed{seed}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(text)


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """done, failed, interrupted, trained (evaluation waits), not started; one log only."""
    (run_dir(tmp_path, "done") / "metrics.json").write_text("{}")
    train_log(
        tmp_path,
        "failed",
        "2026-12-07 10:00:00,000 INFO visionrepro.engine.training: epoch 1/3 done\n"
        "2026-12-07 10:00:01,000 ERROR visionrepro: RuntimeError: out of memory\n"
        '  File "train.py", line 3, in <module>\n',
    )
    interrupted = run_dir(tmp_path, "interrupted")
    (interrupted / "checkpoint.pt").write_bytes(b"")
    write_epochs(epochs_path(interrupted / "checkpoint.pt"), HISTORY, 10)
    train_log(tmp_path, "interrupted", "2026-12-07 10:00:00,000 INFO x: epoch 3/10 done\n\n")
    (run_dir(tmp_path, "trained") / "model.pt").write_bytes(b"")
    run_dir(tmp_path, "fresh")
    return tmp_path


def test_every_run_found_has_its_state(results: Path) -> None:
    found = {s.variant: (s.state, s.detail) for s in statuses(results, [("exp", "planned", 2)])}
    assert found["done"] == ("done", "")
    assert found["failed"] == (
        "failed",
        "2026-12-07 10:00:01,000 ERROR visionrepro: RuntimeError: out of memory",
    )
    assert found["interrupted"] == (
        "failed",
        "interrupted after epoch 3 of 10 (it resumes); the log's last line: "
        "2026-12-07 10:00:00,000 INFO x: epoch 3/10 done",
    )
    assert found["trained"] == ("waiting", "trained; its evaluation is to run")
    assert found["fresh"] == found["planned"] == ("waiting", "not started")
    assert len(found) == 6


def test_a_run_being_trained_shows_its_epoch_and_the_time_left(results: Path) -> None:
    folder = results / "runs" / "exp" / "interrupted" / "seed0"
    handler = continue_attempt_log(folder / "checkpoint.pt")  # what a training job holds
    try:
        epochs = epochs_path(folder / "checkpoint.pt")
        os.utime(epochs, (1_000_000.0, 1_000_000.0))  # the last epoch ended 30 s before "now"
        status = run_status(results, ("exp", "interrupted", 0), now=1_000_030.0)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert status.state == "running"
    assert status.detail == (
        "epoch 4 of 10 (3 done, 1 min 00 s each: about 6 min 30 s left); val_accuracy 41.5"
    )
    # The job gone, its lock is released: the run reads as interrupted again.
    assert run_status(results, ("exp", "interrupted", 0)).detail.startswith("interrupted after")


def test_a_finished_runs_attempt_log_and_lock_are_gone(tmp_path: Path) -> None:
    checkpoint = run_dir(tmp_path, "net") / "checkpoint.pt"
    handler = continue_attempt_log(checkpoint)
    assert run_status(tmp_path, ("exp", "net", 0)).detail == "starting: no epoch done yet"
    finish_run(checkpoint, handler)
    assert run_status(tmp_path, ("exp", "net", 0)).state == "waiting"


def test_runs_are_found_from_folders_and_logs(results: Path) -> None:
    (results / "runs" / "exp" / "done" / "not-a-seed").mkdir()
    variants = [variant for _, variant, _ in find_runs(results)]
    assert variants == ["done", "failed", "fresh", "interrupted", "trained"]


def test_the_command_counts_states_and_refuses_a_missing_folder(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(results)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "5 runs: 1 done, 0 running, 2 failed, 2 waiting"
    assert main([str(results / "nowhere")]) == 2
    error = capsys.readouterr().err
    assert "nowhere: no runs/ or logs/ folder" in error and "results_dir" in error
