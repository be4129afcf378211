"""The plan of a workflow run, from its config: every check the schema cannot express (each
error names the config key to fix), then the resolved experiments.

Runs while Snakemake parses the workflow, so it imports no torch, pandas or scipy (a cluster job
parses the workflow again); a network is dry-run (which needs torch) only when an enabled
experiment has one from a file, or a built-in one sized for other inputs than the experiment's.
"""

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from visionrepro import config_checks, grid
from visionrepro.data.sources import DataSource, ImageFolder, data_sources
from visionrepro.data.torchvision_config import DATASETS, check_local_dirs
from visionrepro.networks import NetworkRef, parse_network
from visionrepro.plan.figures import EXTRA
from visionrepro.plan.layout import Layout
from visionrepro.plan.model import Experiment, Plan, Variant
from visionrepro.registry import NETWORKS
from visionrepro.tasks import task


def load_plan(
    config: Mapping[str, Any], schema: Mapping[str, Any], versions: Iterable[Mapping[str, Any]]
) -> Plan:
    """The checked plan of `config` (merged, validated by `schema`); `versions` are the config
    files as written, whose experiments a reference may name though this run leaves them out."""
    versions = list(versions)
    config_checks.check_at_the_door(config, schema)
    config_checks.check_compare_with(config)
    enabled = {
        name: {**exp, "train": {**config["train_defaults"], **exp["train"]}}
        for name, exp in config["experiments"].items()
        if exp.get("enabled", True)
    }
    sources = data_sources(config, {exp["dataset"] for exp in enabled.values()})
    for name, exp in config["experiments"].items():
        check_experiment(name, exp, sources, schema, versions)
    experiments = {
        name: resolve(name, exp, sources[exp["dataset"]]) for name, exp in enabled.items()
    }
    for experiment in experiments.values():
        check_file_networks(experiment)
        check_builtin_networks(experiment)
    check_local_copies(config, {exp.source.name for exp in experiments.values()})
    return Plan(experiments, Layout(config["results_dir"], config["data_dir"]))


def resolve(name: str, exp: Mapping[str, Any], source: DataSource) -> Experiment:
    """An experiment with its variants resolved and its comparison groups."""
    variants = resolved_variants(exp)
    return Experiment(
        name, exp, task(exp["task"]), source, variants, comparison_groups(exp, variants)
    )


def resolved_variants(exp: Mapping[str, Any]) -> dict[str, Variant]:
    """The experiment's variants (grid.py), each network parsed once and its origin known."""
    explicit = set(grid.explicit_variants(exp))
    swept = "sweep" if exp.get("sweep") else "network"
    return {
        name: Variant(
            name=name,
            label=var["label"],
            network=parse_network(var["network"]),
            train=var["train"],
            network_options=var["network_options"],
            seeds=tuple(var["seeds"]),
            origin="variant" if name in explicit else swept,
        )
        for name, var in grid.expand(exp).items()
    }


def comparison_groups(
    exp: Mapping[str, Any], variants: Mapping[str, Variant]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The groups of variants compared, each against a declared baseline: the plain networks
    ("networks": the first listed), each network's sweep ("sweep": its first value), and the
    explicit variants ("ladder" when cumulative: each rung against the previous; else
    "variants": the first)."""

    def names(origin: str, spec: str | None = None) -> tuple[str, ...]:
        return tuple(
            v.name
            for v in variants.values()
            if v.origin == origin and spec in (None, v.network.spec)
        )

    groups = [("networks", names("network"))]
    groups += [("sweep", names("sweep", spec)) for spec in exp["networks"]]
    groups.append(("ladder" if exp.get("cumulative") else "variants", names("variant")))
    return tuple((kind, group) for kind, group in groups if len(group) > 1)


def check_experiment(
    name: str,
    exp: Mapping[str, Any],
    sources: Mapping[str, DataSource],
    schema: Mapping[str, Any],
    versions: list[Mapping[str, Any]],
) -> None:
    """The checks of one experiment (enabled or not), in the order a user meets them."""
    config_checks.check_sweep(name, exp, schema)
    try:
        variants = grid.expand(exp)
    except ValueError as err:
        raise ValueError(f"experiments.{name}: {err}") from None
    networks = list(exp["networks"]) + [
        v["network"] for v in exp.get("variants", []) if "network" in v
    ]
    refs = [_parsed(name, spec) for spec in networks]
    check_network_names(name, exp, refs)
    check_networks(name, exp, refs)
    defined = config_checks.defined_runs(
        [exp, *(v.get("experiments", {}).get(name) or {} for v in versions)]
    )
    config_checks.check_references(name, exp.get("reference", {}), variants, defined)
    config_checks.check_network_options(name, exp, variants)
    source = check_dataset(name, exp, sources)
    if not isinstance(source, ImageFolder) or source.layout is not None:
        _check_classes(name, exp, source)
    check_figures(name, exp)
    config_checks.check_normalization(name, exp)
    config_checks.check_run_names(name, variants, schema)
    if task(exp["task"]).palette and "palette" not in exp:
        raise ValueError(
            f"experiments.{name}.palette: a colorization experiment needs its palette, "
            "e.g. palette: {colours: 24, seed: run}"
        )


# Figure kinds under their old names (one spelling of color in code names).
RENAMED_FIGURES = {"colour_examples": "color_examples"}


def check_figures(name: str, exp: Mapping[str, Any]) -> None:
    """Each extra figure is a kind an experiment may add (plan/figures.py)."""
    renamed = [k for k in exp.get("figures", []) if k in RENAMED_FIGURES]
    if renamed:
        new = [RENAMED_FIGURES[k] for k in renamed]
        raise ValueError(f"experiments.{name}.figures: {renamed} are now called {new}")
    unknown = [kind for kind in exp.get("figures", []) if kind not in EXTRA]
    if unknown:
        raise ValueError(f"experiments.{name}.figures: unknown {unknown}; figures: {EXTRA}")


def _parsed(name: str, spec: str) -> NetworkRef:
    try:
        return parse_network(spec)
    except ValueError as err:
        raise ValueError(f"experiments.{name}.networks (or variants): {err}") from None


def check_network_names(name: str, exp: Mapping[str, Any], refs: list[NetworkRef]) -> None:
    """Each network of an experiment has a name of its own (a file's network is named by its
    class), and a file's class is not named like a built-in network."""
    names = [parse_network(n).name for n in exp["networks"]]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(
            f"experiments.{name}.networks: {twice} name more than one network (a network "
            "from a file is named by its class); rename a class"
        )
    shadowing = sorted(ref.spec for ref in refs if not ref.builtin and ref.name in NETWORKS)
    if shadowing:
        raise ValueError(
            f"experiments.{name}.networks (or variants): {shadowing} are named like "
            "built-in networks in the tables; rename the class"
        )


def check_networks(name: str, exp: Mapping[str, Any], refs: list[NetworkRef]) -> None:
    """Every built-in network is known and made for the experiment's task."""
    unknown = [ref.spec for ref in refs if ref.builtin and ref.entry is None]
    if unknown:
        raise ValueError(
            f"experiments.{name}.networks (or variants): unknown {unknown}; "
            f"known networks: {sorted(NETWORKS)}, or <file>.py:<Class> for a network "
            "of your own (docs/extending.md)"
        )
    kind = task(exp["task"]).networks
    wrong = [ref.spec for ref in refs if ref.entry is not None and ref.entry.task != kind]
    if wrong:
        fitting = sorted(n for n, e in NETWORKS.items() if e.task == kind)
        raise ValueError(
            f"experiments.{name}.networks: {wrong} are not {kind} networks "
            f"(experiments.{name}.task); {exp['task']} networks: {fitting}"
        )


def check_dataset(
    name: str, exp: Mapping[str, Any], sources: Mapping[str, DataSource]
) -> DataSource:
    """The dataset is a built-in one or an image folder, and fits the experiment."""
    dataset = exp["dataset"]
    if dataset not in sources:
        raise ValueError(
            f"experiments.{name}.dataset: unknown {dataset!r}; datasets: {list(sources)} "
            "(a folder of your own images is named under image_folders)"
        )
    source = sources[dataset]
    source.check(name, exp)
    if task(exp["task"]).masks and not source.masks:
        raise ValueError(
            f"experiments.{name}.task: segmentation needs per-pixel masks, which {dataset} "
            "does not have; use dataset: coco"
        )
    return source


def _check_classes(name: str, exp: Mapping[str, Any], source: DataSource) -> None:
    """Every name in experiments.<name>.classes is a class of the experiment's dataset."""
    known = list(source.classes())
    unknown = [c for c in exp.get("classes", []) if c not in known]
    if unknown:
        where = {"coco": " (coco.categories)"}.get(source.name, "")
        if isinstance(source, ImageFolder):
            where = " (its class folders)"
        raise ValueError(
            f"experiments.{name}.classes: {unknown} are not classes of {exp['dataset']}; "
            f"its classes{where}: {known}"
        )


def variant_key(experiment: Experiment, variant: str) -> str:
    """The config key of a variant: its entry in the experiment's variants, or (a network of
    the experiment, or of its sweep) the experiment's networks."""
    names = [spec["name"] for spec in experiment.config.get("variants", [])]
    if variant in names:
        return f"experiments.{experiment.name}.variants[{names.index(variant)}] ({variant})"
    return f"experiments.{experiment.name}.networks"


def check_file_networks(experiment: Experiment) -> None:
    """Each network from a file loads, takes num_classes and its variant's options, and gives
    an output that fits the task for one input of the experiment's shape (a dry forward pass,
    before any job runs)."""
    checked = set()
    for variant in experiment.variants.values():
        ref, options = variant.network, variant.network_options
        if ref.builtin or (ref.spec, repr(options)) in checked:
            continue
        checked.add((ref.spec, repr(options)))
        # Imports torch: only for experiments with a network from a file.
        from visionrepro.models.user import check_file_network

        size = experiment.image_size
        try:
            check_file_network(
                ref.spec,
                num_classes=experiment.outputs,
                options=options,
                input_shape=(experiment.input_channels, size, size),
                task=experiment.task.name,
            )
        except ValueError as err:
            raise ValueError(f"{variant_key(experiment, variant.name)}: {err}") from None


def check_builtin_networks(experiment: Experiment) -> None:
    """Each built-in network fits the experiment's inputs: one sized for another input shape
    (HW4Net1: 3x64x64) is dry-run on the experiment's, and a failure says which shape it needs;
    one that takes any size gets the channels its `in_channels` says (no torch needed)."""
    size, channels = experiment.image_size, experiment.input_channels
    shape = (channels, size, size)
    for variant in experiment.variants.values():
        entry, options = variant.network.entry, variant.network_options
        if entry is None:
            continue
        where = variant_key(experiment, variant.name)
        if entry.input_shape is None:
            given = options.get("in_channels", 3)
            if "in_channels" in entry.options and given != channels:
                raise ValueError(
                    f"{where}: {variant.network.name} takes {given} input channels "
                    f"(in_channels) and the experiment's inputs have {channels}: set "
                    f"network_options: {{in_channels: {channels}}}"
                )
        elif entry.input_shape != shape:
            _dry_run_builtin(experiment, variant, where, entry.input_shape)


def _dry_run_builtin(
    experiment: Experiment, variant: Variant, where: str, needs: tuple[int, int, int]
) -> None:
    """Run a built-in network once on the experiment's input shape; a failure names the shape
    the network needs and the setting that gives it."""
    # Imports torch: only for a built-in network on inputs it was not sized for.
    from visionrepro.models import build_network
    from visionrepro.models.user import dry_run

    size, channels = experiment.image_size, experiment.input_channels
    name = variant.network.name
    fix = f"{name} needs inputs of {'x'.join(map(str, needs))}"
    if needs[1] != size and isinstance(experiment.source, ImageFolder):
        fix += f": set experiments.{experiment.name}.image_size: {needs[1]}"
    elif needs[1] != size:
        fix += (
            f" and {experiment.config['dataset']}'s images are {size}x{size}: use another network"
        )
    if needs[0] != channels:
        fix += f" ({needs[0]} channel{'s' if needs[0] > 1 else ''}; this experiment's color gives "
        fix += f"{channels})"
    try:
        dry_run(
            name,
            lambda: build_network(
                variant.network.spec, experiment.outputs, **variant.network_options
            ),
            (channels, size, size),
            experiment.task.name,
            experiment.outputs,
            hint=f"; {fix}",
        )
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


def check_local_copies(config: Mapping[str, Any], used: set[str]) -> None:
    """The local copies the enabled experiments read exist (each error names the key)."""
    check_local_dirs({name: config[name] for name in DATASETS if name in used}, config.get("demo"))
    local = config["coco"]["local_dir"]
    if local and not Path(local).is_dir():
        raise ValueError(
            f"coco.local_dir: {local!r} is not a folder; set it to a COCO 2017 copy with "
            "annotations/ and train2017/, val2017/, or to '' to download"
        )
