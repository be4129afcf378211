"""Fixtures shared across test files: one-thread training, and one finished demo-like run; the
order tests run in: the unit tests first, then the slow workflow runs, the SLURM test last."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from workflow_helpers import (
    RUN_OUTPUT,
    copy_workflow,
    demo_like_config,
    snakemake,
    write_config,
)

from visionrepro.engine.training import configure_threads

CLUSTER = Path(__file__).with_name("cluster")


def _rank(item: pytest.Item) -> int:
    """0 for a unit test, 1 for a slow one, 2 for the cluster tests (the slowest)."""
    if CLUSTER in item.path.parents:
        return 2
    return 1 if item.get_closest_marker("slow") else 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the slowest tests last (a stable sort: file order within each rank), so that a run
    stopped early has run and reported the most tests."""
    items.sort(key=_rank)


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Train with one intra-op thread (repeatable reductions); restore the setting after."""
    before = torch.get_num_threads()
    configure_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A scratch copy of the workflow after a complete run of the small demo-like config, and
    its config file; the run's terminal output is in RUN_OUTPUT there. Shared by the workflow
    and browser tests (one run instead of one each): a test may add files or edit and restore
    one, but must leave the run complete."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo_run"))
    config = write_config(workdir, demo_like_config())
    proc = snakemake(workdir, "--configfile", str(config))
    (workdir / RUN_OUTPUT).write_text(proc.stdout + proc.stderr)
    return workdir, str(config)
