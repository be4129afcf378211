"""epochs.csv: a run's per-epoch numbers beside its checkpoint, written as it trains, each epoch
once across a kill and a resume, the same numbers as the run's history."""

import csv
from pathlib import Path
from typing import Any

import pytest
from training_helpers import CPU, Killed, brightness_dataset, kill_after_first

from visionrepro.engine.epochs import FILE, epochs_path, read_epochs, rows_of, write_epochs
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import train

SETTINGS = TrainSettings(epochs=3, batch_size=4, lr=1e-3, betas=(0.9, 0.99), log_every=5)
TRAIN, VAL = brightness_dataset(42, seed=1), brightness_dataset(20, seed=2)
TIMES = ("seconds", "train_seconds")

pytestmark = pytest.mark.usefixtures("one_thread")


def run(checkpoint: Path, **kwargs: Any) -> dict[str, Any]:
    """Train HW4Net1 with seed 0 and a checkpoint; the history."""
    state = train(
        "HW4Net1", TRAIN, VAL, SETTINGS, seed=0, device=CPU, checkpoint=checkpoint, **kwargs
    )
    return state.history


def without_times(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k not in TIMES} for row in rows]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, one_thread: None) -> tuple[Path, dict]:
    """One uninterrupted run: its epochs.csv and history."""
    checkpoint = tmp_path_factory.mktemp("whole") / "checkpoint.pt"
    return epochs_path(checkpoint), run(checkpoint)


def test_each_epoch_is_a_row_of_the_runs_numbers(uninterrupted: tuple[Path, dict]) -> None:
    path, history = uninterrupted
    assert path.name == FILE
    rows = read_epochs(path)
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert {row["epochs"] for row in rows} == {"3"}
    assert list(rows[0]) == [
        *("epoch", "epochs", "train_loss", "train_accuracy", "val_loss", "val_accuracy"),
        *TIMES,
    ]
    for key in ("train_loss", "val_accuracy", "val_loss"):  # exactly, digit for digit
        assert [float(row[key]) for row in rows] == history[key]
    assert [float(row["seconds"]) for row in rows] == history["epoch_seconds"]
    with path.open() as fh:  # a plain CSV any reader takes
        assert len(list(csv.reader(fh))) == 4


def test_a_kill_and_resume_keep_each_epoch_once(
    tmp_path: Path, uninterrupted: tuple[Path, dict]
) -> None:
    checkpoint = tmp_path / "checkpoint.pt"
    with pytest.raises(Killed):
        run(checkpoint, on_epoch_end=kill_after_first)
    assert [row["epoch"] for row in read_epochs(epochs_path(checkpoint))] == ["1"]
    # Killed again after writing a row the checkpoint does not have (an epoch 2 it lost).
    rows = read_epochs(epochs_path(checkpoint))
    with epochs_path(checkpoint).open("a", newline="") as fh:
        csv.DictWriter(fh, fieldnames=list(rows[0])).writerow({**rows[0], "epoch": "2"})
    run(checkpoint)
    resumed = read_epochs(epochs_path(checkpoint))
    assert [row["epoch"] for row in resumed] == ["1", "2", "3"]
    assert without_times(resumed) == without_times(read_epochs(uninterrupted[0]))


def test_a_run_started_afresh_replaces_an_earlier_runs_rows(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.pt"
    write_epochs(epochs_path(checkpoint), {"epoch_seconds": [1.0] * 5, "val_loss": [9.0] * 5}, 5)
    with pytest.raises(Killed):
        run(checkpoint, on_epoch_end=kill_after_first)
    assert [row["epochs"] for row in read_epochs(epochs_path(checkpoint))] == ["3"]


def test_a_finished_runs_history_gives_the_same_rows(uninterrupted: tuple[Path, dict]) -> None:
    path, history = uninterrupted
    rows = [{k: str(v) for k, v in row.items()} for row in rows_of(history, 3)]
    assert rows == read_epochs(path)
    assert rows_of({"epoch_seconds": [], "loss": []}, 3) == []
