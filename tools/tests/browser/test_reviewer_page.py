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
    """The rows of table#reviewer: each row's data-* attributes, cell texts and links."""

    def __init__(self):
        super().__init__()
        self.rows, self.table, self.row, self.cell, self.depth = [], False, None, None, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "reviewer":
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


@pytest.fixture(scope="module")
def page_rows():
    if not PAGE.is_file():
        pytest.fail(f"{PAGE} does not exist: run the notebooks first (./leukolab notebooks)")
    browser = chromium()
    with_profile = ROOT / "build" / ".chromium-profile"
    p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        f"--user-data-dir={with_profile}", "--dump-dom", PAGE.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "<table" in p.stdout, f"Chromium could not render the page:\n{p.stderr[-2000:]}"
    parser = Rows()
    parser.feed(p.stdout)
    return parser.rows


def column(name):
    return reviewer.COLUMNS.index(name)


def test_the_page_has_one_row_per_published_number_and_source(page_rows):
    expected = reviewer.rows()
    assert len(page_rows) == len(expected) > 0
    for shown, row in zip(page_rows, expected):
        a = shown["attrs"]
        assert (a["data-report"], a["data-result"], a["data-metric"], a["data-source"]) == \
               (row["report"], row["result"], row["metric"], row["source"])
        assert len(shown["cells"]) == len(reviewer.COLUMNS)
    reports = {r["attrs"]["data-report"] for r in page_rows}
    assert reports == {"report-000", "report-001", "report-002", "report-003"}, "every report is on the page"


def test_every_number_on_the_page_is_the_one_in_its_result_file(page_rows):
    checked = 0
    for shown in page_rows:
        a, cells = shown["attrs"], shown["cells"]
        if a["data-source"] == "not run":
            assert cells[column("95% interval")] == "not run" and cells[column("reproduced (%)")] == ""
            continue
        link = next(h for h in shown["links"] if h.endswith(".json"))
        result = json.loads((PAGE.parent / link).resolve().read_text())
        assert (PAGE.parent / link).resolve().name == a["data-result"] + ".json"
        value = 100 * result["metrics"][a["data-metric"]]
        assert cells[column("reproduced (%)")] == f"{value:.2f}", (link, cells)
        ci = result.get("intervals_95", {}).get(a["data-metric"])
        if ci:
            assert cells[column("95% interval")] == f"[{100 * ci['low']:.1f}, {100 * ci['high']:.1f}]"
        assert cells[column("profile")] == result["run"]["profile"]
        assert cells[column("commit")] == result["run"]["commit"]
        assert cells[column("machine")] == reviewer.short_machine(result["run"]["machine"])
        data = result["extras"].get("data")
        if data:
            assert f"({data})" in cells[column("data")], "the data kind (full, sample, stand-in) is shown"
        checked += 1
    assert checked > 0, "the page shows at least one reproduced number"


def test_published_numbers_match_the_library(page_rows):
    expected = {(r["report"], r["result"], r["metric"]): r.get("published") for r in reviewer.rows()}
    for shown in page_rows:
        a = shown["attrs"]
        pub = expected[(a["data-report"], a["data-result"], a["data-metric"])]
        assert shown["cells"][column("published (%)")] == ("" if pub is None else f"{pub:.2f}")


def test_notebook_links_open_executed_notebooks(page_rows):
    links = [h for r in page_rows for h in r["links"] if h.startswith("html/")]
    assert links, "results made by the runner link to their executed notebook"
    for h in links:
        assert (PAGE.parent / h).is_file(), h
