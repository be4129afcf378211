"""Logging set-up for workflow scripts: one log file per job, plus stderr.

The job's log gets every record; stderr (Snakemake's terminal) gets the rest but the details,
records logged with `extra=DETAIL` (training's per-iteration and per-epoch lines), of which it
shows one every PROGRESS_EVERY_S seconds as a progress line.
"""

import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from types import TracebackType

from visionrepro.errors import UserError


def _log_uncaught(kind: type[BaseException], err: BaseException, tb: TracebackType | None) -> None:
    """Put an uncaught error in the job's log: its message, and a traceback if unexpected."""
    trace = "" if isinstance(err, UserError) else "\n" + "".join(traceback.format_tb(tb))
    logging.getLogger("visionrepro").error("%s: %s%s", kind.__name__, err, trace)


DETAIL = {"detail": True}  # `log.info(..., extra=DETAIL)`: in the job's log; on stderr throttled
PROGRESS_EVERY_S = 60.0


class ProgressFilter(logging.Filter):
    """Let a detail record through at most once every `every` seconds (the first after
    `every` seconds), every other record always."""

    def __init__(
        self, every: float = PROGRESS_EVERY_S, clock: Callable[[], float] = time.monotonic
    ):
        super().__init__()
        self.every, self.clock = every, clock
        self.last = clock()

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether stderr shows `record`."""
        if not getattr(record, "detail", False):
            return True
        now = self.clock()
        if now - self.last < self.every:
            return False
        self.last = now
        return True


def setup_logging(log_file: str | os.PathLike | None = None, level: int = logging.INFO) -> None:
    """Send log records of every module, and any uncaught error, to `log_file` and stderr
    (there the details throttled: ProgressFilter)."""
    terminal = logging.StreamHandler(sys.stderr)
    terminal.addFilter(ProgressFilter())
    handlers: list[logging.Handler] = [terminal]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=level,
        handlers=handlers,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    sys.excepthook = _log_uncaught
