"""The numbers a reference can judge: any metric a run's metrics.json records (`test_loss`,
`val_accuracy`, ...), and derived ones named in one small language, resolved from each run's
metrics.json and train.json (its per-epoch history):

- `recall[dog]`, `precision[dog]`, `f1[dog]`: a class's score in percent (metrics.json's
  per_class); `correct[dog]`, `support[dog]`: its images predicted right and its images (counts,
  from the confusion matrix);
- `history.test_accuracy[1]`: a per-epoch score after epoch 1 (1-based; `[-1]` the last epoch);
- `epoch_reaching.test_accuracy>=85` (or `<=`): the first epoch whose score meets the condition;
- `epoch_settled.test_accuracy<0.1`: the first epoch from which every later epoch changes the
  score by less than 0.1 (the epoch after its last change of 0.1 or more; 1 if it never has);
- `epoch_min.test_loss`: the epoch of a score's minimum.

Each has a unit (`unit`): points (percentages), loss, epochs or count; only points have a
default tolerance (the experiment's `tolerance`); the others must state theirs (`tolerances`).
"""

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

PER_CLASS = re.compile(r"^(recall|precision|f1|correct|support)\[(.+)\]$")
HISTORY = re.compile(r"^history\.(\w+)\[(-?\d+)\]$")
REACHING = re.compile(r"^epoch_reaching\.(\w+)(>=|<=)(-?\d+(?:\.\d+)?)$")
SETTLED = re.compile(r"^epoch_settled\.(\w+)<(\d+(?:\.\d+)?)$")
MINIMUM = re.compile(r"^epoch_min\.(\w+)$")
DERIVED = (PER_CLASS, HISTORY, REACHING, SETTLED, MINIMUM)
UNITS = ("points", "loss", "epochs", "count", "value")


class MeasureError(ValueError):
    """A measure a run cannot give; the message names the measure and the run."""


def is_derived(name: str) -> bool:
    """Whether `name` is a derived measure (not a key of metrics.json)."""
    return any(pattern.match(name) for pattern in DERIVED)


def needs_history(name: str) -> bool:
    """Whether `name` is read from a run's per-epoch history (train.json)."""
    return name.startswith(("history.", "epoch_"))


def base_metric(name: str) -> str:
    """The recorded metric a measure is made of ("history.test_loss[1]" -> "test_loss")."""
    for pattern in (HISTORY, REACHING, SETTLED, MINIMUM):
        found = pattern.match(name)
        if found:
            return found.group(1)
    return name


def unit(name: str) -> str:
    """A measure's unit: "points" (a percentage), "loss", "epochs", "count" or "value"."""
    if name.startswith("epoch_"):
        return "epochs"
    per_class = PER_CLASS.match(name)
    if per_class:
        return "count" if per_class.group(1) in ("correct", "support") else "points"
    base = base_metric(name)
    if base.endswith("loss"):
        return "loss"
    if base.endswith(("accuracy", "iou")):
        return "points"
    return "value"


def describe(name: str) -> str:
    """A derived measure in words for a table; "" for a plain metric."""
    found = REACHING.match(name)
    if found:
        return f"first epoch {found.group(1)} {found.group(2)} {found.group(3)}"
    found = SETTLED.match(name)
    if found:
        return f"epoch {found.group(1)} settles (changes < {found.group(2)} after it)"
    found = MINIMUM.match(name)
    if found:
        return f"epoch of minimum {found.group(1)}"
    found = HISTORY.match(name)
    if found:
        epoch = "last epoch" if found.group(2) == "-1" else f"epoch {found.group(2)}"
        return f"{found.group(1)} after {epoch}"
    return ""


def tolerance_of(
    name: str, reference: Mapping[str, Any], setting: Mapping[str, Any], default: float
) -> float | None:
    """The tolerance of measure `name`: the reference entry's `tolerances`, the experiment's,
    else `setting["tolerance"]` (or `default`) for points; None where a loss, epoch or count
    states none (a loss is not judged with ± a point)."""
    for owner in (reference, setting):
        stated = (owner.get("tolerances") or {}).get(name)
        if stated is not None:
            return float(stated)
    if unit(name) == "points":
        return float(setting.get("tolerance", default))
    return None


def _class_score(name: str, run: Mapping[str, Any]) -> float:
    """A class's recall/precision/F1 (percent) or its correct/support count."""
    score, cls = PER_CLASS.match(name).groups()
    classes = list(run.get("classes", []))
    if cls not in classes:
        raise MeasureError(f"{name}: {cls!r} is not a class of the run (classes: {classes})")
    if score in ("correct", "support"):
        matrix = np.asarray(run["confusion_matrix"])
        i = classes.index(cls)
        return float(matrix[i, i] if score == "correct" else matrix[i].sum())
    row = next((c for c in run.get("per_class", []) if c.get("class") == cls), None)
    if row is None or score not in row:
        raise MeasureError(f"{name}: the run records no per-class {score} (metrics.json)")
    return 100.0 * float(row[score])


def _settled(values: np.ndarray, change: float) -> int:
    """The first epoch from which every later change is below `change`."""
    big = np.flatnonzero(np.abs(np.diff(values)) >= change)
    return int(big[-1]) + 2 if len(big) else 1


def _from_history(name: str, history: Mapping[str, Sequence[float]]) -> float:
    """A measure of the per-epoch history."""
    base = base_metric(name)
    if base not in history:
        raise MeasureError(f"{name}: the history records no {base!r} (has {sorted(history)})")
    values = np.asarray(history[base], dtype=float)
    found = HISTORY.match(name)
    if found:
        epoch = int(found.group(2))
        if epoch == 0 or abs(epoch) > len(values):
            raise MeasureError(f"{name}: the run has {len(values)} epochs")
        return float(values[epoch - 1 if epoch > 0 else epoch])
    found = REACHING.match(name)
    if found:
        threshold = float(found.group(3))
        met = values >= threshold if found.group(2) == ">=" else values <= threshold
        hits = np.flatnonzero(met)
        return float(hits[0] + 1) if len(hits) else math.nan
    found = SETTLED.match(name)
    if found:
        return float(_settled(values, float(found.group(2))))
    return float(np.nanargmin(values) + 1)


def value(
    name: str, run: Mapping[str, Any], history: Mapping[str, Sequence[float]] | None
) -> float:
    """Measure `name` of one run (its metrics.json `run`, its train.json `history`)."""
    if PER_CLASS.match(name):
        return _class_score(name, run)
    if needs_history(name) and is_derived(name):
        if history is None:
            raise MeasureError(f"{name}: needs the run's train.json history, not given")
        return _from_history(name, history)
    if name not in run or not isinstance(run[name], int | float):
        raise MeasureError(f"{name!r}: not a metric its metrics.json records")
    return float(run[name])


def measure_columns(
    run: Mapping[str, Any],
    history: Mapping[str, Sequence[float]] | None,
    names: Sequence[str],
) -> dict[str, float]:
    """The measures `names` of one run that it can give (the others are left out: a reference
    naming one its runs lack is an error of the verdicts table, naming the experiment)."""
    out = {}
    for name in names:
        try:
            out[name] = value(name, run, history)
        except MeasureError:
            continue
    return out
