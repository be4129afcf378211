"""The resolved model of what runs: experiments, their variants and runs, the data each reads.

Built once from the config when the workflow is parsed (plan/load.py) and read by the rules,
`compare` and the report alike; frozen, so nothing downstream re-derives it from the raw config.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from visionrepro.networks import NetworkRef
from visionrepro.plan.draws import SeedDraws, seed_draws
from visionrepro.tasks import Task

if TYPE_CHECKING:  # the report imports this module; it needs no data source's code
    from visionrepro.data.sources import DataSource

DEFAULT_TOLERANCE = 1.0  # metric points; an experiment's `tolerance` overrides it
# Keys of a reference entry that describe it rather than give a metric.
REFERENCE_KEYS = ("params", "settings", "data", "precision", "source", "tolerances", "note")


@dataclass(frozen=True)
class Variant:
    """One network with its settings: its name (of its runs' folder), label, network, train
    settings, network options and seeds, and where it comes from (`origin`: "network" a plain
    network of the experiment, "sweep" a combination of its sweep, "variant" its variants)."""

    name: str
    label: str
    network: NetworkRef
    train: Mapping[str, Any]
    network_options: Mapping[str, Any]
    seeds: tuple[int, ...]
    origin: str

    def settings(self) -> dict[str, Any]:
        """The variant as the config spells it out (network, train, options, seeds, label)."""
        return {
            "network": self.network.spec,
            "train": dict(self.train),
            "network_options": dict(self.network_options),
            "seeds": list(self.seeds),
            "label": self.label,
        }


@dataclass(frozen=True)
class Run:
    """One training run: a variant of an experiment trained with one seed."""

    experiment: str
    variant: str
    seed: int


@dataclass(frozen=True)
class Experiment:
    """One experiment as it runs: its config (`config`, with the train defaults merged in),
    task, data source and resolved variants, in config order."""

    name: str
    config: Mapping[str, Any]
    task: Task
    source: "DataSource"
    variants: Mapping[str, Variant]
    groups: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def key(self) -> str:
        """The folder under data_dir with the experiment's packs."""
        return self.source.key(self.config)

    @property
    def eval_split(self) -> str:
        """The split runs are finally evaluated on: coco's val, an image folder's val or test,
        the others' test."""
        return self.source.eval_split(self.config)

    @property
    def monitored_split(self) -> str:
        """The split scored after every epoch: val (held out when the experiment has a
        val_fraction), or the evaluation split itself (the write-ups that monitor it)."""
        return "val" if self.config.get("val_fraction") else self.eval_split

    def pack_split(self, role: str) -> str:
        """The packed split a job reads for `role`: "eval" the evaluation split, "monitored"
        the pack the per-epoch score comes from (the training pack when val is held out of
        it, else the evaluation split), or a split by name."""
        if role == "monitored":
            return "train" if self.config.get("val_fraction") else self.eval_split
        return self.eval_split if role == "eval" else role

    @property
    def image_size(self) -> int:
        return self.source.image_size(self.config)

    @property
    def input_channels(self) -> int:
        """Channels of the network input: gray_mean gives 1; gray and rgb keep the dataset's."""
        return 1 if self.config.get("color", "rgb") == "gray_mean" else self.source.channels

    @property
    def classes(self) -> list[str]:
        """The classes the experiment uses: its `classes`, or all of its dataset's."""
        return list(self.config.get("classes") or self.source.classes())

    @property
    def outputs(self) -> int:
        """What a network predicts: classes (with background per pixel for segmentation), or
        palette colours (colorization)."""
        if self.task.palette:
            return self.config["palette"]["colours"]
        return len(self.classes) + self.task.masks

    @property
    def metric(self) -> str:
        """The metric of the experiment's verdicts and headline figure."""
        return self.task.headline_metric(self.eval_split)

    @property
    def reference(self) -> Mapping[str, Any]:
        return self.config.get("reference", {})

    @property
    def figures(self) -> list[str]:
        """Its figure kinds: the task's, then those its `figures:` list adds."""
        return [*self.task.figures, *self.config.get("figures", [])]

    @property
    def draws(self) -> SeedDraws:
        """What a seed draws, from the resolved variants (sweeps included)."""
        return seed_draws(
            (v.train for v in self.variants.values()),
            (v.network_options for v in self.variants.values()),
            self.config.get("palette"),
        )

    def runs(self) -> list[Run]:
        return [Run(self.name, v.name, s) for v in self.variants.values() for s in v.seeds]

    def seeds(self) -> list[int]:
        """Every seed any of its variants runs, sorted."""
        return sorted({s for v in self.variants.values() for s in v.seeds})

    def palette_seed(self, seed: int | str) -> int:
        """The k-means seed of the palette a run with `seed` learns: the run's own
        (`palette.seed: run`) or the experiment's fixed one."""
        fixed = self.config["palette"].get("seed", "run")
        return int(seed) if fixed == "run" else fixed

    def data_options(self) -> dict[str, Any]:
        """How the experiment selects and splits its data (classes, held-out val fraction)."""
        return {
            "classes": self.config.get("classes", []),
            "val_fraction": self.config.get("val_fraction", 0.0),
            "split_seed": self.config.get("split_seed", 0),
            "monitor": self.monitored_split,
            "eval_split": self.eval_split,
        }

    def data_settings(self) -> dict[str, Any]:
        """The config keys that define its data (recorded in each run's provenance)."""
        return self.source.provenance(self.config, self.data_options())

    def headline_references(self) -> dict[str, float]:
        """The write-up's headline number of each variant that has one."""
        values = {v: reference_metrics(ref).get(self.metric) for v, ref in self.reference.items()}
        return {v: value for v, value in values.items() if value is not None}

    def spec(self) -> dict[str, Any]:
        """What the report rules need of the experiment, serialisable (RESULTS.json keeps it
        for `republish`): its headline metric, tolerance, references and labels, description,
        seed draws, comparison groups (and the write-up's headline number per variant),
        convergence setting, per-metric tolerances and its write-up's coverage (plan/writeups.py
        coverage_record: its numbers and those not judged, with why)."""
        return {
            "metric": self.metric,
            "tolerance": self.config.get("tolerance", DEFAULT_TOLERANCE),
            "tolerances": dict(self.config.get("tolerances") or {}),
            "reference": dict(self.reference),
            "task": self.task.name,
            "labels": {v.name: v.label for v in self.variants.values()},
            "variants": {v.name: v.settings() for v in self.variants.values()},
            "description": " ".join(self.config.get("description", "").split()),
            "seed_note": self.draws.note(),
            "paired": self.draws.shared,
            "headline_references": self.headline_references(),
            "groups": [[kind, list(names)] for kind, names in self.groups],
            "convergence": self.config.get("convergence"),
            "writeup": self.config.get("writeup"),
        }

    def reads_histories(self) -> bool:
        """Whether the report reads its runs' train.json: a convergence setting, or a reference
        measure of the per-epoch history (history.*, epoch_*: report/measures.py)."""
        per_epoch = any(m.startswith(("history.", "epoch_")) for m in self.measures())
        return bool(self.config.get("convergence")) or per_epoch

    def measures(self) -> list[str]:
        """Every metric or derived measure its references name (report/measures.py)."""
        names = (m for ref in self.reference.values() for m in reference_metrics(ref))
        return list(dict.fromkeys(names))


def reference_metrics(reference: Mapping[str, Any]) -> dict[str, float]:
    """The metric values of a reference entry (its descriptive keys left out)."""
    return {k: float(v) for k, v in reference.items() if k not in REFERENCE_KEYS}


@dataclass(frozen=True)
class Plan:
    """Every enabled experiment of a workflow run, and its paths."""

    experiments: Mapping[str, Experiment]
    layout: Any

    def runs(self, experiment: str | None = None) -> list[Run]:
        names = [experiment] if experiment else list(self.experiments)
        return [run for name in names for run in self.experiments[name].runs()]

    def run_files(self, name: str, experiment: str | None = None) -> list[str]:
        """File `name` of every run (of one experiment)."""
        runs = self.runs(experiment)
        return [f"{self.layout.run_dir(r.experiment, r.variant, r.seed)}/{name}" for r in runs]

    def variant(self, experiment: str, variant: str) -> Variant:
        return self.experiments[experiment].variants[variant]

    def of_task(self, task: str) -> list[str]:
        return [name for name, exp in self.experiments.items() if exp.task.name == task]

    def dense(self) -> list[str]:
        """The experiments whose runs predict per pixel."""
        return [name for name, exp in self.experiments.items() if exp.task.dense]

    def packed_splits(self) -> list[tuple[str, str]]:
        """(pack folder, split) of every packed split in use: train and each evaluation split."""
        pairs = {
            (e.key, split) for e in self.experiments.values() for split in ("train", e.eval_split)
        }
        return sorted(pairs, key=lambda pair: (pair[0], pair[1] != "train", pair[1]))

    def folders(self) -> dict[str, Any]:
        """The image folders the experiments read (their sources, layouts read), by name."""
        return {
            e.source.name: e.source
            for e in self.experiments.values()
            if getattr(e.source, "layout", None) is not None
        }

    def with_figure(self, kind: str) -> list[str]:
        return [name for name, exp in self.experiments.items() if kind in exp.figures]
