"""An experiment's grid of runs: variants (network + settings) times seeds.

Each network is one variant named like it (a network from a file is named by its class:
`nets/tiny.py:TinyNet` gives `TinyNet`). `sweep` maps train keys to lists of values and makes one
variant per network and combination instead (`FashionMLP_lr0.1`, `TinyNet_lr0.1`). `variants`
lists named variants (`{name, network, train, network_options, seeds}`) added to those. With
`cumulative: true` (an improvement ladder) each variant adds to the previous one and the variants
are the experiment's only runs: the first starts from the first network.
"""

import itertools
from collections import Counter
from collections.abc import Mapping
from typing import Any

from visionrepro.networks import parse_network

Variant = dict[str, Any]


def _value_name(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def sweep_variants(exp: Mapping[str, Any]) -> dict[str, Variant]:
    """One variant per network and combination of the `sweep` values (in the given order); each
    network alone without a sweep. Labels name the values, and the network too when there are
    several (`HW4Net1 lr=0.001`)."""
    sweep = exp.get("sweep", {})
    keys = list(sweep)
    several = len(exp["networks"]) > 1
    variants = {}
    for network in exp["networks"]:
        base = parse_network(network).name
        for values in itertools.product(*(sweep[k] for k in keys)):
            pairs = list(zip(keys, values, strict=True))
            suffix = "_".join(f"{k}{_value_name(v)}" for k, v in pairs)
            name = f"{base}_{suffix}" if suffix else base
            variants[name] = _variant(exp, network, dict(pairs), {})
            setting = ", ".join(f"{k}={_value_name(v)}" for k, v in pairs)
            variants[name]["label"] = (
                f"{base} {setting}" if several and setting else setting or base
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
    explicit ones; a cumulative ladder's explicit ones alone. A name or a label made twice is
    an error."""
    explicit = explicit_variants(exp)
    ladder = bool(exp.get("cumulative", False) and explicit)
    swept = {} if ladder else sweep_variants(exp)
    clash = sorted(set(swept) & set(explicit))
    if clash:
        raise ValueError(
            f"variant names {clash} are made twice (by the networks or sweep and by variants); "
            "rename the variants"
        )
    variants = {**swept, **explicit}
    labels = Counter(var["label"] for var in variants.values())
    twice = sorted(label for label, n in labels.items() if n > 1)
    if twice:
        raise ValueError(
            f"variant labels {twice} are given to several runs; give the variants a `label` "
            "of their own"
        )
    return variants
