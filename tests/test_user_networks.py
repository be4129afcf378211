"""Networks from a file of the project (`nets/tiny.py:TinyNet`): loading, the checks run before
any job, naming in the grid, and a trained run's model.pt read back with weights_only."""

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from visionrepro.data.sources import ImageFolder, Torchvision
from visionrepro.engine.checkpoints import load_trained, save_trained
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import predict_with_loss, train
from visionrepro.grid import expand
from visionrepro.models import build_network, count_parameters
from visionrepro.models.user import NetworkFileError, check_file_network
from visionrepro.networks import parse_network
from visionrepro.plan.load import check_builtin_networks, resolved_variants
from visionrepro.plan.model import Experiment
from visionrepro.tasks import task

TINY = "nets/tiny.py:TinyNet"
SOURCE = '''
from torch import nn


class TinyNet(nn.Module):
    def __init__(self, num_classes, width=4, in_channels=3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, width, 3, padding=1)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.head(self.conv(x).mean(dim=(2, 3)))


class NoClasses(nn.Module):
    def __init__(self, width=4):
        super().__init__()


class Dense(nn.Module):
    """Per-pixel scores: a segmentation network."""

    def __init__(self, num_classes):
        super().__init__()
        self.conv = nn.Conv2d(3, num_classes, 1)

    def forward(self, x):
        return self.conv(x)


class FixedSize(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.fc = nn.Linear(3 * 64 * 64, num_classes)

    def forward(self, x):
        return self.fc(x.flatten(1))


def helper():
    return 1
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the working directory) with nets/tiny.py."""
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets/tiny.py").write_text(SOURCE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(network: str, task: str = "classification", size: int = 32, **options) -> int:
    return check_file_network(
        network, num_classes=5, options=options, input_shape=(3, size, size), task=task
    )


def test_a_file_network_is_built_named_and_sourced_like_a_built_in(project: Path) -> None:
    model = build_network(TINY, 5, width=6)
    assert count_parameters(model) == (3 * 6 * 9 + 6) + (6 * 5 + 5)
    assert parse_network(TINY).name == "TinyNet" and parse_network("HW4Net1").name == "HW4Net1"
    assert parse_network(TINY).source_file() == Path(
        "nets/tiny.py"
    )  # relative: an input of its runs
    assert check(TINY, width=6) == count_parameters(model)
    assert check("nets/tiny.py:Dense", task="segmentation") == 3 * 5 + 5


@pytest.mark.parametrize(
    ("network", "task", "options", "message"),
    [
        ("nets/none.py:TinyNet", "classification", {}, "nets/none.py does not exist"),
        (
            "nets/tiny.py:Tiny",
            "classification",
            {},
            "defines no torch.nn.Module class 'Tiny'; its network classes: ['Dense', "
            "'FixedSize', 'NoClasses', 'TinyNet']",
        ),
        ("nets/tiny.py:helper", "classification", {}, "defines no torch.nn.Module class"),
        ("nets/tiny.py:NoClasses", "classification", {}, "cannot be called with num_classes=5"),
        ("nets/tiny.py:TinyNet", "classification", {"depth": 2}, "unexpected keyword argument"),
        (
            "nets/tiny.py:TinyNet",
            "segmentation",
            {},
            "gives an output of shape (1, 5) for one input of shape 1x3x32x32; a segmentation "
            "network with 5 classes must give (1, 5, 32, 32)",
        ),
        ("nets/tiny.py:Dense", "classification", {}, "must give (1, 5)"),
        ("nets/tiny.py:FixedSize", "classification", {}, "fails on one input of the experiment"),
        ("nets/tiny.txt:TinyNet", "classification", {}, "is written <file>.py:<Class>"),
    ],
)
def test_a_network_that_cannot_serve_is_refused_with_the_reason(
    project: Path, network: str, task: str, options: dict, message: str
) -> None:
    with pytest.raises(ValueError) as err:
        check(network, task, **options)
    assert message in str(err.value)


def test_a_file_that_fails_to_import_is_named(project: Path) -> None:
    (project / "nets/broken.py").write_text("import torch\nraise RuntimeError('oops')\n")
    with pytest.raises(NetworkFileError, match=r"nets/broken.py fails to import: RuntimeError"):
        check("nets/broken.py:Net")


def test_runs_are_named_by_the_class() -> None:
    exp = {
        "networks": ["HW4Net1", TINY],
        "sweep": {"lr": [0.1, 0.01]},
        "train": {"epochs": 1},
        "seeds": [0],
    }
    grid = expand(exp)
    assert list(grid) == ["HW4Net1_lr0.1", "HW4Net1_lr0.01", "TinyNet_lr0.1", "TinyNet_lr0.01"]
    assert grid["TinyNet_lr0.1"]["network"] == TINY
    assert list(expand({**exp, "sweep": {}})) == ["HW4Net1", "TinyNet"]


@pytest.mark.usefixtures("one_thread")
def test_a_trained_file_network_reloads_from_model_pt(project: Path) -> None:
    from training_helpers import CPU, brightness_dataset

    train_set, val_set = brightness_dataset(20, 0, side=8), brightness_dataset(10, 1, side=8)
    settings = TrainSettings(epochs=1, batch_size=5, lr=0.01, log_every=1)
    state = train(TINY, train_set, val_set, settings, seed=0, device=CPU)
    save_trained(project / "model.pt", state, train_set.classes)
    # weights_only=True: the file holds the reference as a string, never the class.
    raw = torch.load(project / "model.pt", weights_only=True)
    assert raw["network"] == TINY
    trained = load_trained(project / "model.pt")
    inputs = torch.rand(4, 3, 8, 8)
    want, _ = predict_with_loss(state.model.eval(), inputs)
    got, _ = predict_with_loss(trained.build(), inputs)
    assert torch.equal(got, want)


def test_a_file_network_given_the_wrong_channels_is_told_its_in_channels(project: Path) -> None:
    with pytest.raises(NetworkFileError) as err:
        check_file_network(
            TINY, num_classes=5, options={}, input_shape=(1, 28, 28), task="classification"
        )
    assert "its constructor takes in_channels (3 here)" in str(err.value)
    assert str(err.value).endswith("set network_options: {in_channels: 1}")
    assert check_file_network(
        TINY,
        num_classes=5,
        options={"in_channels": 1},
        input_shape=(1, 28, 28),
        task="classification",
    )


def builtin_experiment(network: str, source, **config) -> Experiment:
    """An experiment of one built-in network on `source`."""
    config = {"networks": [network], "seeds": [0], "train": {}, **config}
    variants = resolved_variants(config)
    kind = "segmentation" if network == "UNet" else "classification"
    return Experiment("e", config, task(kind), source, variants, ())


FOLDER = SimpleNamespace(classes=["red", "green", "blue"], eval_split="val")


def test_a_built_in_network_is_dry_run_on_inputs_it_was_not_sized_for() -> None:
    folder = ImageFolder("patches", {"path": "my_images"}, FOLDER)
    at_32 = builtin_experiment("HW4Net1", folder, dataset="patches", image_size=32)
    with pytest.raises(ValueError) as err:
        check_builtin_networks(at_32)
    assert str(err.value).startswith(
        "experiments.e.networks: HW4Net1 fails on one input of the experiment's shape 1x3x32x32"
    )
    assert str(err.value).endswith(
        "HW4Net1 needs inputs of 3x64x64: set experiments.e.image_size: 64"
    )
    check_builtin_networks(builtin_experiment("HW4Net1", folder, dataset="patches", image_size=64))
    cifar = builtin_experiment("HW4Net1", Torchvision("cifar10", {}), dataset="cifar10")
    with pytest.raises(ValueError, match="cifar10's images are 32x32: use another network"):
        check_builtin_networks(cifar)


def test_a_built_in_network_of_any_size_is_told_its_in_channels() -> None:
    grey = builtin_experiment("UNet", Torchvision("mnist", {}), dataset="mnist")
    with pytest.raises(ValueError) as err:
        check_builtin_networks(grey)
    assert str(err.value) == (
        "experiments.e.networks: UNet takes 3 input channels (in_channels) and the experiment's "
        "inputs have 1: set network_options: {in_channels: 1}"
    )
    ok = builtin_experiment("UNet", Torchvision("mnist", {}), network_options={"in_channels": 1})
    check_builtin_networks(ok)


def test_a_run_records_every_project_file_it_imports(tmp_path: Path) -> None:
    import importlib.util
    import sys

    from visionrepro.provenance import imported_project_files, project_digests

    for name, text in {"nets/blocks.py": "WIDTH = 3\n", ".hidden/x.py": "Y = 1\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
        spec = importlib.util.spec_from_file_location(f"_probe_{len(sys.modules)}", tmp_path / name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    sys.modules["_probe_relative"] = type(sys)("_probe_relative")
    sys.modules["_probe_relative"].__file__ = "_classes.py"  # a name without a path: skipped
    files = imported_project_files(tmp_path)
    assert files == ["nets/blocks.py"]  # not the hidden folder's, not the library's
    digests = project_digests(tmp_path / f for f in files)
    assert list(digests.values())[0] == hashlib.sha256(b"WIDTH = 3\n").hexdigest()
