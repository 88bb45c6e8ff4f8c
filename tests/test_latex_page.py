"""The standalone LaTeX of a comparison table fits one page (issue 20 §5): the notes follow the tabular inside the
float, left aligned and escaped; every block holds one line per method and BI/BD rows are in blocks of their own;
the tabular and the notes are scaled to their share of the page. Compiled when pdflatex is installed."""
from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest

from vsrbench.analysis.render import LATEX_NOTES_HEIGHT, LATEX_TABLE_HEIGHT, latex_escape, render_tables
from vsrbench.analysis.tables import build_table
from vsrbench.catalog.published import load_published
from vsrbench.metrics import METRICS, get_protocol

Y = get_protocol("basicsr-y")
HEADER = "method,suite,degradation,metric,value,sequence,averaging,convention,source,note"
CONVENTIONS = ("basicsr-y", "basicsr-y[crop_border=8]", "basicsr-rgb", "tecogan", "duf", "not stated")


def _published(tmp_path):
    """48 rows: 8 methods x 6 conventions, BI and BD alternating, sources with LaTeX's special characters."""
    lines = [HEADER]
    for m in range(8):
        for k, conv in enumerate(CONVENTIONS):
            deg = "BI" if (m + k) % 2 else "BD (sigma 1.6)"
            lines.append(f"Net_{m}&Co,vid4,{deg},psnr,{27 + 0.1 * m + 0.01 * k:.2f},,seq_avg,{conv},"
                         f"\"Paper {m} (50% of {k}#, ~x^2 --published)\",")
    (tmp_path / "pub.csv").write_text("\n".join(lines) + "\n")
    return load_published(tmp_path / "pub.csv")


def _results() -> pd.DataFrame:
    recs = [dict(method=meth, dataset="Vid4", sequence=seq, frame=f, frame_name=f"{f:04d}.png", metric="psnr",
                 value=v + f, protocol=Y.name, protocol_hash=Y.hash, metric_version=METRICS["psnr"].version)
            for meth, v in (("Mine", 27.2), ("Bicubic", 23.0)) for seq in ("calendar", "city") for f in range(3)]
    return pd.DataFrame(recs)


@pytest.fixture
def table(tmp_path):
    return build_table(_results(), published=_published(tmp_path), info={"suite": "vid4"}, metrics=["psnr"],
                       by_convention=True)


def test_notes_follow_the_tabular_inside_the_float_left_aligned_and_escaped(table):
    tex = render_tables([table], "latex", standalone=True)
    assert "\\pagestyle{empty}" in tex and tex.count("\\begin{table}") == 1
    start, end = tex.index("\\end{tabular}"), tex.index("\\end{table}")
    box = tex.index("\\parbox{\\linewidth}{\\raggedright", start)
    assert start < box < end  # after the tabular, in the float, left aligned
    for note in table.notes:  # every note, escaped
        text = re.sub(r"^[†‡]\d+ ", "", note)
        assert latex_escape(text) in tex[box:end], note
    assert "-{}-published" in tex and "--published" not in tex.replace("-{}-", "")
    assert "Net\\_0\\&Co" in tex and "50\\% of 0\\#, \\textasciitilde{}x\\textasciicircum{}2" in tex
    # the tabular and the notes are shrunk to their share of the page, never enlarged
    assert tex.count(f"\\ifdim\\totalheight>{LATEX_TABLE_HEIGHT}") == 1
    assert tex.count(f"\\ifdim\\totalheight>{LATEX_NOTES_HEIGHT}") == 1
    assert tex.count("{") - tex.count("\\{") == tex.count("}") - tex.count("\\}")


def test_one_line_per_method_and_family_per_block(table):
    blocks: dict[str, list] = {}
    for row in table.rows:
        blocks.setdefault(row.group, []).append(row)
    assert len(blocks) == 2 * len(CONVENTIONS)  # BI and BD apart, for every convention
    for name, rows in blocks.items():
        methods = [r.method for r in rows]
        assert len(methods) == len(set(methods)), name
        families = {r.published["degradation"][:2] for r in rows if r.published}
        assert families == {name.split(":")[0]}, name
    tex = render_tables([table], "latex")
    heads = re.findall(r"\\multicolumn\{2\}\{@\{\}l\}\{\\textit\{(.*?)\}\} \\\\", tex)
    assert len(heads) == len(blocks) and heads[0].startswith("B")
    assert not re.search(r"^ & ", tex, re.M)  # no empty group column: the block is named in its header row


def test_the_standalone_table_compiles_on_one_page_with_every_note(tmp_path, table):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended lmodern)")
    if not subprocess.run(["kpsewhich", "lmodern.sty"], capture_output=True, text=True).stdout.strip():
        pytest.skip("lmodern.sty is not installed (apt-get install lmodern); standalone tables use it")
    (tmp_path / "t.tex").write_text(render_tables([table], "latex", standalone=True))
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert "(1 page" in log and "Float too large" not in log and "Overfull \\hbox" not in log, log[-2000:]
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils): the notes' text was not read back")
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "t.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    squeezed = re.sub(r"\s+", "", text)
    for key in [f"S{k}:" for k in range(1, 9)] + ["(a)notranked"]:
        assert key in squeezed, key
