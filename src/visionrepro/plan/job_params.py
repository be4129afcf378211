"""Params functions of the training, palette and evaluation rules: what a job's script needs of
its experiment and variant, each a named function of the job's wildcards (Snakemake passes
`wildcards` by name), bound to the plan once by the rules."""

from dataclasses import dataclass
from typing import Any, Protocol

from visionrepro.plan.model import Experiment, Plan, Variant


class RunWildcards(Protocol):
    """The wildcards of a run's jobs (the palette rule's have no variant)."""

    experiment: str


@dataclass(frozen=True)
class JobParams:
    """The plan's answers to a job's wildcards, as Snakemake params functions."""

    plan: Plan

    def _experiment(self, wildcards: RunWildcards) -> Experiment:
        return self.plan.experiments[wildcards.experiment]

    def _variant(self, wildcards: Any) -> Variant:
        return self.plan.variant(wildcards.experiment, wildcards.variant)

    def network(self, wildcards: Any) -> str:
        """The variant's network spec (a registry name or module:Class)."""
        return self._variant(wildcards).network.spec

    def train(self, wildcards: Any) -> dict[str, Any]:
        """The variant's training settings."""
        return self._variant(wildcards).train

    def color(self, wildcards: RunWildcards) -> str:
        """The experiment's colour mode."""
        return self._experiment(wildcards).config["color"]

    def task(self, wildcards: RunWildcards) -> str:
        """The experiment's task name."""
        return self._experiment(wildcards).task.name

    def data(self, wildcards: RunWildcards) -> dict[str, Any]:
        """How the experiment's packs are read (Experiment.data_options)."""
        return self._experiment(wildcards).data_options()

    def dataset(self, wildcards: RunWildcards) -> dict[str, Any]:
        """The experiment's dataset settings (Experiment.data_settings)."""
        return self._experiment(wildcards).data_settings()

    def classes(self, wildcards: RunWildcards) -> list[str]:
        """The experiment's classes (none configured: [])."""
        return self._experiment(wildcards).config.get("classes", [])

    def palette(self, wildcards: Any) -> dict[str, Any]:
        """The experiment's palette settings with the palette job's seed."""
        palette = self._experiment(wildcards).config["palette"]
        return {**palette, "seed": int(wildcards.palette_seed)}
