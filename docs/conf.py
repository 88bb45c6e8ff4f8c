"""Sphinx configuration of the vsrbench documentation (``sphinx-build -W -b html docs OUT``).

Offline by design: no intersphinx, no remote theme, no downloads while building. The CLI reference
is generated from the argparse parser (``docs/_ext/cli_reference.py``), the API pages from the
docstrings (autodoc + napoleon, numpy style).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import vsrbench  # noqa: E402  (the installed package: pip install -e ".[docs]")

project = "vsrbench"
author = "the vsrbench authors"
release = version = vsrbench.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "cli_reference",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
# (a heading's anchor: [text](page.md#its-slug) works across pages)
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_mock_imports = ["ray"]  # the optional Ray plug-in documents without Ray installed
napoleon_google_docstring = True  # the house's "Attributes:" blocks
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# TOML and console blocks are shown as text when Pygments lacks a lexer; never a warning
highlight_language = "none"
# "--out" stays two hyphens in prose and in the CLI reference (no typographic dashes or quotes)
smartquotes = False

html_theme = "alabaster"
html_title = f"vsrbench {release}"
html_static_path: list[str] = []
html_theme_options = {"description": "Video super-resolution evaluation with exact, named protocols",
                      "page_width": "1180px", "sidebar_width": "230px"}
