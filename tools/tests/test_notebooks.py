"""Committed notebooks hold no outputs, and the runner reports a failing cell by notebook, cell and error."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import check_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_clean(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert check_notebooks.problems(nb) == [], f"{path.name} must be committed without outputs"


def _notebook(cells):
    nb = new_notebook(metadata={"kernelspec": {"name": "leukolab", "display_name": "Java (leukolab)", "language": "java"}})
    nb.cells = cells
    return nb


def test_checker_flags_outputs_and_strip_cleans_them(tmp_path):
    nb = _notebook([new_code_cell("1 + 1")])
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)]
    nb.cells[0].execution_count = 1
    p = tmp_path / "dirty.ipynb"
    nbformat.write(nb, str(p))
    assert check_notebooks.main([str(p)]) == 1
    assert check_notebooks.main(["--strip", str(p)]) == 0
    assert check_notebooks.main([str(p)]) == 0
    assert nbformat.read(str(p), as_version=4).cells[0].outputs == []


@pytest.mark.skipif(not (ROOT / ".venv/share/jupyter/kernels/leukolab/kernel.json").exists(),
                    reason="the leukolab kernel is not installed (run ./leukolab setup)")
def test_runner_names_notebook_cell_and_error(tmp_path):
    nb = _notebook([new_markdown_cell("# demo"), new_code_cell('int answer = 42;'),
                    new_code_cell('throw new IllegalStateException("boom " + answer);'),
                    new_code_cell('System.out.println("never reached");')])
    p = tmp_path / "failing.ipynb"
    nbformat.write(nb, str(p))
    out = tmp_path / "build"
    r = subprocess.run([sys.executable, str(ROOT / "tools/run_notebooks.py"), "--out", str(out), str(p)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "failing.ipynb: cell 3 (code cell 2) failed" in r.stderr, r.stderr
    assert "IllegalStateException" in r.stderr and "boom 42" in r.stderr, r.stderr
    summary = json.loads((out / "run-summary.json").read_text())
    assert summary["results"][0]["status"] == "failed"
    assert summary["meta"]["profile"] == "quick"
    executed = nbformat.read(str(out / "notebooks/failing.ipynb"), as_version=4)
    assert executed.cells[3].get("outputs", []) == []  # stopped at the failing cell
    assert (out / "html/failing.html").is_file() and (out / "index.html").is_file()


@pytest.mark.skipif(not (ROOT / ".venv/share/jupyter/kernels/leukolab/kernel.json").exists(),
                    reason="the leukolab kernel is not installed (run ./leukolab setup)")
def test_profile_reaches_the_notebook_through_the_environment(tmp_path):
    nb = _notebook([new_code_cell('System.out.println("profile=" + Profile.current());')])
    p = tmp_path / "profile.ipynb"
    nbformat.write(nb, str(p))
    out = tmp_path / "build"
    r = subprocess.run([sys.executable, str(ROOT / "tools/run_notebooks.py"), "--profile", "full", "--out", str(out), str(p)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    executed = nbformat.read(str(out / "notebooks/profile.ipynb"), as_version=4)
    assert "profile=full" in "".join(o.get("text", "") for o in executed.cells[0].outputs)
