"""The plan of a workflow run: what runs (experiments resolved into variants and runs, the data
each reads, one path layout) and what the report judges (headline metrics, references, seed
draws, comparison groups), built once from the config while Snakemake parses the workflow.

The rules (rules/common.smk's input functions), `compare` and the report read it; nothing
re-derives it from the raw config. Importable without torch, pandas or scipy.
"""

from visionrepro.plan.layout import Layout, run_path
from visionrepro.plan.load import load_plan
from visionrepro.plan.model import Experiment, Plan, Run, Variant
from visionrepro.plan.networks import NetworkRef, parse_network
from visionrepro.plan.tasks import TASKS, Task

__all__ = [
    "TASKS",
    "Experiment",
    "Layout",
    "NetworkRef",
    "Plan",
    "Run",
    "Task",
    "Variant",
    "load_plan",
    "parse_network",
    "run_path",
]
