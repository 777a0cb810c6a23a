"""./leukolab record (tools/reviewer.py): only full-profile results are promoted into results/, a committed file is
never replaced by a different one without --replace, and the README table is rewritten in place."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import reviewer  # noqa: E402


def result(profile, f1):
    return {"title": "t", "metrics": {"accuracy": f1, "macro_f1": f1}, "extras": {"data": "stand-in"},
            "run": {"profile": profile, "commit": "abc", "machine": "m", "date": "2026-12-02T00:00:00Z"}}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setattr(reviewer, "ROOT", tmp_path)
    row = {"report": "report-x", "experiment": "e", "configuration": "as published", "metric": "macro_f1",
           "published": 90.0, "result": "full-test", "source": "committed full run", "reproduced": 50.0,
           "low": 40.0, "high": 60.0, "profile": "full", "datasets": "d", "machine": "m", "seed": 7,
           "labels": {"protocol": "as published", "weights": "none (trained from scratch)", "data": "stand-in",
                      "evaluated_on": "test"},
           "verdict": "differs", "verdict_reason": "-40.00 points; 95% interval [40.0, 60.0]; on a stand-in dataset"}
    monkeypatch.setattr(reviewer, "document", lambda committed_only=False, charts=True: {
        "rows": [row], "summary": [row], "rules": ["reproduced: inside the interval"]})
    b = tmp_path / "build/results/report-x"
    b.mkdir(parents=True)
    (b / "full-test.json").write_text(json.dumps(result("full", 0.5)))
    (b / "full-test.predictions.json").write_text("{}")
    (b / "quick-test.json").write_text(json.dumps(result("quick", 0.4)))
    (tmp_path / "results").mkdir()
    (tmp_path / "results/README.md").write_text("# Measured results\n\nIntro.\n")
    return tmp_path


def test_record_promotes_full_runs_only(workspace, capsys):
    assert reviewer.record([], replace=False) == 0
    committed = workspace / "results/report-x"
    assert sorted(p.name for p in committed.iterdir()) == ["full-test.json", "full-test.predictions.json"]
    assert "quick-profile results left" in capsys.readouterr().out
    readme = (workspace / "results/README.md").read_text()
    assert readme.startswith("# Measured results\n\nIntro.") and reviewer.README_START in readme
    assert "| report-x | e | as published | macro_f1 | 90.00 | 50.00 | [40.0, 60.0] | single run | differs | as published | d (stand-in) |" in readme
    assert "| e | macro_f1 | 90.00 | as published | 50.00 | [40.0, 60.0] | single run | differs | -40.00 points" in readme, "the summary"
    # a second record rewrites the table in place, once
    assert reviewer.record([], replace=False) == 0
    assert (workspace / "results/README.md").read_text().count(reviewer.README_START) == 1


def test_record_never_replaces_a_different_committed_result_without_asking(workspace, capsys):
    committed = workspace / "results/report-x"
    committed.mkdir()
    (committed / "full-test.json").write_text(json.dumps(result("full", 0.9)))
    assert reviewer.record(["report-x"], replace=False) == 1
    assert "--replace" in capsys.readouterr().err
    assert json.loads((committed / "full-test.json").read_text())["metrics"]["macro_f1"] == 0.9
    assert not (committed / "full-test.predictions.json").exists(), "nothing is copied when one file conflicts"
    assert reviewer.record(["report-x"], replace=True) == 0
    assert json.loads((committed / "full-test.json").read_text())["metrics"]["macro_f1"] == 0.5


def test_record_names_a_missing_report(workspace, capsys):
    assert reviewer.record(["report-nope"], replace=False) == 1
    assert "report-nope" in capsys.readouterr().err


def comparison(root, profile):
    out = root / "build/compare/demo"
    (out / "results/compare-demo").mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps({"name": "compare-demo", "settings": {"profile": profile}}))
    (out / "index.html").write_text("<html></html>")
    (out / "results/compare-demo/head-test.json").write_text(json.dumps(result(profile, 0.7)))
    (out / "results/compare-demo/head-test.predictions.json").write_text("{}")
    (out / "checkpoints").mkdir(exist_ok=True)
    return out


def test_record_takes_a_full_comparison_without_its_checkpoints_and_refuses_a_quick_one(workspace, capsys):
    comparison(workspace, "quick")
    assert reviewer.record(["compare-demo"], replace=False) == 1
    assert "only full-profile runs are recorded" in capsys.readouterr().err
    assert not (workspace / "results/compare-demo").exists()
    out = comparison(workspace, "full")
    assert reviewer.record(["compare-demo"], replace=False) == 0
    assert sorted(p.name for p in (workspace / "results/compare-demo").iterdir()) == [
        "compare.json", "head-test.json", "head-test.predictions.json", "index.html"]
    (out / "index.html").write_text("<html>changed</html>")
    assert reviewer.record(["compare-demo"], replace=False) == 1, "a different page is not replaced without --replace"
    assert reviewer.record(["compare-demo"], replace=True) == 0
    assert (workspace / "results/compare-demo/index.html").read_text() == "<html>changed</html>"
