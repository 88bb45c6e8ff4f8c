"""Package discovery for the two folders installed under another name.

``metrics/`` is installed as ``vsrbench.metrics`` and ``baselines/`` as ``vsrbench.baselines``
(``[tool.setuptools.package-dir]`` in pyproject.toml). setuptools' automatic discovery cannot rename
folders, so the package list is discovered here instead of kept by hand: every package under
``vsrbench/`` and every package under the two renamed folders. Everything else is in pyproject.toml.
"""
from setuptools import find_packages, setup


def _packages() -> list[str]:
    found = find_packages(include=["vsrbench", "vsrbench.*"])
    for folder in ("metrics", "baselines"):
        found += [f"vsrbench.{folder}"] + [f"vsrbench.{folder}.{sub}" for sub in find_packages(folder)]
    return sorted(found)


setup(packages=_packages())
