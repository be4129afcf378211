"""What a workflow run makes: each experiment's packs, runs' outputs and figures, and the
tables and report of the default target. All are targets, so that a deleted or failed file is
made again (Snakemake does not remake a missing file whose consumers are up to date)."""

from visionrepro.plan.figures import all_figures, experiment_figures
from visionrepro.plan.model import Plan

RUN_FILES = ("model.pt", "train.json", "metrics.json", "predictions.csv")
TABLES = ("summary", "runs", "per_class", "convergence")
REPORTS = ("index.html", "RESULTS.md", "headline.txt")


def run_outputs(plan: Plan, experiment: str) -> list[str]:
    """Every file the runs of an experiment make: training's and evaluation's outputs."""
    names = [
        *RUN_FILES,
        *(["predicted_masks.npz"] if plan.experiments[experiment].task.dense else []),
    ]
    runs = plan.runs(experiment)
    return [
        f"{plan.layout.run_dir(r.experiment, r.variant, r.seed)}/{n}" for n in names for r in runs
    ]


def experiment_packs(plan: Plan, experiment: str) -> list[str]:
    """The packed data an experiment trains and is evaluated on (and its palettes)."""
    exp, layout = plan.experiments[experiment], plan.layout
    splits = sorted({"train", exp.eval_split})
    packs = [layout.packed(exp.key, split) for split in splits]
    if exp.task.masks:
        packs += [layout.packed_masks(exp.key, split) for split in splits]
    if exp.task.palette:
        packs += sorted({layout.palette(experiment, exp.palette_seed(s)) for s in exp.seeds()})
    return packs


def experiment_outputs(plan: Plan, experiment: str) -> list[str]:
    """What running one experiment alone makes: its packs, its runs' outputs, its figures."""
    figures = [f.path for f in experiment_figures(plan, experiment)]
    return experiment_packs(plan, experiment) + run_outputs(plan, experiment) + figures


def final_outputs(plan: Plan) -> list[str]:
    """What the default target makes: every experiment's outputs, the tables and the report."""
    outputs = [path for name in plan.experiments for path in experiment_outputs(plan, name)]
    outputs += [plan.layout.table(t) for t in TABLES]
    outputs += [f.path for f in all_figures(plan)]
    outputs += [plan.layout.report(name) for name in REPORTS]
    return list(dict.fromkeys(outputs))
