"""The documentation holds together: a short README whose links lead somewhere, every docs page in the
site's table of contents, docstring cross-references that name existing objects, and a site that builds
with warnings as errors (when Sphinx is installed: ``pip install -c constraints.txt -e ".[docs]"``)."""
from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = REPO / "README.md"
#: a Markdown link or image target: ](target) or ](target "title")
_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~)")


def _pages() -> list[Path]:
    """The site's Markdown pages (the extension and build folders left out)."""
    return sorted(p for p in DOCS.rglob("*.md") if not {"_build", "_ext"} & set(p.relative_to(DOCS).parts))


def _prose(text: str) -> str:
    """The text outside fenced code blocks (a ``](x)`` inside code is not a link)."""
    out, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return "\n".join(out)


def _slug(heading: str) -> str:
    """A heading's anchor as MyST (``myst_heading_anchors``) and GitHub make it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+)$", _prose(page.read_text(encoding="utf-8")),
                                                   re.MULTILINE)}


def _broken_links(page: Path) -> list[str]:
    """The relative links of a Markdown file that lead to no file, or to a heading the file does not have."""
    bad = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.is_file():
            bad.append(f"{page.name}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            bad.append(f"{page.name}: {target} (no heading '#{anchor}' in {dest.name})")
    return bad


def test_the_readme_is_short_and_its_links_lead_somewhere():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; the details belong on a docs page"
    assert _broken_links(README) == []
    links = _LINK.findall(_prose(README.read_text(encoding="utf-8")))
    assert {"docs/getting-started.md", "docs/cli.md", "docs/performance.md"} <= {t.split("#")[0] for t in links}


def test_the_docs_pages_link_to_existing_pages_and_headings():
    bad = [b for page in _pages() for b in _broken_links(page)]
    assert bad == []


def test_the_link_checker_sees_broken_links(tmp_path):
    """Not vacuous: a missing page and a missing heading are both reported."""
    (tmp_path / "a.md").write_text("# A\n\n## Some `code` here\n\n[x](b.md) [y](a.md#nope) [z](#some-code-here)\n"
                                   "```\n[not a link](c.md)\n```\n")
    assert _broken_links(tmp_path / "a.md") == ["a.md: b.md (no such file)", "a.md: a.md#nope (no heading '#nope' in a.md)"]


def _toctree_entries() -> set[Path]:
    entries = set()
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```\{toctree\}\n(.*?)```", text, re.DOTALL):
            for line in block.splitlines():
                line = line.strip()
                if line and not line.startswith(":"):
                    entries.add((page.parent / f"{line}.md").resolve())
    return entries


def test_every_docs_page_is_in_a_toctree():
    entries = _toctree_entries()
    orphans = [p.relative_to(DOCS).as_posix() for p in _pages() if p != DOCS / "index.md" and p.resolve() not in entries]
    assert len(entries) >= 10 and orphans == []


def test_ci_installs_as_the_readme_says():
    readme = README.read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    install = 'pip install -c constraints.txt -e ".[dev]"'
    assert f"{install} && vsrbench demo" in readme and f"\n{install}\n" in ci
    assert 'pip install -c constraints.txt -e ".[docs]"' in ci and "sphinx-build -W --keep-going" in ci


_REF = re.compile(r"[:{](?:func|class|mod|meth|attr|data|exc|obj|const)[:}]`[~!]?(?:[^`<]*<)?(vsrbench\.[\w.]+)>?`")


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_the_docstrings_cross_references_name_existing_objects():
    """Every fully qualified reST reference (``:func:`vsrbench.x.y```) in the code and the docs names an object that
    exists (modules moved in the reorganisation; a stale path is a dead link on the API pages)."""
    sources = [p for folder in ("vsrbench", "metrics", "baselines") for p in (REPO / folder).rglob("*.py")]
    refs = {}
    for path in [*sources, *_pages()]:
        for name in _REF.findall(path.read_text(encoding="utf-8")):
            refs.setdefault(name, path.relative_to(REPO).as_posix())
    assert len(refs) > 30  # not vacuous
    stale = sorted(f"{where}: {name}" for name, where in refs.items() if not _resolves(name))
    assert stale == []


#: modules without an API page: the re-export shims kept for old deep imports (they define nothing) and the
#: sub-commands, whose reference is the command-line page generated from the parser they build
_NO_API_PAGE = ("vsrbench.io", "vsrbench.store", "vsrbench.tables", "vsrbench.plots", "vsrbench.suites", "vsrbench.stats",
                "vsrbench.report", "vsrbench.figures", "vsrbench.commands")
_AUTOMODULE = re.compile(r"^\s*\.\. automodule:: ([\w.]+)\s*$", re.MULTILINE)


def _public_modules() -> list[str]:
    """Every module of the installed packages by its import name (``metrics/`` is ``vsrbench.metrics``),
    private modules (``_kernels``, ``_options``, ``__main__``) left out."""
    names = []
    packages = (("vsrbench", "vsrbench"), ("metrics", "vsrbench.metrics"), ("baselines", "vsrbench.baselines"))
    for folder, package in packages:
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if not any(part.startswith("_") for part in parts):
                names.append(".".join([package, *parts]))
    return names


def test_every_public_module_has_an_api_page():
    """Each public module appears in an ``automodule`` directive of the docs, and each directive names a module
    that exists: a module added (or moved) without its API page fails here, not in a reader's search."""
    documented = {name for page in _pages() for name in _AUTOMODULE.findall(page.read_text(encoding="utf-8"))}
    modules = _public_modules()
    exempt = [m for m in modules if any(m == e or m.startswith(e + ".") for e in _NO_API_PAGE)]
    missing = [m for m in modules if m not in documented and m not in exempt]
    assert len(modules) > 60 and "vsrbench.metrics.spatial" in documented  # not vacuous
    assert missing == [], "add an automodule block to a page of docs/api/ for each"
    assert sorted(documented - set(modules)) == []


@pytest.mark.slow
def test_the_site_builds_with_warnings_as_errors(tmp_path):
    if importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_parser") is None:
        pytest.skip('Sphinx or myst-parser is not installed (pip install -c constraints.txt -e ".[docs]")')
    out = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-4000:]
    from vsrbench.cli import build_parser

    cli = (out / "cli.html").read_text(encoding="utf-8")
    commands = [a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction"][0].choices
    missing = [name for name in commands if f'id="cli-vsrbench-{name}"' not in cli]
    assert len(commands) >= 15 and missing == []  # the reference is generated from the parser: every command is there
    api = (out / "api" / "metrics.html").read_text(encoding="utf-8")
    assert 'id="vsrbench.metrics.spatial.psnr"' in api and 'id="vsrbench.evaluate.evaluate_sequence"' in (
        out / "api" / "evaluate.html").read_text(encoding="utf-8")
