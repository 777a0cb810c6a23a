#!/usr/bin/env python3
"""Make the small fixtures the Java tests compare against numpy and scikit-learn.

    python3 -m venv /tmp/fx && /tmp/fx/bin/pip install -r data-scripts/test-fixtures/requirements.txt
    /tmp/fx/bin/python data-scripts/test-fixtures/make_fixtures.py

Writes, under lib/src/test/resources/org/leukolab/:
  metrics/auc-fixture.json   random class probabilities (with ties) and labels, and scikit-learn's
                             roc_auc_score for them: macro one-vs-rest and each class against the rest
  data/tiny-medmnist.npz     a MedMNIST-shaped npz written by numpy.savez_compressed (uint8 images
                             [n, 6, 5, 3], labels [n, 1]; train 12, val 4, test 6), pixel values known
  data/tiny-gray.npz         the same layout with grayscale images [n, 6, 5]
  data/not-medmnist.npz      an npz with other arrays (x, y)
Only the tests read these; regenerate them only when the tests' expectations change.
"""
import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score

OUT = Path(__file__).resolve().parents[2] / "lib/src/test/resources/org/leukolab"


def auc_fixture():
    rng = np.random.default_rng(20261202)
    n, k = 240, 5
    labels = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[labels]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p = np.round(p, 2)                       # ties, as rounded or saturated probabilities have
    p = p / p.sum(axis=1, keepdims=True)     # rows sum to 1 again (scikit-learn checks it)
    macro = roc_auc_score(labels, p, multi_class="ovr", average="macro", labels=list(range(k)))
    per_class = [roc_auc_score((labels == c).astype(int), p[:, c]) for c in range(k)]
    (OUT / "metrics").mkdir(parents=True, exist_ok=True)
    (OUT / "metrics/auc-fixture.json").write_text(json.dumps({
        "made_with": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
        "labels": labels.tolist(), "probabilities": p.tolist(),
        "macro_ovr_auc": macro, "per_class_auc": per_class}) + "\n")


def npz_fixtures():
    (OUT / "data").mkdir(parents=True, exist_ok=True)
    sizes = {"train": 12, "val": 4, "test": 6}
    arrays, gray = {}, {}
    for s, n in sizes.items():
        base = {"train": 0, "val": 100, "test": 200}[s]
        # pixel (i, y, x, c) = (base + 7 i + 3 y + x + 50 c) mod 256: every image different, easy to check
        i, y, x, c = np.meshgrid(np.arange(n), np.arange(6), np.arange(5), np.arange(3), indexing="ij")
        arrays[f"{s}_images"] = ((base + 7 * i + 3 * y + x + 50 * c) % 256).astype(np.uint8)
        arrays[f"{s}_labels"] = (np.arange(n) % 8).astype(np.uint8).reshape(n, 1)
        gray[f"{s}_images"] = arrays[f"{s}_images"][..., 0]
        gray[f"{s}_labels"] = arrays[f"{s}_labels"]
    np.savez_compressed(OUT / "data/tiny-medmnist.npz", **arrays)
    np.savez_compressed(OUT / "data/tiny-gray.npz", **gray)
    np.savez_compressed(OUT / "data/not-medmnist.npz", x=np.zeros((3, 4), np.float32), y=np.arange(3))


if __name__ == "__main__":
    auc_fixture()
    npz_fixtures()
    print("fixtures written under", OUT)
