"""Local look-up of pretrained weights. Nothing is ever downloaded.

Search order for a file name:

1. an explicit ``path`` argument (a file, or a folder holding the file);
2. the vsrbench weights folder: ``$VSRBENCH_HOME`` or ``~/.cache/vsrbench``
   (also its ``weights/`` sub-folder);
3. torch's hub cache ``$TORCH_HOME/hub/checkpoints`` (``TORCH_HOME`` defaults to
   ``$XDG_CACHE_HOME/torch`` or ``~/.cache/torch``), where torchvision keeps its files.

When the file is missing, :class:`~vsrbench.core.errors.WeightsError` names the file, every
place searched, where its authors publish it and how to place it.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from vsrbench.core.errors import WeightsError


def vsrbench_home() -> Path:
    env = os.environ.get("VSRBENCH_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vsrbench"


def torch_hub_checkpoints() -> Path:
    env = os.environ.get("TORCH_HOME")
    if env:
        base = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "torch"
    return base / "hub" / "checkpoints"


def search_dirs() -> list[Path]:
    home = vsrbench_home()
    return [home, home / "weights", torch_hub_checkpoints()]


def sha256sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def find_weights(
    filename: str,
    *,
    path: str | os.PathLike | None = None,
    source: str | None = None,
    sha256: str | None = None,
) -> Path:
    """Return the local path of weights file ``filename``.

    ``path`` may name the file itself (any name) or a folder that holds ``filename``.
    ``source`` says where the authors publish the file (used in the error message).
    ``sha256``, when given, is checked against the file found.
    """
    searched: list[Path] = []
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return _verified(p, sha256)
        if p.is_dir() and (p / filename).is_file():
            return _verified(p / filename, sha256)
        raise WeightsError(
            f"weights file {filename!r} not found at the given path {str(p)!r}"
            + (f"; the authors publish it at {source}" if source else "")
        )
    for d in search_dirs():
        cand = d / filename
        searched.append(cand)
        if cand.is_file():
            return _verified(cand, sha256)
    where = ", ".join(str(s) for s in searched)
    get = f"; get it from {source}" if source else ""
    raise WeightsError(
        f"weights file {filename!r} not found (searched: {where}){get}; "
        f"place it in {vsrbench_home()} (or set VSRBENCH_HOME) or pass its path explicitly"
    )


def _verified(path: Path, sha256: str | None) -> Path:
    if sha256:
        got = sha256sum(path)
        if got != sha256:
            raise WeightsError(
                f"weights file {str(path)!r} has sha256 {got}, expected {sha256}: "
                "it is not the published file (corrupt, truncated or a different release)"
            )
    return path
