"""An experiment's grid of runs: variants (network + settings) times seeds.

Without `sweep` or `variants`, each network is one variant named like it. `sweep` maps train keys
to lists of values and makes one variant per network and combination (`FashionMLP_lr0.1`; a
network from a file is named by its class: `nets/tiny.py:TinyNet` gives `TinyNet_lr0.1`);
`variants` lists named variants (`{name, network, train, network_options, seeds}`), each added to
the previous one when the experiment says `cumulative: true` (an improvement ladder).
"""

import itertools
from collections.abc import Mapping
from typing import Any

from visionrepro.registry import network_name

Variant = dict[str, Any]


def _value_name(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def sweep_variants(exp: Mapping[str, Any]) -> dict[str, Variant]:
    """One variant per network and combination of the `sweep` values (in the given order)."""
    sweep = exp.get("sweep", {})
    keys = list(sweep)
    variants = {}
    for network in exp["networks"]:
        base = network_name(network)
        for values in itertools.product(*(sweep[k] for k in keys)):
            suffix = "_".join(f"{k}{_value_name(v)}" for k, v in zip(keys, values, strict=True))
            name = f"{base}_{suffix}" if suffix else base
            variants[name] = _variant(exp, network, dict(zip(keys, values, strict=True)), {})
            variants[name]["label"] = (
                ", ".join(f"{k}={_value_name(v)}" for k, v in zip(keys, values, strict=True))
                or base
            )
    return variants


def explicit_variants(exp: Mapping[str, Any]) -> dict[str, Variant]:
    """The experiment's `variants`, each on top of the previous one if `cumulative`."""
    variants = {}
    train: dict[str, Any] = {}
    options: dict[str, Any] = {}
    network = exp["networks"][0]
    for spec in exp.get("variants", []):
        if not exp.get("cumulative", False):
            train, options, network = {}, {}, exp["networks"][0]
        train = {**train, **spec.get("train", {})}
        options = {**options, **spec.get("network_options", {})}
        network = spec.get("network", network)
        variants[spec["name"]] = _variant(exp, network, train, options, spec.get("seeds"))
        variants[spec["name"]]["label"] = spec.get("label", spec["name"])
    return variants


def _variant(
    exp: Mapping[str, Any],
    network: str,
    train: Mapping[str, Any],
    options: Mapping[str, Any],
    seeds: list[int] | None = None,
) -> Variant:
    return {
        "network": network,
        "train": {**exp["train"], **train},
        "network_options": {**exp.get("network_options", {}), **options},
        "seeds": list(seeds if seeds is not None else exp["seeds"]),
    }


def expand(exp: Mapping[str, Any]) -> dict[str, Variant]:
    """All variants of an experiment by name: the sweep's (or the plain networks), then the
    explicit ones. Duplicate names are an error."""
    explicit = explicit_variants(exp)
    swept = sweep_variants(exp) if exp.get("sweep") or not explicit else {}
    clash = sorted(set(swept) & set(explicit))
    if clash:
        raise ValueError(f"variant names {clash} are made twice (by the sweep and by variants)")
    return {**swept, **explicit}
