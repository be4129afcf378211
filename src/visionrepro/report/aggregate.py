"""Every table of a run from its runs' metrics and histories, and each experiment's spec
(plan.Experiment.spec: headline metric, tolerance, references, labels, comparison groups,
seed draws, convergence setting)."""

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from visionrepro.plan.model import REFERENCE_KEYS
from visionrepro.report.tables import (
    convergence_table,
    headline_values,
    per_class_table,
    run_table,
    summary_table,
)
from visionrepro.report.verdicts import comparison_table, glance_table

Spec = Mapping[str, Any]


def tables(
    runs: Sequence[Mapping[str, Any]],
    histories: Sequence[Mapping[str, Any]],
    specs: Mapping[str, Spec],
) -> dict[str, pd.DataFrame]:
    """The at-a-glance (verdicts), comparisons, summary, per-run, per-class and convergence
    tables, by name."""
    named = (m for spec in specs.values() for ref in spec["reference"].values() for m in ref)
    wanted = [m for m in dict.fromkeys(named) if m not in REFERENCE_KEYS]
    table = run_table(runs, histories, wanted)
    values = headline_values(table, {name: spec["metric"] for name, spec in specs.items()})
    comparisons = comparison_table(
        values,
        {name: spec["groups"] for name, spec in specs.items()},
        {name: spec["paired"] for name, spec in specs.items()},
        {name: spec["headline_references"] for name, spec in specs.items()},
    )
    convergence = {name: s["convergence"] for name, s in specs.items() if s.get("convergence")}
    return {
        "glance": glance_table(table, specs),
        "comparisons": comparisons,
        "summary": summary_table(runs, {name: spec["reference"] for name, spec in specs.items()}),
        "runs": table,
        "per_class": per_class_table(runs),
        "convergence": convergence_table(histories, convergence),
    }
