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
            "experiment": ["e", "s", "f", "f"],
            "variant": ["HW4Net1", "UNet", "MLP_lr1", "MLP_lr0.1"],
            "network": ["HW4Net1", "UNet", "MLP", "MLP"],
            "params": [406885, 42078, 337674, 337674],
            "metric": ["val_accuracy", "miou", "test_accuracy", "test_accuracy"],
            "n_seeds": [1, 1, 3, 1],
            "mean": [50.0, 31.0, 11.0, 86.5],
            "std": [0.0, 0.0, 1.0, 0.0],
            "min": [50.0, 31.0, 10.0, 86.5],
            "max": [50.0, 31.0, 12.0, 86.5],
            "reference": [54.35, None, 10.0, 87.0],
            "reference_params": [406885, None, 337674, 337674],
        }
    )
    convergence = pd.DataFrame(
        {
            "experiment": ["f", "f"],
            "variant": ["MLP_lr1", "MLP_lr0.1"],
            "network": ["MLP", "MLP"],
            "seed": [0, 0],
            "metric": ["test_accuracy"] * 2,
            "threshold": [85, 85],
            "epochs": [10, 10],
            "reached": [False, True],
            "epoch": [None, 4.0],
        }
    )
    per_class = pd.DataFrame(
        {
            "experiment": ["e", "s"],
            "variant": ["HW4Net1", "UNet"],
            "network": ["HW4Net1", "UNet"],
            "class": ["boat", "dog"],
            "precision": [0.5, None],
            "iou": [None, 0.25],
        }
    )
    runs = pd.DataFrame({"experiment": ["e"], "seed": [0], "git_commit": ["abc123"]})
    experiments = {
        "e": {"description": "classify <coco>"},
        "off": {"description": "disabled", "enabled": False},
        "f": {"description": "fashion"},
        "s": {"description": "segment"},
    }
    html = render(
        summary=summary,
        convergence=convergence,
        per_class=per_class,
        runs=runs,
        datasets=pd.DataFrame({"split": ["train"]}),
        figures=[
            FigureEntry("e", "Loss", str(png), "loss of e"),
            FigureEntry("Dataset coco", "Training images", str(png), "caption <x>"),
        ],
        config={"coco": {"categories": ["boat", "dog"]}, "experiments": experiments},
        notes=["use ``rgb``"],
    )
    assert html.count("data:image/png;base64,") == 2
    assert "caption &lt;x&gt;" in html and "classify &lt;coco&gt;" in html
    # Experiments in config order, each with its table and figures; other sections after them.
    order = [html.index(f'<h2 id="{name}">') for name in ("e", "f", "s")]
    assert order == sorted(order) and 'id="off"' not in html
    assert order[0] < html.index("loss of e") < order[1] < order[2] < html.index("Dataset coco")
    assert "-4.35" in html  # mean - reference
    fashion = html[order[1] : order[2]]
    assert "11.00 ± 1.00" in fashion and "<td>86.50</td>" in fashion  # one seed: the mean alone
    assert "337,674" in fashion and "Convergence" in fashion
    assert "not within 10 epochs" in fashion and "4 of 10" in fashion
    assert "<th>min</th>" in fashion and "<th>min</th>" not in html[order[0] : order[1]]
    assert "Per-class IoU (segmentation)" in html[order[2] :]
    assert (
        "Per-class precision" in html[order[0] : order[1]] and "Convergence" not in html[: order[1]]
    )
    assert "abc123" in html and "categories:" in html and "<code>rgb</code>" in html
