"""Built-in VSR/SISR models and the degradations that make their LR inputs.

``load_model(name, weights=PATH, device=...)`` returns an :class:`SRModel`.
"""
from __future__ import annotations

from vsrbench.baselines.registry import MODELS, Checkpoint, ModelSpec, SRModel, register_model

# model modules register themselves on import
from vsrbench.baselines import bicubic, duf, enet, frvsr  # noqa: E402,F401  isort: skip


def load_model(name: str, weights=None, device="cpu", **options) -> SRModel:
    """Build model ``name`` and load its weights (a path; looked up locally when None).

    Parameters
    ----------
    name : str
        A model of :data:`MODELS` (``vsrbench models`` lists them), e.g. ``"bicubic"``, ``"duf-52l"``, ``"tecogan"``.
    weights : str or os.PathLike, optional
        The weights file (or checkpoint prefix) of models that need one; looked up locally when None.
    device : str
        Where the model runs (``"cpu"``, ``"cuda"``, ``"cuda:N"``).
    **options
        Keyword arguments of the model's builder.

    Returns
    -------
    SRModel
        A model whose ``upscale(lr_frames)`` yields one HR frame (float32, [0, 1] units) per LR frame.

    Raises
    ------
    vsrbench.core.errors.UnknownNameError
        An unknown model name (the message suggests the closest one).
    vsrbench.core.errors.WeightsError
        A weights file that is missing or unreadable (the message says where it was looked for).

    Examples
    --------
    >>> import numpy as np
    >>> model = load_model("bicubic")
    >>> [hr.shape for hr in model.upscale([np.zeros((8, 12, 3), np.uint8)])]
    [(32, 48, 3)]
    """
    spec = MODELS[name]
    return spec.builder(weights=weights, device=device, **options)


__all__ = ["MODELS", "Checkpoint", "ModelSpec", "SRModel", "register_model", "load_model"]
