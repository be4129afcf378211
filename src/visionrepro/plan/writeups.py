"""Write-ups: one file each (writeups/<name>.yaml), holding its experiments with their
reference numbers, the notes on how the pipeline differs from it that the report shows, and
its demo scale-down. The config names which write-ups run (`writeups`, in the report's order);
their experiments become the config's, under whatever `experiments` the config files set
(an overlay changes or disables a write-up's experiment by its name).
"""

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from visionrepro.plan.model import REFERENCE_KEYS

# Why a write-up's number is not judged (`not_judged: [{id, value, reason, note}]`): the
# fixed list, the reason's key in the file, its words in the report (plural, after a count).
NOT_JUDGED = {
    "structural": "structural arithmetic",
    "timing": "hardware timing",
    "full_coco": "need the full COCO download",
    "pretrained": "need pretrained weights",
    "contradiction": "where the write-up contradicts itself (the other value is judged)",
    "single_batch": "not seeded, single-batch noise",
    "rng_stream": "from the write-up's own random stream",
    "qualitative": "qualitative (no number printed)",
    "other_quantity": "of a quantity the pipeline does not compute",
}
ID = re.compile(r"^[A-Z]\d+$")  # a number's id in the write-ups' inventory (H8, F29, ...)


@dataclass(frozen=True)
class Writeup:
    """One write-up file: its title, differences (reStructuredText items), experiments, the
    demo's overrides of them (by experiment name, merged over them when the demo runs) and the
    numbers it reports that no reference judges, with why (`not_judged`)."""

    name: str
    path: str
    title: str
    differences: tuple[str, ...]
    experiments: Mapping[str, Any]
    demo: Mapping[str, Any]
    not_judged: tuple[Mapping[str, Any], ...] = ()

    def numbers(self) -> list[dict[str, Any]]:
        """Every number its references give with a write-up id as source (per experiment,
        variant and metric; `params` included)."""
        found = []
        for experiment, exp in self.experiments.items():
            for variant, ref in (exp.get("reference") or {}).items():
                for metric, value in ref.items():
                    source = ref.get("source", "")
                    sid = source.get(metric, "") if isinstance(source, Mapping) else source
                    descriptive = metric in REFERENCE_KEYS and metric != "params"
                    if descriptive or not ID.match(str(sid)):
                        continue
                    row = {"id": sid, "experiment": experiment, "variant": variant}
                    found.append({**row, "metric": metric, "value": value})
        return found

    def coverage_record(self) -> dict[str, Any]:
        """What the report's coverage lines read of it (each experiment's spec keeps it)."""
        return {
            "name": self.name,
            "title": self.title,
            "numbers": self.numbers(),
            "not_judged": [
                {**dict(item), "reason_words": NOT_JUDGED[item["reason"]]}
                for item in self.not_judged
            ],
        }


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
    check_not_judged(path, data.get("not_judged") or [])
    return Writeup(
        name=path.stem,
        path=str(path),
        title=data["title"],
        differences=tuple(data.get("differences", [])),
        experiments=data.get("experiments", {}),
        demo=(data.get("demo") or {}),
        not_judged=tuple(data.get("not_judged") or []),
    )


def check_not_judged(path: Path, items: Sequence[Mapping[str, Any]]) -> None:
    """Each `not_judged` entry's reason is one of NOT_JUDGED's, and its id is an id."""
    for i, item in enumerate(items):
        if item["reason"] not in NOT_JUDGED:
            raise ValueError(
                f"{path}.not_judged[{i}].reason: {item['reason']!r} is not one of "
                f"{sorted(NOT_JUDGED)} (plan/writeups.py NOT_JUDGED)"
            )
        if not ID.match(str(item["id"])):
            raise ValueError(f"{path}.not_judged[{i}].id: {item['id']!r} is not an id like H8")


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
        record = w.coverage_record()
        for name, exp in merged(w.experiments, w.demo if demo else {}).items():
            base[name] = {**exp, "writeup": record}
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
