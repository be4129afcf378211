"""Fixtures shared across test files: one-thread training, and one finished demo-like run."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from workflow_helpers import copy_workflow, demo_like_config, snakemake, write_config

from visionrepro.engine.training import configure_threads


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
    its config file. Shared by the workflow and browser tests (one run instead of one each):
    a test may add files or edit and restore one, but must leave the run complete."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo_run"))
    config = write_config(workdir, demo_like_config())
    snakemake(workdir, "--configfile", str(config))
    return workdir, str(config)
