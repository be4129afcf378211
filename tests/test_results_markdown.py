"""RESULTS.md: one section per experiment with its verdicts, seeds, device, time, code, data and
date; a synthetic-data warning on top of the demo's."""

import json

import pandas as pd

from visionrepro.report.html import banner
from visionrepro.report.results_markdown import results_markdown
from visionrepro.report.verdicts import glance_table, headline_line


def _runs(form: str = "original") -> pd.DataFrame:
    values = {
        ("mnist_mlp_vs_cnn", "MnistMLP"): [96.3, 96.5, 96.4],
        ("mnist_mlp_vs_cnn", "MnistCNN"): [96.7, 96.8, 96.9],
        ("cifar10_colour", "UNet"): [57.9, 58.0, 58.1],
    }
    return pd.DataFrame(
        [
            {
                "experiment": experiment,
                "variant": variant,
                "seed": seed,
                "test_accuracy": value,
                "chance": False,
                "n_classes": 10,
                "n_eval": 10000,
                "settings": json.dumps({"train": {"epochs": 10}}),
                "data_form": form,
                "device_name": "cpu",
                "threads": 1,
                "train_seconds": 3725.0 / 3,
                "code_version": "git abc1234",
                "data_version": "sha256 0123456789ab",
                "cpu": "Test CPU @ 2 GHz",
                "torch": "2.14.1",
                "created": "2026-12-01T10:00:00",
            }
            for (experiment, variant), seeds in values.items()
            for seed, value in enumerate(seeds)
        ]
    )


SETTINGS = {
    "mnist_mlp_vs_cnn": {
        "metric": "test_accuracy",
        "reference": {"MnistMLP": {"test_accuracy": 96.4}, "MnistCNN": {"test_accuracy": 98.46}},
    },
    "cifar10_colour": {"metric": "test_accuracy", "reference": {"UNet": {"test_accuracy": 58}}},
}


def _markdown(form: str = "original", synthetic_in: tuple[str, ...] = ()) -> str:
    runs = _runs(form)
    runs.loc[runs["experiment"].isin(synthetic_in), "data_form"] = "synthetic"
    return results_markdown(
        glance_table(runs, SETTINGS),
        experiments={
            "cifar10_colour": {
                "description": "Colourization of CIFAR-10 horses.",
                "seed_note": "A seed draws the initial weights, batch order.",
            }
        },
        configfiles=["config.yaml", "real.yaml"],
        note="Seeds 0-2 of *every* network.",
        runs=runs,
    )


def test_results_markdown_has_the_count_and_a_section_per_experiment() -> None:
    text = _markdown()
    assert text.startswith("# Results\n") and "Synthetic data" not in text
    assert text.index("Seeds 0-2 of *every* network.") < text.index("## mnist_mlp_vs_cnn")
    # MnistCNN is below on its own (p = 0.029), not once its family of 3 is taken together.
    assert (
        "**3 reference numbers: 3 compared like for like (2 consistent; 1 below). Holm over the "
        "3 like-for-like references: none below or above (family-wise 5 %; one by one, 3 "
        "same-recipe references would give a false one 14 % of the time).**"
    ) in text
    assert "`config.yaml`, `real.yaml`" in text and "prediction interval" in text
    assert "- Data: sha256 0123456789ab" in text and "CPU: Test CPU @ 2 GHz" in text
    assert "torch 2.14.1" in text
    mnist, color = text.split("## mnist_mlp_vs_cnn")[1].split("## cifar10_colour")
    assert "| MnistCNN " in mnist and "❌ below (beyond ±1, p = 0.029" in mnist
    assert "96.40 ± 0.10" in mnist
    assert "Colourization of CIFAR-10 horses." in color and "✅ consistent" in color
    assert "A seed draws the initial weights, batch order." in color
    assert "over 3 runs; code git abc1234; data sha256 0123456789ab; trained 2026-12-01." in color
    assert "1 h 02 min" in color  # the experiment's training time
    header = next(line for line in mnist.splitlines() if line.startswith("| variant"))
    assert "one new run, 95 % PI" in header and "verdict" in header


def test_the_demos_results_say_the_data_is_synthetic_and_judge_nothing() -> None:
    text = _markdown("synthetic")
    assert text.index("> **Synthetic data.**") < text.index("**3 reference numbers")
    assert "0 compared like for like, 3 not comparable" in text
    assert "⚪ not comparable: synthetic data" in text
    assert "✅" not in text and "❌" not in text


def test_a_mixed_run_names_its_synthetic_experiments() -> None:
    """Real data beside the demo's: the warning names the synthetic experiments only, and the
    real one keeps its verdicts."""
    text = _markdown(synthetic_in=("cifar10_colour",))
    warning = next(line for line in text.splitlines() if line.startswith("> **Synthetic data.**"))
    assert "The data of 1 of these 2 experiments is synthetic (the demo's): cifar10_colour." in (
        warning
    )
    assert "these runs is synthetic" not in text and "mnist_mlp_vs_cnn" not in warning
    mnist, color = text.split("## mnist_mlp_vs_cnn")[1].split("## cifar10_colour")
    assert "not comparable: synthetic data" in color and "synthetic" not in mnist
    runs = _runs()
    runs.loc[runs["experiment"] == "cifar10_colour", "data_form"] = "synthetic"
    glance = glance_table(runs, SETTINGS)
    assert headline_line(glance).startswith("Synthetic data in cifar10_colour (the demo's, not")
    assert "1 of these 2 experiments is synthetic (the demo&#39;s): cifar10_colour" in banner(
        glance
    )
    everything = glance_table(_runs("synthetic"), SETTINGS)
    assert "The data of these runs is synthetic" in banner(everything)
    assert headline_line(everything).startswith("Synthetic data (the demo's), no reference")
