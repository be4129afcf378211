"""A run's per-epoch numbers as it trains: `epochs.csv` beside its checkpoint, one row per epoch
done (epoch, epochs in all, the training loss and scores, the monitored split's loss and scores,
the epoch's seconds and its training pass's seconds), for `dvc plots`, pandas and spreadsheets.

The file is written again, atomically, from the run's history after every epoch (and when a run
starts or resumes), so a reader never sees half a row, and a run killed and resumed has each
epoch once: its rows are those of the checkpoint it resumed from, then the new epochs'. It stays
in the run's folder when the run ends (the checkpoint goes). A finished run trained before the
file existed has the same numbers in its train.json's history (`rows_of`).
"""

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from visionrepro.fileio import atomic_path

FILE = "epochs.csv"
# History entries that are not one value per epoch (or are renamed below).
NOT_SCORES = ("loss", "grad_mean", "epoch_seconds", "epoch_train_seconds", "normalization")


def epochs_path(checkpoint: Path) -> Path:
    """The epochs.csv beside a run's checkpoint."""
    return checkpoint.with_name(FILE)


def rows_of(history: Mapping[str, Any], epochs: int) -> list[dict[str, Any]]:
    """One row per epoch done in `history` (a TrainState's or train.json's), of `epochs`."""
    seconds = list(history.get("epoch_seconds", []))
    done = len(seconds)
    scores = [
        key
        for key, value in history.items()
        if key not in NOT_SCORES and isinstance(value, list) and len(value) == done
    ]
    train_seconds = list(history.get("epoch_train_seconds", [None] * done))
    return [
        {
            "epoch": i + 1,
            "epochs": epochs,
            **{key: history[key][i] for key in scores},
            "seconds": seconds[i],
            "train_seconds": train_seconds[i],
        }
        for i in range(done)
    ]


def write_epochs(path: Path, history: Mapping[str, Any], epochs: int) -> None:
    """Write `path` (epochs.csv) from a run's history, atomically; only the header when no epoch
    is done yet (a run that starts afresh replaces an earlier run's rows)."""
    rows = rows_of(history, epochs)
    columns = list(rows[0]) if rows else ["epoch", "epochs", "seconds", "train_seconds"]
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def read_epochs(path: Path) -> list[dict[str, str]]:
    """The rows of an epochs.csv (empty when it is missing)."""
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))
