"""The rules' params functions answer a job's wildcards from the plan."""

from types import SimpleNamespace

from visionrepro.data.sources import Torchvision
from visionrepro.plan.job_params import JobParams
from visionrepro.plan.layout import Layout
from visionrepro.plan.load import comparison_groups, resolved_variants
from visionrepro.plan.model import Experiment, Plan
from visionrepro.tasks import task

CONFIG = {
    "networks": ["MLP"],
    "seeds": [0],
    "color": "gray",
    "train": {"epochs": 1},
    "variants": [
        {"name": "base"},
        {"name": "deeper", "network": "MLPDeeper", "train": {"lr": 0.5}},
    ],
    "palette": {"colors": 8},
}


def job_params() -> JobParams:
    variants = resolved_variants(CONFIG)
    groups = comparison_groups(CONFIG, variants)
    exp = Experiment(
        "e", CONFIG, task("classification"), Torchvision("mnist", {}), variants, groups
    )
    return JobParams(Plan({"e": exp}, Layout("results", "data")))


def test_each_param_is_the_variants_or_the_experiments() -> None:
    params = job_params()
    deeper = SimpleNamespace(experiment="e", variant="deeper", seed="0")
    assert params.network(deeper) == "MLPDeeper"
    assert params.train(deeper)["lr"] == 0.5 and params.train(deeper)["epochs"] == 1
    assert (params.color(deeper), params.task(deeper)) == ("gray", "classification")
    assert params.classes(deeper) == []  # none configured
    base = SimpleNamespace(experiment="e", variant="base", seed="0")
    assert params.network(base) == "MLP"


def test_the_palette_gets_the_jobs_seed() -> None:
    palette = job_params().palette(SimpleNamespace(experiment="e", palette_seed="3"))
    assert palette == {"colors": 8, "seed": 3}
