"""What a run record says about the software and the machine it ran on (``vsrbench run``,
``vsrbench evaluate`` and ``vsrbench drift`` record the same fields)."""
from __future__ import annotations

import platform
import socket
import sys
from importlib import metadata
from typing import Any

from vsrbench import __version__

__all__ = ["EXECUTION_KEY", "LIBRARIES", "library_versions", "run_environment"]

#: the key of a run record's ``bench`` JSON that says where its sequences were scored:
#: ``{"executor": "local", "workers": 2, "workers_asked": 2}`` (``executor.describe()``, and ``--workers`` as given)
EXECUTION_KEY = "execution"
LIBRARIES = {  # label -> distribution names to try
    "torch": ("torch",),
    "numpy": ("numpy",),
    "opencv": ("opencv-contrib-python", "opencv-python", "opencv-python-headless", "opencv-contrib-python-headless"),
    "scikit-image": ("scikit-image",),
    "scipy": ("scipy",),
    "pandas": ("pandas",),
}


def run_environment() -> dict[str, Any]:
    """The fields of a run record that say with what and where it ran (version, libraries, host,
    Python, command line); shared by ``vsrbench run`` and ``vsrbench evaluate``."""
    return {
        "vsrbench_version": __version__,
        "libraries": library_versions(),
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "argv": sys.argv,
    }


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries that can change a number."""
    out: dict[str, str | None] = {}
    for label, dists in LIBRARIES.items():
        out[label] = None
        for dist in dists:
            try:
                out[label] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return out
