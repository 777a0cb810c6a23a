#!/usr/bin/env python3
"""Numbers quoted in prose, checked against the recorded results.

A number in README.md, results/*/README.md or a notebook's markdown that comes from a result file carries a marker
right after it, invisible once rendered:

    validation accuracy 0.966<!--check report-002/custom-cnn-val metrics.accuracy--> ...
    96.64%<!--check report-002/custom-cnn-val metrics.accuracy x100--> ...
    Seed 3<!--check report-003/class-weights-test seed-->

The checker reads results/<report>/<name>.json, follows the dotted key, multiplies by the factor (x100 for percent)
and rounds to the quoted number's decimals; the quoted number must equal it. A marker naming a missing file or key
is an error too. `python tools/check_prose.py` lists every marker and exits 1 on any disagreement; tests run it.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"([-+]?\d[\d,]*(?:\.\d+)?)(\s*%?)\s*<!--check ([\w.-]+/[\w.-]+) ([\w.]+)(?: x(\d+(?:\.\d+)?))?-->")


def files(root: Path = ROOT) -> list[Path]:
    out = [root / "README.md"] + sorted((root / "results").glob("*/README.md")) + sorted((root / "results").glob("README.md"))
    out += sorted((root / "notebooks").glob("*.ipynb"))
    return [f for f in out if f.is_file()]


def prose(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return path.read_text()


def value(results: Path, result: str, key: str):
    f = results / (result + ".json")
    if not f.is_file():
        raise KeyError(f"no result file {f.relative_to(results.parent) if results.parent in f.parents else f}")
    v = json.loads(f.read_text())
    for part in key.split("."):
        if not isinstance(v, dict) or part not in v:
            raise KeyError(f"{f.name} has no {key}")
        v = v[part]
    return float(v)


def check_text(text: str, results: Path) -> tuple[list[str], list[str]]:
    """(problems, checked) for one text: every marker's quoted number against its result."""
    problems, checked = [], []
    for m in MARKER.finditer(text):
        quoted, result, key, factor = m.group(1), m.group(3), m.group(4), float(m.group(5) or 1)
        decimals = len(quoted.split(".")[1]) if "." in quoted else 0
        shown = float(quoted.replace(",", ""))
        try:
            actual = value(results, result, key) * factor
        except KeyError as e:
            problems.append(f"{quoted}: {e}")
            continue
        expected = round(actual, decimals)
        line = f"{quoted} = {result} {key}{' x' + m.group(5) if m.group(5) else ''} ({actual:.6g})"
        if abs(shown - expected) > 10 ** -(decimals + 6):
            problems.append(f"{quoted} is quoted, but {result} {key}{' x' + m.group(5) if m.group(5) else ''} is {actual:.6g} "
                            f"({expected:.{decimals}f} to the quoted precision)")
        else:
            checked.append(line)
    return problems, checked


def main(argv=None) -> int:
    results = ROOT / "results"
    all_problems, n = [], 0
    for f in files():
        problems, checked = check_text(prose(f), results)
        n += len(checked)
        all_problems += [f"{f.relative_to(ROOT)}: {p}" for p in problems]
    for p in all_problems:
        print(p, file=sys.stderr)
    print(f"{n} quoted numbers agree with the results; {len(all_problems)} do not")
    return 1 if all_problems else 0


if __name__ == "__main__":
    sys.exit(main())
