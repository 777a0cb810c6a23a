"""The comparison page (tools/compare_page.py) shows what compare.json holds: every audit's verdict and every model's
numbers on the first screen, the models left out with their reason, and labels for sample and stand-in data."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import compare_page  # noqa: E402


def doc(kind="sample"):
    model = {"name": "head-mobilenetv2-alpha-0.5", "kind": "frozen MobileNetV2 + head", "weights": "ImageNet",
             "macro_f1": 0.6119637, "macro_f1_low": 0.45, "macro_f1_high": 0.723, "accuracy": 0.6666667,
             "accuracy_low": 0.5, "accuracy_high": 0.806, "auc": 0.9157, "test_images": 36, "seconds": 5.2, "note": "",
             "over_seeds": {"metric": "macro_f1", "n": 2, "mean": 0.6304, "sd": 0.026, "min": 0.612, "max": 0.6488}}
    forest = dict(model, name="random-forest-pixels", weights="none", macro_f1=0.55151, over_seeds=None)
    return {"name": "compare-x", "settings": {"folder": "/data/x", "profile": "quick", "split": "stratified (70/15/15, seed 1)"},
            "data": {"kind": kind, "images": 240, "classes": ["a", "b"], "split": {"train": 168, "validation": 36, "test": 36}},
            "audits": [{"name": "class balance", "level": "ok", "verdict": "2 classes, 120 each", "details": []},
                       {"name": "duplicates and leakage", "level": "problem", "verdict": "5 images would leak", "details": ["x"]}],
            "models": [model, forest], "pairs": [], "paired_over_seeds": None,
            "dropped": [{"model": "small-cnn", "reason": "estimated 12.0 min, but 3.0 min of the 10-minute budget were left"}],
            "seconds": 61.0, "run": {"machine": "Intel Xeon", "commit": "abc", "date": "2026-12-07"}}


def test_page_and_text_show_every_verdict_model_and_left_out_model(tmp_path):
    f = tmp_path / "compare.json"
    f.write_text(json.dumps(doc()))
    page = compare_page.write(f).read_text()
    assert "data-level='problem'" in page and "5 images would leak" in page
    assert "data-model='head-mobilenetv2-alpha-0.5'" in page and ">0.612<" in page and "0.630 ± 0.026 (2 seeds" in page
    assert "data-model='random-forest-pixels'" in page and ">single run<" in page
    assert "small-cnn" in page and "10-minute budget" in page
    assert "<b>[sample]</b>" in page, "sample data is labelled on the page"
    text = compare_page.first_screen_text(doc())
    assert "PROBLEM  duplicates and leakage: 5 images would leak" in text
    assert "head-mobilenetv2-alpha-0.5 | ImageNet | 0.612 | [0.450, 0.723]" in text
    assert "left out: small-cnn" in text


def test_full_data_carries_no_label_and_a_missing_file_says_what_to_run(tmp_path):
    assert "[full]" not in compare_page.render(doc("full"))
    with pytest.raises(SystemExit, match="./leukolab compare DIR"):
        compare_page.write(tmp_path / "compare.json")
