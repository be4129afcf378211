"""Job logs and the terminal: every record in the job's log; on stderr (Snakemake's terminal)
training's per-iteration and per-epoch lines only as a throttled progress line."""

import logging
import subprocess
import sys
from pathlib import Path

from workflow_helpers import PROJECT

from visionrepro.logs import DETAIL, ProgressFilter

TRAIN = """
import sys
sys.path.insert(0, "tests")
import torch
from training_helpers import brightness_dataset
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import train
from visionrepro.logs import setup_logging

setup_logging(sys.argv[1])
torch.set_num_threads(1)
settings = TrainSettings(epochs=3, batch_size=4, lr=1e-3, log_every=2)
data = brightness_dataset(16, 0, side=64)
train("HW4Net1", data, brightness_dataset(8, 1, side=64), settings, seed=0,
      device=torch.device("cpu"))
"""


def test_training_details_go_to_the_job_log_and_the_terminal_shows_progress(
    tmp_path: Path,
) -> None:
    log = tmp_path / "job.log"
    proc = subprocess.run(
        [sys.executable, "-c", TRAIN, str(log)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    written = log.read_text()
    assert written.count("iteration ") == 3 * 2 and written.count(" done in ") == 3
    terminal = proc.stderr
    assert "iteration " not in terminal and " done in " not in terminal
    assert "training HW4Net1 (seed 0)" in terminal and "run done: 3 epochs" in terminal


def test_the_progress_filter_shows_a_detail_once_a_minute() -> None:
    now = [0.0]
    progress = ProgressFilter(every=60, clock=lambda: now[0])

    def shown(at: float, **extra: bool) -> bool:
        now[0] = at
        record = logging.LogRecord("visionrepro", logging.INFO, "x", 1, "m", None, None)
        record.__dict__.update(extra)
        return progress.filter(record)

    assert shown(1, **DETAIL) is False and shown(59, **DETAIL) is False
    assert shown(61, **DETAIL) is True and shown(62, **DETAIL) is False
    assert shown(62) is True  # any other record, always
    assert shown(121, **DETAIL) is True
