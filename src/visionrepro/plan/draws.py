"""What a seed draws in an experiment, from its resolved variants (sweeps included): the
initial weights always; the batch order unless no variant shuffles; the palette when each seed
learns its own; augmentation and dropout draws where any variant uses them. The data, its
splits and the evaluation set stay fixed across seeds.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Draws two runs with the same seed share, so that comparing them seed by seed (a paired test)
# is the right test; the initial weights differ with the network and are not among them.
SHARED_DRAWS = ("batch order", "palette", "augmentation draws", "dropout masks")
FIXED = ("the data and its splits", "the evaluation set")


@dataclass(frozen=True)
class SeedDraws:
    """What a seed varies and what stays fixed across seeds."""

    varies: tuple[str, ...]
    fixed: tuple[str, ...]

    @property
    def shared(self) -> bool:
        """Whether runs with the same seed share draws (batch order, palette, augmentation)."""
        return any(draw in SHARED_DRAWS for draw in self.varies)

    def note(self) -> str:
        """The draws in a sentence."""
        return (
            f"A seed draws the {', '.join(self.varies)}; "
            f"fixed across seeds: {', '.join(self.fixed)}."
        )


def seed_draws(
    trains: Iterable[Mapping[str, Any]],
    options: Iterable[Mapping[str, Any]],
    palette: Mapping[str, Any] | None,
) -> SeedDraws:
    """The draws of an experiment whose variants train with `trains` and build their networks
    with `options` (one of each per variant), with its `palette` (None without one)."""
    trains, options = list(trains), list(options)
    varies, fixed = ["initial weights"], list(FIXED)
    shuffles = any(t.get("shuffle", True) is not False for t in trains)
    (varies if shuffles else fixed).append("batch order")
    if palette is not None:
        (varies if palette.get("seed") == "run" else fixed).append("palette")
    if any(t.get("hflip", 0) or t.get("color_jitter") for t in trains):
        varies.append("augmentation draws")
    if any(o.get("dropout", 0) for o in options):
        varies.append("dropout masks")
    return SeedDraws(tuple(varies), tuple(fixed))
