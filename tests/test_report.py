"""The HTML report page, its table views and the code version it shows."""

import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from visionrepro.data.datasets import ArrayDataset
from visionrepro.provenance import code_version, content_hash, project_digests
from visionrepro.report import figures
from visionrepro.report import html as report
from visionrepro.report import tables as report_tables
from visionrepro.report import views as report_views
from visionrepro.report.tables import dataset_table, headline_values
from visionrepro.report.verdicts import comparison_table, glance_table


def _runs() -> pd.DataFrame:
    """Two experiments' run table: e (HW4Net1, 3 seeds; HW4Net2 at chance), f (MLP_lr1)."""
    rows = [
        ("e", "HW4Net1", 0, 53.0, False),
        ("e", "HW4Net1", 1, 55.0, False),
        ("e", "HW4Net1", 2, 54.0, False),
        ("e", "HW4Net2", 0, 20.0, True),
        ("f", "MLP_lr1", 0, 11.0, False),
    ]
    return pd.DataFrame(
        [
            {
                "experiment": e,
                "variant": v,
                "network": v.split("_")[0],
                "params": 406885,
                "seed": s,
                "val_accuracy": x if e == "e" else None,
                "test_accuracy": x if e == "f" else None,
                "chance": c,
                "train_seconds": 3725.0,
                "images_per_second": 1234.5,
                "precision": "bf16",
                "code_version": "git abc123",
                "data_version": "sha256 feedbeef0123",
                "data_form": "original",
                "cpu": "Test CPU @ 2 GHz",
                "device": "cpu",
                "device_name": "cpu",
                "threads": 2,
                "host": "h",
                "created": "2026-01-01",
                "python": "3.11",
                "torch": "2.4",
                "torchvision": "0.19",
                "numpy": "2.0",
                "snakemake": "9.0",
            }
            for e, v, s, x, c in rows
        ]
    )


NUM = 'class="num" style="text-align:right;white-space:nowrap"'
TEXT = 'class="text" style="text-align:left;white-space:nowrap"'
SETTINGS = {
    "e": {
        "metric": "val_accuracy",
        "tolerance": 1.0,
        "reference": {"HW4Net1": {"val_accuracy": 54.35}, "HW4Net2": {"val_accuracy": 54.3}},
        "labels": {},
    },
    "f": {"metric": "test_accuracy", "tolerance": 2.0, "reference": {}, "labels": {}},
}


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "experiment": ["e", "e", "f"],
            "variant": ["HW4Net1", "HW4Net2", "MLP_lr1"],
            "network": ["HW4Net1", "HW4Net2", "MLP"],
            "params": [406885, 529765, 337674],
            "metric": ["val_accuracy", "val_accuracy", "test_accuracy"],
            "n_seeds": [3, 1, 1],
            "mean": [54.0, 20.0, 11.0],
            "std": [1.0, 0.0, 0.0],
            "min": [53.0, 20.0, 11.0],
            "max": [55.0, 20.0, 11.0],
            "reference": [54.35, 54.3, None],
            "reference_params": [406885, 529765, None],
        }
    )


def _tables(tmp_path: Path) -> report.Tables:
    runs = _runs()
    return report.Tables(
        glance=glance_table(runs, SETTINGS),
        comparisons=comparison_table(
            headline_values(runs, {"e": "val_accuracy", "f": "test_accuracy"}),
            {"e": [("networks", ["HW4Net1", "HW4Net2"])]},
        ),
        summary=_summary(),
        convergence=pd.DataFrame(
            {
                "experiment": ["f"],
                "variant": ["MLP_lr1"],
                "network": ["MLP"],
                "seed": [0],
                "metric": ["test_accuracy"],
                "threshold": [85],
                "epochs": [10],
                "reached": [False],
                "epoch": [None],
            }
        ),
        per_class=pd.DataFrame(
            {
                "experiment": ["e"],
                "variant": ["HW4Net1"],
                "network": ["HW4Net1"],
                "class": ["boat"],
                "precision": [0.5],
                "support": [1200.0],
            }
        ),
        runs=runs,
        datasets=dataset_table({("coco", "train"): (np.zeros(8000, int), ["boat"])}),
    )


def _figure(tmp_path: Path) -> Path:
    data = ArrayDataset(
        np.zeros((2, 3, 8, 8), np.uint8), np.array([0, 1]), np.arange(2), ("boat", "dog")
    )
    png = tmp_path / "samples.png"
    figures.save(figures.sample_grid(data, "coco", per_class=1), str(png))
    return png


def test_report_page(tmp_path: Path) -> None:
    png = str(_figure(tmp_path))
    experiments = {
        "e": {"description": "classify <coco>", "task": "classification", "train": {}},
        "off": {"description": "disabled", "task": "classification", "enabled": False},
        "f": {"description": "fashion", "task": "classification", "train": {"shuffle": False}},
    }
    variants = {
        "e": {
            v: {"network": v, "train": {"lr": 0.001}, "network_options": {}, "seeds": [0, 1]}
            for v in ("HW4Net1", "HW4Net2")
        },
        "f": {
            "MLP_lr1": {
                "network": "MLP",
                "train": {"lr": 1.0},
                "network_options": {},
                "seeds": [0],
                "label": "lr=1",
            }
        },
    }
    html = report.render(
        tables=_tables(tmp_path),
        figures=[
            report.FigureEntry("e", "Loss", png, report.rst_html("loss of ``e``")),
            report.FigureEntry("e", "Confusion", png, report.rst_html("folded"), folded=True),
            report.FigureEntry("f", "Loss", png, report.rst_html("loss of ``e``")),
            report.FigureEntry("f", "Confusion", png, report.rst_html("folded f"), folded=True),
            report.FigureEntry("Datasets", "Training images", png, report.rst_html("x <y>")),
        ],
        config={"experiments": experiments, "results_dir": "results"},
        configfiles=["config.yaml"],
        experiments={
            name: {
                "description": experiments[name]["description"],
                "task": "classification",
                "seed_note": f"A seed of {name} draws the initial weights, batch order.",
                "variants": variants[name],
            }
            for name in ("e", "f")
        },
        notes_html=report.rst_html("- a note"),
    )
    assert html.count("data:image/png;base64,") == 5
    assert "x &lt;y&gt;" in html and "classify &lt;coco&gt;" in html
    # Reproduction at a glance first, then the experiments (config order), then the rest.
    order = [html.index(f'id="{i}"') for i in ("glance", "exp-e", "exp-f", "comparisons")]
    order += [html.index(f'id="{i}"') for i in ("datasets", "provenance", "config")]
    assert order == sorted(order) and 'id="exp-off"' not in html
    assert (
        "2 reference numbers: 2 compared like for like (1 compatible, not decisive; "
        "1 below)." in html
    )
    assert "1 of 5 runs are at chance level" in html and "Synthetic data" not in html
    glance = html[order[0] : order[1]]
    assert "54.00 ± 1.00" in glance and "– (1 seed)" in glance and "49.03–58.97" in glance
    assert re.search(
        r'normal;min-width:16em;background:#a86400[^"]*">compatible, not decisive \(p = ', glance
    )
    assert re.search(
        r'normal;min-width:16em;background:#c62828[^"]*">below \(all 1 seed at chance', glance
    )
    # Every section is in the table of contents.
    for anchor in ("glance", "exp-e", "exp-f", "comparisons", "datasets", "provenance", "config"):
        assert f'href="#{anchor}"' in html
    section_e = html[order[1] : order[2]]
    assert "<details>\n<summary>Confusion</summary>" in section_e
    assert "<summary>Loss</summary>" not in section_e  # unfolded
    assert f"<td {NUM}>406,885</td>" in section_e  # thousands, an integer, right-aligned
    assert f"<td {TEXT}>HW4Net1</td>" in section_e  # text left
    assert "reference params" not in section_e  # repeats params: dropped
    assert f"<td {NUM}>1,200</td>" in section_e  # support, an integer
    assert "1 of 1" in section_e  # HW4Net2's seed at chance
    # A caption shown in full under e is folded under f; one that differs is shown in full.
    section_f = html[order[2] : order[3]]
    loss = '<p>loss of <tt class="docutils literal">e</tt></p>'
    assert f"<strong>Loss.</strong> {loss}" in section_e.replace("\n", "")
    assert (
        '<strong>Loss.</strong> <details class="caption"><summary>How to read it (as under e)'
        f"</summary>{loss}"
    ) in section_f.replace("\n", "")
    assert "<figcaption><p>folded f</p>" in section_f.replace("\n", "")
    assert "not within 10 epochs" in html[order[2] : order[3]]
    assert "no test: under 3 seeds a side" in html[order[3] : order[4]]
    assert "8,000" in html[order[4] : order[5]]
    provenance = html[order[5] : order[6]]
    assert "git abc123" in provenance and "1 h 02 min" in provenance
    assert "1,234" in provenance and "bf16" in provenance  # images/s and precision per run
    header = html[: order[0]]
    assert "config.yaml" in header and "git abc123" in header and "torch 2.4" in header
    assert "5 h 10 min over 5 runs" in header and "cpu (2 threads)" in header
    assert "Test CPU @ 2 GHz" in header and "sha256 feedbeef0123" in header
    assert "A seed of e draws the initial weights, batch order" in section_e
    config = html[order[6] :]
    assert "disabled" not in config  # the enabled experiments only
    assert "lr=1" in config and "<code>lr: 0.001</code>" in config
    assert "a note" in config


def test_captions_and_notes_render_like_snakemakes_report(tmp_path: Path) -> None:
    caption = tmp_path / "samples.rst"
    caption.write_text("Images of {{ snakemake.wildcards.dataset }}, ``{{ snakemake.config.x }}``.")
    html = str(report.caption(caption, {"x": 64}, {"dataset": "mnist"}))
    assert html == '<p>Images of mnist, <tt class="docutils literal">64</tt>.</p>\n'
    notes = tmp_path / "workflow.rst"
    notes.write_text(
        "Intro\n\n.. raw:: html\n   :file: x.html\n\n- always\n"
        "{% if snakemake.config.deeplab %}- deeplab{% endif %}\n"
    )
    assert "deeplab" not in report.notes(notes, {"deeplab": False})
    assert "<li>deeplab</li>" in report.notes(notes, {"deeplab": True})
    assert "x.html" not in report.notes(notes, {"deeplab": True})
    with pytest.raises(Exception, match="no attribute .x."):
        report.caption(caption, {}, {"dataset": "mnist"})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4.4, "4 s"), (59.6, "1 min 00 s"), (125, "2 min 05 s"), (7300, "2 h 01 min")],
)
def test_duration(seconds: float, text: str) -> None:
    assert report_views.duration(seconds) == text


def test_variant_settings_show_what_each_rung_changes() -> None:
    variants = {
        "base": {
            "network": "Cnn",
            "train": {"lr": 0.001, "epochs": 10},
            "network_options": {},
            "seeds": [0, 1, 2],
            "label": "baseline",
        },
        "dropout": {
            "network": "Cnn",
            "train": {"lr": 0.001, "epochs": 25},
            "network_options": {"dropout": 0.5},
            "seeds": [0, 1, 2],
            "label": "+ dropout",
        },
    }
    view, shared = report_views.variant_settings(variants)
    assert view.frame.columns.tolist() == ["variant", "label", "epochs", "network: dropout"]
    assert view.frame.values.tolist() == [
        ["base", "baseline", "10", "–"],
        ["dropout", "+ dropout", "25", "0.5"],
    ]
    assert shared == {"network": "Cnn", "seeds": "0, 1, 2", "lr": "0.001"}


def test_config_hash_ignores_key_order() -> None:
    assert report_views.config_hash({"a": 1, "b": [1, 2]}) == report_views.config_hash(
        {"b": [1, 2], "a": 1}
    )
    assert report_views.config_hash({"a": 1}) != report_views.config_hash({"a": 2})


def _workflow(root: Path) -> Path:
    for part in ("rules", "workflow_scripts", "src/visionrepro"):
        (root / part).mkdir(parents=True)
    (root / "Snakefile").write_text("rule all:\n")
    (root / "src/visionrepro/x.py").write_text("x = 1\n")
    (root / "src/visionrepro/__pycache__").mkdir()
    (root / "src/visionrepro/__pycache__/x.pyc").write_bytes(b"cache")
    return root


def test_code_version_without_git_is_the_package_and_a_content_hash(tmp_path: Path) -> None:
    root = _workflow(tmp_path / "wf")
    version = code_version(root)
    assert re.fullmatch(r"visionrepro \S+, content [0-9a-f]{12}", version)
    assert "unknown" not in version
    before = content_hash(root)
    (root / "src/visionrepro/__pycache__/x.pyc").write_bytes(b"other cache")
    (root / "results").mkdir()  # not code
    assert content_hash(root) == before
    (root / "src/visionrepro/x.py").write_text("x = 2\n")
    assert content_hash(root) != before


def test_code_version_in_a_checkout_is_the_commit_and_says_modified(tmp_path: Path) -> None:
    root = _workflow(tmp_path / "wf")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    clean = code_version(root)
    assert re.fullmatch(r"git [0-9a-f]{12}", clean)
    (root / "Snakefile").write_text("rule all:\n    input: []\n")
    assert code_version(root) == clean + " (modified)"


def test_runs_table_shows_the_code_version_only_where_runs_differ() -> None:
    metrics = {"e": "val_accuracy", "f": "test_accuracy"}
    table = _runs()
    short, long = report_views.runs(table, metrics)
    assert "code" not in short.frame.columns  # one version: the page header gives it
    assert list(long.frame["code"]) == ["git abc123"] * 5
    table.loc[4, "code_version"] = "git def456"
    short, _ = report_views.runs(table, metrics)
    assert list(short.frame["code"]) == ["git abc123"] * 4 + ["git def456"]


def test_a_runs_code_version_names_the_project_files_it_imported(tmp_path: Path) -> None:
    net = tmp_path / "x.py"
    net.write_text("class X: ...\n")
    digests = project_digests([net, None])
    assert list(digests) == [net.as_posix()] and len(digests[net.as_posix()]) == 64
    record = {"code_version": "git abc123", "project_files": {"nets/x.py": "0f1e2d3c4b5a" * 5}}
    assert report_tables.code_version(record) == "git abc123; nets/x.py 0f1e2d3c4b5a"
    assert report_tables.code_version({"code_version": "git abc123"}) == "git abc123"
