"""Every kind of figure, declared once: its file under <results>/figures/, title, section (of
the HTML page, and the category of Snakemake's report), whether the page folds it, what it is
drawn for (`shape`: an experiment, each variant of an experiment, or a dataset) and from what
(`inputs`, resolved by `figure_inputs`). Its caption is report/<kind>.rst; its drawing,
report/plots.py. One generic rule (rules/report.smk) makes every kind.

Adding a kind: a record here, its drawing in report/plots.py and its caption.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from visionrepro.plan.model import Plan

EXPERIMENT, VARIANT, DATASET = "experiment", "variant", "dataset"


@dataclass(frozen=True)
class FigureKind:
    """One kind of figure (see the module)."""

    name: str
    path: str
    title: str
    section: str
    folded: bool
    shape: str
    inputs: tuple[str, ...]
    settings: tuple[str, ...] = ()  # what it needs of its experiment or dataset
    params: Mapping[str, Any] | None = None  # fixed settings of the drawing
    extra: bool = False  # an experiment's `figures:` may add it


def _kind(name: str, title: str, inputs: tuple[str, ...], **options: Any) -> FigureKind:
    shape = options.pop("shape", EXPERIMENT)
    path = {
        EXPERIMENT: f"{{experiment}}/{name}.png",
        VARIANT: f"{{experiment}}/{name}_{{variant}}.png",
        DATASET: f"{{dataset}}/{name}.png",
    }[shape]
    section = options.pop("section", "{experiment}")
    return FigureKind(name, path, title, section, shape=shape, inputs=inputs, **options)


KINDS: dict[str, FigureKind] = {
    kind.name: kind
    for kind in (
        _kind(
            "headline",
            "Headline metric: every seed, the mean and the reference",
            ("metrics",),
            folded=False,
            settings=("spec",),
        ),
        _kind("loss", "Training loss", ("histories",), folded=False),
        _kind(
            "grad_mean",
            "Mean gradient over the first training steps",
            ("histories",),
            folded=False,
            extra=True,
        ),
        _kind(
            "confusion",
            "Confusion matrices (% of each true class)",
            ("metrics",),
            folded=True,
            settings=("split",),
        ),
        _kind("per_class_iou", "IoU per class", ("metrics",), folded=True),
        _kind("curves", "Loss and accuracy per epoch", ("histories",), folded=True, extra=True),
        _kind(
            "color_examples",
            "Grey input, predicted and true colours",
            ("eval_pack", "palettes", "first_masks"),
            folded=True,
            extra=True,
            settings=("variants", "classes"),
            params={"n": 6},
        ),
        _kind(
            "misclassified",
            "First misclassified images: {variant}",
            ("first_predictions", "eval_pack"),
            folded=True,
            extra=True,
            shape=VARIANT,
            settings=("split",),
            params={"n": 20},
        ),
        _kind(
            "segmentation",
            "Every segmentation network and loss on the same val images ({dataset})",
            ("dataset_predictions", "val_pack", "val_masks"),
            folded=True,
            shape=DATASET,
            section="Comparisons",
            settings=("runs",),
            params={"per_class": 2},
        ),
        _kind(
            "samples",
            "Training images of {dataset}",
            ("train_pack",),
            folded=True,
            shape=DATASET,
            section="Datasets",
        ),
        _kind(
            "masks",
            "Masks of {dataset}'s training images",
            ("train_pack", "train_masks"),
            folded=True,
            shape=DATASET,
            section="Datasets",
        ),
    )
}
# The wildcards of each shape in a job's log name.
LOG_WILDCARDS = {
    EXPERIMENT: "{experiment}",
    VARIANT: "{experiment}_{variant}",
    DATASET: "{dataset}",
}
EXTRA = sorted(name for name, kind in KINDS.items() if kind.extra)


@dataclass(frozen=True)
class Figure:
    """One figure of a run's report: its kind, wildcards and where it goes."""

    kind: str
    wildcards: Mapping[str, str]
    path: str
    title: str
    section: str
    folded: bool

    def entry(self, caption: str) -> dict[str, Any]:
        """The figure as the HTML page's script reads it, with its caption file."""
        return {
            "section": self.section,
            "title": self.title,
            "path": self.path,
            "caption": caption,
            "wildcards": dict(self.wildcards),
            "folded": self.folded,
        }


def figure(plan: Plan, kind: str, **wildcards: str) -> Figure:
    """The figure of `kind` for `wildcards` (experiment, variant or dataset)."""
    k = KINDS[kind]
    return Figure(
        kind,
        wildcards,
        plan.layout.figure(k.path.format(**wildcards)),
        k.title.format(**wildcards),
        k.section.format(**wildcards),
        k.folded,
    )


def experiment_figures(plan: Plan, name: str) -> list[Figure]:
    """The figures of an experiment, in their order on the page."""
    figures = []
    for kind in plan.experiments[name].figures:
        if KINDS[kind].shape == VARIANT:
            figures += [
                figure(plan, kind, experiment=name, variant=v)
                for v in plan.experiments[name].variants
            ]
        else:
            figures.append(figure(plan, kind, experiment=name))
    return figures


def datasets(plan: Plan, dense_masks: bool = False) -> list[str]:
    """The pack folders in use (sorted), or only those segmentation experiments read."""
    return sorted({e.key for e in plan.experiments.values() if e.task.masks or not dense_masks})


def all_figures(plan: Plan) -> list[Figure]:
    """Every figure of the report: the experiments' (config order), then the comparisons' and
    the datasets'."""
    figures = [f for name in plan.experiments for f in experiment_figures(plan, name)]
    figures += [figure(plan, "segmentation", dataset=d) for d in datasets(plan, True)]
    figures += [figure(plan, "samples", dataset=d) for d in datasets(plan)]
    figures += [figure(plan, "masks", dataset=d) for d in datasets(plan, True)]
    return figures


def drawn_for(plan: Plan, kind: str) -> list[str]:
    """The experiments, or datasets, a kind is drawn for (its wildcard's values)."""
    if KINDS[kind].shape == DATASET:
        return datasets(plan, dense_masks=kind != "samples")
    return plan.with_figure(kind)


def figure_inputs(plan: Plan, kind: str, wildcards: Mapping[str, str]) -> dict[str, Any]:
    """The input files of a figure, by the names its kind declares."""
    return {name: _INPUTS[name](plan, wildcards) for name in KINDS[kind].inputs}


def figure_params(plan: Plan, kind: str, wildcards: Mapping[str, str]) -> dict[str, Any]:
    """The settings of a figure: its kind's fixed ones, and what it needs of its experiment
    (or dataset)."""
    k = KINDS[kind]
    return {**(k.params or {}), **{name: _SETTINGS[name](plan, wildcards) for name in k.settings}}


def segmentation_runs(plan: Plan, key: str) -> list[tuple[str, str]]:
    """(experiment, variant) of every segmentation variant on the packs `key`, config order."""
    return [
        (name, variant)
        for name, exp in plan.experiments.items()
        if exp.task.masks and exp.key == key
        for variant in exp.variants
    ]


def _first_seed_file(plan: Plan, experiment: str, variant: str, name: str) -> str:
    seed = plan.variant(experiment, variant).seeds[0]
    return f"{plan.layout.run_dir(experiment, variant, seed)}/{name}"


def _runs_files(name: str):
    def files(plan: Plan, w: Mapping[str, str]) -> list[str]:
        return [f"{plan.layout.run_dir(*run)}/{name}" for run in _tuples(plan, w["experiment"])]

    return files


def _tuples(plan: Plan, experiment: str) -> list[tuple[str, str, int]]:
    return [(r.experiment, r.variant, r.seed) for r in plan.runs(experiment)]


def _eval_pack(plan: Plan, w: Mapping[str, str]) -> str:
    exp = plan.experiments[w["experiment"]]
    return plan.layout.packed(exp.key, exp.eval_split)


def _palettes(plan: Plan, w: Mapping[str, str]) -> list[str]:
    exp = plan.experiments[w["experiment"]]
    return [
        plan.layout.palette(exp.name, exp.palette_seed(v.seeds[0])) for v in exp.variants.values()
    ]


def _first_masks(plan: Plan, w: Mapping[str, str]) -> list[str]:
    variants = plan.experiments[w["experiment"]].variants
    return [_first_seed_file(plan, w["experiment"], v, "predicted_masks.npz") for v in variants]


_INPUTS = {
    "metrics": _runs_files("metrics.json"),
    "histories": _runs_files("train.json"),
    "eval_pack": _eval_pack,
    "palettes": _palettes,
    "first_masks": _first_masks,
    "first_predictions": lambda plan, w: _first_seed_file(
        plan, w["experiment"], w["variant"], "predictions.csv"
    ),
    "dataset_predictions": lambda plan, w: [
        _first_seed_file(plan, e, v, "predicted_masks.npz")
        for e, v in segmentation_runs(plan, w["dataset"])
    ],
    "val_pack": lambda plan, w: plan.layout.packed(w["dataset"], "val"),
    "val_masks": lambda plan, w: plan.layout.packed_masks(w["dataset"], "val"),
    "train_pack": lambda plan, w: plan.layout.packed(w["dataset"], "train"),
    "train_masks": lambda plan, w: plan.layout.packed_masks(w["dataset"], "train"),
}

_SETTINGS = {
    "spec": lambda plan, w: plan.experiments[w["experiment"]].spec(),
    "split": lambda plan, w: plan.experiments[w["experiment"]].eval_split,
    "classes": lambda plan, w: plan.experiments[w["experiment"]].config.get("classes"),
    "variants": lambda plan, w: list(plan.experiments[w["experiment"]].variants),
    "runs": lambda plan, w: [list(run) for run in segmentation_runs(plan, w["dataset"])],
}
