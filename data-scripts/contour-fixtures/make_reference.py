#!/usr/bin/env python3
"""Record what report 002's contour crop does, with the report's own library (OpenCV for Python), on
real blood-cells images, so leukolab's Java ContourCropper can be checked against it.

For each chosen image: the box the recipe found (min_x, max_x, min_y, max_y, after numpy's int cast),
what happened (cropped / no_contour / empty_slice: the box left the image and the Python slice came out
empty, so the whole masked image was kept), the shape of the result and the sum of its pixels.

Run once, outside CI (OpenCV 4.5.5 from PyPI, the version bytedeco's opencv 4.5.5-1.5.7 wraps):
    python3 -m venv /tmp/cv && /tmp/cv/bin/pip install -r data-scripts/contour-fixtures/requirements.txt
    /tmp/cv/bin/python data-scripts/contour-fixtures/make_reference.py data/blood-cells \
        lib/src/test/resources/org/leukolab/preprocessing/contour-reference.json
"""
import json
import sys
from pathlib import Path

import cv2
import numpy as np

PER_CLASS = 25     # images per class and split, every k-th file in name order
BORDER = [198, 203, 208]


def edges_of(mask):
    x = cv2.GaussianBlur(mask, (1, 1), 0)
    x = cv2.bilateralFilter(x, 9, 75, 75)
    x = cv2.Canny(x, 100, 400)
    x = cv2.dilate(x, None, iterations=1)
    return cv2.erode(x, None, iterations=1)


def crop(rgb):
    img = cv2.copyMakeBorder(rgb, 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=BORDER)
    mask = cv2.inRange(img, (80, 80, 180), (180, 170, 245))
    mask = cv2.dilate(cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=2), np.ones((5, 5), np.uint8), iterations=5)
    contours, _ = cv2.findContours(edges_of(mask).copy(), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contours = sorted(contours, key=cv2.contourArea)
    boxes = []
    for c in contours:
        p = np.array(cv2.boxPoints(cv2.minAreaRect(c)), dtype="int")
        if np.linalg.norm(p[0] - p[3]) > 0 and np.linalg.norm(p[0] - p[1]) > 0:
            boxes.append(p)
    if not boxes:
        return img, "no_contour", None
    b = boxes[-1]
    box = [int(b[:, 0].min()), int(b[:, 0].max()), int(b[:, 1].min()), int(b[:, 1].max())]
    fill = np.zeros_like(img)
    cv2.drawContours(fill, contours, len(contours) - 1, (255, 255, 255), -1)
    img[fill == 0] = 0
    out = img[box[2]:box[3], box[0]:box[1]]
    return (out, "cropped", box) if out.size != 0 else (img, "empty_slice", box)


def main():
    root = Path(sys.argv[1]) / "dataset2-master" / "images"
    out = Path(sys.argv[2])
    records = []
    for split in ("TRAIN", "TEST"):
        for label in sorted(p.name for p in (root / split).iterdir()):
            files = sorted((root / split / label).iterdir())
            step = max(1, len(files) // PER_CLASS)
            for f in files[::step][:PER_CLASS]:
                rgb = cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB)
                res, outcome, box = crop(rgb)
                records.append({"file": f"{split}/{label}/{f.name}", "outcome": outcome, "box": box,
                                "shape": list(res.shape), "pixel_sum": int(res.astype(np.int64).sum())})
    counts = {o: sum(r["outcome"] == o for r in records) for o in ("cropped", "no_contour", "empty_slice")}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"opencv": cv2.__version__, "counts": counts, "images": records}, indent=1) + "\n")
    print(f"{len(records)} images: {counts}")


if __name__ == "__main__":
    main()
