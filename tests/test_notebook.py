"""The tutorial notebook runs top to bottom offline (`jupyter nbconvert --execute`, the venv's python3 kernel) and
is committed clean."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "tutorial.ipynb"


def test_notebook_is_committed_without_outputs():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is a dev dependency (pip install -e .[dev])")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.slow
def test_notebook_executes_top_to_bottom(tmp_path):
    """`jupyter nbconvert --to notebook --execute` (the command a reader runs) on a copy of the notebook."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is a dev dependency (pip install -e .[dev])")
    pytest.importorskip("nbconvert", reason="nbconvert is a dev dependency (pip install -e .[dev])")
    pytest.importorskip("ipykernel", reason="ipykernel is a dev dependency (pip install -e .[dev])")
    # Runs in tmp_path (nbconvert runs a notebook in its own folder; it writes vsrbench-tutorial/ there); the
    # kernel inherits the test's isolated VSRBENCH_HOME / TORCH_HOME, so it sees no weights, like a fresh
    # offline machine.
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           NOTEBOOK.name, "--output", "executed.ipynb", "--ExecutePreprocessor.timeout=120",
                           "--ExecutePreprocessor.kernel_name=python3"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    work = tmp_path / "vsrbench-tutorial"
    assert (work / "results" / "results.sqlite").is_file()
    assert "\\toprule" in (work / "leaderboard.tex").read_text()
    assert sorted(p.name for p in (work / "figures").glob("*.png")) == [
        "bars_tutorial_psnr.png", "bars_tutorial_ssim.png", "bars_tutorial_tof.png", "curves_tutorial_pan.png",
        "profiles_tutorial_pan.png", "tradeoff_tutorial_tof_psnr.png"]
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(shown) == 2  # the curves and the profiles are displayed inline
    table = [o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if "text/markdown" in o.get("data", {})]
    assert len(table) == 1 and "| bicubic-tf | **" in table[0] and "PSNR reported" in table[0]
