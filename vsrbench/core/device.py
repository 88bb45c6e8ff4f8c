"""One rule for ``--device`` / ``device=`` everywhere: 'auto', 'cpu', 'cuda' or 'cuda:N'."""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from vsrbench.core.errors import InputError

if TYPE_CHECKING:
    import torch

__all__ = ["resolve_device", "ieee_fp32"]


def resolve_device(device: "str | torch.device | None" = "auto") -> "torch.device":
    """'auto' (or None) -> CUDA when available, else CPU; CUDA without a CUDA device is an InputError."""
    import torch  # here, so that importing the CLI does not load torch

    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from None
    if dev.type not in ("cpu", "cuda"):
        raise InputError(f"device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {str(device)!r} requested but no CUDA device is available (use 'cpu' or 'auto')")
    return dev


@contextmanager
def ieee_fp32(enabled: bool):
    """On CUDA (``enabled``), convolutions and matrix products in IEEE float32, not TF32 (which torch may use
    by default on Ampere and later: it moves LPIPS by ~1e-5, tLP by ~1e-4, a learned metric's score by ~1e-3
    and RAFT's flows by more than their 1e-4 px agreement). Restored on exit."""
    if not enabled:
        yield
        return
    import torch

    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    before = matmul.allow_tf32
    matmul.allow_tf32 = False
    try:
        with cudnn.flags(enabled=cudnn.enabled, benchmark=cudnn.benchmark, deterministic=cudnn.deterministic,
                         allow_tf32=False):
            yield
    finally:
        matmul.allow_tf32 = before
