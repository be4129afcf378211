"""Tests for the experiment grid: plain networks, sweeps, explicit and cumulative variants."""

import pytest

from visionrepro.grid import expand

BASE = {"networks": ["A", "B"], "seeds": [0, 1], "train": {"lr": 0.01, "epochs": 10}}


def test_without_sweep_or_variants_each_network_is_a_variant() -> None:
    grid = expand(BASE)
    assert list(grid) == ["A", "B"]
    assert grid["A"] == {
        "network": "A",
        "train": BASE["train"],
        "network_options": {},
        "seeds": [0, 1],
        "label": "A",
    }


def test_sweep_expands_every_network_and_combination_in_order() -> None:
    grid = expand({**BASE, "sweep": {"lr": [1.0, 0.1, 0.001], "batch_size": [32, 64]}})
    assert list(grid)[:3] == ["A_lr1_batch_size32", "A_lr1_batch_size64", "A_lr0.1_batch_size32"]
    assert len(grid) == 2 * 3 * 2
    run = grid["B_lr0.001_batch_size64"]
    assert run["network"] == "B"
    assert run["train"] == {"lr": 0.001, "epochs": 10, "batch_size": 64}
    assert run["label"] == "B lr=0.001, batch_size=64"
    assert BASE["train"] == {"lr": 0.01, "epochs": 10}  # the config is not modified


def test_sweep_and_explicit_variants_together() -> None:
    exp = {
        **BASE,
        "networks": ["A"],
        "sweep": {"lr": [1.0, 0.1]},
        "variants": [{"name": "deep", "network": "D", "train": {"epochs": 20}, "seeds": [5]}],
    }
    grid = expand(exp)
    assert list(grid) == ["A_lr1", "A_lr0.1", "deep"]
    assert grid["deep"]["train"] == {"lr": 0.01, "epochs": 20}
    assert grid["deep"]["seeds"] == [5] and grid["A_lr1"]["seeds"] == [0, 1]


def test_sweep_labels_name_the_network_when_there_are_several() -> None:
    two = expand({**BASE, "sweep": {"lr": [0.001, 0.003]}})
    assert [v["label"] for v in two.values()] == [
        "A lr=0.001",
        "A lr=0.003",
        "B lr=0.001",
        "B lr=0.003",
    ]
    one = expand({**BASE, "networks": ["A"], "sweep": {"lr": [0.001, 0.003]}})
    assert [v["label"] for v in one.values()] == ["lr=0.001", "lr=0.003"]


def test_explicit_variants_are_added_to_the_plain_networks_and_stand_alone() -> None:
    exp = {
        **BASE,
        "variants": [
            {"name": "wd", "train": {"weight_decay": 1e-5}},
            {"name": "drop", "network_options": {"dropout": 0.5}},
        ],
    }
    grid = expand(exp)
    assert list(grid) == ["A", "B", "wd", "drop"]
    assert grid["B"] == expand(BASE)["B"]  # the plain networks stay as they were
    assert grid["drop"]["train"] == BASE["train"]  # not cumulative: wd is not carried over
    assert grid["drop"]["network"] == "A"


def test_a_label_given_to_two_runs_is_an_error() -> None:
    exp = {**BASE, "variants": [{"name": "wd", "label": "B"}]}
    with pytest.raises(ValueError, match=r"labels \['B'\].*`label`"):
        expand(exp)


def test_cumulative_variants_add_to_the_previous_one() -> None:
    exp = {
        **BASE,
        "network_options": {"in_channels": 3},
        "cumulative": True,
        "variants": [
            {"name": "base"},
            {"name": "wd", "train": {"weight_decay": 1e-5}},
            {"name": "drop", "train": {"epochs": 25}, "network_options": {"dropout": 0.5}},
            {"name": "bn", "train": {"lr": 7e-4}, "network_options": {"batchnorm": True}},
        ],
    }
    grid = expand(exp)
    assert list(grid) == ["base", "wd", "drop", "bn"]  # a ladder's rungs are its only runs
    assert grid["base"]["network"] == "A"
    assert grid["base"]["train"] == BASE["train"]
    assert grid["bn"]["train"] == {"lr": 7e-4, "epochs": 25, "weight_decay": 1e-5}
    assert grid["bn"]["network_options"] == {"in_channels": 3, "dropout": 0.5, "batchnorm": True}
    assert grid["wd"]["network_options"] == {"in_channels": 3}


def test_a_name_made_twice_is_an_error() -> None:
    exp = {**BASE, "sweep": {"lr": [1.0]}, "variants": [{"name": "A_lr1"}]}
    with pytest.raises(ValueError, match="A_lr1"):
        expand(exp)
