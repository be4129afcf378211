"""Write-ups: one file each (writeups/<name>.yaml), holding its experiments with their
reference numbers, the notes on how the pipeline differs from it that the report shows, and
its demo scale-down. The config names which write-ups run (`writeups`, in the report's order);
their experiments become the config's, under whatever `experiments` the config files set
(an overlay changes or disables a write-up's experiment by its name).
"""

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match


@dataclass(frozen=True)
class Writeup:
    """One write-up file: its title, differences (reStructuredText items), experiments and the
    demo's overrides of them (by experiment name, merged over them when the demo runs)."""

    name: str
    path: str
    title: str
    differences: tuple[str, ...]
    experiments: Mapping[str, Any]
    demo: Mapping[str, Any]


def writeup_path(entry: str, folder: Path) -> Path:
    """The file of a `writeups` entry: a name under `folder`, or a path to a YAML file."""
    return Path(entry) if entry.endswith((".yaml", ".yml")) else folder / f"{entry}.yaml"


def load_writeup(entry: str, folder: Path, schema: Mapping[str, Any]) -> Writeup:
    """One write-up file, checked against `schema` (errors name the file and the key)."""
    path = writeup_path(entry, folder)
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        raise ValueError(
            f"writeups: {entry!r} names no file ({path}); write-ups: {known}, or a path to "
            "a .yaml file"
        )
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from None
    error = best_match(Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        key = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in error.absolute_path)
        raise ValueError(f"{path}{key or ''}: {error.message} (schemas/writeup.schema.yaml)")
    return Writeup(
        name=path.stem,
        path=str(path),
        title=data["title"],
        differences=tuple(data.get("differences", [])),
        experiments=data.get("experiments", {}),
        demo=(data.get("demo") or {}),
    )


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated by `over` key by key, mappings recursively, anything else replaced (how
    Snakemake merges config files)."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def experiments(
    writeups: Sequence[Writeup], configured: Mapping[str, Any], demo: bool
) -> dict[str, Any]:
    """The experiments of a run: each write-up's (with its demo overrides when the demo runs),
    in the order of `writeups`, under the config files' `configured` experiments."""
    names = [name for w in writeups for name in w.experiments]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        owners = [w.path for w in writeups if set(w.experiments) & set(twice)]
        raise ValueError(f"writeups: the experiments {twice} are defined by {owners}; rename one")
    base: dict[str, Any] = {}
    for w in writeups:
        base |= merged(w.experiments, w.demo if demo else {})
    return merged(base, configured)


def differences(
    writeups: Sequence[Writeup], enabled: Sequence[str], escape: Callable[[str], str]
) -> list[dict[str, Any]]:
    """The differences of each write-up with an enabled experiment, for the report: the title
    through `escape` (shown as written), the items as they are (reStructuredText by design)."""
    return [
        {"title": escape(w.title), "items": list(w.differences)}
        for w in writeups
        if w.differences and set(w.experiments) & set(enabled)
    ]
