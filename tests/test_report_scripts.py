"""The report rules' scripts, run as Snakemake runs them, on small synthetic run outputs."""

import json
import logging
import runpy
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from visionrepro.data.datasets import ArrayDataset
from visionrepro.report import republish

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow_scripts"
DIGITS = ("0 - zero", "1 - one", "2 - two")
VARIANTS = {"MLP_lr1": "MLP", "CNN": "CNN"}
PROVENANCE = {
    "code_version": "git abc",
    "device": "cpu",
    "device_name": "cpu",
    "threads": 1,
    "host": "h",
    "created": "t",
    "versions": {"python": "3", "torch": "2", "torchvision": "0", "numpy": "2", "snakemake": "9"},
}
VARIANT_SETTINGS = {
    "MLP_lr1": {
        "network": "MLP",
        "train": {"lr": 1.0, "epochs": 3},
        "network_options": {},
        "seeds": [0, 1],
        "label": "lr=1",
    },
    "CNN": {
        "network": "CNN",
        "train": {"lr": 0.01, "epochs": 3},
        "network_options": {},
        "seeds": [0, 1],
        "label": "CNN",
    },
}
# The experiment's spec (plan.Experiment.spec), what every report rule receives of it.
SPEC = {
    "metric": "test_accuracy",
    "tolerance": 1.0,
    "reference": {"CNN": {"params": 101, "test_accuracy": 98.46}},
    "task": "classification",
    "labels": {"MLP_lr1": "lr=1", "CNN": "CNN"},
    "variants": VARIANT_SETTINGS,
    "description": "MLP vs CNN.",
    "seed_note": "A seed draws the initial weights.",
    "paired": True,
    "headline_references": {"CNN": 98.46},
    "groups": [["variants", ["MLP_lr1", "CNN"]]],
    "convergence": {"metric": "test_accuracy", "threshold": 99.0},
}
TABLES = ("glance", "comparisons", "summary", "runs", "per_class", "convergence")


class Named(list):
    """Snakemake's input, output, params...: items by position and by name."""

    def __init__(self, **named: Any) -> None:
        super().__init__(named.values())
        self.__dict__.update(named)

    def get(self, key: str, default: Any = None) -> Any:
        return self.__dict__.get(key, default)

    def items(self) -> list[tuple[str, Any]]:
        return list(self.__dict__.items())


@pytest.fixture(autouse=True)
def _restore_logging(monkeypatch: pytest.MonkeyPatch):
    """The scripts' setup_logging replaces the root handlers and sys.excepthook: undo it."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = handlers, level


def run_script(name: str, tmp: Path, *, input: dict, output: dict, params=None, wildcards=None):
    """Run workflow_scripts/<name>.py with a `snakemake` object like the script directive's."""
    job = SimpleNamespace(
        input=Named(**input),
        output=Named(**output),
        params=Named(**(params or {})),
        wildcards=Named(**(wildcards or {})),
        log=[str(tmp / f"{name}.log")],
        threads=1,
    )
    runpy.run_path(str(SCRIPTS / f"{name}.py"), init_globals={"snakemake": job})


def _write(path: Path, record: dict) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return str(path)


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Any]:
    """A classification experiment `mnist` (2 variants x 2 seeds) on a 9-image test split."""
    images = np.zeros((9, 1, 8, 8), np.uint8)
    images[:, 0, 0, 0] = np.arange(9)
    test = ArrayDataset(images, np.arange(9) % 3, np.arange(9) + 50, DIGITS)
    test.save(tmp_path / "mnist_test.npz")
    histories, metrics, predictions = [], [], []
    for v, (variant, network) in enumerate(VARIANTS.items()):
        for seed in (0, 1):
            run = tmp_path / "runs" / "mnist" / variant / f"seed{seed}"
            accuracy = [80.0 + 5 * e + v + seed for e in range(3)]  # 80 85 90, ...
            keys = {"experiment": "mnist", "variant": variant, "network": network, "seed": seed}
            loss = [{"epoch": e, "iteration": 4 * e, "loss": 1.0 / e} for e in (1, 2, 3)]
            history = {
                "loss": loss,
                "train_loss": [1.0, 0.5, 0.3],
                "test_loss": [1.1, 0.6, 0.4],
                "train_accuracy": [70.0, 80.0, 90.0],
                "test_accuracy": accuracy,
                "grad_mean": [0.1 * seed, -0.1, 0.0],
            }
            histories.append(_write(run / "train.json", {**keys, "history": history}))
            metrics.append(
                _write(
                    run / "metrics.json",
                    {
                        **keys,
                        "params": 100 + v,
                        "task": "classification",
                        "classes": list(DIGITS),
                        "summary_metrics": ["test_accuracy"],
                        "test_accuracy": accuracy[-1],
                        "per_class": [{"class": c, "precision": 0.5} for c in DIGITS],
                        "confusion_matrix": np.eye(3, dtype=int).tolist(),
                        "train_seconds": 1.0,
                        "images_per_second": 1500.5,
                        "precision": "fp32",
                        "provenance": PROVENANCE,
                    },
                )
            )
            table = pd.DataFrame(
                {"image_id": test.ids, "label": test.labels, "prediction": (test.labels + v) % 3}
            )
            table.to_csv(run / "predictions.csv", index=False)
            predictions.append(str(run / "predictions.csv"))
    return {"histories": histories, "metrics": metrics, "predictions": predictions}


def _png(path: Path) -> bool:
    return path.read_bytes().startswith(b"\x89PNG")


def aggregate(tmp_path: Path, runs: dict, threshold: float) -> dict[str, str]:
    """Run the aggregate script; the paths of its tables."""
    tables = {k: str(tmp_path / f"{k}.csv") for k in TABLES}
    run_script(
        "aggregate",
        tmp_path,
        input={"metrics": runs["metrics"], "histories": runs["histories"]},
        output=tables,
        params={
            "experiments": {
                "mnist": {
                    **SPEC,
                    "convergence": {"metric": "test_accuracy", "threshold": threshold},
                }
            }
        },
    )
    return tables


def test_aggregate_writes_the_tables_with_verdicts(tmp_path: Path, runs: dict) -> None:
    tables = aggregate(tmp_path, runs, 86)
    summary = pd.read_csv(tables["summary"]).set_index("variant")
    assert summary.loc["CNN", ["n_seeds", "mean", "reference"]].tolist() == [2, 91.5, 98.46]
    assert summary.loc["MLP_lr1", "network"] == "MLP" and pd.isna(
        summary.loc["MLP_lr1", "reference"]
    )
    glance = pd.read_csv(tables["glance"]).set_index("variant")
    assert glance["verdict"].to_dict() == {
        "MLP_lr1": "no reference",
        "CNN": "outside ±1, no noise estimate (2 seeds)",  # never a verdict from 2 seeds
    }
    assert glance.loc["CNN", "kind"] == "no estimate"
    assert glance.loc["CNN", "code_version"] == "git abc"
    comparisons = pd.read_csv(tables["comparisons"])
    assert comparisons[["variant", "against"]].values.tolist() == [["CNN", "MLP_lr1"]]
    assert comparisons.loc[0, "difference"] == pytest.approx(1.0)
    assert comparisons.loc[0, "reading"] == "no test: under 3 seeds a side"
    runs_table = pd.read_csv(tables["runs"])
    assert not runs_table["chance"].any()  # 3 classes, each predicted, 90 % accuracy
    convergence = pd.read_csv(tables["convergence"])
    # MLP_lr1 seed 0 reaches 86 at its last epoch (80, 85, 90), the others a point earlier.
    assert convergence["epoch"].tolist() == [3, 2, 2, 2] and convergence["reached"].all()
    assert len(pd.read_csv(tables["per_class"])) == 6


def plot(tmp_path: Path, kind: str, out: Path, inputs: dict, settings=None, wildcards=None):
    """Run the plot script for one figure of `kind`."""
    run_script(
        "plot",
        tmp_path,
        input=inputs,
        output={"png": str(out)},
        params={"kind": kind, "settings": settings or {}},
        wildcards=wildcards or {"experiment": "mnist"},
    )


def test_plot_script_draws_every_kind_of_an_experiment(tmp_path: Path, runs: dict) -> None:
    figures = tmp_path / "figures"
    figures.mkdir()
    plot(
        tmp_path, "headline", figures / "headline.png", {"metrics": runs["metrics"]}, {"spec": SPEC}
    )
    plot(
        tmp_path,
        "confusion",
        figures / "confusion.png",
        {"metrics": runs["metrics"]},
        {"split": "test"},
    )
    plot(
        tmp_path,
        "misclassified",
        figures / "misclassified_CNN.png",
        {
            "first_predictions": runs["predictions"][2],
            "eval_pack": str(tmp_path / "mnist_test.npz"),
        },
        {"n": 20, "split": "test"},
        {"experiment": "mnist", "variant": "CNN"},
    )
    for kind in ("loss", "grad_mean", "curves"):
        plot(tmp_path, kind, figures / f"{kind}.png", {"histories": runs["histories"]})
    names = ("headline", "loss", "confusion", "misclassified_CNN", "grad_mean", "curves")
    assert all(_png(figures / f"{name}.png") for name in names)


def test_every_figure_kind_has_a_drawing_and_a_caption() -> None:
    from visionrepro.plan.figures import KINDS
    from visionrepro.report.plots import DRAW

    assert set(DRAW) == set(KINDS)
    captions = Path(__file__).resolve().parents[1] / "report"
    assert all((captions / f"{kind}.rst").is_file() for kind in KINDS)


def _color_inputs(tmp_path: Path) -> dict[str, Any]:
    """A CIFAR-like test split (cats and horses), two variants' predicted masks of the horses
    (ids 1, 3, 5) and their runs' palettes."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 3, 8, 8), dtype=np.uint8)
    ArrayDataset(images, np.arange(6) % 2, np.arange(6), ("cat", "horse")).save(
        tmp_path / "test.npz"
    )
    predicted, palettes = [], []
    for variant in ("UNet", "CNN"):
        path = tmp_path / f"{variant}.npz"
        np.savez(path, masks=rng.integers(0, 4, (3, 8, 8), dtype=np.uint8), ids=np.array([1, 3, 5]))
        predicted.append(str(path))
        palettes.append(str(tmp_path / f"{variant}_palette.npz"))
        np.savez(palettes[-1], palette=rng.random((4, 3)).astype(np.float32))
    return {"eval_pack": str(tmp_path / "test.npz"), "palettes": palettes, "first_masks": predicted}


def test_color_examples_script_takes_the_predicted_horses(tmp_path: Path) -> None:
    inputs = _color_inputs(tmp_path)
    params = {"variants": ["UNet", "CNN"], "classes": ["horse"], "n": 2}
    out = tmp_path / "color_examples.png"
    wildcards = {"experiment": "colour"}
    plot(tmp_path, "color_examples", out, inputs, params, wildcards)
    assert _png(out)
    masks = inputs["first_masks"]
    np.savez(masks[1], masks=np.zeros((3, 8, 8), np.uint8), ids=np.array([1, 2, 5]))
    with pytest.raises(ValueError, match="other images"):
        plot(tmp_path, "color_examples", out, inputs, params, wildcards)
    params["n"] = 3
    np.savez(masks[0], masks=np.zeros((3, 8, 8), np.uint8), ids=np.array([1, 2, 5]))
    with pytest.raises(ValueError, match=r"restricted to \['horse'\]"):
        plot(tmp_path, "color_examples", out, inputs, params, wildcards)


def test_changes_since_an_earlier_run(tmp_path: Path, runs: dict) -> None:
    """The changes table against an earlier runs.csv where CNN scored 5 points less and
    MLP_lr1 the same, and RESULTS.md's section on it."""
    tables = aggregate(tmp_path, runs, 99)
    earlier = pd.read_csv(tables["runs"])
    earlier.loc[earlier["variant"] == "CNN", "test_accuracy"] -= 5
    earlier.to_csv(tmp_path / "earlier.csv", index=False)
    compare = {"path": str(tmp_path / "earlier.csv"), "label": "yesterday"}
    out = tmp_path / "changes.csv"
    inputs = {"earlier": str(tmp_path / "earlier.csv"), "runs": tables["runs"]}
    run_script(
        "changes",
        tmp_path,
        input=inputs,
        output={"table": str(out)},
        params={"compare": compare, "tolerances": {"mnist": 1.0}},
    )
    changes = pd.read_csv(out).set_index("variant")
    assert changes["reading"].to_dict() == {
        "MLP_lr1": "identical",
        "CNN": "changed (too few seeds for a test)",  # 2 seeds a side
    }
    assert changes.loc["CNN", "difference"] == pytest.approx(5.0)
    markdown = tmp_path / "RESULTS.md"
    run_script(
        "results_markdown",
        tmp_path,
        input={"glance": tables["glance"], "runs": tables["runs"], "changes": str(out)},
        output={
            "markdown": str(markdown),
            "headline": str(tmp_path / "headline.txt"),
            "recipe": str(tmp_path / "RESULTS.json"),
        },
        params={
            "experiments": {"mnist": SPEC},
            "configfiles": ["config.yaml"],
            "note": "",
            "compare": compare,
        },
    )
    text = markdown.read_text()
    assert text.index("## Changes since yesterday") < text.index("## mnist")
    assert (
        "**1 of 2 rows changed (1 with too few seeds to test); 1 identical, every seed "
        "bit-equal; no row could be tested for better/worse.**" in text
    )
    assert "| mnist        | CNN " in text and "MLP_lr1" not in text.split("## mnist")[0]


def test_results_md_is_recomputed_from_the_published_per_seed_table(
    tmp_path: Path, runs: dict
) -> None:
    tables = aggregate(tmp_path, runs, 99)
    published = tmp_path / "published"
    published.mkdir()
    run_script(
        "results_markdown",
        tmp_path,
        input={"glance": tables["glance"], "runs": tables["runs"]},
        output={
            "markdown": str(tmp_path / "RESULTS.md"),
            "headline": str(tmp_path / "headline.txt"),
            "recipe": str(published / "RESULTS.json"),
        },
        params={
            "experiments": {"mnist": SPEC},
            "configfiles": ["config.yaml", "real.yaml"],
            "note": "On *real* data.",
            "compare": {"path": "", "label": ""},
        },
    )
    shutil.copy(tables["runs"], published / "runs.csv")
    out = tmp_path / "again.md"
    assert republish.main([str(published), "--out", str(out)]) == 0
    assert out.read_text() == (tmp_path / "RESULTS.md").read_text()
    assert "MLP vs CNN." in out.read_text() and "On *real* data." in out.read_text()
    (published / "runs.csv").unlink()
    assert republish.main([str(published)]) == 2  # visionrepro.cli: bad input


def test_report_html_from_the_tables_packs_and_figures(tmp_path: Path, runs: dict) -> None:
    tables = aggregate(tmp_path, runs, 99)
    plot(tmp_path, "grad_mean", tmp_path / "grad_mean.png", {"histories": runs["histories"]})
    caption = tmp_path / "grad_mean.rst"
    caption.write_text("The mean gradient of {{ snakemake.wildcards.experiment }}.\n")
    notes = tmp_path / "workflow.rst"
    notes.write_text(
        "Intro\n\n- a ``note``\n{% if snakemake.config.experiments.mnist %}- on mnist{% endif %}\n"
    )
    out, fragment = tmp_path / "index.html", tmp_path / "glance.html"
    run_script(
        "report_html",
        tmp_path,
        input={
            **tables,
            "packs": [str(tmp_path / "mnist_test.npz")],
            "captions": [str(caption)],
            "notes": str(notes),
        },
        output={"page": str(out), "glance": str(fragment)},
        params={
            "figures": [
                {
                    "section": "mnist",
                    "title": "Gradients",
                    "path": str(tmp_path / "grad_mean.png"),
                    "caption": str(caption),
                    "wildcards": {"experiment": "mnist"},
                    "folded": False,
                }
            ],
            "packs": [("mnist", "test")],
            "config": {
                "experiments": {"mnist": {"description": "MLP vs CNN", "task": "classification"}}
            },
            "configfiles": ["config.yaml", "extra.yaml"],
            "experiments": {"mnist": {**SPEC, "description": "MLP vs CNN"}},
            "compare": {"path": "", "label": ""},
        },
    )
    html = out.read_text()
    assert 'id="exp-mnist"' in html and "MLP vs CNN" in html
    assert "The mean gradient of mnist." in html
    assert "not within 3 epochs" in html and "note</tt>" in html and "on mnist" in html
    assert "config.yaml, extra.yaml" in html and "git abc" in html
    assert "1 reference number: 1 compared like for like (1 without a noise estimate)" in html
    page = fragment.read_text()  # the at-a-glance page of Snakemake's report
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    body = page.split("</h1>")[1].split("</body>")[0]
    table, rules = body.rsplit("<p>", 1)
    assert table in html  # the table the page opens with, then the verdicts' rules as in html
    assert rules.removesuffix("</p>") in html and "<em>compatible, not decisive</em>" in rules
    # The variants' settings: what differs (lr) in the table, what they share below it.
    assert "<code>epochs: 3</code>" in html and 'normal">lr</th>' in html
