"""The reviewer's page (build/index.html), opened in a real headless Chromium, holds every published number
beside its reproductions, and each number on it is the one in the result file it names.

Runs after the notebooks (./leukolab test does this): the page and build/results/ must exist. Chromium comes from
the distribution (Debian/Ubuntu: apt install chromium); LEUKOLAB_CHROMIUM names another binary. Without a browser
the test fails (it is part of the test command); LEUKOLAB_SKIP_BROWSER=1 skips it explicitly.
"""
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))
import reviewer  # noqa: E402

PAGE = ROOT / "build" / "index.html"


def chromium() -> str:
    if os.environ.get("LEUKOLAB_SKIP_BROWSER") == "1":
        pytest.skip("LEUKOLAB_SKIP_BROWSER=1: the page is not checked in a browser")
    for name in [os.environ.get("LEUKOLAB_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"]:
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.fail("no Chromium found for the page test: install it (Debian/Ubuntu: apt install chromium), name it in "
                "LEUKOLAB_CHROMIUM, or skip this test with LEUKOLAB_SKIP_BROWSER=1")


class Rows(HTMLParser):
    """The rows of one table (by id): each row's data-* attributes, cell texts and links; plus the page's images and
    the body's data-* attributes (set by the page's script)."""

    def __init__(self, table_id="reviewer"):
        super().__init__()
        self.table_id = table_id
        self.rows, self.table, self.row, self.cell = [], False, None, None
        self.images, self.body = [], {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "img":
            self.images.append(a)
        if tag == "table" and a.get("id") == self.table_id:
            self.table = True
        elif self.table and tag == "tr" and "data-result" in a:
            self.row = {"attrs": a, "cells": [], "links": []}
        elif self.row is not None and tag == "td":
            self.cell = ""
        elif self.row is not None and tag == "a":
            self.row["links"].append(a.get("href"))

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def handle_endtag(self, tag):
        if tag == "td" and self.row is not None and self.cell is not None:
            self.row["cells"].append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        elif tag == "table" and self.table:
            self.table = False


def render(fragment="", width=1400, height=1000):
    """The page's DOM after Chromium loaded it (and ran its script) in a window of the first screen's size."""
    if not PAGE.is_file():
        pytest.fail(f"{PAGE} does not exist: run the notebooks first (./leukolab notebooks)")
    browser = chromium()
    with_profile = ROOT / "build" / ".chromium-profile"
    p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-background-networking", "--no-first-run", f"--window-size={width},{height}",
                        f"--user-data-dir={with_profile}", "--virtual-time-budget=5000", "--dump-dom",
                        PAGE.as_uri() + fragment], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "<table" in p.stdout, f"Chromium could not render the page:\n{p.stderr[-2000:]}"
    return p.stdout


def parse(dom, table_id):
    parser = Rows(table_id)
    parser.feed(dom)
    return parser


@pytest.fixture(scope="module")
def dom():
    return render()


@pytest.fixture(scope="module")
def page_rows(dom):
    return parse(dom, "reviewer").rows


@pytest.fixture(scope="module")
def document():
    return reviewer.document(charts=False)


def column(name):
    return reviewer.COLUMNS.index(name)


def test_the_first_screen_shows_every_reports_verdicts_and_chart(dom, document):
    page = parse(dom, "summary")
    charts = [i for i in page.images if i.get("class") == "chart" and i.get("src", "").startswith("data:image/png;base64,")]
    assert len(charts) == 4, "a chart per report, embedded in the page"
    assert page.body.get("data-cards-on-first-screen") == "true", "every report's card fits a 1,400 x 1,000 window"
    for report in reviewer.REPORT_TITLES:
        assert reviewer.counts(document["summary"], report) in dom, f"{report}'s verdict counts are on its card"


def test_summary_verdicts_match_the_result_files(dom, document):
    shown = parse(dom, "summary").rows
    assert len(shown) == len(document["summary"]) > 0
    assert not any(r["attrs"]["data-source"] == "this run" and r.get("profile") == "quick" for r in shown)
    for row, expected in zip(shown, document["summary"]):
        a = row["attrs"]
        assert (a["data-report"], a["data-result"], a["data-verdict"]) == \
               (expected["report"], expected["result"], expected["verdict"])
        if expected.get("file"):
            result = json.loads((ROOT / expected["file"]).read_text())
            assert result["run"]["profile"] == "full", "quick-profile results never reach the summary"
            if not a["data-metric"].startswith("train_"):
                value = f"{100 * result['metrics'][a['data-metric']]:.2f}"
                if a["data-verdict"] == "not comparable here":
                    ours = row["cells"][1 + reviewer.SUMMARY_COLUMNS.index("reproduced (%)")]
                    assert ours == "", "a result that cannot be compared is not shown as a reproduction percentage"
                    assert f"(ours: {value})" in " ".join(row["cells"]), (expected["file"], row["cells"])
                else:
                    assert value in row["cells"], (expected["file"], row["cells"])
            assert str(result.get("seed", "")) in row["cells"], "the seed is shown"


def test_the_filter_works_in_the_browser():
    filtered = render("#report=report-002&verdict=reproduced")
    page = parse(filtered, "reviewer")
    assert page.body.get("data-filter") == "report-002|reproduced"
    visible = [r for r in page.rows if "hidden" not in r["attrs"]]
    assert visible, "some rows pass the filter"
    assert all(r["attrs"]["data-report"] == "report-002" and r["attrs"]["data-verdict"] == "reproduced" for r in visible)
    assert len(visible) < len(page.rows)


def test_the_page_has_one_row_per_published_number_and_source(page_rows, document):
    expected = [r for r in document["rows"] if r.get("profile") != "quick"]
    assert len(page_rows) == len(expected) > 0
    for shown, row in zip(page_rows, expected):
        a = shown["attrs"]
        assert (a["data-report"], a["data-result"], a["data-metric"], a["data-source"]) == \
               (row["report"], row["result"], row["metric"], row["source"])
        assert len(shown["cells"]) == len(reviewer.COLUMNS)
    reports = {r["attrs"]["data-report"] for r in page_rows}
    assert reports == {"report-000", "report-001", "report-002", "report-003"}, "every report is on the page"


def test_every_number_and_label_on_the_page_is_the_one_in_its_result_file(page_rows):
    checked = 0
    for shown in page_rows:
        a, cells = shown["attrs"], shown["cells"]
        if a["data-source"] == "not run":
            assert cells[column("95% interval")] == "not run" and cells[column("reproduced (%)")] == ""
            continue
        link = next(h for h in shown["links"] if h.endswith(".json"))
        result = json.loads((PAGE.parent / link).resolve().read_text())
        assert (PAGE.parent / link).resolve().name == a["data-result"] + ".json"
        if a["data-metric"].startswith("train_"):
            value = 100 * float(result["extras"][a["data-metric"]])
        else:
            value = 100 * result["metrics"][a["data-metric"]]
            ci = result.get("intervals_95", {}).get(a["data-metric"])
            if ci:
                assert cells[column("95% interval")] == f"[{100 * ci['low']:.1f}, {100 * ci['high']:.1f}]"
        assert cells[column("reproduced (%)")] == f"{value:.2f}", (link, cells)
        assert cells[column("profile")] == result["run"]["profile"]
        assert cells[column("commit")] == result["run"]["commit"]
        assert cells[column("machine")] == reviewer.short_machine(result["run"]["machine"])
        labels = result.get("labels")
        assert labels, f"{link} carries its labels"
        assert cells[column("protocol")] == labels["protocol"]
        assert cells[column("weights")] == labels["weights"]
        assert f"({labels['data']})" in cells[column("data")] or cells[column("data")] == labels["data"]
        assert cells[column("seed")] == str(result.get("seed", ""))
        checked += 1
    assert checked > 0, "the page shows at least one reproduced number"


def test_published_numbers_match_the_library(page_rows, document):
    expected = {(r["report"], r["result"], r["metric"]): r.get("published") for r in document["rows"]}
    for shown in page_rows:
        a = shown["attrs"]
        pub = expected[(a["data-report"], a["data-result"], a["data-metric"])]
        assert shown["cells"][column("published (%)")] == ("" if pub is None else f"{pub:.2f}")


def test_notebook_links_open_executed_notebooks(page_rows):
    links = [h for r in page_rows for h in r["links"] if h.startswith("html/")]
    assert links, "results link to the executed notebook that made them"
    for h in links:
        assert (PAGE.parent / h).is_file(), h
