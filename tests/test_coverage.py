"""Every number of the write-ups is judged or said why not (issue 31.4): the write-up files
against the inventory of their numbers, the reasons' fixed list, and the coverage lines the
report and RESULTS.md open with."""

from pathlib import Path

import pytest
import yaml
from workflow_helpers import PROJECT, default_config, writeup_experiments

from visionrepro.plan import writeups
from visionrepro.report import coverage
from visionrepro.report.results_markdown import results_markdown
from visionrepro.report.tables import run_table
from visionrepro.report.verdicts import glance_table

SCHEMA = yaml.safe_load((PROJECT / "schemas" / "writeup.schema.yaml").read_text())


def _ids(letter: str, *spans: tuple[int, int]) -> set[str]:
    return {f"{letter}{i}" for low, high in spans for i in range(low, high + 1)}


# The ids of ../shared/writeups/numbers.md, the inventory of every number the write-ups report.
INVENTORY = {
    "hw4": _ids("H", (5, 14)),
    "ds5220": _ids("M", (1, 4), (6, 6), (9, 12), (14, 14), (17, 21)),
    "adelaide": _ids("F", (1, 18), (25, 30)),
    "usi": _ids("C", (1, 10)),
    "csc413": _ids("T", (1, 13), (19, 20)),
}


@pytest.mark.parametrize("name", list(INVENTORY))
def test_each_write_up_carries_every_number_as_a_reference_or_not_judged(name: str) -> None:
    record = writeups.load_writeup(name, PROJECT / "writeups", SCHEMA).coverage_record()
    judged = {n["id"] for n in record["numbers"]}
    skipped = [item["id"] for item in record["not_judged"]]
    assert judged | set(skipped) == INVENTORY[name]
    assert not judged & set(skipped) and len(skipped) == len(set(skipped))


def test_the_coverage_record_reaches_each_experiments_spec() -> None:
    from snakemake.utils import validate

    from visionrepro.plan.load import load_plan

    schema = yaml.safe_load((PROJECT / "schemas" / "config.schema.yaml").read_text())
    config = default_config()
    validate(config, str(PROJECT / "schemas" / "config.schema.yaml"))
    plan = load_plan(config, schema, [{"experiments": writeup_experiments()}])
    spec = plan.experiments["coco_rgb"].spec()
    assert spec["writeup"]["name"] == "hw4"
    assert {"id": "H8", "experiment": "coco_rgb", "variant": "HW4Net1"}.items() <= next(
        n for n in spec["writeup"]["numbers"] if n["id"] == "H8" and n["experiment"] == "coco_rgb"
    ).items()
    assert plan.experiments["fashion_mlp"].variants["base"].train["epochs"] == 200
    batch = plan.experiments["cifar10_colour_batch"].variants
    assert [v.train["batch_size"] for v in batch.values()] == [10, 20, 50, 100, 200, 500]
    assert plan.experiments["fashion_mlp_q12"].variants["FashionMLP_lr0.1"].train["epochs"] == 100


def test_a_reason_off_the_list_is_named(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "title: Mine\nexperiments: {}\nnot_judged: [{id: X1, value: 1, reason: lazy}]\n"
    )
    with pytest.raises(ValueError, match=r"mine.yaml.not_judged\[0\].reason: 'lazy' is not one"):
        writeups.load_writeup("mine", tmp_path, SCHEMA)


RECORD = {
    "name": "w",
    "title": "W course: what it does",
    "numbers": [
        {"id": "W1", "experiment": "gray", "variant": "A", "metric": "val_accuracy", "value": 71.0},
        {"id": "W1", "experiment": "rgb", "variant": "A", "metric": "val_accuracy", "value": 71.0},
        {"id": "W2", "experiment": "gray", "variant": "A", "metric": "params", "value": 10},
        {"id": "W3", "experiment": "off", "variant": "A", "metric": "val_accuracy", "value": 5.0},
    ],
    "not_judged": [
        {"id": "W4", "value": "a formula", "reason": "structural", "reason_words": "structural"}
    ],
}


def _runs(experiment: str, color: str) -> list[dict]:
    return [
        {
            "experiment": experiment,
            "variant": "A",
            "network": "N",
            "params": 10,
            "seed": seed,
            "val_accuracy": 70.0 + seed,
            "summary_metrics": ["val_accuracy"],
            "classes": ["a", "b"],
            "n_eval": 100,
            "train_seconds": 1.0,
            "images_per_second": 1.0,
            "precision": "fp32",
            "provenance": {
                "code_version": "v",
                **dict.fromkeys(("device", "device_name", "threads", "host", "created"), "x"),
                "versions": {},
                "train": {},
                "color": color,
            },
        }
        for seed in range(3)
    ]


def test_coverage_counts_numbers_once_and_says_what_became_of_each() -> None:
    runs = run_table(_runs("gray", "gray") + _runs("rgb", "rgb"))
    reference = {"A": {"val_accuracy": 71.0, "settings": {"color": "gray"}, "source": "W1"}}
    specs = {
        name: {"metric": "val_accuracy", "reference": reference, "writeup": RECORD}
        for name in ("gray", "rgb")
    }
    glance = glance_table(runs, specs)
    assert list(glance["verdict"])[1] == "not comparable: color rgb ≠ gray"
    found = coverage.lines(glance, specs, runs)
    # W1 is judged in grey (its colour row does not count twice), W2 matches, W3 never ran
    assert found[1] == (
        "W course: 4 numbers: 1 judged like for like (1 compatible, not decisive), "
        "1 parameter total (1 match), 1 not run here, 1 structural"
    )
    assert found[0].startswith("The write-ups' 4 numbers: 1 judged like for like")
    rest = coverage.rest_table(glance, specs, runs)
    assert list(rest["id"]) == ["W3", "W4"]
    assert rest.loc[0, "why not judged"] == "off (A) did not run here"
    text = results_markdown(glance, experiments=specs, configfiles=["c.yaml"], runs=runs)
    assert (
        "**The write-ups' 4 numbers: " in text
        and "| W course | W4 | a formula | structural |" in text
    )
    assert "W course: 4 numbers" in str(coverage.html(glance, specs, runs))


def test_specs_without_write_up_records_give_no_coverage() -> None:
    runs = run_table(_runs("gray", "gray"))
    specs = {"gray": {"metric": "val_accuracy", "reference": {}}}
    glance = glance_table(runs, specs)
    assert (
        coverage.lines(glance, specs, runs) == [] and coverage.markdown(glance, specs, runs) == []
    )
    assert str(coverage.html(glance, specs, runs)) == ""


def test_fast_shortens_the_long_runs_and_the_demo_leaves_the_new_experiments_off() -> None:
    fast = yaml.safe_load((PROJECT / "configs" / "fast.yaml").read_text())["experiments"]
    names = yaml.safe_load((PROJECT / "config.yaml").read_text())["writeups"]
    loaded = [writeups.load_writeup(n, PROJECT / "writeups", SCHEMA) for n in names]
    shortened = writeups.experiments(loaded, fast, demo=False)
    assert {v["train"]["epochs"] for v in shortened["fashion_mlp"]["variants"]} == {20}
    assert shortened["fashion_mlp_q12"]["train"]["epochs"] == 20
    reference = shortened["fashion_mlp"]["reference"]["base"]
    assert reference["settings"] == {"epochs": 200}  # so a fast run reads "epochs 20 ≠ 200"
    demo = writeup_experiments(demo=True)
    assert demo["fashion_mlp_q12"]["enabled"] is False
    assert demo["cifar10_colour_batch"]["enabled"] is False
