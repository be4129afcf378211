"""The HTML report and the figures it embeds."""

from pathlib import Path

import numpy as np
import pandas as pd

from visionrepro import figures
from visionrepro.datasets import ArrayDataset
from visionrepro.report import FigureEntry, render, rst_literals


def test_rst_literals_escape_html_and_mark_code() -> None:
    html = str(rst_literals("set ``color: gray`` <b>not bold</b>"))
    assert html == "set <code>color: gray</code> &lt;b&gt;not bold&lt;/b&gt;"


def test_report_embeds_figures_tables_config_and_notes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = ArrayDataset(
        rng.integers(0, 256, (6, 3, 64, 64), dtype=np.uint8),
        np.array([0, 0, 0, 1, 1, 1]),
        np.arange(6),
        ("boat", "dog"),
    )
    png = tmp_path / "samples.png"
    figures.save(figures.sample_grid(data, per_class=3), str(png))
    assert png.read_bytes().startswith(b"\x89PNG")

    summary = pd.DataFrame(
        {
            "experiment": ["e", "s"],
            "network": ["HW4Net1", "UNet"],
            "params": [406885, 42078],
            "metric": ["val_accuracy", "miou"],
            "n_seeds": [2, 2],
            "mean": [50.0, 31.0],
            "std": [1.0, 2.0],
            "min": [49.0, 29.0],
            "max": [51.0, 33.0],
            "reference": [54.35, None],
        }
    )
    runs = pd.DataFrame({"experiment": ["e"], "seed": [0], "git_commit": ["abc123"]})
    html = render(
        summary=summary,
        per_class=pd.DataFrame({"class": ["boat"]}),
        runs=runs,
        datasets=pd.DataFrame({"split": ["train"]}),
        figures=[FigureEntry("Dataset", "Training images", str(png), "caption <x>")],
        config={"coco": {"categories": ["boat", "dog"]}},
        notes=["use ``rgb``"],
    )
    assert html.count("data:image/png;base64,") == 1
    assert "caption &lt;x&gt;" in html
    assert "-4.35" in html  # mean - reference
    classification, segmentation = html.index("<h3>Classification"), html.index("<h3>Segmentation")
    assert classification < html.index("HW4Net1") < segmentation < html.index("UNet")
    assert "abc123" in html and "categories:" in html and "<code>rgb</code>" in html
