"""Mixed precision: `train.precision` fp32 (the default), bf16 or fp16.

bf16 and fp16 run the forward pass and the loss under `torch.autocast`; the weights and the
optimizer state stay fp32. fp16 needs CUDA and a gradient scaler (its range is too small for
small gradients); bf16 has fp32's range and runs on the CPU and on GPUs that support it.
"""

from contextlib import AbstractContextManager

import torch

PRECISIONS = ("fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision: str, device: torch.device) -> None:
    """Refuse a precision the device cannot run, naming the key and what to use instead (the
    value itself is checked by TrainSettings)."""
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(
            "train.precision: fp16 needs a CUDA GPU (on a CPU, autocast to fp16 is slow and "
            "has no gradient scaler); use bf16 on a CPU, or fp32"
        )
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(
            "train.precision: this GPU does not support bf16; use fp16 (with a gradient scaler) "
            "or fp32"
        )


def autocast(precision: str, device: torch.device) -> AbstractContextManager:
    """The context for forward and loss: autocast to the precision's dtype (off for fp32)."""
    return torch.autocast(
        device.type, dtype=DTYPES.get(precision, torch.bfloat16), enabled=precision != "fp32"
    )


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """A gradient scaler, active for fp16 only (a pass-through otherwise)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")
