"""Mixed precision (train.precision): autocast on the CPU, the fp16 scaler path, the errors,
exact resume, and the ETA in the training log."""

import logging
import time
from dataclasses import replace

import pytest
import torch
from training_helpers import (
    CPU,
    Killed,
    assert_same_run,
    brightness_dataset,
    kill_after_first,
)

from visionrepro.engine.checkpoints import TrainState
from visionrepro.engine.precision import autocast, check_precision, grad_scaler
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import RunClock, _step, format_duration, new_state, train

pytestmark = pytest.mark.usefixtures("one_thread")
SETTINGS = TrainSettings(epochs=2, batch_size=8, lr=1e-3, hflip=0.5, log_every=2)


def test_bf16_runs_forward_under_autocast_with_fp32_weights() -> None:
    layer = torch.nn.Linear(4, 3)
    with autocast("bf16", CPU):
        out = layer(torch.randn(2, 4))
    assert out.dtype == torch.bfloat16
    assert layer.weight.dtype == torch.float32
    with autocast("fp32", CPU):
        assert layer(torch.randn(2, 4)).dtype == torch.float32


def test_fp16_on_a_cpu_is_an_error_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"train\.precision: fp16 needs a CUDA GPU.*bf16"):
        check_precision("fp16", CPU)
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainSettings(epochs=1, batch_size=4, lr=1e-3, precision="fp8")


def test_bf16_training_learns_and_differs_from_fp32() -> None:
    data, val = brightness_dataset(60, seed=0), brightness_dataset(20, seed=1)
    settings = replace(SETTINGS, epochs=3)
    fp32 = train("HW4Net1", data, val, settings, seed=0, device=CPU)
    bf16 = train("HW4Net1", data, val, replace(settings, precision="bf16"), seed=0, device=CPU)
    assert bf16.history["loss"] != fp32.history["loss"]  # other arithmetic
    losses = [entry["loss"] for entry in bf16.history["loss"]]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0]
    assert all(p.dtype == torch.float32 for p in bf16.model.parameters())  # fp32 master weights
    assert bf16.settings.precision == "bf16"


def test_bf16_run_killed_and_resumed_equals_an_uninterrupted_one(tmp_path) -> None:
    data, val = brightness_dataset(40, seed=0), brightness_dataset(10, seed=1)
    settings = replace(SETTINGS, precision="bf16")
    checkpoint = tmp_path / "checkpoint.pt"
    with pytest.raises(Killed):
        train(
            "HW4Net1",
            data,
            val,
            settings,
            seed=3,
            device=CPU,
            checkpoint=checkpoint,
            on_epoch_end=kill_after_first,
        )
    resumed = train("HW4Net1", data, val, settings, seed=3, device=CPU, checkpoint=checkpoint)
    whole = train("HW4Net1", data, val, settings, seed=3, device=CPU)
    assert_same_run((resumed.model, resumed.history), (whole.model, whole.history))


def _state(grad_steps: int = 1) -> TrainState:
    settings = replace(SETTINGS, grad_steps=grad_steps)
    return new_state(
        "HW4Net1", brightness_dataset(8, seed=0), settings, seed=0, device=CPU, network_options={}
    )


def test_a_gradient_scaler_step_matches_an_unscaled_one() -> None:
    """The fp16 path (scale, unscale for the gradient log, step, update) on the CPU: with a
    power-of-two scale the recorded gradient mean and the updated weights equal fp32's."""
    x = torch.randn(8, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    y = torch.arange(8) % 5
    loss_fn = torch.nn.CrossEntropyLoss()
    plain, scaled = _state(), _state()
    scaled.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    _step(plain, x, y, loss_fn, step=0)
    _step(scaled, x, y, loss_fn, step=0)
    assert scaled.history["grad_mean"] == pytest.approx(plain.history["grad_mean"], rel=1e-5)
    for p, q in zip(plain.model.parameters(), scaled.model.parameters(), strict=True):
        torch.testing.assert_close(p, q)
    assert scaled.scaler.get_scale() == 2.0**8  # finite gradients: the scale stays
    assert not grad_scaler("fp32", CPU).is_enabled()


def test_the_log_gives_images_per_second_and_time_left(caplog) -> None:
    data, val = brightness_dataset(32, seed=0), brightness_dataset(8, seed=1)
    with caplog.at_level(logging.INFO, logger="visionrepro.engine.training"):
        state = train("HW4Net1", data, val, SETTINGS, seed=0, device=CPU)
    steps = [r.getMessage() for r in caplog.records if " iteration " in r.getMessage()]
    assert steps and all("images/s, " in m and " left)" in m for m in steps)
    assert steps[-1].endswith(", 0 s left)")  # the run's last iteration
    assert "run done: 2 epochs in" in caplog.records[-1].getMessage()
    assert state.history["images_per_second"] > 0
    assert len(state.history["epoch_train_seconds"]) == 2


def test_eta_and_durations() -> None:
    """A resumed attempt that did 10 of its iterations in 10 s has 10 s left for 10 more."""
    clock = RunClock(time.perf_counter() - 10.0, first_iteration=10, total_iterations=30)
    assert clock.eta(20) == pytest.approx(10.0, rel=0.05)  # 10 done in 10 s, 10 to go
    assert [format_duration(s) for s in (45, 725, 12000)] == ["45 s", "12 min 5 s", "3 h 20 min"]
