"""The plan: variants resolved once (network references parsed once), what a seed draws from
the resolved variants (sweeps included), the comparison groups, the path layout, the write-ups
merged under the config, and a parse that imports no torch, pandas or scipy."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workflow_helpers import PROJECT

from visionrepro.data.sources import Torchvision
from visionrepro.networks import parse_network
from visionrepro.plan import writeups
from visionrepro.plan.draws import seed_draws
from visionrepro.plan.layout import Layout, run_path
from visionrepro.plan.load import comparison_groups, resolved_variants
from visionrepro.plan.model import Experiment
from visionrepro.tasks import task

SWEEP = {
    "networks": ["MLP"],
    "seeds": [0],
    "train": {"epochs": 1},
    "sweep": {"lr": [1.0, 0.1]},
    "variants": [{"name": "base"}, {"name": "deeper", "network": "MLPDeeper"}],
}


def experiment(config: dict) -> Experiment:
    variants = resolved_variants(config)
    groups = comparison_groups(config, variants)
    source = Torchvision("mnist", {})
    return Experiment("e", config, task("classification"), source, variants, groups)


def test_a_sweep_over_hflip_draws_augmentation_and_is_compared_paired() -> None:
    config = {
        "networks": ["MLP"],
        "seeds": [0, 1, 2],
        "train": {"shuffle": False, "hflip": 0.0},
        "sweep": {"hflip": [0.0, 0.5]},
    }
    exp = experiment(config)
    assert "augmentation draws" in exp.draws.varies
    assert exp.draws.shared and exp.spec()["paired"] is True
    assert exp.spec()["groups"] == [["sweep", ["MLP_hflip0", "MLP_hflip0.5"]]]
    plain = experiment({**config, "sweep": {"lr": [0.1, 0.01]}})
    assert not plain.draws.shared, "no shuffle, no augmentation: a seed draws only the weights"


def test_comparison_groups_declare_their_baselines() -> None:
    assert experiment(SWEEP).groups == (
        ("sweep", ("MLP_lr1", "MLP_lr0.1")),
        ("variants", ("base", "deeper")),
    )
    ladder = {**SWEEP, "sweep": {}, "cumulative": True}
    assert experiment(ladder).groups == (("ladder", ("base", "deeper")),)


def test_a_network_from_a_file_is_compared_with_the_built_in_ones() -> None:
    config = {"networks": ["HW4Net1", "mynets/resnetish.py:ResNetish"], "seeds": [0], "train": {}}
    exp = experiment(config)
    assert exp.groups == (("networks", ("HW4Net1", "ResNetish")),)
    ref = exp.variants["ResNetish"].network
    assert (ref.name, ref.file, ref.builtin) == ("ResNetish", "mynets/resnetish.py", False)
    assert ref.code_files(Path("src")) == ["mynets/resnetish.py", "src/visionrepro/models/user.py"]


def test_network_references_parse_once_and_say_what_is_wrong() -> None:
    assert parse_network("HW4Net1").entry.module == "hw4net"
    assert parse_network("Nope").entry is None
    with pytest.raises(ValueError, match="<file>.py:<Class>"):
        parse_network("nets/tiny.txt:Tiny")


def test_what_a_seed_draws() -> None:
    fixed = seed_draws([{"shuffle": False}], [{}], None)
    assert fixed.varies == ("initial weights",) and not fixed.shared
    assert fixed.fixed == ("the data and its splits", "the evaluation set", "batch order")
    color = seed_draws([{}], [{"dropout": 0.3}], {"seed": "run"})
    assert color.varies == ("initial weights", "batch order", "palette", "dropout masks")
    assert color.note().startswith("A seed draws the initial weights, batch order, palette")


def test_one_layout_for_rules_compare_and_report() -> None:
    layout = Layout("res", "dat")
    assert layout.run_dir("e", "v", 3) == "res/runs/e/v/seed3"
    assert run_path(Path("res"), "e", "v", 3) == Path(layout.run_dir("e", "v", 3))
    assert layout.run_pattern("model.pt") == "res/runs/{experiment}/{variant}/seed{seed}/model.pt"
    assert layout.packed_masks("coco", "val") == "dat/coco/packed/val_masks.npz"


def _writeup(tmp_path: Path, name: str, text: str) -> writeups.Writeup:
    (tmp_path / f"{name}.yaml").write_text(text)
    schema = yaml.safe_load((PROJECT / "schemas" / "writeup.schema.yaml").read_text())
    return writeups.load_writeup(name, tmp_path, schema)


def test_write_ups_merge_under_the_config_and_the_demo(tmp_path: Path) -> None:
    w = _writeup(
        tmp_path,
        "mine",
        "title: Mine\nexperiments:\n  e: {seeds: [0, 1], train: {epochs: 5, lr: 0.1}}\n"
        "demo:\n  e: {train: {epochs: 1}}\n",
    )
    assert writeups.experiments([w], {}, demo=False)["e"]["train"] == {"epochs": 5, "lr": 0.1}
    demo = writeups.experiments([w], {"e": {"seeds": [0]}}, demo=True)["e"]
    assert demo.pop("writeup")["name"] == "mine"  # its coverage record, for the report
    assert demo == {"seeds": [0], "train": {"epochs": 1, "lr": 0.1}}
    with pytest.raises(ValueError, match="defined by"):
        writeups.experiments([w, w], {}, demo=False)


def test_a_bad_write_up_is_named_with_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"mine.yaml: 'title' is a required property"):
        _writeup(tmp_path, "mine", "experiments: {}\n")
    with pytest.raises(ValueError, match=r"writeups: 'nope' names no file"):
        writeups.load_writeup("nope", tmp_path, {})


def test_the_default_write_ups_give_the_experiments_in_the_report_order() -> None:
    config = yaml.safe_load((PROJECT / "config.yaml").read_text())
    schema = yaml.safe_load((PROJECT / "schemas" / "writeup.schema.yaml").read_text())
    loaded = [writeups.load_writeup(n, PROJECT / "writeups", schema) for n in config["writeups"]]
    assert [w.name for w in loaded] == ["hw4", "ds5220", "adelaide", "usi", "csc413"]
    names = list(writeups.experiments(loaded, {}, demo=False))
    assert names[:2] == ["coco_gray", "coco_rgb"]
    assert names[-2:] == ["cifar10_colour", "cifar10_colour_batch"]
    assert all(w.differences for w in loaded), "every write-up says how the pipeline differs"


def test_parsing_the_workflow_imports_no_torch_pandas_or_scipy() -> None:
    # The modules rules/*.smk import while Snakemake parses the workflow.
    code = (
        "import sys\n"
        "import visionrepro.plan, visionrepro.plan.figures, visionrepro.plan.outputs\n"
        "import visionrepro.code_inputs, visionrepro.report.landing, visionrepro.engine.gpus\n"
        "import visionrepro.report.shown_params, visionrepro.data.transport.fetch\n"
        "import visionrepro.data.torchvision_config\n"
        "print(sorted({'torch', 'pandas', 'scipy', 'matplotlib', 'sklearn'} & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT
    )
    assert out.stdout.strip() == "[]"


def test_an_old_figure_name_says_its_new_one() -> None:
    from visionrepro.plan.load import check_figures

    with pytest.raises(
        ValueError, match=r"\['colour_examples'\] are now called \['color_examples'\]"
    ):
        check_figures("e", {"figures": ["colour_examples"]})
    with pytest.raises(ValueError, match=r"unknown \['nope'\]; figures: \["):
        check_figures("e", {"figures": ["nope"]})
    check_figures("e", {"figures": ["color_examples", "curves"]})
