"""Numbers quoted in the READMEs and notebooks agree with the committed results (tools/check_prose.py)."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import check_prose  # noqa: E402


def test_every_marked_number_in_the_docs_agrees_with_its_result():
    problems, checked = [], 0
    for f in check_prose.files():
        p, c = check_prose.check_text(check_prose.prose(f), check_prose.ROOT / "results")
        problems += [f"{f.name}: {x}" for x in p]
        checked += len(c)
    assert not problems, "\n".join(problems)
    assert checked >= 10, f"only {checked} marked numbers: the READMEs quote more than that"


def test_a_wrong_number_a_wrong_seed_and_a_missing_file_are_caught(tmp_path):
    r = tmp_path / "report-x"
    r.mkdir()
    (r / "run-test.json").write_text(json.dumps({"metrics": {"accuracy": 0.96641}, "seed": 3}))
    ok, checked = check_prose.check_text("accuracy 0.966<!--check report-x/run-test metrics.accuracy--> and 96.64%"
                                         "<!--check report-x/run-test metrics.accuracy x100-->, seed 3"
                                         "<!--check report-x/run-test seed-->", tmp_path)
    assert ok == [] and len(checked) == 3
    bad, _ = check_prose.check_text("Seed 42<!--check report-x/run-test seed--> and 0.965<!--check report-x/run-test "
                                    "metrics.accuracy--> and 1<!--check report-x/gone seed-->", tmp_path)
    assert len(bad) == 3, bad
    assert "42 is quoted" in bad[0] and "0.965 is quoted" in bad[1] and "no result file" in bad[2]
