"""The comparison page notebook 90 writes (build/compare/pbc-sample/index.html), opened in headless Chromium: its
first screen holds the audits' verdicts and the model table, its pictures decode, and every number on it is the one
in the result file the comparison recorded. Runs after the notebooks (./leukolab test); same browser rules as the
reviewer's page test."""
import json
import subprocess
from pathlib import Path

import pytest
from test_reviewer_page import ROOT, Rows, chromium

OUT = ROOT / "build" / "compare" / "pbc-sample"
PAGE = OUT / "index.html"


@pytest.fixture(scope="module")
def dom():
    if not PAGE.is_file():
        pytest.fail(f"{PAGE} does not exist: run notebook 90 first (./leukolab notebooks notebooks/90-compare-on-your-data.ipynb)")
    p = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-background-networking", "--no-first-run", "--window-size=1400,1000",
                        f"--user-data-dir={ROOT / 'build' / '.chromium-profile'}", "--virtual-time-budget=5000", "--dump-dom",
                        PAGE.as_uri()], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "<table" in p.stdout, f"Chromium could not render the page:\n{p.stderr[-2000:]}"
    return p.stdout


class ModelRows(Rows):
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and self.table and ("data-model" in a or "data-audit" in a):
            a.setdefault("data-result", a.get("data-model") or a.get("data-audit"))
            attrs = list(a.items())
        super().handle_starttag(tag, attrs)


def rows(dom, table_id):
    p = ModelRows(table_id)
    p.feed(dom)
    return p


def test_the_first_screen_holds_the_verdicts_and_the_model_table(dom):
    page = rows(dom, "models")
    assert page.body.get("data-first-screen") == "true", "audits and models fit a 1,400 x 1,000 window"
    assert page.body.get("data-images-decoded") == "true", "every montage decodes"
    doc = json.loads((OUT / "compare.json").read_text())
    audits = rows(dom, "verdicts").rows
    assert [r["attrs"]["data-audit"] for r in audits] == [a["name"] for a in doc["audits"]]
    assert [r["attrs"]["data-level"] for r in audits] == [a["level"] for a in doc["audits"]]


def test_every_model_row_is_its_recorded_result(dom):
    doc = json.loads((OUT / "compare.json").read_text())
    shown = rows(dom, "models").rows
    assert len(shown) == len(doc["models"]) >= 5, "heads, forest, ensemble, CNN, fine-tuning ran in the quick profile"
    results = OUT / "results" / doc["name"]
    for row in shown:
        name = row["attrs"]["data-model"]
        recorded = json.loads((results / f"{name}-test.json").read_text())
        assert row["cells"][2] == f"{recorded['metrics']['macro_f1']:.3f}", name
        assert row["cells"][4] == f"{recorded['metrics']['accuracy']:.3f}", name
        assert recorded["labels"]["data"] == doc["data"]["kind"] == "sample", "the PBC sample is labelled a sample"
    assert "[sample]" in dom
