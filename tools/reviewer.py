#!/usr/bin/env python3
"""The reviewer's table, and promoting a full run into results/.

    python tools/reviewer.py rows [--committed-only]        print the table's rows as JSON
    python tools/reviewer.py record [--replace] [REPORT ...] copy full-profile results from build/results/ to results/,
                                                             then rewrite the table in results/README.md

Every published number of every report (org.leukolab.evaluation.Published, mapped to result names by each
ReportNNN.reproduction) beside its reproductions: this run's (build/results/) and the committed full runs'
(results/). The rows come from the Java library (org.leukolab.reports.Reviewer), so the page, results/README.md
and the notebooks agree on one mapping. The notebook runner puts the table at the top of build/index.html.

Committed results change only through `record`: it copies the JSON files of full-profile runs (quick-profile files
are never promoted), refuses to replace a committed file whose content differs unless --replace is given, and writes
each file atomically.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_START = "<!-- reviewer-table:start (written by ./leukolab record; edit the code, not this table) -->"
README_END = "<!-- reviewer-table:end -->"


def java_command() -> list[str]:
    classes = ROOT / "lib/target/classes"
    cp_file = ROOT / "lib/target/classpath.txt"
    if not classes.is_dir() or not cp_file.is_file():
        raise RuntimeError(f"the library is not built ({classes} or {cp_file} missing): run ./leukolab setup")
    java = os.environ.get("LEUKOLAB_JAVA", "java")
    return [java, "-Xmx1g", "-cp", f"{classes}{os.pathsep}{cp_file.read_text().strip()}"]


def document(committed_only: bool = False, charts: bool = True) -> dict:
    """Rows, per-report summary, verdict rules and charts, computed by org.leukolab.reports.Reviewer."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        cmd = java_command() + ["-Djava.awt.headless=true", "org.leukolab.reports.Reviewer", str(out)] \
            + (["--committed-only"] if committed_only else []) + ([] if charts else ["--no-charts"])
        env = dict(os.environ, LEUKOLAB_HOME=str(ROOT))
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        if p.returncode != 0 or not out.is_file():
            raise RuntimeError(f"org.leukolab.reports.Reviewer failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
        return json.loads(out.read_text())


def rows(committed_only: bool = False) -> list[dict]:
    """The table's rows, computed by org.leukolab.reports.Reviewer."""
    return document(committed_only, charts=False)["rows"]


def fmt(v, digits: int = 2) -> str:
    return "" if v is None else f"{float(v):.{digits}f}"


def interval(row: dict) -> str:
    if "low" not in row:
        return ""
    return f"[{fmt(row['low'], 1)}, {fmt(row['high'], 1)}]"


def label(row: dict, key: str) -> str:
    """A label recorded in the result file (never derived from a configuration's wording)."""
    if row.get("source") == "not run":
        return ""
    return row.get("labels", {}).get(key, "unlabelled")


def data_label(row: dict) -> str:
    if row.get("source") == "not run":
        return ""
    d = label(row, "data")
    return f"{row['datasets']} ({d})" if "datasets" in row else d


def short_machine(m: str) -> str:
    """The CPU and core count (the full line, with memory and kernel, is in the result file)."""
    return ", ".join(m.split(", ")[:2])


REPORT_TITLES = {"report-000": "Report 000: small CNN vs frozen MobileNetV2, 5 classes (notebooks 20-23)",
                 "report-001": "Report 001: BloodMNIST + WBC merged, 8 classes (notebooks 30-33)",
                 "report-002": "Report 002: Random Forest, VGG16, custom CNN, 4 classes (notebooks 10-14)",
                 "report-003": "Report 003: 8 classes at 96x96, outliers, extractors, augmentation, fine-tuning (notebooks 40-45)"}
VERDICTS = ["reproduced", "differs", "not comparable here", "not run", "corrected protocol", "no published number"]

COLUMNS = ["report", "experiment", "configuration", "metric", "published (%)", "reproduced (%)", "95% interval",
           "over seeds (%)", "verdict",
           "why", "protocol", "data", "weights", "evaluated on", "seed", "source", "profile", "commit", "machine", "date",
           "notebook"]

SUMMARY_COLUMNS = ["published number", "metric", "published (%)", "best comparable reproduction", "reproduced (%)",
                   "95% interval", "over seeds (%)", "verdict", "why", "data", "weights", "seed"]


def spread(row: dict) -> str:
    """Mean ± sd over the seeds where the run was repeated ("single run" otherwise)."""
    s = row.get("spread")
    if not s:
        return "" if row.get("source") == "not run" else "single run"
    sd = f" ± {s['sd']:.2f}" if "sd" in s else ""
    return f"{s['mean']:.2f}{sd} (n = {s['n']}; {s['min']:.1f} to {s['max']:.1f})"


def cells(row: dict) -> list[str]:
    return [row["report"], row["experiment"], row["configuration"], row["metric"], fmt(row.get("published")),
            fmt(row.get("reproduced")), interval(row) if row.get("source") != "not run" else "not run", spread(row),
            row.get("verdict", ""),
            row.get("verdict_reason", ""), label(row, "protocol"), data_label(row), label(row, "weights"),
            label(row, "evaluated_on") if not row.get("metric", "").startswith("train_") else "training (last epoch)",
            str(row.get("seed", "")), row.get("source", ""), row.get("profile", ""), row.get("commit", ""),
            short_machine(row.get("machine", "")), row.get("date", "")[:16].replace("T", " "), row.get("notebook", "")]


def summary_cells(row: dict) -> list[str]:
    """A summary row. A result that cannot be compared (a sample, a random backbone, ...) is never shown as a
    reproduction percentage beside the published one: its number moves into the reason."""
    name = row["experiment"] + (": " + row["configuration"] if row["report"] == "report-003" else "")
    ours, why = fmt(row.get("reproduced")), row.get("verdict_reason", "")
    if row.get("verdict") == "not comparable here" and ours:
        ours, why = "", f"{why} (ours: {ours})"
    return [name, row["metric"], fmt(row.get("published")), row["configuration"] if row["report"] != "report-003" else row["result"],
            ours, interval(row) if row.get("verdict") != "not comparable here" else "", spread(row), row.get("verdict", ""), why,
            data_label(row), label(row, "weights"), str(row.get("seed", ""))]


def titles(summary: list[dict]) -> dict:
    """The four reports' titles, and any other report a summary names (by its id)."""
    t = dict(REPORT_TITLES)
    for r in summary:
        t.setdefault(r["report"], r["report"])
    return t


def counts(summary: list[dict], report: str) -> str:
    c = {}
    for r in summary:
        if r["report"] == report:
            c[r["verdict"]] = c.get(r["verdict"], 0) + 1
    return " · ".join(f"{n} {v}" for v, n in sorted(c.items(), key=lambda kv: VERDICTS.index(kv[0])))


def verdict_class(v: str) -> str:
    return "v-" + v.replace(" ", "-")


def html_summary(doc: dict) -> str:
    """The first screen: a card per report with its verdict counts and chart, then the rules and the summary table."""
    summary = doc["summary"]
    cards = []
    for report, title in REPORT_TITLES.items():
        chart = doc.get("charts", {}).get(report)
        img = (f"<img class='chart' alt='{html.escape(report)}: published and reproduced' src='data:image/png;base64,{chart}'>"
               if chart else "<p>no chart</p>")
        cards.append(f"<div class='card' data-report='{report}'><h3>{html.escape(title)}</h3>"
                     f"<p class='counts'>{html.escape(counts(summary, report))}</p>{img}</div>")
    rules = "".join(f"<li>{html.escape(r)}</li>" for r in doc.get("rules", []))
    body = []
    for r in summary:
        c = [html.escape(x) for x in summary_cells(r)]
        if r.get("file"):
            c[4] = f"<a href='../{html.escape(r['file'])}'>{c[4]}</a>"
        body.append(f"<tr class='{verdict_class(r['verdict'])}' data-report='{html.escape(r['report'])}' "
                    f"data-result='{html.escape(r['result'])}' data-metric='{html.escape(r['metric'])}' "
                    f"data-verdict='{html.escape(r['verdict'])}' data-source='{html.escape(r.get('source', ''))}'>"
                    f"<td>{html.escape(r['report'])}</td>" + "".join(f"<td>{x}</td>" for x in c) + "</tr>")
    head = "<th>report</th>" + "".join(f"<th>{html.escape(c)}</th>" for c in SUMMARY_COLUMNS)
    return (f"<div id='cards'>{''.join(cards)}</div>"
            f"<h2>Verdicts, one per published number</h2><details><summary>How a verdict is decided</summary><ul>{rules}</ul></details>"
            f"<table id='summary'><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>")


def html_table(rs: list[dict], build_dir: Path, table_id: str = "reviewer") -> str:
    head = "".join(f"<th data-col='{i}'>{html.escape(c)}</th>" for i, c in enumerate(COLUMNS))
    body = []
    for r in rs:
        c = [html.escape(x) for x in cells(r)]
        nb = r.get("notebook")
        if nb and (build_dir / "html" / f"{nb}.html").is_file():
            c[-1] = f"<a href='html/{html.escape(nb)}.html'>{html.escape(nb)}</a>"
        if r.get("file"):
            c[5] = f"<a href='../{html.escape(r['file'])}' title='{html.escape(r['file'])}'>{c[5]}</a>"
        body.append(f"<tr class='{verdict_class(r.get('verdict', ''))}' data-report='{html.escape(r['report'])}' "
                    f"data-result='{html.escape(r['result'])}' data-metric='{html.escape(r['metric'])}' "
                    f"data-source='{html.escape(r.get('source', ''))}' data-verdict='{html.escape(r.get('verdict', ''))}'>"
                    + "".join(f"<td>{x}</td>" for x in c) + "</tr>")
    return f"<table id='{table_id}'><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"


def markdown_table(rs: list[dict]) -> str:
    keep = [c for c in COLUMNS if c not in ("machine", "why")]
    idx = [COLUMNS.index(c) for c in keep]
    lines = ["| " + " | ".join(keep) + " |", "|" + "---|" * len(keep)]
    for r in rs:
        c = cells(r)
        lines.append("| " + " | ".join(c[i].replace("|", "/") for i in idx) + " |")
    machines = sorted({r["machine"] for r in rs if r.get("machine")})
    if machines:
        lines.append("")
        lines.append("Machines: " + "; ".join(machines) + ".")
    return "\n".join(lines)


def markdown_summary(doc: dict) -> str:
    out = ["### Verdicts, one per published number", "",
           "How a verdict is decided (`org.leukolab.evaluation.Verdict`): " + "; ".join(doc.get("rules", [])) + ".", ""]
    for report, title in titles(doc["summary"]).items():
        rs = [r for r in doc["summary"] if r["report"] == report]
        out += [f"**{title}**: {counts(doc['summary'], report)}", "",
                "| " + " | ".join(SUMMARY_COLUMNS) + " |", "|" + "---|" * len(SUMMARY_COLUMNS)]
        out += ["| " + " | ".join(x.replace("|", "/") for x in summary_cells(r)) + " |" for r in rs]
        out.append("")
    return "\n".join(out)


def atomic_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def record_comparison(name: str, replace: bool) -> int:
    """A full-profile comparison (./leukolab compare ... --profile full --out build/compare/NAME) into results/compare-NAME/:
    its compare.json, page and result files (not its checkpoints)."""
    short = name[len("compare-"):]
    src = ROOT / "build" / "compare" / short
    if not (src / "compare.json").is_file():
        print(f"no comparison in {src} (run ./leukolab compare DIR --profile full --out build/compare/{short} first)", file=sys.stderr)
        return 1
    doc = json.loads((src / "compare.json").read_text())
    if doc.get("settings", {}).get("profile") != "full":
        print(f"{src / 'compare.json'} is a {doc.get('settings', {}).get('profile')}-profile comparison: only full-profile runs are "
              "recorded", file=sys.stderr)
        return 1
    dest = ROOT / "results" / name
    files = [(src / "compare.json", dest / "compare.json"), (src / "index.html", dest / "index.html")]
    files += [(f, dest / f.name) for f in sorted((src / "results" / name).glob("*.json"))]
    conflicts = [d for s, d in files if d.is_file() and d.read_bytes() != s.read_bytes()]
    if conflicts and not replace:
        print("these committed files would be replaced by different ones:\n  " + "\n  ".join(str(c.relative_to(ROOT)) for c in conflicts)
              + "\nnothing was copied; run again with --replace to replace them", file=sys.stderr)
        return 1
    for s, d in files:
        atomic_copy(s, d)
    print(f"recorded {len(files)} files into {dest.relative_to(ROOT)}")
    return 0


def record(reports: list[str], replace: bool) -> int:
    comparisons = [r for r in reports if r.startswith("compare-")]
    for c in comparisons:
        if record_comparison(c, replace):
            return 1
    reports = [r for r in reports if not r.startswith("compare-")]
    if comparisons and not reports:
        return 0
    build = ROOT / "build/results"
    if not build.is_dir():
        print(f"nothing to record: {build} does not exist (run the notebooks in the full profile first)", file=sys.stderr)
        return 1
    targets = reports or sorted(p.name for p in build.iterdir() if p.is_dir())
    planned, conflicts, quick = [], [], 0
    for report in targets:
        src_dir = build / report
        if not src_dir.is_dir():
            print(f"no results for {report} in {src_dir}", file=sys.stderr)
            return 1
        for f in sorted(src_dir.glob("*.json")):
            if f.name.endswith(".predictions.json"):
                continue
            meta = json.loads(f.read_text())
            if meta.get("run", {}).get("profile") != "full":
                quick += 1
                continue
            pairs = [(f, ROOT / "results" / report / f.name)]
            preds = f.with_name(f.name[:-5] + ".predictions.json")
            if preds.is_file():
                pairs.append((preds, ROOT / "results" / report / preds.name))
            for s, d in pairs:
                if d.is_file() and d.read_bytes() != s.read_bytes():
                    conflicts.append(d)
                planned.append((s, d))
    if conflicts and not replace:
        print("these committed results would be replaced by different ones:\n  "
              + "\n  ".join(str(c.relative_to(ROOT)) for c in conflicts)
              + "\nnothing was copied; run again with --replace to replace them", file=sys.stderr)
        return 1
    for s, d in planned:
        atomic_copy(s, d)
        print(f"recorded {d.relative_to(ROOT)}")
    if quick:
        print(f"({quick} quick-profile results left in build/results: only full-profile runs are recorded)")
    if not planned:
        print("no full-profile results to record")
    write_readme()
    return 0


def write_readme() -> None:
    readme = ROOT / "results/README.md"
    text = readme.read_text() if readme.is_file() else "# Measured results\n"
    doc = document(committed_only=True, charts=False)
    table = markdown_summary(doc) + "\n### Every row\n\n" + markdown_table(doc["rows"])
    block = f"{README_START}\n{table}\n{README_END}"
    if README_START in text and README_END in text:
        before = text.split(README_START)[0]
        after = text.split(README_END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n## Every published number and its committed reproduction\n\n" + block + "\n"
    tmp = readme.with_name(".README.md.tmp")
    tmp.write_text(text)
    os.replace(tmp, readme)
    print(f"wrote the table in {readme.relative_to(ROOT)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rows", help="print the reviewer table's rows as JSON")
    r.add_argument("--committed-only", action="store_true", help="only the committed results (results/)")
    rec = sub.add_parser("record", help="promote full-profile results from build/results/ into results/")
    rec.add_argument("reports", nargs="*", help="report folders, e.g. report-002 (default: all in build/results)")
    rec.add_argument("--replace", action="store_true", help="replace committed results that differ")
    a = ap.parse_args(argv)
    if a.cmd == "rows":
        print(json.dumps(rows(a.committed_only), indent=1))
        return 0
    return record(a.reports, a.replace)


if __name__ == "__main__":
    sys.exit(main())
