"""Nothing from the config runs in a report (issue 23, point 1).

A label, a description and a results note holding `</script><img onerror=...>` (a payload that
marks the page's <html> element when it runs), a `|` and `$\\frac{1}{$`: Snakemake's `--report`
wrote the report rules' params into a <script> block as they were, so the payload ran there;
the figures' mathtext parser failed on the `$`; RESULTS.md's table rows broke at the `|`. The
browser test renders both reports in headless Chromium and reads the mark.
"""

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from jsonschema import Draft202012Validator
from report_browser import chromium, evaluate
from workflow_helpers import (
    PROJECT,
    copy_workflow,
    default_config,
    demo_like_config,
    snakemake,
    write_config,
)

from visionrepro.report import figures
from visionrepro.report.results_markdown import experiment_markdown, results_markdown
from visionrepro.report.shown_params import html_inert, shown
from visionrepro.report.verdicts import glance_table

MARK = "document.documentElement.dataset.pwned=1"
PAYLOAD = f"x|y </script><img src=x onerror='{MARK}'> $\\frac{{1}}{{$"
RAN = "document.documentElement.dataset.pwned ?? null"


def test_shown_params_are_plain_for_the_job_and_inert_for_the_report() -> None:
    value = {"labels": {"base": PAYLOAD}, "n": [1, "<b>"]}
    wrapped = shown(value)
    assert wrapped == value and isinstance(wrapped, dict)
    assert repr(wrapped) == repr(value)  # Snakemake's params trigger sees the same
    assert f"{wrapped}" == html_inert(repr(value))
    assert "<" not in f"{wrapped}" and ">" not in f"{wrapped}" and "&" not in f"{wrapped}"
    assert "\\u003c/script\\u003e" in f"{wrapped}"
    assert f"{shown(['<i>'])}" == "['\\u003ci\\u003e']"


def _set(config: dict[str, Any], key: str, value: str) -> None:
    *parents, last = key.split(".")
    for part in parents:
        config = config.setdefault(part, {})
    config[last] = value


@pytest.mark.parametrize(
    "key",
    [
        "data_dir",
        "results_dir",
        "coco.local_dir",
        "mnist.local_dir",
        "demo.mirror_dir",
        "demo.sources_dir",
        "experiments.coco_seg_deeplab.weights_path",
    ],
)
@pytest.mark.parametrize("path", ["r</script><img src=x onerror=alert(1)>", "r\n\n.. raw:: html"])
def test_a_path_that_would_be_markup_in_snakemakes_report_is_refused(key: str, path: str) -> None:
    """Paths reach Snakemake's report as they are (its file list, its rules' files); a
    results_dir holding the payload ran there."""
    schema = yaml.safe_load((PROJECT / "schemas" / "config.schema.yaml").read_text())
    config = default_config()
    config["demo"] = {"mirror_dir": "m"}
    assert not list(Draft202012Validator(schema).iter_errors(config))
    _set(config, key, path)
    errors = list(Draft202012Validator(schema).iter_errors(config))
    assert [".".join(map(str, e.path)) for e in errors] == [key]


def _glance(label: str) -> pd.DataFrame:
    runs = pd.DataFrame(
        {
            "experiment": ["e", "e"],
            "variant": ["a", "b"],
            "seed": [0, 0],
            "test_accuracy": [50.0, 60.0],
            "chance": [False, False],
            "device_name": ["cpu", "cpu"],
            "train_seconds": [1.0, 1.0],
            "code_version": ["v", "v"],
            "created": ["2026-01-01T00:00:00", "2026-01-01T00:00:00"],
        }
    )
    settings = {
        "metric": "test_accuracy",
        "reference": {"b": {"test_accuracy": 61.0}},
        "labels": {"a": label},
    }
    return glance_table(runs, {"e": settings})


def _table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def cells(row: str) -> int:
    """The cells of a Markdown table row: its unescaped pipes, less one."""
    return row.replace("\\|", "").count("|") - 1


def test_results_md_shows_a_label_and_description_as_written_text() -> None:
    section = experiment_markdown("e", _glance(PAYLOAD), description=PAYLOAD)
    rows = _table_rows(section)
    assert len(rows) == 4 and len({cells(row) for row in rows}) == 1  # no row broken by `|`
    assert "x\\|y &lt;/script&gt;&lt;img src=x" in rows[2]
    assert "\\$\\\\frac{1}{\\$" in rows[2]  # no GitHub math either
    paragraph = section.splitlines()[2]
    assert paragraph.startswith("x\\|y &lt;/script&gt;") and "<" not in paragraph


def test_the_results_note_stays_markdown_without_raw_html() -> None:
    note = f"Seeds 0-2 of *every* network. {PAYLOAD}"
    page = results_markdown(_glance("a"), experiments={}, configfiles=["c.yaml"], note=note)
    assert "Seeds 0-2 of *every* network. x|y &lt;/script>&lt;img src=x" in page
    assert "<img" not in page and "</script" not in page


def test_a_label_with_dollars_is_text_in_a_figure(tmp_path: Path) -> None:
    values = pd.DataFrame({"variant": ["a", "b"], "seed": [0, 0], "value": [50.0, 60.0]})
    fig = figures.headline(values.assign(chance=False), _glance(PAYLOAD), "test_accuracy", "$x")
    figures.save(fig, str(tmp_path / "headline.png"))  # mathtext would raise ValueError here
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "$\\frac{1}{$" in ticks[0]
    assert (tmp_path / "headline.png").read_bytes().startswith(b"\x89PNG")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run of one small experiment whose label, description and the results note
    are the payload, and Snakemake's report of it (report.html)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("hostile"))
    config = demo_like_config(results_note=PAYLOAD)
    for name, exp in config["experiments"].items():
        exp["enabled"] = name == "fashion_mlp"
    exp = config["experiments"]["fashion_mlp"]
    exp.update(networks=["FashionMLP"], sweep={"lr": [0.1]}, description=PAYLOAD)
    exp["variants"] = [{"name": "base", "label": PAYLOAD, "network": "FashionMLP"}]
    write_config(workdir, config, "hostile.yaml")
    snakemake(workdir, "--configfile", "hostile.yaml")  # the figure jobs draw the `$` label
    snakemake(workdir, "--configfile", "hostile.yaml", "--report", "report.html")
    return workdir


@pytest.mark.slow
def test_nothing_from_the_config_runs_in_either_report(hostile_run: Path) -> None:
    if chromium() is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    page = hostile_run / "results" / "report" / "index.html"
    report = hostile_run / "report.html"
    assert evaluate(page, RAN) is None
    assert evaluate(report, RAN) is None
    # The payload reached both pages, as text.
    assert r"\\u003c/script\\u003e\\u003cimg src=x" in report.read_text()  # in JSON
    assert "&lt;/script&gt;&lt;img src=x" in page.read_text()
    shown_text = evaluate(page, "document.body.innerText")
    assert f"x|y </script><img src=x onerror='{MARK}'>" in shown_text


@pytest.mark.slow
def test_results_md_of_the_hostile_run_keeps_its_table(hostile_run: Path) -> None:
    markdown = (hostile_run / "results" / "report" / "RESULTS.md").read_text()
    rows = _table_rows(markdown.split("\n## fashion_mlp\n", 1)[1])  # the experiment's table
    # Header, separator, the sweep's run, and base's two referenced metrics (accuracy, the
    # epoch of the lowest test loss): every row with the same cells, none broken by a `|`.
    assert len(rows) == 5 and len({cells(row) for row in rows}) == 1
    assert "<img" not in markdown
