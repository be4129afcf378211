"""Logging set-up for workflow scripts: one log file per job, plus stderr."""

import logging
import os
import sys
import traceback
from types import TracebackType

from visionrepro.errors import UserError


def _log_uncaught(kind: type[BaseException], err: BaseException, tb: TracebackType | None) -> None:
    """Put an uncaught error in the job's log: its message, and a traceback if unexpected."""
    trace = "" if isinstance(err, UserError) else "\n" + "".join(traceback.format_tb(tb))
    logging.getLogger("visionrepro").error("%s: %s%s", kind.__name__, err, trace)


def setup_logging(log_file: str | os.PathLike | None = None, level: int = logging.INFO) -> None:
    """Send log records of every module, and any uncaught error, to `log_file` and stderr."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=level,
        handlers=handlers,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    sys.excepthook = _log_uncaught
