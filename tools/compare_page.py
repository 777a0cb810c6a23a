#!/usr/bin/env python3
"""The comparison page: renders OUT/compare.json (written by ModelComparison.write, i.e. by ./leukolab compare or
notebook 90) as OUT/index.html, self-contained (pictures embedded), in the reviewer's page's style.

The first screen holds the audits' verdicts and the model table; below them the paired tests, the spread over seeds,
the models left out and why, each audit's details and pictures, and the settings and machine.

    .venv/bin/python tools/compare_page.py build/compare/pbc-sample/compare.json
"""
from __future__ import annotations

import html
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_notebooks import PAGE_CSS  # noqa: E402  (one look for every page)

LEVEL_COLOURS = {"ok": "#1b7f3b", "warning": "#9a6700", "problem": "#c62828"}
MODEL_COLUMNS = ["model", "weights", "macro F1", "95% interval", "accuracy", "95% interval (accuracy)", "macro AUC",
                 "macro F1 over seeds", "seconds"]

# After load: whether the audits and the model table fit the first screen, and whether every picture decoded.
PAGE_SCRIPT = """
window.addEventListener('load', () => {
  const fits = el => el && el.getBoundingClientRect().bottom <= window.innerHeight;
  document.body.dataset.firstScreen = String(fits(document.getElementById('verdicts')) && fits(document.getElementById('models')));
  document.body.dataset.imagesDecoded = String([...document.images].every(i => i.complete && i.naturalWidth > 0));
});
"""


def e(x) -> str:
    return html.escape("" if x is None else str(x))


def f3(v) -> str:
    return "" if v is None else f"{v:.3f}"


def spread(m: dict) -> str:
    s = m.get("over_seeds")
    if not s:
        return "single run"
    return f"{s['mean']:.3f} ± {s['sd']:.3f} ({s['n']} seeds; {s['min']:.3f} to {s['max']:.3f})"


def model_cells(m: dict) -> list[str]:
    return [m["name"], m["weights"], f3(m["macro_f1"]), f"[{f3(m['macro_f1_low'])}, {f3(m['macro_f1_high'])}]",
            f3(m["accuracy"]), f"[{f3(m['accuracy_low'])}, {f3(m['accuracy_high'])}]", f3(m["auc"]), spread(m),
            f"{m['seconds']:.0f}"]


def data_line(doc: dict) -> str:
    d = doc["data"]
    kind = d["kind"]
    label = "" if kind == "full" else f" <b>[{e(kind)}]</b>"
    sp = d["split"]
    return (f"{d['images']} images{label}, {len(d['classes'])} classes; split {e(doc['settings']['split'])}: "
            f"train {sp['train']}, validation {sp['validation']}, test {sp['test']}")


def first_screen_text(doc: dict) -> str:
    """The first screen as plain text (for notes and logs): the verdicts and the model table."""
    lines = [f"{doc['name']}: {doc['settings']['folder']} ({doc['data']['kind']} data, {doc['settings']['profile']} profile)"]
    for a in doc["audits"]:
        lines.append(f"  {a['level'].upper():8s} {a['name']}: {a['verdict']}")
    lines.append("  " + " | ".join(MODEL_COLUMNS))
    for m in doc["models"]:
        lines.append("  " + " | ".join(model_cells(m)))
    for d in doc["dropped"]:
        lines.append(f"  left out: {d['model']}: {d['reason']}")
    return "\n".join(lines)


def render(doc: dict) -> str:
    run = doc.get("run", {})
    verdicts = "".join(
        f"<tr data-audit='{e(a['name'])}' data-level='{e(a['level'])}'><td>{e(a['name'])}</td>"
        f"<td style='color:{LEVEL_COLOURS.get(a['level'], '#000')};font-weight:bold'>{e(a['level'])}</td>"
        f"<td>{e(a['verdict'])}</td></tr>" for a in doc["audits"])
    models = "".join(
        f"<tr data-model='{e(m['name'])}' data-macro-f1='{m['macro_f1']!r}' data-accuracy='{m['accuracy']!r}'>"
        + "".join(f"<td>{e(c)}</td>" for c in model_cells(m)) + "</tr>" for m in doc["models"])
    if not doc["models"]:
        models = f"<tr><td colspan='{len(MODEL_COLUMNS)}'>no model ran (see the models left out below)</td></tr>"
    pairs = "".join(
        f"<tr><td>{e(p['a'])}</td><td>{e(p['b'])}</td><td>{p['accuracy_difference']:+.3f} [{p['low']:+.3f}, {p['high']:+.3f}]</td>"
        f"<td>{p['mcnemar_p']:.3g}</td><td>{p['only_a_right']} / {p['only_b_right']}</td><td>{e(p['verdict'])}</td></tr>"
        for p in doc["pairs"])
    dropped = "".join(f"<li><b>{e(d['model'])}</b>: {e(d['reason'])}</li>" for d in doc["dropped"]) or "<li>none</li>"
    details = []
    for a in doc["audits"]:
        items = "".join(f"<li>{e(x)}</li>" for x in a["details"])
        pic = ""
        if a.get("figure_png_base64"):
            pic = (f"<img class='montage' alt='{e(a.get('figure_title'))}' style='max-width:100%' "
                   f"src='data:image/png;base64,{a['figure_png_base64']}'>")
        details.append(f"<h3>{e(a['name'])}: <span style='color:{LEVEL_COLOURS.get(a['level'], '#000')}'>{e(a['level'])}</span></h3>"
                       f"<p>{e(a['verdict'])}</p><ul>{items}</ul>{pic}")
    seeds = f"<p>{e(doc['paired_over_seeds'])}</p>" if doc.get("paired_over_seeds") else ""
    settings = "".join(f"<tr><td>{e(k)}</td><td>{e(json.dumps(v) if isinstance(v, (dict, list)) else v)}</td></tr>"
                       for k, v in doc["settings"].items())
    head = "".join(f"<th>{e(c)}</th>" for c in MODEL_COLUMNS)
    return f"""<!doctype html><html><head><meta charset='utf-8'><title>leukolab: {e(doc['name'])}</title>
<style>{PAGE_CSS}</style>
<script>{PAGE_SCRIPT}</script>
</head><body><h1>leukolab: models compared on {e(doc['settings']['folder'])}</h1>
<p class='meta'>{data_line(doc)} &middot; profile <b>{e(doc['settings']['profile'])}</b> &middot; {e(run.get('machine'))} &middot;
commit {e(run.get('commit'))} &middot; {e(run.get('date'))} &middot; {doc['seconds'] / 60:.1f} min &middot;
green: ok, amber: warning, red: problem</p>
<table id='verdicts'><tr><th>audit</th><th>verdict</th><th>what it found</th></tr>{verdicts}</table>
<h2 style='font-size:110%'>Models on the test split</h2>
<div class='wide'><table id='models'><tr>{head}</tr>{models}</table></div>
<h2>Paired tests (McNemar, one run; accuracy difference with its bootstrap interval)</h2>
<table id='pairs'><tr><th>model A</th><th>model B</th><th>A - B</th><th>McNemar p</th><th>only A right / only B right</th><th>verdict</th></tr>
{pairs}</table>{seeds}
<h2>Models left out</h2><ul id='dropped'>{dropped}</ul>
<h2>The audits in detail</h2>{''.join(details)}
<h2>Settings</h2><table id='settings'>{settings}</table>
</body></html>"""


def write(json_path: Path) -> Path:
    if not json_path.is_file():
        raise SystemExit(f"compare_page: {json_path} does not exist: run the comparison first (./leukolab compare DIR)")
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    out = json_path.parent / "index.html"
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(render(doc), encoding="utf-8")
    os.replace(tmp, out)
    return out


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = write(Path(args[0]))
    doc = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    print(first_screen_text(doc))
    print(f"page: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
