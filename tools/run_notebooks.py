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
  build/index.html               the reviewer's page: every published number beside its reproductions (this
                                 run's build/results/ and the committed results/), then one line per notebook
                                 with status, time, profile, machine (notebooks run earlier keep their line)
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
    """The reviewer's table (tools/reviewer.py); an explicit error line if it cannot be made."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import reviewer
        rs = reviewer.rows()
        table = reviewer.html_table(rs, out_dir)
        missing = sum(1 for r in rs if r.get("source") == "not run")
        return (f"<h2>Published numbers and their reproductions</h2>"
                f"<p>One row per published number and source: <b>this run</b> (<code>build/results/</code>) or a "
                f"<b>committed full run</b> (<code>results/</code>). Numbers in percent; intervals are 95% percentile "
                f"bootstrap intervals over the test images. Data says whether a number was computed on the full data, a "
                f"<b>sample</b> or a <b>stand-in</b>; weights say whether a backbone was pretrained, a substitute or random. "
                f"{missing} published numbers have no reproduction yet (\"not run\").</p>{table}")
    except Exception as e:  # the notebook lines below must still be written
        print(f"warning: the reviewer table could not be made: {e}", file=sys.stderr)
        return f"<h2>Published numbers and their reproductions</h2><p class='error'>Not available: {html.escape(str(e))}</p>"


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
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse;font-size:90%}}
td,th{{border-bottom:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}}
tr.missing td{{color:#888}} tr.committed td:nth-child(11){{font-weight:bold}} .passed{{color:green}} .failed,.error{{color:red}}
#reviewer td:nth-child(3){{min-width:16em}} #reviewer td:nth-child(10){{max-width:18em}} #reviewer td:nth-child(14){{white-space:nowrap}}
tr.group th{{background:#eef;padding-top:1em;font-size:110%}}</style>
</head><body><h1>leukolab: published and reproduced</h1>
<p>Page written after the profile <b>{html.escape(profile)}</b> run &middot; commit {html.escape(meta['commit'])} &middot;
{html.escape(meta['machine'])} &middot; {html.escape(meta['date'])}</p>
{reviewer_section(out_dir)}
<h2>Executed notebooks</h2>
<table id='notebooks'><tr><th>notebook</th><th>status</th><th>time</th><th>profile</th><th>date (UTC)</th><th>message</th></tr>
{rows}</table></body></html>"""
    tmp = out_dir / "index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out_dir / "index.html")


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
    for p in paths:
        print(f"running {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p} (profile {a.profile}) ...",
              file=sys.stderr, flush=True)
        r = run_one(p, out_dir, None if timeout < 0 else timeout)
        results.append(r)
        print(f"  {r['status']} in {r['seconds']:.0f} s", file=sys.stderr, flush=True)
        if r["status"] != "passed":
            print("  " + r["message"].replace("\n", "\n  "), file=sys.stderr, flush=True)
    write_report(results, out_dir, a.profile)
    failed = [r for r in results if r["status"] != "passed"]
    print(f"{len(results) - len(failed)} of {len(results)} notebooks passed; report: {out_dir / 'index.html'}",
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
