#!/usr/bin/env python3
"""Check (or, with --strip, clean) committed notebooks: no outputs, no execution counts, the leukolab kernel.

    python tools/check_notebooks.py [--strip] [NOTEBOOK ...]     (default: notebooks/*.ipynb)

Notebooks are committed without outputs; the runner writes executed copies under build/.
Exit status 1 lists every notebook that breaks the rule.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "leukolab"


def problems(nb) -> list[str]:
    out = []
    for i, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            out.append(f"cell {i} holds {len(cell.outputs)} output(s)")
        if cell.get("execution_count") is not None:
            out.append(f"cell {i} has an execution count")
    ks = nb.metadata.get("kernelspec", {}).get("name")
    if ks != KERNEL:
        out.append(f"kernelspec is {ks!r}, not {KERNEL!r}")
    return out


def strip(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Java (leukolab)", "language": "java"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--strip", action="store_true", help="remove outputs in place instead of failing")
    a = ap.parse_args(argv)
    paths = [Path(p) for p in a.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    bad = 0
    for p in paths:
        nb = nbformat.read(str(p), as_version=4)
        found = problems(nb)
        if found and a.strip:
            strip(nb)
            nbformat.write(nb, str(p))
            print(f"stripped {p}")
        elif found:
            bad += 1
            print(f"{p}: " + "; ".join(found), file=sys.stderr)
    if bad:
        print(f"{bad} notebook(s) must be committed without outputs: run python tools/check_notebooks.py --strip",
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
