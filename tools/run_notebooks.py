#!/usr/bin/env python3
"""Execute leukolab notebooks top to bottom, headless, and write executed copies and HTML to build/.

    python tools/run_notebooks.py [--profile quick|full] [--timeout SECONDS] [NOTEBOOK ...]

The profile reaches the notebooks through the environment (LEUKOLAB_PROFILE), so nothing in a
notebook is edited. Each notebook runs in a fresh leukolab Java kernel with the notebooks folder as its
working directory. A failing cell is reported with notebook, cell number, the start of its source and
the error; the remaining notebooks still run, and the exit status is 1 if any failed.

Outputs:
  build/notebooks/<name>.ipynb   executed notebook (also when it failed, up to the failing cell)
  build/html/<name>.html         the same as HTML
  build/index.html               the reviewer's page, one file that works offline: a card per report with its
                                 verdict counts and chart, the verdict of every published number, every row with
                                 the labels of its result file (this run's build/results/ and the committed
                                 results/; filter and sort; quick-profile rows folded away), then one line per
                                 notebook with status, time, profile, machine (notebooks run earlier keep their line)
  build/run-summary.json         the notebook lines in JSON
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "leukolab"


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return out.stdout.strip() + ("+changes" if dirty.strip() else "") if out.returncode == 0 else "unknown"
    except OSError:
        return "unknown"


def first_lines(src: str, n: int = 6) -> str:
    lines = src.splitlines()
    return "\n".join(f"    | {line}" for line in lines[:n]) + ("\n    | ..." if len(lines) > n else "")


def strip_ansi(s: str) -> str:
    import re
    return re.sub(r"\x1b\[[0-9;]*m", "", s)


def failure_report(nb_path: Path, nb, err: Exception) -> str:
    """Names the notebook, the failing cell (1-based among code cells and overall) and the error."""
    failing = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                failing = (i, cell, out)
    rel = nb_path.relative_to(ROOT) if nb_path.is_relative_to(ROOT) else nb_path
    if failing is None:
        return f"{rel}: {type(err).__name__}: {strip_ansi(str(err)).strip()[:2000]}"
    i, cell, out = failing
    code_no = sum(1 for c in nb.cells[: i + 1] if c.cell_type == "code")
    trace = "\n".join(strip_ansi(line) for line in out.get("traceback", []))[-3000:]
    return (f"{rel}: cell {i + 1} (code cell {code_no}) failed: {out.get('ename')}: "
            f"{strip_ansi(str(out.get('evalue')))[:1500]}\n  source:\n{first_lines(cell.source)}\n  trace:\n{trace}")


def to_html(nb, dest: Path) -> None:
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".html.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, dest)


def write_nb(nb, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    os.replace(tmp, dest)


def run_one(path: Path, out_dir: Path, timeout: int) -> dict:
    nb = nbformat.read(str(path), as_version=4)
    os.environ["LEUKOLAB_NOTEBOOK"] = path.stem  # recorded with every result the notebook saves (RunInfo)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=timeout, startup_timeout=180,
                            resources={"metadata": {"path": str(path.parent)}}, allow_errors=False,
                            record_timing=True)
    t0 = time.monotonic()
    status, message = "passed", ""
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as e:
        status, message = "failed", failure_report(path, nb, e)
    seconds = time.monotonic() - t0
    write_nb(nb, out_dir / "notebooks" / path.name)
    try:
        to_html(nb, out_dir / "html" / (path.stem + ".html"))
    except Exception as e:  # an HTML problem must not hide the notebook's own result
        message += f"\n(HTML export failed: {e})"
    return {"notebook": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
            "status": status, "seconds": round(seconds, 1), "message": message,
            "profile": os.environ.get("LEUKOLAB_PROFILE", ""), "commit": git_commit(),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def merged(results: list[dict], out_dir: Path) -> list[dict]:
    """This run's notebook lines, plus the earlier lines of notebooks not run this time (they keep their own date)."""
    summary = out_dir / "run-summary.json"
    earlier = []
    if summary.is_file():
        try:
            earlier = json.loads(summary.read_text()).get("results", [])
        except (OSError, ValueError):
            earlier = []
    now = {r["notebook"] for r in results}
    keep = [r for r in earlier if r.get("notebook") not in now and (ROOT / r.get("notebook", "")).is_file()]
    return sorted(keep + results, key=lambda r: r["notebook"])


def reviewer_section(out_dir: Path) -> str:
    """The reviewer's part of the page (tools/reviewer.py): verdict cards and charts first, the summary, then every row
    (filterable, sortable), the quick-profile results folded away; an explicit error line if it cannot be made."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import reviewer
        doc = reviewer.document()
        quick = [r for r in doc["rows"] if r.get("profile") == "quick"]
        rest = [r for r in doc["rows"] if r.get("profile") != "quick"]
        options = lambda values: "".join(f"<option>{html.escape(v)}</option>" for v in values)
        return (reviewer.html_summary(doc)
                + "<h2>Every published number and every reproduction</h2>"
                  "<p>Committed full runs (<code>results/</code>) and this run's full-profile results. Labels (protocol, data, "
                  "weights, evaluated on, seed) are the ones recorded in each result file when it was computed. Click a column "
                  "heading to sort.</p><p class='filters'>report <select id='f-report'><option value=''>all</option>"
                + options(reviewer.REPORT_TITLES) + "</select> verdict <select id='f-verdict'><option value=''>all</option>"
                + options(reviewer.VERDICTS) + "</select> <span id='shown'></span></p>"
                + "<div class='wide'>" + reviewer.html_table(rest, out_dir) + "</div>"
                + f"<details id='quick'><summary>This run, quick profile ({len(quick)} rows: CI's subsets, never a "
                  f"reproduction)</summary><div class='wide'>" + reviewer.html_table(quick, out_dir, "quick-rows") + "</div></details>")
    except Exception as e:  # the notebook lines below must still be written
        print(f"warning: the reviewer table could not be made: {e}", file=sys.stderr)
        return f"<h2>Published numbers and their reproductions</h2><p class='error'>Not available: {html.escape(str(e))}</p>"


PAGE_SCRIPT = """
function applyFilters() {
  const rep = document.getElementById('f-report').value, ver = document.getElementById('f-verdict').value;
  let shown = 0;
  document.querySelectorAll('#reviewer tbody tr').forEach(tr => {
    const ok = (!rep || tr.dataset.report === rep) && (!ver || tr.dataset.verdict === ver);
    tr.hidden = !ok; if (ok) shown++;
  });
  document.getElementById('shown').textContent = shown + ' rows shown';
  document.body.dataset.filter = rep + '|' + ver;
}
function sortBy(th) {
  const table = th.closest('table'), body = table.tBodies[0], col = +th.dataset.col;
  const dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
  const key = tr => { const t = tr.cells[col].textContent.trim(), n = parseFloat(t.replace(/^\\[/, ''));
                      return isNaN(n) ? t.toLowerCase() : n; };
  [...body.rows].sort((a, b) => { const x = key(a), y = key(b);
      return (typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === 'number' ? -1 : 1)) * dir; })
    .forEach(tr => body.appendChild(tr));
}
window.addEventListener('load', () => {
  const p = new URLSearchParams(location.hash.slice(1));
  if (p.get('report')) document.getElementById('f-report').value = p.get('report');
  if (p.get('verdict')) document.getElementById('f-verdict').value = p.get('verdict');
  ['f-report', 'f-verdict'].forEach(id => document.getElementById(id).addEventListener('change', applyFilters));
  document.querySelectorAll('#reviewer th').forEach(th => th.addEventListener('click', () => sortBy(th)));
  applyFilters();
  const cards = [...document.querySelectorAll('#cards .card')];
  document.body.dataset.cardsOnFirstScreen = String(cards.length > 0 && cards.every(c =>
      c.getBoundingClientRect().bottom <= window.innerHeight && c.getBoundingClientRect().right <= window.innerWidth));
});
"""


# The look of leukolab's pages (the reviewer's page here, the comparison page in tools/compare_page.py).
PAGE_CSS = """body{font-family:sans-serif;margin:0.6em 1em} h1{font-size:130%;margin:0.2em 0} .meta{margin:0 0 0.4em;font-size:85%;color:#555}
table{border-collapse:collapse;font-size:85%} td,th{border-bottom:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left}
th[data-col]{cursor:pointer} .wide{overflow-x:auto} .passed{color:green} .failed,.error{color:red}
#cards{display:grid;grid-template-columns:1fr 1fr;gap:6px 12px} .card{border:1px solid #ddd;padding:2px 8px}
.card h3{font-size:95%;margin:0.2em 0} .counts{margin:0;font-size:90%} img.chart{width:100%;max-height:400px;object-fit:contain;object-position:left}
tr.v-reproduced td:nth-child(9), #summary tr.v-reproduced td:nth-child(9){color:#1b7f3b;font-weight:bold}
tr.v-differs td:nth-child(9), #summary tr.v-differs td:nth-child(9){color:#c62828;font-weight:bold}
tr.v-not-comparable-here td, tr.v-not-run td{color:#777}"""


def write_report(results: list[dict], out_dir: Path, profile: str) -> None:
    meta = {"profile": profile, "commit": git_commit(), "machine": machine(),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version()}
    lines = merged(results, out_dir)
    tmp = out_dir / "run-summary.json.tmp"
    tmp.write_text(json.dumps({"meta": meta, "results": lines}, indent=2))
    os.replace(tmp, out_dir / "run-summary.json")
    rows = "\n".join(
        f"<tr><td><a href='html/{Path(r['notebook']).stem}.html'>{html.escape(r['notebook'])}</a></td>"
        f"<td class='{'passed' if r['status'] == 'passed' else 'failed'}'>{r['status']}</td>"
        f"<td style='text-align:right'>{r['seconds']:.0f} s</td>"
        f"<td>{html.escape(r.get('profile', profile))}</td><td>{html.escape(r.get('date', meta['date'])[:16].replace('T', ' '))}</td>"
        f"<td><pre style='white-space:pre-wrap;margin:0'>{html.escape(r['message'][:3000])}</pre></td></tr>"
        for r in lines)
    page = f"""<!doctype html><html><head><meta charset='utf-8'><title>leukolab: published and reproduced</title>
<style>{PAGE_CSS}</style>
<script>{PAGE_SCRIPT}</script>
</head><body><h1>leukolab: published and reproduced</h1>
<p class='meta'>Page written after the profile <b>{html.escape(profile)}</b> run &middot; commit {html.escape(meta['commit'])} &middot;
{html.escape(meta['machine'])} &middot; {html.escape(meta['date'])} &middot; green: reproduced, red: differs, grey: not comparable here</p>
{reviewer_section(out_dir)}
<h2>Executed notebooks</h2>
<table id='notebooks'><tr><th>notebook</th><th>status</th><th>time</th><th>profile</th><th>date (UTC)</th><th>message</th></tr>
{rows}</table></body></html>"""
    tmp = out_dir / "index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out_dir / "index.html")


def compare_pages(since: float) -> None:
    """Renders the page of every comparison a notebook wrote during this run (notebook 90: build/compare/*/compare.json)."""
    import compare_page
    for f in sorted((ROOT / "build" / "compare").glob("*/compare.json")):
        if f.stat().st_mtime >= since:
            print(f"comparison page: {compare_page.write(f)}", file=sys.stderr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebook files (default: notebooks/*.ipynb)")
    ap.add_argument("--profile", choices=["quick", "full"], default=os.environ.get("LEUKOLAB_PROFILE", "quick"))
    ap.add_argument("--timeout", type=int, default=None,
                    help="seconds one cell may run (default: 1800 quick, none for full)")
    ap.add_argument("--out", default=str(ROOT / "build"))
    a = ap.parse_args(argv)

    paths = [Path(p).resolve() for p in a.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not paths:
        print(f"no notebooks found in {NOTEBOOKS}", file=sys.stderr)
        return 2
    os.environ["LEUKOLAB_PROFILE"] = a.profile
    os.environ.setdefault("LEUKOLAB_RUN_COMMAND", " ".join(["python", "tools/run_notebooks.py", *(argv or sys.argv[1:])]))
    os.environ.setdefault("LEUKOLAB_HOME", str(ROOT))
    timeout = a.timeout if a.timeout is not None else (1800 if a.profile == "quick" else -1)
    out_dir = Path(a.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)

    results = []
    started = time.time()
    for p in paths:
        print(f"running {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p} (profile {a.profile}) ...",
              file=sys.stderr, flush=True)
        r = run_one(p, out_dir, None if timeout < 0 else timeout)
        results.append(r)
        print(f"  {r['status']} in {r['seconds']:.0f} s", file=sys.stderr, flush=True)
        if r["status"] != "passed":
            print("  " + r["message"].replace("\n", "\n  "), file=sys.stderr, flush=True)
    write_report(results, out_dir, a.profile)
    compare_pages(started)
    failed = [r for r in results if r["status"] != "passed"]
    print(f"{len(results) - len(failed)} of {len(results)} notebooks passed; report: {out_dir / 'index.html'}",
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
