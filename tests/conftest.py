"""Fixtures shared by the engine tests."""

from collections.abc import Iterator

import pytest
import torch

from visionrepro.training import configure_threads


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Train with one intra-op thread (repeatable reductions); restore the setting after."""
    before = torch.get_num_threads()
    configure_threads(1)
    yield
    torch.set_num_threads(before)
