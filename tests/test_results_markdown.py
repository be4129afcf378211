"""RESULTS.md: one section per experiment with its verdicts, device, time, code and date."""

import pandas as pd

from visionrepro.report.results_markdown import results_markdown
from visionrepro.report.verdicts import GLANCE_COLUMNS


def _row(experiment: str, variant: str, mean: float, reference: float, verdict: str) -> dict:
    return {
        "experiment": experiment,
        "variant": variant,
        "label": variant,
        "metric": "test_accuracy",
        "n_seeds": 3,
        "mean": mean,
        "std": 0.5,
        "min": mean - 0.5,
        "max": mean + 0.5,
        "ci_low": mean - 1.2,
        "ci_high": mean + 1.2,
        "reference": reference,
        "difference": mean - reference,
        "tolerance": 1.0,
        "verdict": verdict,
        "chance_seeds": 0,
        "device": "cpu",
        "train_seconds": 3725.0,
        "code_version": "git abc1234",
        "created": "2026-12-01T10:00:00",
    }


def test_results_markdown_has_the_count_and_a_section_per_experiment() -> None:
    glance = pd.DataFrame(
        [
            _row("mnist_mlp_vs_cnn", "MnistMLP", 96.8, 96.4, "reproduced"),
            _row("mnist_mlp_vs_cnn", "MnistCNN", 97.0, 98.46, "below"),
            _row("cifar10_colour", "UNet", 57.9, 58.0, "reproduced"),
        ],
        columns=GLANCE_COLUMNS,
    )
    text = results_markdown(
        glance,
        descriptions={"cifar10_colour": "Colourization of CIFAR-10 horses."},
        configfiles=["config.yaml", "real.yaml"],
        note="Seeds 0-2 of *every* network.",
    )
    assert text.startswith("# Results\n")
    assert text.index("Seeds 0-2 of *every* network.") < text.index("## mnist_mlp_vs_cnn")
    assert "**2 of 3 reference numbers reproduced; 1 below.**" in text
    assert "`config.yaml`, `real.yaml`" in text
    mnist, colour = text.split("## mnist_mlp_vs_cnn")[1].split("## cifar10_colour")
    assert "| MnistCNN " in mnist and "❌ below" in mnist and "96.80 ± 0.50" in mnist
    assert "Colourization of CIFAR-10 horses." in colour and "✅ reproduced" in colour
    assert "code git abc1234; trained 2026-12-01." in colour
    assert "1 h 02 min" in colour  # the experiment's training time
    header = next(line for line in mnist.splitlines() if line.startswith("| variant"))
    assert "reference" in header and "verdict" in header
