"""Where every training run of a results folder stands: done, running, failed or waiting.

    python -m visionrepro.status [results_dir]      (default: results)
    visionrepro-status [results_dir]                (the same, as a console script)

It lists each run found under results_dir/runs/{experiment}/{variant}/seed{N} (or with a training
log under results_dir/logs/train/):

- done: its metrics.json is written (trained and evaluated);
- running: a job trains it now (it holds the lock on the run's attempt log), at epoch k of n,
  with the mean epoch time and the time left at that rate (from the run's epochs.csv);
- failed: its training (or evaluation) log ends on an error, shown; or it was interrupted after
  epoch k (a checkpoint and no job training it: the next run of the workflow resumes it);
- waiting: not started, or trained and waiting for its evaluation.
"""

import argparse
import fcntl
import os
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from visionrepro import cli
from visionrepro.engine.epochs import FILE, read_epochs
from visionrepro.errors import UserError

STATES = ("done", "running", "failed", "waiting")
ERROR = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) ")  # visionrepro.logs' record format
RUN = re.compile(r"seed(\d+)(\.log)?")
Run = tuple[str, str, int]


@dataclass(frozen=True)
class RunStatus:
    """One run's state and what to say about it."""

    experiment: str
    variant: str
    seed: int
    state: str
    detail: str


def find_runs(results: Path, expected: Iterable[Run] = ()) -> list[Run]:
    """(experiment, variant, seed) of every run folder and training log, and of `expected`."""
    found = set(expected)
    for pattern, root in (
        ("*/*/seed*", results / "runs"),
        ("*/*/seed*.log", results / "logs/train"),
    ):
        for path in root.glob(pattern):
            match = RUN.fullmatch(path.name)
            if match:
                found.add((path.parent.parent.name, path.parent.name, int(match.group(1))))
    return sorted(found)


def is_training(attempts: Path) -> bool:
    """Whether a job holds the lock on the run's attempt log (engine.checkpoints), i.e. trains."""
    try:
        fd = os.open(attempts, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def log_lines(log: Path) -> list[str]:
    """A log's non-empty lines (none when it is missing)."""
    if not log.is_file():
        return []
    return [line for line in log.read_text(errors="replace").splitlines() if line.strip()]


def error_line(log: Path) -> str | None:
    """The first line of the log's last error record, or None when it has none."""
    errors = [line for line in log_lines(log) if ERROR.match(line)]
    return errors[-1] if errors else None


def progress(rows: list[dict[str, str]], since: float) -> str:
    """ "epoch k of n (d done, s each: t left)" from epochs.csv's rows, `since` seconds after
    the last was written, with the last epoch's monitored score."""
    from visionrepro.report.views import duration

    if not rows:
        return "starting: no epoch done yet"
    last = rows[-1]
    done, total = int(last["epoch"]), int(last["epochs"])
    each = sum(float(row["seconds"]) for row in rows) / len(rows)
    left = max(each * (total - done) - since, 0.0)
    scores = [k for k in last if k.split("_")[0] in ("val", "test") and not k.endswith("loss")]
    score = f"; {scores[0]} {float(last[scores[0]]):.4g}" if scores else ""
    return (
        f"epoch {min(done + 1, total)} of {total} ({done} done, {duration(each)} each: about "
        f"{duration(left)} left){score}"
    )


def stopped(folder: Path, logs: tuple[Path, Path], rows: list[dict[str, str]]) -> tuple[str, str]:
    """The state and detail of a run no job trains now: failed, interrupted or waiting."""
    train_log, evaluate_log = logs
    if (folder / "model.pt").is_file():
        failed = error_line(evaluate_log)
        if failed:
            return "failed", f"evaluation: {failed}"
        return "waiting", "trained; its evaluation is to run"
    failed = error_line(train_log)
    if failed:
        return "failed", failed
    if (folder / "checkpoint.pt").is_file():
        after = f" after epoch {rows[-1]['epoch']} of {rows[-1]['epochs']}" if rows else ""
        last = (log_lines(train_log) or ["(no log)"])[-1]
        return "failed", f"interrupted{after} (it resumes); the log's last line: {last}"
    return "waiting", "not started"


def run_status(results: Path, run: Run, now: float | None = None) -> RunStatus:
    """The state of one run (`now`: the clock, for the time left)."""
    experiment, variant, seed = run
    folder = results / "runs" / experiment / variant / f"seed{seed}"
    train_log, evaluate_log = (
        results / "logs" / kind / experiment / variant / f"seed{seed}.log"
        for kind in ("train", "evaluate")
    )
    epochs = folder / FILE
    rows = read_epochs(epochs)
    if (folder / "metrics.json").is_file():
        state, detail = "done", f"{len(rows)} epochs" if rows else ""
    elif is_training(folder / "checkpoint.log"):
        since = (now or time.time()) - epochs.stat().st_mtime if epochs.is_file() else 0.0
        state, detail = "running", progress(rows, since)
    else:
        state, detail = stopped(folder, (train_log, evaluate_log), rows)
    return RunStatus(experiment, variant, seed, state, detail)


def statuses(results: Path, expected: Iterable[Run] = ()) -> list[RunStatus]:
    """Every run's status (those found under `results`, and `expected` ones); a UserError when
    `results` is no results folder."""
    if not (results / "runs").is_dir() and not (results / "logs").is_dir():
        raise UserError(
            f"{results}: no runs/ or logs/ folder; give the workflow's results_dir "
            "(config key results_dir, default results)"
        )
    return [run_status(results, run) for run in find_runs(results, expected)]


def status_text(found: list[RunStatus]) -> str:
    """A table of the runs (experiment, variant, seed, state, detail), then a count by state."""
    import pandas as pd

    counts = ", ".join(f"{sum(s.state == k for s in found)} {k}" for k in STATES)
    if not found:
        return "no runs found\n"
    table = pd.DataFrame([vars(s) for s in found]).to_string(index=False, justify="left")
    return f"{table}\n{len(found)} runs: {counts}\n"


def parser() -> argparse.ArgumentParser:
    """status's arguments; --help shows the module docstring and the exit statuses."""
    parse = cli.make_parser("visionrepro.status", __doc__)
    parse.add_argument("results", type=Path, nargs="?", default=Path("results"))
    return parse


def run(args: argparse.Namespace) -> int:
    """Print every run's status."""
    sys.stdout.write(status_text(statuses(args.results)))
    return cli.OK


def main(argv: list[str] | None = None) -> int:
    """The command line: `python -m visionrepro.status`, `visionrepro-status`."""
    return cli.run(parser(), run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
