"""One rule for ``--device`` / ``device=`` everywhere: 'auto', 'cpu', 'cuda' or 'cuda:N'."""
from __future__ import annotations

from typing import TYPE_CHECKING

from vsrbench.core.errors import InputError

if TYPE_CHECKING:
    import torch

__all__ = ["resolve_device"]


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
